/**
 * The self-contained HTML report: plotly.js inlined (opens offline, no external <script src>), the chart
 * data embedded as JSON, tables for everything that is not a chart. Charts with no measured data are
 * replaced by a sentence saying so, never drawn empty.
 */
import { attainableFlops, ridgeIntensity } from '../bench/roofline.js';
import { dimsStr } from '../bench/shapes.js';
import { backendLabel, opLabel, type BreakdownChart, type RooflineChart, type ThroughputChart } from './analysis.js';
import { fmtGBs, fmtGflops, fmtMs, fmtNum, fmtPct, fmtSpeedup } from './format.js';
import type { ReportModel } from './model.js';
import { jsonForScript } from './plotly.js';
import { lineTrace } from './traces.js';
import { lineId, profileFigures, profileTable, PROFILE_NOTE, stackId } from './profile-figures.js';
import type { ProfileChartKind } from './profiles.js';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function table(head: string[], rows: string[][], cls = ''): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** What a chart shows; the report check (reports/check.ts) wants one of each with data. */
export type BenchChartKind = 'throughput' | 'roofline' | 'DiT block' | 'DiT step' | 'DC-AE decode';
export type ChartKind = BenchChartKind | ProfileChartKind;

export const BREAKDOWN_UNITS = ['DiT block', 'DiT step', 'DC-AE decode'] as const;

/** One plotly figure as embedded in the report (the page passes `data` and `layout` to Plotly.newPlot). */
export interface Figure {
  id: string;
  kind: ChartKind;
  data: unknown[];
  layout: Record<string, unknown>;
}

const LOG_LOG = (xTitle: string, yTitle: string) => ({
  xaxis: { type: 'log', title: { text: xTitle } },
  yaxis: { type: 'log', title: { text: yTitle } },
});

function throughputFigure(c: ThroughputChart, id: string): Figure {
  return {
    id,
    kind: 'throughput',
    data: c.series.map((s) => lineTrace(s, '%{text}<br>%{y:.3g} GFLOP/s<extra>%{fullData.name}</extra>')),
    layout: {
      title: { text: `${c.op} — ${c.model}` },
      xaxis: { type: 'log', title: { text: 'image resolution (pixels, log)' }, tickvals: c.tickvals, ticktext: c.ticktext },
      yaxis: { type: 'log', title: { text: 'GFLOP/s (log)' } },
      margin: { t: 50 },
    },
  };
}

function rooflineFigure(c: RooflineChart, id: string): Figure {
  const xs = c.series.flatMap((s) => s.x).filter((x) => x > 0 && Number.isFinite(x));
  const ridges = c.ceilings.map(ridgeIntensity);
  const lo = Math.min(0.1, ...xs) / 2;
  const hi = Math.max(...ridges.map((r) => r * 10), ...xs.map((x) => x * 2));
  const curves = c.ceilings.map((ceil) => {
    const r = ridgeIntensity(ceil);
    const x = r > lo && r < hi ? [lo, r, hi] : [lo, hi];
    return {
      type: 'scatter',
      mode: 'lines',
      name: `roofline (${ceil.dtype}): ${fmtGflops(ceil.peakFlops)}, ${fmtGBs(ceil.bandwidth)}`,
      x,
      y: x.map((v) => attainableFlops(ceil, v) / 1e9),
      line: { dash: 'dash', width: 2 },
      hoverinfo: 'name',
    };
  });
  const points = c.series.map((s) => ({
    type: 'scatter',
    mode: 'markers',
    name: s.name,
    x: s.x,
    y: s.y,
    text: s.text,
    hovertemplate: '%{text}<br>intensity %{x:.3g} FLOP/B<extra>%{fullData.name}</extra>',
  }));
  return {
    id,
    kind: 'roofline',
    data: [...curves, ...points],
    layout: { title: { text: `Roofline — ${c.device} (${c.source})` }, ...LOG_LOG('arithmetic intensity (FLOP per minimal byte, log)', 'GFLOP/s (log)'), margin: { t: 50 } },
  };
}

