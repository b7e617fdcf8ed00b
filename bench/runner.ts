/**
 * The bench runner: expands (resolution × batch × op shape × dtype × backend × version) into cases,
 * times each one, and returns a results file (bench/record.ts). Cases that cannot run become records
 * that say why ('unavailable', 'skipped: budget', 'skipped: memory', 'error'), never silent gaps.
 *
 * Shapes of one (resolution, batch, shape, dtype) are timed back to back across backends, so a
 * baseline and its candidate see the same machine state.
 */
import { measureCpuCeilings, type PeakGemm } from './ceilings-cpu.js';
import { opCost, opsOfModel, type OpName } from './catalogue.js';
import type { BenchDType } from './cost-model.js';
import type { ModelKey } from './models.js';
import { Progress, type ProgressSink } from './progress.js';
import { captureEnvironment, RESULTS_FORMAT, type BenchRecord, type BenchResultsFile, type RecordStatus } from './record.js';
import { findCeilings, rooflinePoint, type Ceilings } from './roofline.js';
import { catalogue, type OpShape, type Resolution } from './shapes.js';
import { budgetPrecheck, timeHost, timeWithBudget, type Timing } from './timing.js';
import type { BenchBackend } from './backends/backend.js';

export interface BenchPlan {
  model: ModelKey;
  ops: OpName[];
  resolutions: Resolution[];
  batches: number[];
  dtypes: BenchDType[];
  backends: BenchBackend[];
  /** Only this kernel version (else every version each backend has). */
  version?: number;
  /** Only these instances of multi-instance ops (e.g. 'qkv', 's3'); single-instance ops always run. */
  variants?: string[];
  /** Explicit shapes instead of the catalogue (ad-hoc runs, tests). */
  shapes?: OpShape[];
  /** Wall-clock budget per case for budgeted (slow) backends, ms. */
  budgetMs: number;
  minSamples?: number;
  /** benchmark.js maxTime per case, seconds. */
  maxTimeS?: number;
  /** Backends whose timings are the baselines of this run (default: 'reference' when present). */
  baselines?: string[];
}

export interface RunOptions {
  /** Where the progress bar goes (default stderr); null for none. */
  progress?: ProgressSink | null;
  /** Use these ceilings instead of measuring; [] for no roofline. */
  ceilings?: Ceilings[];
  /** Options for the CPU ceiling measurement. */
  ceilingOptions?: { copyBytes?: number; gemmSizes?: [number, number, number][]; repeats?: number };
  command?: string;
}

interface Case {
  shape: OpShape;
  dtype: BenchDType;
  backend: BenchBackend;
  version: number;
  unavailable: string | null;
}

/** The shapes a plan covers, in catalogue order. */
export function planShapes(plan: BenchPlan): OpShape[] {
  if (plan.shapes !== undefined) return plan.shapes.filter((s) => plan.ops.includes(s.op));
  const own = opsOfModel(plan.model);
  const foreign = plan.ops.filter((o) => !own.includes(o));
  if (foreign.length > 0) {
    throw new RangeError(`bench: op(s) ${foreign.join(', ')} are not part of model "${plan.model}" (its ops: ${own.join(', ')})`);
  }
  const out: OpShape[] = [];
  for (const r of plan.resolutions) {
    for (const b of plan.batches) {
      for (const s of catalogue(plan.model, r, b)) {
        if (!plan.ops.includes(s.op)) continue;
        // A variant filter picks instances of multi-instance ops; single-instance ops ('' variant) stay.
        if (plan.variants !== undefined && plan.variants.length > 0 && s.variant !== '' && !plan.variants.includes(s.variant)) continue;
        out.push(s);
      }
    }
  }
  return out;
}

