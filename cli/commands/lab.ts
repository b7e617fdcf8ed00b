/**
 * `sana-lab lab` (npm run lab): the lab's main job — everything that exists, in order, with progress on
 * stderr: environment, golden-file integrity, native ↔ reference bf16 conversion, the parity suite of
 * every available backend, the benchmark of every available bench backend at four resolutions (what
 * runs where: ./lab-plan.ts), whole-model profiles on the native backends, and the report (HTML +
 * Markdown + PNG), checked for an empty chart.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { tryLoadAddon } from '../../bindings/addon.js';
import { BACKEND_NAMES } from '../../bench/backends/index.js';
import { writeResults, type BenchResultsFile } from '../../bench/record.js';
import { runBench, summaryTable, type RunOptions } from '../../bench/runner.js';
import { parseResolution } from '../../bench/shapes.js';
import { f32ToBf16Bits } from '../../reference/core/dtype.js';
import { goldenAvailable, goldenDir, goldenPath } from '../../reference/core/golden.js';
import { Rng } from '../../reference/core/random.js';
import { SafetensorsFile } from '../../reference/core/safetensors.js';
import { checkReport, checkSummary, type ReportExpectations } from '../../reports/check.js';
import { generateReport } from '../../reports/generate.js';
import { findChromium } from '../../reports/screenshot.js';
import type { BenchChartKind } from '../../reports/html.js';
import type { ReportModel } from '../../reports/model.js';
import { PROFILES_SCHEMA } from '../../reports/profile-input.js';
import { intOption, outputDir, parseArgs } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { environment } from '../environment.js';
import {
  baselineNames,
  closeBackend,
  DEFAULT_SCOPE,
  discoverBackends,
  labBenchParts,
  labProfiles,
  NATIVE_BACKENDS,
  QUICK_SCOPE,
  scopeResolutions,
  type BackendDiscovery,
  type LabScope,
} from './lab-plan.js';
import { parityRun } from './parity.js';
import { runProfile } from './profile.js';

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
  profile: boolean;
  report: boolean;
  budgetS: number;
  scope: LabScope;
  /** Only these bench backends (default: every available one). */
  backends?: string[];
  /** --backends was given (not --quick's default): each one named must be able to run. */
  backendsGiven: boolean;
  png: 'no' | 'if-available' | 'required';
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

/** Timing options of the ceilings: full by default, tiny for --quick. */
function runOptions(o: LabOptions): RunOptions {
  return o.quick ? { ceilingOptions: { copyBytes: 16 * 2 ** 20, gemmSizes: [[256, 256, 256]], repeats: 2 } } : {};
}

async function benchStep(o: LabOptions, found: BackendDiscovery): Promise<StepResult> {
  const json = join(o.out, 'lab-bench.json');
  const byName = new Map(found.available.map((b) => [b.name, b]));
  const names = o.backends ?? [...byName.keys()];
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length > 0) {
    const why = missing.map((n) => `${n} (${found.unavailable.find((u) => u.name === n)?.reason ?? 'unknown backend'})`);
    return { step: 'bench', status: 'FAIL', detail: `asked for backend(s) that cannot run here: ${why.join('; ')}` };
  }
  const budgeted = names.filter((n) => byName.get(n)!.budgeted);
  const parts = labBenchParts(o.scope, names, budgeted);
  const baselines = baselineNames([...new Set(parts.flatMap((p) => p.backends))]);
  if (parts.length === 0) return { step: 'bench', status: 'skipped', detail: 'nothing to run: no backend at the chosen resolutions' };
  const files: BenchResultsFile[] = [];
  let merged: BenchResultsFile | undefined;
  const t0 = performance.now();
  for (const [i, p] of parts.entries()) {
    console.error(
      `[lab] bench part ${i + 1}/${parts.length}: ${p.label} — ${p.backends.join(', ')}; ≥${p.minSamples} samples, ${p.maxTimeS} s max per case (${((performance.now() - t0) / 1e3).toFixed(0)} s into the bench)`,
    );
    const file = await runBench(
      {
        model: p.model,
        ops: p.ops,
        resolutions: [parseResolution(p.res)],
        batches: [p.batch],
        dtypes: ['f32'],
        backends: p.backends.map((n) => byName.get(n)!),
        ...(p.variants ? { variants: p.variants } : {}),
        ...(p.shapes ? { shapes: p.shapes } : {}),
        baselines,
        minSamples: p.minSamples,
        maxTimeS: p.maxTimeS,
        budgetMs: o.budgetS * 1e3,
      },
      // Later parts reuse the first part's ceilings (measured before and after it): one roofline per lab run.
      { ...runOptions(o), ...(files[0] ? { ceilings: files[0].ceilings } : {}), command: o.command },
    );
    files.push(file);
    merged = mergeBench(files, found);
    writeResults(json, merged); // after every part: an interrupted lab keeps what it measured
  }
  console.error(summaryTable(merged!));
  const recs = merged!.records;
  const count = (s: string) => recs.filter((r) => r.status === s).length;
  const errors = count('error');
  const res = [...new Set(recs.filter((r) => r.status === 'ok').map((r) => r.res))];
  return {
    step: 'bench',
    status: errors > 0 ? 'FAIL' : 'ok',
    detail:
      `${recs.length} cases in ${parts.length} part(s), ${((performance.now() - t0) / 1e3).toFixed(0)} s: ${count('ok')} timed at ${res.join(', ')}, ` +
      `${count('skipped: budget')} over the ${o.budgetS} s budget, ${count('skipped: memory')} over memory, ${count('unavailable')} unavailable, ${errors} errors; ` +
      `backends ${names.join(', ')} (baselines: ${baselines.join(', ') || 'none'})`,
    files: [json],
  };
}

