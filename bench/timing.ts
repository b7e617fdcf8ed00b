/**
 * Host timing: benchmark.js drives the runs and supplies its statistics (mean, relative margin of
 * error, samples); we add the median and p20/p80 over its samples. Each benchmark.js sample is the
 * mean time of `count` back-to-back calls (count > 1 only for calls shorter than its minimum cycle time).
 *
 * `timeWithBudget` caps slow backends (the pure-JS reference): a case whose estimated or measured cost
 * would exceed the budget is not run to completion and comes back as 'skipped: budget' with the reason.
 * Device-timed backends (CUDA events, L2 flush) bring their own timer; see bench/backends/backend.ts.
 */
import Benchmark from 'benchmark';
import { performance } from 'node:perf_hooks';

/** The q-quantile (0 ≤ q ≤ 1) with linear interpolation between order statistics (numpy's default). */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('percentile: no values');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`percentile: q must be in [0, 1], got ${q}`);
  if (values.some((v) => !Number.isFinite(v))) throw new RangeError('percentile: values must be finite');
  const s = [...values].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export interface Summary {
  n: number;
  median: number;
  p20: number;
  p80: number;
  mean: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summarize: no values');
  return {
    n: values.length,
    median: percentile(values, 0.5),
    p20: percentile(values, 0.2),
    p80: percentile(values, 0.8),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

export interface Timing {
  /** Per-call time of each sample, ms. */
  samplesMs: number[];
  callsPerSample: number;
  medianMs: number;
  p20Ms: number;
  p80Ms: number;
  meanMs: number;
  /** benchmark.js relative margin of error of the mean, %; null when another timer produced the samples. */
  rmePct: number | null;
  timer: string;
}

/** Build a Timing from raw per-call samples (e.g. CUDA-event times from a device backend). */
export function timingFromSamples(samplesMs: readonly number[], timer: string, callsPerSample = 1, rmePct: number | null = null): Timing {
  const s = summarize(samplesMs);
  return { samplesMs: [...samplesMs], callsPerSample, medianMs: s.median, p20Ms: s.p20, p80Ms: s.p80, meanMs: s.mean, rmePct, timer };
}

export interface HostTimingOptions {
  /** benchmark.js minSamples (default 5). */
  minSamples?: number;
  /** benchmark.js maxTime in seconds: sampling stops after this once minSamples are in (default 2). */
  maxTimeS?: number;
}

type RunFn = () => void | Promise<void>;

/** Time `run` with benchmark.js. `isAsync` makes it a deferred benchmark that awaits each call. */
export function timeHost(run: RunFn, isAsync: boolean, opts: HostTimingOptions = {}): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const common = { minSamples: opts.minSamples ?? 5, maxTime: opts.maxTimeS ?? 2 };
    const bench = isAsync
      ? new Benchmark('op', {
          ...common,
          defer: true,
          fn(deferred: { resolve(): void }) {
            Promise.resolve(run()).then(
              () => deferred.resolve(),
              (e: unknown) => {
                failure = e;
                deferred.resolve();
              },
            );
          },
        })
      : new Benchmark('op', { ...common, fn: run as () => void });
    let failure: unknown;
    bench.on('complete', () => {
      const err = failure ?? (bench as unknown as { error?: unknown }).error;
      if (err !== undefined) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const samplesMs = bench.stats.sample.map((s) => s * 1e3);
      if (samplesMs.length === 0) {
        reject(new Error('benchmark.js produced no samples'));
        return;
      }
      resolve(timingFromSamples(samplesMs, 'benchmark.js', bench.count, bench.stats.rme));
    });
    bench.run({ async: true });
  });
}

export interface BudgetOptions extends HostTimingOptions {
  /** Wall-clock budget for the whole case (warm-up + samples), ms. */
  budgetMs: number;
  /** A prior estimate of one call, ms (e.g. FLOPs over a calibrated rate); skips without running when over. */
  estimateMs?: number;
}

export type BudgetedTiming =
  | { status: 'ok'; timing: Timing; warmupMs: number }
  | { status: 'skipped: budget'; reason: string; warmupMs: number | null };

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

/** The reason a case cannot fit in its budget judging by a prior estimate, or null if it may. */
export function budgetPrecheck(estimateMs: number | undefined, budgetMs: number, minSamples: number): string | null {
  if (estimateMs === undefined || !Number.isFinite(budgetMs) || estimateMs * (minSamples + 1) <= budgetMs) return null;
  return `estimated ${fmtMs(estimateMs)} per call × (1 warm-up + ${minSamples} samples) exceeds the ${fmtMs(budgetMs)} budget`;
}

/**
 * One warm-up call, then benchmark.js — unless the estimate or the warm-up says that warm-up plus
 * minSamples calls would not fit in the budget. The budget also caps benchmark.js's maxTime (a soft
 * cap: benchmark.js finishes the sample it is in and always collects minSamples).
 */
export async function timeWithBudget(run: RunFn, opts: BudgetOptions): Promise<BudgetedTiming> {
  const minSamples = opts.minSamples ?? 5;
  const budget = opts.budgetMs;
  const pre = budgetPrecheck(opts.estimateMs, budget, minSamples);
  if (pre !== null) return { status: 'skipped: budget', reason: pre, warmupMs: null };
  const t0 = performance.now();
  const first = run();
  const isAsync = first !== undefined && typeof (first as Promise<void>).then === 'function';
  if (isAsync) await first;
  const warmupMs = performance.now() - t0;
  if (Number.isFinite(budget) && warmupMs * (minSamples + 1) > budget) {
    return {
      status: 'skipped: budget',
      reason: `the warm-up call took ${fmtMs(warmupMs)}; ${minSamples} samples more would exceed the ${fmtMs(budget)} budget`,
      warmupMs,
    };
  }
  const leftS = Number.isFinite(budget) ? (budget - warmupMs) / 1e3 : Infinity;
  const maxTimeS = Math.min(opts.maxTimeS ?? 2, Math.max(leftS * 0.5, 0.001));
  const timing = await timeHost(run, isAsync, { minSamples, maxTimeS });
  return { status: 'ok', timing, warmupMs };
}
