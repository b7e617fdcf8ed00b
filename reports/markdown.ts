/** The Markdown summary written beside the HTML report: the same findings as tables, no charts. */
import { ridgeIntensity } from '../bench/roofline.js';
import { dimsStr } from '../bench/shapes.js';
import { backendLabel, opLabel } from './analysis.js';
import { fmtGBs, fmtGflops, fmtMs, fmtNum, fmtPct, fmtSpeedup } from './format.js';
import type { ReportModel } from './model.js';
import { profileTable, PROFILE_NOTE } from './profile-figures.js';
import type { ProfileStack } from './profiles.js';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function mdTable(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '_none_\n';
  return [`| ${head.map(cell).join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n') + '\n';
}

/** One stacked breakdown as a table: the largest ops of each profile, with their share. */
function stackTable(s: ProfileStack, top = 6): string {
  const rows = s.categories.map((cat, i) => {
    const parts = s.components
      .map((c) => ({ name: c.name, ms: c.ms[i] }))
      .filter((c): c is { name: string; ms: number } => c.ms !== null)
      .sort((a, b) => b.ms - a.ms);
    const shown = parts.slice(0, top).map((c) => `${c.name} ${fmtMs(c.ms)} (${fmtPct((100 * c.ms) / s.totals[i]!)})`);
    return [cat, fmtMs(s.totals[i]), shown.join('; ') + (parts.length > top ? ` … ${parts.length - top} more` : '')];
  });
  return mdTable(['resolution', 'sum of ops', `largest ops (of ${s.components.length})`], rows);
}

/** The "Whole model" section: every profile, then the per-op breakdowns. */
function wholeModel(m: ReportModel): string[] {
  const out = ['## Whole model\n'];
  if (m.profileInputs.length === 0) return [...out, '_No whole-model profile given._\n'];
  out.push(`${PROFILE_NOTE}\n`);
  if (m.profiles.emptyInputs.length > 0) out.push(`No profile in: ${m.profiles.emptyInputs.join(', ')}.\n`);
  const t = profileTable(m.profiles.runs);
  out.push(mdTable(t.head, t.rows));
  for (const s of m.profiles.stacks) {
    out.push(`### ${s.kind === 'whole-model breakdown' ? 'DiT step per op' : 'DC-AE decode per op'} — ${s.label}\n`);
    out.push(stackTable(s));
  }
  return out;
}