function breakdownFigure(c: BreakdownChart, id: string): Figure {
  return {
    id,
    kind: c.unit,
    data: c.components
      .filter((comp) => comp.ms.some((v) => v !== null))
      .map((comp) => ({
        type: 'bar',
        name: comp.label,
        x: c.resolutions,
        y: comp.ms,
        hovertemplate: '%{x}: %{y:.4g} ms<extra>%{fullData.name}</extra>',
      })),
    layout: {
      title: { text: `${c.unit} — ${c.model}, ${c.backend}, ${c.dtype}, batch ${c.batch} (share of measured time)` },
      barmode: 'stack',
      barnorm: 'percent',
      xaxis: { type: 'category', title: { text: 'resolution' } },
      yaxis: { title: { text: '% of the measured time' } },
      margin: { t: 50 },
    },
  };
}

const breakdownId = (unit: BreakdownChart['unit'], i: number) => `bd-${unit.replace(/\W+/g, '')}-${i}`;

/**
 * Every figure the report draws, in page order: throughput per op, the roofline of each run with timed
 * records, the breakdowns per unit, the whole-model profiles. Charts without data get no figure (the
 * page says so instead).
 */
export function reportFigures(m: ReportModel): Figure[] {
  return [
    ...m.throughput.map((c, i) => throughputFigure(c, `thr${i}`)),
    ...m.roofline.flatMap((c, i) => (c.series.length === 0 ? [] : [rooflineFigure(c, `roof${i}`)])),
    ...BREAKDOWN_UNITS.flatMap((unit) => m.breakdown.charts.filter((c) => c.unit === unit).map((c, i) => breakdownFigure(c, breakdownId(unit, i)))),
    ...profileFigures(m.profiles),
  ];
}

function div(fig: Figure): string {
  return `<div class="chart" id="${fig.id}"></div>`;
}

const CSS = `body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}h3{margin-top:1.5rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}tr:nth-child(even) td{background:#fafafa}.chart{width:100%;height:460px}.none{color:#888;font-style:italic}
.note{color:#555;font-size:.9rem}code{background:#f4f4f4;padding:0 .2rem}`;

