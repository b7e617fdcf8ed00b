/**
 * `sana-lab lab` (npm run lab): the lab's main job — everything that exists, in order, with progress:
 * environment, golden-file integrity, native ↔ reference bf16 conversion, the parity suite of every
 * available backend, a short benchmark (the cpu backend against the reference at 256², the cpu backend
 * alone at 512², the DiT ops of Sana-0.6B, f32, batch 2), and the report (HTML + Markdown + JSON).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tryLoadAddon } from '../../bindings/addon.js';
import { createBackend } from '../../bench/backends/index.js';
import type { BenchBackend } from '../../bench/backends/backend.js';
import { DIT_OPS, type OpName } from '../../bench/catalogue.js';
import { writeResults, type BenchResultsFile } from '../../bench/record.js';
import { runBench, summaryTable, type BenchPlan, type RunOptions } from '../../bench/runner.js';
import { parseResolution } from '../../bench/shapes.js';
import { f32ToBf16Bits } from '../../reference/core/dtype.js';
import { goldenAvailable, goldenDir, goldenPath } from '../../reference/core/golden.js';
import { Rng } from '../../reference/core/random.js';
import { SafetensorsFile } from '../../reference/core/safetensors.js';
import { generateReport } from '../../reports/generate.js';
import { parseArgs } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { environment } from '../environment.js';
import { parityRun } from './parity.js';

interface StepResult {
  step: string;
  /** 'skipped' steps do not fail the lab; they say why they did not run. */
  status: 'ok' | 'FAIL' | 'skipped';
  detail: string;
  files?: string[];
}

interface LabOptions {
  out: string;
  quick: boolean;
  bench: boolean;
  report: boolean;
  budgetS: number;
  command: string;
}

function goldenStep(): StepResult {
  if (!goldenAvailable()) return { step: 'golden files', status: 'skipped', detail: `${goldenDir()} is absent` };
  const files = readdirSync(goldenDir()).filter((f) => f.endsWith('.safetensors'));
  let tensors = 0;
  let bytes = 0;
  for (const f of files) {
    const st = SafetensorsFile.open(goldenPath(f));
    try {
      for (const e of st.header.entries) {
        tensors++;
        bytes += e.end - e.begin;
      }
    } finally {
      st.close();
    }
  }
  return { step: 'golden files', status: 'ok', detail: `${files.length} files, ${tensors} tensors, ${(bytes / 2 ** 20).toFixed(1)} MiB validated` };
}

function conversionStep(): StepResult {
  const { addon, error } = tryLoadAddon();
  if (addon === null) return { step: 'native bf16 conversion', status: 'FAIL', detail: error ?? 'addon unavailable' };
  const n = 1 << 20;
  const x = new Float32Array(n);
  new Rng(7).fillNormal(x, 0, 100);
  const native = addon.f32ToBf16(x);
  let mismatches = 0;
  for (let i = 0; i < n; i++) if (native[i] !== f32ToBf16Bits(x[i]!)) mismatches++;
  return {
    step: 'native bf16 conversion',
    status: mismatches === 0 ? 'ok' : 'FAIL',
    detail: `${n} random values, ${mismatches} bit mismatches between the addon and reference/core/dtype.ts`,
  };
}

async function parityStep(o: LabOptions): Promise<StepResult> {
  const json = join(o.out, 'lab-parity.json');
  const { file, passed } = await parityRun({ json, ...(o.quick ? { maxShapes: 1 } : {}), quiet: true, command: o.command });
  const fails = file.records.filter((r) => !r.pass);
  const rejected = (file.self_checks ?? []).filter((s) => s.rejected).length;
  const skipped = [...new Set((file.skipped ?? []).map((s) => (s.op === '*' ? `${s.backend} (${s.reason})` : `${s.op} on ${s.backend}`)))];
  const detail =
    `${file.records.length - fails.length}/${file.records.length} checks pass` +
    (fails.length ? ` — FAILED: ${fails.map((r) => `${r.op} ${r.backend} ${r.dtype}`).join(', ')}` : '') +
    `; ${rejected}/${(file.self_checks ?? []).length} wrong kernels rejected` +
    (skipped.length ? `; not checked: ${skipped.join('; ')}` : '');
  if (file.records.length === 0) return { step: 'parity', status: passed ? 'skipped' : 'FAIL', detail: `no native backend to check; ${detail}`, files: [json] };
  return { step: 'parity', status: passed ? 'ok' : 'FAIL', detail, files: [json] };
}