function expandCases(plan: BenchPlan): Case[] {
  const cases: Case[] = [];
  for (const shape of planShapes(plan)) {
    for (const dtype of plan.dtypes) {
      for (const backend of plan.backends) {
        const av = backend.available();
        const sup = av.ok ? backend.supports(shape.op, dtype) : av;
        if (!sup.ok) {
          cases.push({ shape, dtype, backend, version: plan.version ?? 0, unavailable: sup.reason });
          continue;
        }
        const versions = backend.versions(shape.op, dtype);
        const chosen = plan.version === undefined ? versions : versions.filter((v) => v === plan.version);
        if (chosen.length === 0) {
          cases.push({
            shape,
            dtype,
            backend,
            version: plan.version ?? 0,
            unavailable: `${backend.name} has no version ${String(plan.version)} of "${shape.op}" (versions: ${versions.join(', ') || 'none'})`,
          });
          continue;
        }
        for (const version of chosen) cases.push({ shape, dtype, backend, version, unavailable: null });
      }
    }
  }
  return cases;
}

/** Measure ceilings for each device of the available backends (CPU: copy + the best gemm on offer). */
export async function measureCeilings(backends: BenchBackend[], opts: RunOptions): Promise<Ceilings[]> {
  const out: Ceilings[] = [];
  const usable = backends.filter((b) => b.available().ok);
  for (const b of usable) {
    if (b.ceilings !== undefined) out.push(...(await b.ceilings()));
  }
  const cpuDevices = [...new Set(usable.filter((b) => b.device().startsWith('cpu:')).map((b) => b.device()))];
  for (const device of cpuDevices) {
    if (out.some((c) => c.device === device)) continue;
    // Prefer a native gemm for the peak; the reference one is labelled as a JS baseline.
    const onDevice = usable.filter((b) => b.device() === device && b.peakGemm !== undefined);
    const gemmOwner = onDevice.find((b) => b.name !== 'reference') ?? onDevice[0];
    const gemm: PeakGemm | undefined = gemmOwner?.peakGemm?.();
    const fma = gemmOwner?.fmaPeak?.();
    const c = await measureCpuCeilings({ ...opts.ceilingOptions, ...(gemm ? { gemm } : {}), ...(fma ? { fma } : {}) });
    out.push({ ...c, device });
  }
  return out;
}

/**
 * Per (device, dtype): the higher peak and the higher bandwidth of two measurements of the same
 * ceilings (before and after the cases), each source saying which measurement it is.
 */
export function bestCeilings(before: readonly Ceilings[], after: readonly Ceilings[]): Ceilings[] {
  return before.map((b) => {
    const a = after.find((x) => x.device === b.device && x.dtype === b.dtype);
    if (a === undefined) return b;
    const pick = (useAfter: boolean, src: string) => `${src} [the better of two measurements: ${useAfter ? 'after' : 'before'} the cases]`;
    const peakAfter = a.peakFlops > b.peakFlops;
    const bwAfter = a.bandwidth > b.bandwidth;
    const c: Ceilings = {
      ...b,
      peakFlops: Math.max(a.peakFlops, b.peakFlops),
      peakSource: pick(peakAfter, peakAfter ? a.peakSource : b.peakSource),
      bandwidth: Math.max(a.bandwidth, b.bandwidth),
      bandwidthSource: pick(bwAfter, bwAfter ? a.bandwidthSource : b.bandwidthSource),
      measuredAt: `${b.measuredAt} and ${a.measuredAt}`,
    };
    if (a.fmaPeakFlops !== undefined || b.fmaPeakFlops !== undefined) {
      const fmaAfter = (a.fmaPeakFlops ?? 0) > (b.fmaPeakFlops ?? 0);
      c.fmaPeakFlops = Math.max(a.fmaPeakFlops ?? 0, b.fmaPeakFlops ?? 0);
      c.fmaPeakSource = pick(fmaAfter, (fmaAfter ? a.fmaPeakSource : b.fmaPeakSource) ?? '');
    }
    return c;
  });
}

/** A timed record placed on (other) ceilings: its roofline % recomputed. */
function withRoofline(r: BenchRecord, ceilings: readonly Ceilings[]): BenchRecord {
  if (r.status !== 'ok' || r.median_ms === null) return r;
  const ceil = findCeilings(ceilings, r.device, r.dtype);
  return ceil === undefined ? r : { ...r, roofline_pct: rooflinePoint(r.flops, r.bytes, r.median_ms / 1e3, ceil).pct };
}