/** One results file for the whole lab: every part's records, the first part's ceilings and environment. */
function mergeBench(files: readonly BenchResultsFile[], found: BackendDiscovery): BenchResultsFile {
  const first = files[0]!;
  const extra = { ...first.environment.extra };
  extra.load_average_end = `${loadavg().map((l) => l.toFixed(2)).join(' ')} (1/5/15 min, after the last part)`;
  if (found.unavailable.length > 0) extra['lab.unavailable_backends'] = found.unavailable.map((u) => `${u.name}: ${u.reason}`).join('; ');
  return {
    ...first,
    environment: { ...first.environment, extra },
    baselines: [...new Set(files.flatMap((f) => f.baselines))],
    records: files.flatMap((f) => f.records),
  };
}

/** Run `fn` with console.log sent to stderr: the profile's printout joins the lab's progress, stdout stays the lab's (--json). */
async function logToStderr<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = (...a: unknown[]) => console.error(...a);
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

/** The whole-model profiles (lab-plan.ts labProfiles), merged into DIR/lab-profiles.json like bench/gpu/models.sh does. */
async function profileStep(o: LabOptions, available: readonly string[]): Promise<StepResult> {
  const backends = (o.backends ?? available).filter((b) => available.includes(b));
  const plan = labProfiles(o.scope, backends);
  if (plan.length === 0) return { step: 'profile', status: 'skipped', detail: `no native backend (${NATIVE_BACKENDS.join(', ')}) to profile here or no --profile-res` };
  const json = join(o.out, 'lab-profiles.json');
  const tmp = mkdtempSync(join(tmpdir(), 'sana-lab-profile-'));
  const profiles: Record<string, unknown>[] = [];
  const failed: string[] = [];
  try {
    for (const [i, p] of plan.entries()) {
      console.error(`[lab] profile ${i + 1}/${plan.length}: sana-lab profile ${p.argv.join(' ')}`);
      const file = join(tmp, `${p.name}.json`);
      try {
        await logToStderr(() => runProfile([...p.argv, '--json', file]));
        profiles.push({ name: p.name, ...(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) });
      } catch (e) {
        failed.push(`${p.name}: ${(e as Error).message}`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (profiles.length > 0) writeFileSync(json, `${JSON.stringify({ schema: PROFILES_SCHEMA, profiles }, null, 2)}\n`);
  const steps = profiles.map((p) => {
    const b = p.blocks as { run: number; depth: number; extrapolated: boolean };
    return `${String(p.name)} ${(Number(p.step_ms) / 1e3).toFixed(2)} s/step${b.extrapolated ? ` (${b.run} of ${b.depth} blocks, extrapolated)` : ''}, ${Number(p.images_per_s).toPrecision(3)} images/s`;
  });
  const detail = `${profiles.length}/${plan.length} profiles: ${steps.join('; ') || 'none'}${failed.length ? ` — FAILED: ${failed.join('; ')}` : ''}`;
  return { step: 'profile', status: failed.length ? 'FAIL' : 'ok', detail, ...(profiles.length > 0 ? { files: [json] } : {}) };
}

function reportStep(o: LabOptions, inputs: string[], ranBench: boolean, ranParity: boolean): StepResult {
  if (inputs.length === 0) return { step: 'report', status: 'skipped', detail: 'no parity or bench results to report' };
  const html = join(o.out, 'lab.html');
  const r = generateReport({ inputs, out: html, title: 'SANA kernel lab — lab run', png: o.png, pngPath: join(o.out, 'lab.png') });
  const check = checkReport(r.model, r.figures, labExpectations(o, r.model, ranBench, ranParity));
  const files = [r.html, r.markdown];
  let png = '';
  if (r.png !== undefined && 'path' in r.png) {
    files.push(r.png.path);
    png = `; PNG of ${r.png.charts.length} charts (${(r.png.bytes / 1024).toFixed(0)} KiB)`;
  } else if (r.png !== undefined) png = `; no PNG: ${r.png.skipped}`;
  return { step: 'report', status: check.ok ? 'ok' : 'FAIL', detail: `${checkSummary(check)}; ${r.model.speedups.length} speed-ups, ${r.model.parity.length} parity rows${png}`, files };
}

/** What the lab's report must hold: the charts and resolutions the bench scope asked for. */
function labExpectations(o: LabOptions, m: ReportModel, ranBench: boolean, ranParity: boolean): ReportExpectations {
  if (!ranBench) return { minResolutions: 0, charts: [], sections: ranParity ? ['parity'] : [] };
  const charts: BenchChartKind[] = ['throughput', 'roofline'];
  const dit = o.scope.ditOps;
  if (o.scope.ditRes.length > 0 && dit.includes('layernorm-modulate')) charts.push('DiT block', 'DiT step');
  if (o.scope.dcaeRes.length > 0) charts.push('DC-AE decode');
  const sections: ('parity' | 'speedups' | 'environment')[] = ['environment'];
  if (ranParity && m.parityInputs.some((p) => p.file.records.length > 0)) sections.push('parity');
  if (m.bench.some((b) => b.file.baselines.length > 0)) sections.push('speedups');
  return { minResolutions: scopeResolutions(o.scope), charts, sections };
}

const USAGE = `usage: sana-lab lab [--quick] [--out DIR] [--res LIST] [--dcae-res LIST] [--ref-res LIST]
                    [--baseline-res LIST] [--dcae-baseline-res LIST] [--backends LIST] [--min-samples N] [--max-time-s S]
                    [--budget-s S] [--profile-res LIST] [--png | --no-png] [--no-bench] [--no-profile] [--no-report] [--json]

Runs every lab step that exists, printing progress on stderr; exits non-zero when a step fails:
  1. environment          machine, Node, the bench backends available here
  2. golden files         every tensor of the golden safetensors files parses (skipped when absent)
  3. bf16 conversion      the addon's f32 → bf16 rounding equals the reference's, bit for bit
  4. parity               every catalogue op on every available backend vs the TS reference (f32, bf16)
  5. bench                every available bench backend (cpu, cuda, torch, reference — the native ones
                          are the lab's kernels, the others its baselines), f32: the Sana-0.6B DiT ops
                          at batch 2 (one CFG step) at 256, 512, 1024, 2048 and the DC-AE decoder's
                          ops at batch 1 at 256 and 512; the slow pure-TS reference only at 256,
                          torch (2–4× slower than the native kernels on the big ops) on the DiT ops up
                          to 1024 and on the DC-AE ops at 256 (about 10 minutes on 2 idle cores)
  6. profile              whole-model profiles (sana-lab profile) on every native backend here: Sana-0.6B,
                          1 of its 28 blocks as one dit-block op, extrapolated to the full depth, at 256
                          (+ the DC-AE decode), 512 and 1024 (about 20 s on 2 cores)
  7. report               DIR/lab.html (offline, plotly inlined, ≈10 MB), DIR/lab.md, and DIR/lab.png
                          (its key charts, when Chromium is installed); then checks that the report
                          covers every resolution and that every chart has data
The JSON results go to DIR/lab-parity.json, DIR/lab-bench.json and DIR/lab-profiles.json.

  --quick          CI-sized: one test shape per op, three small bench cases at 256² (reference and
                   cpu only), short timings, one short profile at 256² (16 text tokens, one timed step)
  --out DIR        where results and the report go (default reports)
  --res LIST       DiT resolutions (default 256,512,1024,2048)
  --dcae-res LIST  DC-AE decode resolutions (default 256,512; "none" for none)
  --ref-res LIST   resolutions at which budgeted backends (the pure-TS reference) run (default 256)
  --baseline-res LIST
                   resolutions at which the other baselines (torch) run the DiT ops (default 256,512,1024)
  --dcae-baseline-res LIST
                   the same for the DC-AE ops (default 256)
  --backends LIST  only these bench backends (default: every one available here)
  --min-samples N  benchmark.js minimum samples per case (default 3 up to 512², 2 above)
  --max-time-s S   benchmark.js sampling time per case once the minimum is in (default 0.5)
  --budget-s S     time budget per reference-backend case (default 12; --quick caps it at 2)
  --profile-res LIST
                   whole-model profile resolutions (default 256,512,1024; the smallest also decodes)
  --png            require the PNG (fail without Chromium); default: write it when Chromium is found
  --no-png         no PNG
  --no-bench       skip the benchmark (and its charts)
  --no-profile     skip the whole-model profiles
  --no-report      skip the report
  --json           print the step results as JSON at the end`;

const SPEC = {
  json: { type: 'flag' },
  quick: { type: 'flag' },
  out: { type: 'string' },
  res: { type: 'list' },
  'dcae-res': { type: 'list' },
  'ref-res': { type: 'list' },
  'baseline-res': { type: 'list' },
  'dcae-baseline-res': { type: 'list' },
  'profile-res': { type: 'list' },
  backends: { type: 'list' },
  'min-samples': { type: 'string' },
  'max-time-s': { type: 'string' },
  'budget-s': { type: 'string' },
  png: { type: 'flag' },
  'no-png': { type: 'flag' },
  'no-bench': { type: 'flag' },
  'no-profile': { type: 'flag' },
  'no-report': { type: 'flag' },
} as const;

function resList(name: string, values: string[] | undefined, fallback: string[]): string[] {
  if (values === undefined) return fallback;
  if (values.length === 1 && values[0] === 'none') return [];
  for (const v of values) {
    try {
      parseResolution(v);
    } catch (e) {
      throw new UsageError(`lab: --${name}: ${(e as Error).message}`);
    }
  }
  return values;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`lab: --${name} must be a positive number, got "${value}"`);
  return n;
}

/** Options → what the lab runs (usage errors before anything starts). */
function labOptions(argv: string[]): LabOptions & { json: boolean } {
  const a = parseArgs('lab', argv, SPEC);
  if (a.positionals.length > 0) throw new UsageError(`lab: unexpected argument "${a.positionals[0]}"`);
  if (a.flags.has('png') && a.flags.has('no-png')) throw new UsageError('lab: --png and --no-png contradict each other');
  // --png requires Chromium: say so now, not after the whole lab has run
  if (a.flags.has('png') && findChromium() === null) {
    throw new UsageError('lab: --png needs Chromium (Debian\'s chromium, or SANA_LAB_CHROMIUM=/path/to/chrome), and none was found; drop --png to write the PNG only where Chromium is found');
  }
  const quick = a.flags.has('quick');
  const base = quick ? QUICK_SCOPE : DEFAULT_SCOPE;
  const minSamples = a.values.has('min-samples') ? intOption('lab', 'min-samples', a.values.get('min-samples'), 1, 1, 1000) : base.minSamples;
  const scope: LabScope = {
    ...base,
    ditRes: resList('res', a.lists.get('res'), base.ditRes),
    dcaeRes: resList('dcae-res', a.lists.get('dcae-res'), base.dcaeRes),
    budgetedRes: resList('ref-res', a.lists.get('ref-res'), base.budgetedRes),
    ditBaselineRes: resList('baseline-res', a.lists.get('baseline-res'), base.ditBaselineRes),
    dcaeBaselineRes: resList('dcae-baseline-res', a.lists.get('dcae-baseline-res'), base.dcaeBaselineRes),
    profileRes: resList('profile-res', a.lists.get('profile-res'), base.profileRes),
    maxTimeS: positive('max-time-s', a.values.get('max-time-s'), base.maxTimeS),
    ...(minSamples !== undefined ? { minSamples } : {}),
  };
  const backends = a.lists.get('backends');
  for (const b of backends ?? []) {
    if (!BACKEND_NAMES.includes(b)) throw new UsageError(`lab: --backends: unknown backend "${b}" (backends: ${BACKEND_NAMES.join(', ')})`);
  }
  const budgetS = positive('budget-s', a.values.get('budget-s'), 12);
  return {
    out: outputDir('lab', 'out', a.values.get('out') ?? 'reports'),
    quick,
    bench: !a.flags.has('no-bench'),
    profile: !a.flags.has('no-profile'),
    report: !a.flags.has('no-report'),
    budgetS: quick ? Math.min(budgetS, 2) : budgetS,
    scope,
    // --quick keeps to the reference and cpu backends unless told otherwise (a Python worker's start-up
    // would dominate a CI-sized run).
    ...(backends !== undefined ? { backends } : quick ? { backends: ['reference', 'cpu'] } : {}),
    backendsGiven: backends !== undefined,
    png: a.flags.has('png') ? 'required' : a.flags.has('no-png') || quick ? 'no' : 'if-available',
    json: a.flags.has('json'),
    command: `sana-lab lab ${argv.join(' ')}`.trim(),
  };
}

export const labCommand: Command = {
  name: 'lab',
  summary: 'the main job: environment, integrity, parity of every backend, benchmarks at four resolutions, the report',
  usage: USAGE,
  async run(argv) {
    const o = labOptions(argv);
    const t0 = performance.now();
    const elapsed = () => `${((performance.now() - t0) / 1e3).toFixed(1)} s`;
    const env = environment();
    const available = env.backends.filter((b) => b.available).map((b) => b.name);
    const found: BackendDiscovery = o.bench ? await discoverBackends(o.backends ?? BACKEND_NAMES) : { available: [], unavailable: [] };
    // Backends named with --backends that cannot run here: said now, not after parity at the bench step.
    if (o.bench && o.backendsGiven && found.unavailable.length > 0) {
      for (const b of found.available) closeBackend(b);
      throw new Error(`--backends: ${found.unavailable.map((u) => `${u.name} cannot run here (${u.reason.replace(/^unavailable: /, '')})`).join('; ')}`);
    }
    const total = 2 + 2 + (o.bench ? 1 : 0) + (o.profile ? 1 : 0) + (o.report ? 1 : 0);
    console.error(
      `[lab 1/${total}] ok   environment: sana-kernel-lab ${env.version} on ${env.machine.cpuModel} (${env.machine.threads} threads), ${env.node}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; addon backends available: ${available.join(', ') || 'none'}` +
        (env.backends.some((b) => !b.available) ? `; not available: ${env.backends.filter((b) => !b.available).map((b) => `${b.name} (${b.reason ?? 'unknown'})`).join(', ')}` : '') +
        (o.bench
          ? `; bench backends: ${found.available.map((b) => b.name).join(', ') || 'none'}` +
            (found.unavailable.length ? ` (not here: ${found.unavailable.map((u) => `${u.name} — ${u.reason}`).join('; ')})` : '')
          : ''),
    );
    const results: StepResult[] = [];
    const produced = (step: string) => results.find((r) => r.step === step && r.status !== 'skipped')?.files ?? [];
    const steps: { name: string; run: () => StepResult | Promise<StepResult> }[] = [
      { name: 'golden files', run: goldenStep },
      { name: 'native bf16 conversion', run: conversionStep },
      { name: 'parity', run: () => parityStep(o) },
      ...(o.bench ? [{ name: 'bench', run: () => benchStep(o, found) }] : []),
      ...(o.profile ? [{ name: 'profile', run: () => profileStep(o, available) }] : []),
      ...(o.report
        ? [{ name: 'report', run: () => reportStep(o, [...produced('parity'), ...produced('bench'), ...produced('profile')], produced('bench').length > 0, produced('parity').length > 0) }]
        : []),
    ];
    try {
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
    } finally {
      for (const b of found.available) closeBackend(b);
    }
    const report = results.find((r) => r.step === 'report' && r.status !== 'skipped');
    const html = report?.files?.[0];
    if (html) {
      console.error(`[lab] report: ${html} (open it in a browser; ${(statSync(html).size / 2 ** 20).toFixed(1)} MiB, works offline); summary: ${report.files![1]}`);
      const png = report.files!.find((f) => f.endsWith('.png'));
      if (png) console.error(`[lab] screenshot: ${png}`);
    }
    console.error(`[lab] done in ${elapsed()}: ${results.filter((r) => r.status === 'FAIL').length} step(s) failed`);
    if (o.json) console.log(JSON.stringify({ environment: env, steps: results }, null, 2));
    return results.every((r) => r.status !== 'FAIL') ? 0 : 1;
  },
};