export function renderMarkdown(m: ReportModel, htmlName: string): string {
  const out: string[] = [];
  out.push(`# ${m.title}\n`);
  out.push(
    `Generated ${m.generatedAt}. Charts: [${htmlName}](${htmlName}). Inputs: ${[...m.bench, ...m.parityInputs, ...m.profileInputs].map((i) => `\`${i.name}\``).join(', ')}. ` +
      `${m.measured.length} of ${m.records.length} bench records were timed.\n`,
  );

  out.push('## Environment\n');
  out.push(
    mdTable(
      ['run', 'CPU', 'node', 'git commit', 'date', 'command', 'baselines', 'other facts'],
      m.bench.map((b) => {
        const e = b.file.environment;
        return [
          b.name,
          `${e.cpu_model} (${e.cpu_cores} cores)`,
          e.node,
          `${e.git_commit ?? 'unknown'}${e.git_dirty ? ' (dirty)' : ''}`,
          e.date,
          e.command,
          b.file.baselines.join(', ') || '–',
          Object.entries(e.extra).map(([k, v]) => `${k}: ${v}`).join('; '),
        ];
      }),
    ),
  );
  out.push('### Ceilings\n');
  out.push('The compute ceiling is the best gemm measured for the run — its source says which gemm, how and when (the FMA peak beside it, register-resident FMA loops on all threads at once, is the FP32 peak of the machine; a gemm reaches a fraction of it); the bandwidth ceiling is a one-thread streaming copy through DRAM. Points above 100% are real measurements, not errors: working sets that stay in cache beat the DRAM line, and on a machine shared with other work a ceiling measured in a busy moment is low (the load average is in the environment).\n');
  out.push(
    mdTable(
      ['run', 'device', 'dtype', 'peak (roofline)', 'peak source', 'FMA peak', 'FMA peak source', 'bandwidth', 'bandwidth source', 'ridge FLOP/B'],
      m.ceilings.map((c) => [
        c.source,
        c.device,
        c.dtype,
        fmtGflops(c.peakFlops),
        c.peakSource,
        c.fmaPeakFlops === undefined ? '–' : fmtGflops(c.fmaPeakFlops),
        c.fmaPeakSource ?? '',
        fmtGBs(c.bandwidth),
        c.bandwidthSource,
        fmtNum(ridgeIntensity(c)),
      ]),
    ),
  );

  out.push('## Timed records\n');
  const devices = [...new Set(m.measured.map((r) => r.device))];
  if (devices.length > 0) out.push(`Devices: ${devices.join('; ')}. Times are per call; speed-ups below compare backends measured in the same run.\n`);
  out.push(
    mdTable(
      ['op', 'model', 'res', 'batch', 'dims', 'dtype', 'backend', 'threads', 'median', 'p20–p80 ms', 'GFLOP/s', 'GB/s', 'roofline'],
      m.measured.map((r) => [
        opLabel(r.op, r.variant),
        r.model,
        r.res,
        String(r.batch),
        dimsStr(r.dims),
        r.dtype,
        backendLabel(r),
        String(r.threads),
        fmtMs(r.median_ms),
        `${fmtNum(r.p20_ms)}–${fmtNum(r.p80_ms)}`,
        fmtNum(r.gflops),
        fmtNum(r.gbs),
        fmtPct(r.roofline_pct),
      ]),
    ),
  );

  out.push('## Speed-ups against the baselines of the same run\n');
  out.push(
    mdTable(
      ['run', 'op', 'model', 'res', 'batch', 'dtype', 'baseline', 'candidate', 'speed-up'],
      m.speedups.map((s) => [s.source, opLabel(s.op, s.variant), s.model, s.res, String(s.batch), s.dtype, `${s.baseline} (${fmtMs(s.baselineMs)})`, `${s.candidate} (${fmtMs(s.candidateMs)})`, fmtSpeedup(s.speedup)]),
    ),
  );

  out.push('## Time breakdown\n');
  if (m.breakdown.charts.length === 0) out.push('_No measured components for a DiT block, DiT step or DC-AE decode._\n');
  for (const c of m.breakdown.charts) {
    out.push(`### ${c.unit} — ${c.model}, ${c.backend}, ${c.dtype}, batch ${c.batch}\n`);
    out.push(
      mdTable(
        ['resolution', 'sum of measured', ...(c.fused ? ['fused dit-block'] : []), 'measured', 'missing'],
        c.coverage.map((cov, ri) => [cov.res, fmtMs(c.totals[ri]), ...(c.fused ? [fmtMs(c.fused[ri])] : []), `${cov.measured}/${cov.total}`, cov.missing.join(', ')]),
      ),
    );
  }

  out.push(...wholeModel(m));

  out.push('## Parity\n');
  if (m.parityInputs.length === 0) out.push('_No parity file given._\n');
  else {
    const fails = m.parity.filter((p) => !p.pass).length;
    for (const line of m.parityRuns) out.push(`Run: ${line}\n`);
    out.push(`${m.parity.length - fails} of ${m.parity.length} checks pass (f32: rel ≤ 1e-5 and max-abs ≤ 1e-4·max|ref|; bf16: rel ≤ 2× a plain bf16 computation).\n`);
    out.push(
      mdTable(
        ['op', 'backend', 'dtype', 'shape', 'rel', 'max abs', 'plain bf16 rel', 'ratio', 'result'],
        m.parity.map((p) => [
          p.op,
          `${p.backend}${p.version ? ` v${p.version}` : ''}`,
          p.dtype,
          p.shape,
          fmtNum(p.rel),
          fmtNum(p.max_abs),
          fmtNum(p.plain_rel),
          p.ratio === undefined ? '–' : `${fmtNum(p.ratio)}×`,
          p.pass ? 'pass' : `FAIL${p.note ? `: ${p.note}` : ''}`,
        ]),
      ),
    );
    if (m.paritySelfChecks.length > 0) {
      out.push('Deliberately wrong kernels run through the same checker:\n');
      out.push(mdTable(['kernel', 'dtype', 'verdict', 'why'], m.paritySelfChecks.map((s) => [s.kernel, s.dtype, s.rejected ? 'rejected (correct)' : 'ACCEPTED (checker broken)', s.reason])));
    }
    if (m.paritySkipped.length > 0) {
      out.push('Not checked:\n');
      out.push(mdTable(['op', 'backend', 'dtype', 'reason'], m.paritySkipped.map((s) => [s.op, s.backend, s.dtype, s.reason])));
    }
  }

  out.push('## What did not run\n');
  if (m.notRun.length === 0) out.push('Every case was timed.\n');
  else {
    out.push(
      mdTable(
        ['status', 'cases', 'reasons (up to 3 distinct)'],
        m.notRun.map((g) => {
          const reasons = [...new Set(g.examples.map((r) => `${r.backend}: ${r.note}`))];
          return [g.status, String(g.count), reasons.slice(0, 3).join('; ') + (reasons.length > 3 ? ' …' : '')];
        }),
      ),
    );
  }
  return out.join('\n');
}