export function renderHtml(m: ReportModel, plotly: { source: string; version: string }): string {
  const all = new Map(reportFigures(m).map((f) => [f.id, f]));
  const figs: Figure[] = [];
  const figure = (id: string): Figure => {
    const f = all.get(id);
    if (f === undefined) throw new Error(`report: internal error: no figure "${id}"`);
    figs.push(f);
    return f;
  };
  const parts: string[] = [];
  const add = (s: string) => parts.push(s);

  add(`<h1>${esc(m.title)}</h1>`);
  add(
    `<p class="note">Generated ${esc(m.generatedAt)} from ${m.bench.length} bench file(s), ${m.parityInputs.length} parity file(s) and ${m.profileInputs.length} profile file(s): ${esc(
      [...m.bench, ...m.parityInputs, ...m.profileInputs].map((i) => i.name).join(', '),
    )}. ${m.measured.length} of ${m.records.length} bench records were timed; the rest are listed under “What did not run”. FLOPs and minimal bytes come from bench/cost-model.ts; % of roofline is against the measured ceilings below.</p>`,
  );

  // Throughput
  add('<h2>Throughput vs resolution</h2>');
  if (m.throughput.length === 0) add('<p class="none">No timed records: no throughput to plot.</p>');
  m.throughput.forEach((c, i) => {
    add(div(figure(`thr${i}`)));
  });

  // Roofline
  add('<h2>Roofline</h2>');
  if (m.roofline.length === 0) add('<p class="none">No ceilings in the inputs: no roofline.</p>');
  m.roofline.forEach((c, i) => {
    if (c.series.length === 0) {
      add(`<p class="none">${esc(c.source)}, ${esc(c.device)}: ceilings measured but no timed records on this device.</p>`);
      return;
    }
    add(div(figure(`roof${i}`)));
  });
  add('<h3>Ceilings</h3>');
  add(`<p class="note">The compute ceiling is the best gemm measured for the run — its source says which gemm, how and when (the FMA peak beside it, register-resident FMA loops on all threads at once, is the FP32 peak of the machine; a gemm reaches a fraction of it); the bandwidth ceiling is a one-thread streaming copy through DRAM. Points above 100% are real measurements, not errors: working sets that stay in cache beat the DRAM line, and on a machine shared with other work a ceiling measured in a busy moment is low (the load average is in the environment).</p>`);
  add(
    table(
      ['run', 'device', 'dtype', 'peak (roofline)', 'how the peak was measured', 'FMA peak', 'how the FMA peak was measured', 'bandwidth', 'how the bandwidth was measured', 'ridge (FLOP/B)', 'measured'],
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
        c.measuredAt,
      ]),
    ),
  );

  // Breakdowns
  add('<h2>Time breakdown</h2>');
  add(
    '<p class="note">Each bar stacks the measured ops of one unit (median × how often the op runs in it). Components without a timed record are missing from the sum; the table says which.</p>',
  );
  for (const unit of BREAKDOWN_UNITS) {
    add(`<h3>${unit}</h3>`);
    const charts = m.breakdown.charts.filter((c) => c.unit === unit);
    if (charts.length === 0) {
      const empty = m.breakdown.empty.filter((e) => e.startsWith(unit));
      add(`<p class="none">No measured components for a ${unit}${empty.length ? ` (records exist for: ${esc(empty.join('; '))}, but none of the ops in its plan were timed)` : ''}.</p>`);
      continue;
    }
    charts.forEach((c, i) => {
      add(div(figure(breakdownId(unit, i))));
      const head = ['resolution', 'sum of measured', 'components measured', 'missing'];
      if (c.fused) head.splice(2, 0, 'fused dit-block');
      add(
        table(
          head,
          c.coverage.map((cov, ri) => {
            const row = [cov.res, fmtMs(c.totals[ri]), `${cov.measured}/${cov.total}`, cov.missing.join(', ')];
            if (c.fused) row.splice(2, 0, fmtMs(c.fused[ri]));
            return row;
          }),
        ),
      );
    });
  }

  // Whole model
  add('<h2>Whole model</h2>');
  const p = m.profiles;
  if (m.profileInputs.length === 0) add('<p class="none">No whole-model profile given (sana-lab profile --json FILE, or bench/gpu/models.sh’s profiles.json, then pass it to --in).</p>');
  else {
    add(`<p class="note">${esc(PROFILE_NOTE).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`);
    if (p.emptyInputs.length > 0) add(`<p class="none">No profile in: ${esc(p.emptyInputs.join(', '))}.</p>`);
    for (const c of p.lines) add(div(figure(lineId(c))));
    if (!p.lines.some((c) => c.kind === 'whole-model decode') && p.runs.length > 0) add('<p class="none">No profile with --decode: no DC-AE decode time.</p>');
    p.stacks.forEach((s, i) => add(div(figure(stackId(s, i)))));
    const t = profileTable(p.runs);
    add(table(t.head, t.rows));
  }

  // Speed-ups
  add('<h2>Speed-ups against the baselines of the same run</h2>');
  add(
    table(
      ['run', 'op', 'model', 'res', 'batch', 'dtype', 'baseline', 'baseline ms', 'candidate', 'candidate ms', 'speed-up'],
      m.speedups.map((s) => [s.source, opLabel(s.op, s.variant), s.model, s.res, String(s.batch), s.dtype, s.baseline, fmtNum(s.baselineMs), s.candidate, fmtNum(s.candidateMs), fmtSpeedup(s.speedup)]),
    ),
  );

  // Parity
  add('<h2>Parity</h2>');
  if (m.parityInputs.length === 0) add('<p class="none">No parity file given (sana-lab parity --json FILE, then pass it to --in).</p>');
  else {
    const fails = m.parity.filter((p) => !p.pass).length;
    for (const line of m.parityRuns) add(`<p class="note">Run: ${esc(line.replace(/`/g, ''))}</p>`);
    add(
      `<p class="note">${m.parity.length - fails} of ${m.parity.length} checks pass. Each op runs at its catalogue test shapes on fresh random inputs with NaN-poisoned outputs, against the reference backend (float64 accumulation). bf16 is held to 2× the error of a plain bf16 computation of the same op.</p>`,
    );
    add(
      table(
        ['source', 'op', 'backend', 'dtype', 'shape', 'rel error', 'max abs', 'plain bf16 rel', 'ratio', 'tolerance', 'result', 'note'],
        m.parity.map((p) => [
          p.source,
          p.op,
          `${p.backend}${p.version ? ` v${p.version}` : ''}`,
          p.dtype,
          p.shape,
          fmtNum(p.rel),
          fmtNum(p.max_abs),
          fmtNum(p.plain_rel),
          p.ratio === undefined ? '–' : `${fmtNum(p.ratio)}×`,
          p.tolerance === null ? '–' : String(p.tolerance),
          p.pass ? 'pass' : 'FAIL',
          p.note ?? '',
        ]),
      ),
    );
    add('<h3>The checker checks itself</h3>');
    add(
      table(
        ['source', 'deliberately wrong kernel', 'dtype', 'shape', 'rel error', 'max abs', 'verdict', 'why'],
        m.paritySelfChecks.map((s) => [s.source, s.kernel, s.dtype, s.shape, fmtNum(s.rel), fmtNum(s.max_abs), s.rejected ? 'rejected (correct)' : 'ACCEPTED (checker broken)', s.reason]),
      ),
    );
    add('<h3>Not checked</h3>');
    add(table(['source', 'op', 'backend', 'dtype', 'reason'], m.paritySkipped.map((s) => [s.source, s.op, s.backend, s.dtype, s.reason])));
  }

  // All measured records
  add('<h2>All timed records</h2>');
  add(
    `<details><summary>${m.measured.length} records</summary>${table(
      ['op', 'model', 'res', 'tokens', 'batch', 'dims', 'dtype', 'backend', 'median ms', 'p20', 'p80', 'GFLOP/s', 'GB/s', 'roofline', 'device', 'threads', 'timer', 'note'],
      m.measured.map((r) => [
        opLabel(r.op, r.variant),
        r.model,
        r.res,
        String(r.tokens),
        String(r.batch),
        dimsStr(r.dims),
        r.dtype,
        backendLabel(r),
        fmtNum(r.median_ms, 4),
        fmtNum(r.p20_ms, 4),
        fmtNum(r.p80_ms, 4),
        fmtNum(r.gflops),
        fmtNum(r.gbs),
        fmtPct(r.roofline_pct),
        r.device,
        String(r.threads),
        r.timer,
        r.note,
      ]),
    )}</details>`,
  );

  // What did not run
  add('<h2>What did not run</h2>');
  if (m.notRun.length === 0) add('<p class="none">Every case was timed.</p>');
  for (const g of m.notRun) {
    add(
      `<details><summary>${esc(g.status)}: ${g.count} case(s)</summary>${table(
        ['op', 'model', 'res', 'batch', 'dtype', 'backend', 'reason'],
        g.examples.map((r) => [opLabel(r.op, r.variant), r.model, r.res, String(r.batch), r.dtype, backendLabel(r), r.note]),
      )}</details>`,
    );
  }

  // Environment
  add('<h2>Environment</h2>');
  for (const b of m.bench) {
    const e = b.file.environment;
    add(`<h3>${esc(b.name)}</h3>`);
    add(
      table(
        ['field', 'value'],
        [
          ['CPU', `${e.cpu_model} (${e.cpu_cores} cores)`],
          ['memory', `${e.total_mem_gib} GiB`],
          ['node', e.node],
          ['OS', `${e.platform} ${e.arch}`],
          ['git commit', `${e.git_commit ?? 'unknown'}${e.git_dirty ? ' (with uncommitted changes)' : ''}`],
          ['date', e.date],
          ['command', e.command],
          ['baselines', b.file.baselines.join(', ') || '–'],
          ...Object.entries(e.extra).map(([k, v]) => [k, v]),
        ],
      ),
    );
  }

  const figJson = jsonForScript(figs);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(m.title)}</title>
<style>${CSS}</style>
<script>/* plotly.js ${esc(plotly.version)} (MIT), inlined so this report opens offline */
${plotly.source}
</script>
</head>
<body>
${parts.join('\n')}
<script type="application/json" id="sana-lab-figures">${figJson}</script>
<script>
(function () {
  var figs = JSON.parse(document.getElementById('sana-lab-figures').textContent);
  figs.forEach(function (f) {
    Plotly.newPlot(f.id, f.data, f.layout, { responsive: true, displaylogo: false });
  });
})();
</script>
</body>
</html>
`;
}