/** The bench scope: the full lab run, or a CI-sized one (--quick). */
function benchScope(o: LabOptions): {
  plans: { backends: string[]; res: string; ops: OpName[]; variants?: string[] }[];
  plan: Required<Pick<BenchPlan, 'minSamples' | 'maxTimeS' | 'budgetMs'>>;
  run: RunOptions;
} {
  if (o.quick) {
    return {
      plans: [{ backends: ['reference', 'cpu'], res: '256', ops: ['gemm', 'linear-attention', 'layernorm-modulate'], variants: ['t-embed-2'] }],
      plan: { minSamples: 2, maxTimeS: 0.05, budgetMs: Math.min(o.budgetS, 2) * 1e3 },
      run: { ceilingOptions: { copyBytes: 16 * 2 ** 20, gemmSizes: [[256, 256, 256]], repeats: 2 } },
    };
  }
  return {
    plans: [
      { backends: ['reference', 'cpu'], res: '256', ops: [...DIT_OPS] },
      { backends: ['cpu'], res: '512', ops: [...DIT_OPS] },
    ],
    plan: { minSamples: 3, maxTimeS: 0.5, budgetMs: o.budgetS * 1e3 },
    run: {},
  };
}

async function benchStep(o: LabOptions): Promise<StepResult> {
  const json = join(o.out, 'lab-bench.json');
  const scope = benchScope(o);
  const cache = new Map<string, BenchBackend>();
  const backend = async (n: string) => cache.get(n) ?? cache.set(n, await createBackend(n)).get(n)!;
  const files: BenchResultsFile[] = [];
  // Every backend present joins the native runs: cuda when the addon reports a usable device.
  const cuda = (await backend('cuda')).available().ok;
  for (const p of scope.plans) {
    const backends = await Promise.all([...p.backends, ...(cuda ? ['cuda'] : [])].map(backend));
    for (const b of backends) {
      const av = b.available();
      if (!av.ok) console.error(`[lab] bench: backend ${b.name}: ${av.reason} (its cases are recorded as unavailable)`);
    }
    const file = await runBench(
      {
        model: '0.6b',
        ops: p.ops,
        resolutions: [parseResolution(p.res)],
        batches: [2],
        dtypes: ['f32'],
        backends,
        ...(p.variants ? { variants: p.variants } : {}),
        baselines: ['reference'],
        ...scope.plan,
      },
      // Later runs reuse the first run's ceilings: one roofline for the whole lab run.
      { ...scope.run, ...(files[0] ? { ceilings: files[0].ceilings } : {}), command: o.command },
    );
    files.push(file);
  }
  const merged: BenchResultsFile = { ...files[0]!, records: files.flatMap((f) => f.records) };
  writeResults(json, merged);
  console.error(summaryTable(merged));
  const recs = merged.records;
  const count = (s: string) => recs.filter((r) => r.status === s).length;
  const errors = count('error');
  return {
    step: 'bench',
    status: errors > 0 ? 'FAIL' : 'ok',
    detail: `${recs.length} cases: ${count('ok')} timed, ${count('skipped: budget')} over the reference budget, ${count('unavailable')} unavailable, ${errors} errors`,
    files: [json],
  };
}

function reportStep(o: LabOptions, inputs: string[]): StepResult {
  if (inputs.length === 0) return { step: 'report', status: 'skipped', detail: 'no parity or bench results to report' };
  const html = join(o.out, 'lab.html');
  const r = generateReport({ inputs, out: html, title: 'SANA kernel lab — lab run' });
  const m = r.model;
  return {
    step: 'report',
    status: 'ok',
    detail: `${m.measured.length} timed records, ${m.throughput.length} throughput chart(s), ${m.roofline.length} roofline(s), ${m.breakdown.charts.length} breakdown(s), ${m.parity.length} parity rows`,
    files: [r.html, r.markdown],
  };
}

