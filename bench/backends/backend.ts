/**
 * What the bench runner needs from a backend: `reference` (pure TS, bench/backends/reference.ts) and
 * the native `cpu` / `cuda` backends over the op API (bench/backends/native.ts).
 *
 * The runner never times allocation: `prepareOp` builds inputs and weights on the backend (random
 * values, never zeros) and returns a call that runs the op once on them; the runner times that call
 * and disposes the prepared op afterwards.
 */
import type { BenchDType } from '../cost-model.js';
import type { OpName } from '../catalogue.js';
import type { Ceilings } from '../roofline.js';
import type { OpShape } from '../shapes.js';
import type { FmaPeak, PeakGemm } from '../ceilings-cpu.js';
import type { Timing } from '../timing.js';

export interface PreparedOp {
  /** Run the op once on the prepared inputs (async for native ops that run off the JS thread). */
  run(): void | Promise<void>;
  /** Free backend memory (native tensors); idempotent. */
  dispose(): void;
  /** A remark recorded with the timing (e.g. "bf16 decoded to f32 inside the timed call"). */
  note?: string;
}

/** Either usable, or a reason shown to the user verbatim ("not available yet: …"). */
export type Availability = { ok: true } | { ok: false; reason: string };

export interface BenchBackend {
  readonly name: string;
  /** Whether the backend can run at all on this machine (addon built, GPU present…). */
  available(): Availability;
  /** Whether it implements `op` at `dtype`; the reason is recorded for unavailable cases. */
  supports(op: OpName, dtype: BenchDType): Availability;
  /**
   * Kernel versions of `op` (numbered v1…vN natively; the reference and torch have only version 0);
   * with `dtype`, only the versions that run that dtype (cuda's tensor-core versions are bf16-only).
   */
  versions(op: OpName, dtype?: BenchDType): number[];
  /** The device string records carry; ceilings are matched on it. */
  device(): string;
  threads(): number;
  /** Build inputs for one call of `shape` at `dtype` (kernel `version`) and return the call. */
  prepareOp(shape: OpShape, dtype: BenchDType, version: number): Promise<PreparedOp>;
  /**
   * True for slow backends whose cases are capped by the time budget (the pure-JS reference);
   * native backends run their cases to benchmark.js's own limits.
   */
  readonly budgeted: boolean;
  /** A prior estimate of one call in ms, used to skip over-budget cases without starting them. */
  estimateMs?(shape: OpShape, dtype: BenchDType): number | undefined;
  /** Whether a case fits in the backend's memory; cases that do not are recorded as 'skipped: memory'. */
  fits?(shape: OpShape, dtype: BenchDType): Availability;
  /**
   * A device timer (CUDA events with warm-up and L2 flush); when absent the runner times on the host
   * with benchmark.js.
   */
  timeDevice?(op: PreparedOp, opts: { minSamples: number; maxTimeS: number }): Promise<Timing>;
  /** The gemm that measures this backend's FP32 peak (CPU backends), if it has one. */
  peakGemm?(): PeakGemm;
  /** The FMA peak recorded beside the gemm peak (native CPU backends). */
  fmaPeak?(): FmaPeak | undefined;
  /** Ceilings the backend measures itself (the GPU check script's numbers). */
  ceilings?(): Promise<Ceilings[]>;
  /** Environment facts to record (GPU name, driver, clocks, thread pool size). */
  environment?(): Record<string, string>;
}