function baseRecord(c: Case): Omit<BenchRecord, 'status' | 'note'> {
  const cost = opCost(c.shape, c.dtype);
  return {
    op: c.shape.op,
    backend: c.backend.name,
    version: c.version,
    model: c.shape.model,
    res: c.shape.res,
    height: c.shape.height,
    width: c.shape.width,
    tokens: c.shape.tokens,
    batch: c.shape.batch,
    dtype: c.dtype,
    variant: c.shape.variant,
    dims: { ...c.shape.dims },
    median_ms: null,
    p20_ms: null,
    p80_ms: null,
    mean_ms: null,
    rme_pct: null,
    samples: 0,
    calls_per_sample: 0,
    flops: cost.flops,
    bytes: cost.bytes,
    gflops: null,
    gbs: null,
    roofline_pct: null,
    device: c.backend.device(),
    threads: c.backend.threads(),
    timer: 'none',
  };
}

function notRun(c: Case, status: Exclude<RecordStatus, 'ok'>, note: string): BenchRecord {
  return { ...baseRecord(c), status, note };
}

function timedRecord(c: Case, t: Timing, ceilings: Ceilings[], notes: string[]): BenchRecord {
  const r = baseRecord(c);
  const seconds = t.medianMs / 1e3;
  const ceil = findCeilings(ceilings, r.device, r.dtype);
  let pct: number | null = null;
  if (ceil !== undefined) pct = rooflinePoint(r.flops, r.bytes, seconds, ceil).pct;
  else notes.push('no ceilings for this device: no roofline %');
  return {
    ...r,
    median_ms: t.medianMs,
    p20_ms: t.p20Ms,
    p80_ms: t.p80Ms,
    mean_ms: t.meanMs,
    rme_pct: t.rmePct,
    samples: t.samplesMs.length,
    calls_per_sample: t.callsPerSample,
    gflops: r.flops / seconds / 1e9,
    gbs: r.bytes / seconds / 1e9,
    roofline_pct: pct,
    timer: t.timer,
    status: 'ok',
    note: notes.join('; '),
  };
}

async function runCase(c: Case, plan: BenchPlan, ceilings: Ceilings[]): Promise<BenchRecord> {
  if (c.unavailable !== null) return notRun(c, 'unavailable', c.unavailable);
  const fit = c.backend.fits?.(c.shape, c.dtype);
  if (fit !== undefined && !fit.ok) return notRun(c, 'skipped: memory', fit.reason);
  const minSamples = plan.minSamples ?? 5;
  const maxTimeS = plan.maxTimeS ?? 2;
  const estimateMs = c.backend.budgeted ? c.backend.estimateMs?.(c.shape, c.dtype) : undefined;
  if (c.backend.budgeted) {
    const reason = budgetPrecheck(estimateMs, plan.budgetMs, minSamples);
    if (reason !== null) return notRun(c, 'skipped: budget', reason);
  }
  let prepared;
  try {
    prepared = await c.backend.prepareOp(c.shape, c.dtype, c.version);
  } catch (e) {
    return notRun(c, 'error', `prepare failed: ${(e as Error).message}`);
  }
  try {
    const notes = prepared.note ? [prepared.note] : [];
    if (c.backend.timeDevice !== undefined) {
      const t = await c.backend.timeDevice(prepared, { minSamples, maxTimeS });
      return timedRecord(c, t, ceilings, notes);
    }
    if (c.backend.budgeted) {
      if (estimateMs !== undefined) notes.push(`budget estimate ${estimateMs.toPrecision(3)} ms per call`);
      const bt = await timeWithBudget(() => prepared.run(), { budgetMs: plan.budgetMs, minSamples, maxTimeS });
      if (bt.status !== 'ok') return notRun(c, 'skipped: budget', bt.reason);
      return timedRecord(c, bt.timing, ceilings, notes);
    }
    const first = prepared.run(); // warm-up, and tells sync from async
    const isAsync = first !== undefined && typeof (first as Promise<void>).then === 'function';
    if (isAsync) await first;
    return timedRecord(c, await timeHost(() => prepared.run(), isAsync, { minSamples, maxTimeS }), ceilings, notes);
  } catch (e) {
    return notRun(c, 'error', `run failed: ${(e as Error).message}`);
  } finally {
    prepared.dispose();
  }
}