const USAGE = `usage: sana-lab lab [--quick] [--out DIR] [--no-bench] [--no-report] [--budget-s S] [--json]

Runs every lab step that exists, printing progress; exits non-zero when a step fails:
  1. environment          machine, Node, backends
  2. golden files         every tensor of the golden safetensors files parses (skipped when absent)
  3. bf16 conversion      the addon's f32 → bf16 rounding equals the reference's, bit for bit
  4. parity               every catalogue op on every available backend vs the TS reference (f32, bf16)
  5. bench                the cpu backend vs the reference at 256², the cpu backend alone at 512²
                          (cuda too where a device is present): the Sana-0.6B DiT ops, f32,
                          batch 2 (a few minutes on 2 cores)
  6. report               DIR/lab.html (offline, plotly inlined, ≈10 MB) and DIR/lab.md
The JSON results go to DIR/lab-parity.json and DIR/lab-bench.json.

  --quick        CI-sized: one test shape per op, three small bench cases at 256², short timings
  --out DIR      where results and the report go (default reports)
  --no-bench     skip the benchmark (and its charts)
  --no-report    skip the report
  --budget-s S   time budget per reference-backend case (default 12; --quick caps it at 2)
  --json         print the step results as JSON at the end`;

export const labCommand: Command = {
  name: 'lab',
  summary: 'the main job: environment, integrity, parity of every backend, a short benchmark, the report',
  usage: USAGE,
  async run(argv) {
    const a = parseArgs('lab', argv, {
      json: { type: 'flag' },
      quick: { type: 'flag' },
      out: { type: 'string' },
      'no-bench': { type: 'flag' },
      'no-report': { type: 'flag' },
      'budget-s': { type: 'string' },
    });
    if (a.positionals.length > 0) throw new UsageError(`lab: unexpected argument "${a.positionals[0]}"`);
    const budgetS = Number(a.values.get('budget-s') ?? 12);
    if (!(budgetS > 0)) throw new UsageError(`lab: --budget-s must be a positive number, got "${a.values.get('budget-s')}"`);
    const o: LabOptions = {
      out: a.values.get('out') ?? 'reports',
      quick: a.flags.has('quick'),
      bench: !a.flags.has('no-bench'),
      report: !a.flags.has('no-report'),
      budgetS,
      command: `sana-lab lab ${argv.join(' ')}`.trim(),
    };
    const env = environment();
    const available = env.backends.filter((b) => b.available).map((b) => b.name);
    const steps: { name: string; run: () => StepResult | Promise<StepResult> }[] = [
      { name: 'golden files', run: goldenStep },
      { name: 'native bf16 conversion', run: conversionStep },
      { name: 'parity', run: () => parityStep(o) },
      ...(o.bench ? [{ name: 'bench', run: () => benchStep(o) }] : []),
      ...(o.report ? [{ name: 'report', run: () => reportStep(o, results.flatMap((r) => (r.step === 'parity' || r.step === 'bench' ? (r.files ?? []) : []))) }] : []),
    ];
    const total = steps.length + 1;
    const t0 = performance.now();
    const elapsed = () => `${((performance.now() - t0) / 1e3).toFixed(1)} s`;
    console.error(
      `[lab 1/${total}] ok   environment: sana-kernel-lab ${env.version} on ${env.machine.cpuModel} (${env.machine.threads} threads), ${env.node}; backends available: ${available.join(', ')}` +
        (env.backends.some((b) => !b.available) ? `; not available: ${env.backends.filter((b) => !b.available).map((b) => `${b.name} (${b.reason ?? 'unknown'})`).join(', ')}` : ''),
    );
    const results: StepResult[] = [];
    for (const [i, step] of steps.entries()) {
      console.error(`[lab ${i + 2}/${total}] ${step.name} … (${elapsed()})`);
      let r: StepResult;
      try {
        r = await step.run();
      } catch (e) {
        r = { step: step.name, status: 'FAIL', detail: `error: ${(e as Error).message}` };
      }
      results.push(r);
      console.error(`[lab ${i + 2}/${total}] ${r.status.padEnd(4)} ${r.step}: ${r.detail}${r.files ? ` → ${r.files.join(', ')}` : ''} (${elapsed()})`);
    }
    const html = results.find((r) => r.step === 'report' && r.status === 'ok')?.files?.[0];
    if (html) console.error(`[lab] report: ${html} (open it in a browser; ${(statSync(html).size / 2 ** 20).toFixed(1)} MiB, works offline)`);
    if (a.flags.has('json')) console.log(JSON.stringify({ environment: env, steps: results }, null, 2));
    return results.every((r) => r.status !== 'FAIL') ? 0 : 1;
  },
};