function caseLabel(c: Case): string {
  const v = c.shape.variant ? `:${c.shape.variant}` : '';
  return `${c.shape.op}${v} ${c.shape.model} ${c.shape.res} b${c.shape.batch} ${c.dtype} ${c.backend.name}${c.version ? ` v${c.version}` : ''}`;
}

function outcome(r: BenchRecord): string {
  if (r.status !== 'ok') return r.status;
  return `${r.median_ms!.toPrecision(3)} ms, ${r.gflops!.toPrecision(3)} GFLOP/s`;
}

/** Run a plan and return the results file (write it with writeResults). */
export async function runBench(plan: BenchPlan, opts: RunOptions = {}): Promise<BenchResultsFile> {
  if (!(plan.budgetMs > 0)) throw new RangeError(`bench: the budget must be positive, got ${plan.budgetMs} ms`);
  const cases = expandCases(plan);
  const environment = captureEnvironment(opts.command);
  for (const b of plan.backends) {
    const extra = b.available().ok ? b.environment?.() : undefined;
    for (const [k, v] of Object.entries(extra ?? {})) environment.extra[`${b.name}.${k}`] = v;
  }
  const given = opts.ceilings !== undefined;
  const ceilings = opts.ceilings ?? (await measureCeilings(plan.backends, opts));
  const minSamples = plan.minSamples ?? 5;
  const weights = cases.map((c) => {
    if (c.unavailable !== null) return 0.001;
    if (!c.backend.budgeted) return (plan.maxTimeS ?? 2) * 1e3;
    const est = c.backend.estimateMs?.(c.shape, c.dtype);
    return est === undefined ? plan.budgetMs : Math.min(plan.budgetMs, est * (minSamples + 1));
  });
  const progress = opts.progress === null ? null : new Progress(cases.length, opts.progress ?? process.stderr, weights);
  const records: BenchRecord[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    const label = caseLabel(c);
    progress?.begin(label);
    const r = await runCase(c, plan, ceilings);
    records.push(r);
    progress?.tick(i, `${label}: ${outcome(r)}`);
  }
  progress?.finish();
  const names = plan.backends.map((b) => b.name);
  const baselines = plan.baselines ?? (names.includes('reference') ? ['reference'] : []);
  if (given || records.every((r) => r.status !== 'ok')) return { format: RESULTS_FORMAT, environment, ceilings, baselines, records };
  // The cores are shared with whatever else runs: measure the ceilings again after the cases, keep the
  // better of the two measurements, and place every record on that roofline.
  const final = bestCeilings(ceilings, await measureCeilings(plan.backends, opts));
  return { format: RESULTS_FORMAT, environment, ceilings: final, baselines, records: records.map((r) => withRoofline(r, final)) };
}

/** One line per record, for the terminal. */
export function summaryTable(file: BenchResultsFile): string {
  const rows = file.records.map((r) => [
    `${r.op}${r.variant ? `:${r.variant}` : ''}`,
    r.res,
    `b${r.batch}`,
    r.dtype,
    `${r.backend}${r.version ? ` v${r.version}` : ''}`,
    r.status === 'ok' ? r.median_ms!.toPrecision(4) : '-',
    r.gflops === null ? '-' : r.gflops.toPrecision(3),
    r.gbs === null ? '-' : r.gbs.toPrecision(3),
    r.roofline_pct === null ? '-' : `${r.roofline_pct.toFixed(1)}%`,
    // A backend's reason often starts with the status already ("unavailable: no device …"): not twice.
    r.status === 'ok' ? '' : r.note?.startsWith(`${r.status}:`) ? r.note : `${r.status}: ${r.note}`,
  ]);
  const head = ['op', 'res', 'batch', 'dtype', 'backend', 'median ms', 'GFLOP/s', 'GB/s', 'roofline', 'status'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}
