/**
 * The roofline model from measured ceilings: attainable(I) = min(peak, I · bandwidth), with I the
 * arithmetic intensity (FLOP per minimal byte, see cost-model.ts). A result's "% of roofline" is its
 * achieved FLOP/s over the attainable FLOP/s at its intensity — equivalently, for memory-bound ops,
 * its achieved bandwidth over the measured bandwidth.
 */

/** The two ceilings of one device, with where each number came from. */
export interface Ceilings {
  /** The device string records carry (records and ceilings are matched on it). */
  device: string;
  /** Which storage dtypes these ceilings apply to ('any' = all). */
  dtype: 'f32' | 'bf16' | 'any';
  /** Peak compute, FLOP/s: the achieved one the roofline uses (CPU: the best native gemm). */
  peakFlops: number;
  /** How the peak was obtained (e.g. "reference linear (pure JS)…", "native gemm v3, 2 threads"). */
  peakSource: string;
  /** A theoretical-style compute peak recorded beside the achieved one (CPU: the addon's FMA loop). */
  fmaPeakFlops?: number;
  fmaPeakSource?: string;
  /** Streaming bandwidth, bytes/s. */
  bandwidth: number;
  bandwidthSource: string;
  /** ISO date of the measurement ("A and B" when the better of two measurements was kept). */
  measuredAt: string;
}

export interface RooflinePoint {
  /** FLOP per byte. */
  intensity: number;
  achievedGflops: number;
  achievedGBs: number;
  attainableGflops: number;
  /** Achieved / attainable × 100. */
  pct: number;
  bound: 'memory' | 'compute';
}

/** The ridge point: the intensity above which the device is compute-bound. */
export function ridgeIntensity(c: Pick<Ceilings, 'peakFlops' | 'bandwidth'>): number {
  return c.peakFlops / c.bandwidth;
}

/** Attainable FLOP/s at an intensity. */
export function attainableFlops(c: Pick<Ceilings, 'peakFlops' | 'bandwidth'>, intensity: number): number {
  return Math.min(c.peakFlops, intensity * c.bandwidth);
}

/** Place one measured run on the roofline. `seconds` is the time of one call. */
export function rooflinePoint(flops: number, bytes: number, seconds: number, c: Pick<Ceilings, 'peakFlops' | 'bandwidth'>): RooflinePoint {
  if (!(seconds > 0) || !Number.isFinite(seconds)) throw new RangeError(`roofline: time must be a positive number of seconds, got ${seconds}`);
  if (!(c.peakFlops > 0) || !(c.bandwidth > 0)) throw new RangeError('roofline: ceilings must be positive');
  const intensity = bytes > 0 ? flops / bytes : Infinity;
  const attainable = attainableFlops(c, intensity);
  const achieved = flops / seconds;
  return {
    intensity,
    achievedGflops: achieved / 1e9,
    achievedGBs: bytes / seconds / 1e9,
    attainableGflops: attainable / 1e9,
    pct: (achieved / attainable) * 100,
    bound: intensity < ridgeIntensity(c) ? 'memory' : 'compute',
  };
}

/** The ceilings for a device and dtype: an exact dtype match first, then 'any'. */
export function findCeilings(list: readonly Ceilings[], device: string, dtype: string): Ceilings | undefined {
  return list.find((c) => c.device === device && c.dtype === dtype) ?? list.find((c) => c.device === device && c.dtype === 'any');
}

/** The two straight pieces of the roofline (log-log) between intensities lo and hi, for plotting. */
export function rooflineCurve(c: Pick<Ceilings, 'peakFlops' | 'bandwidth'>, lo: number, hi: number): { x: number[]; yGflops: number[] } {
  const ridge = ridgeIntensity(c);
  const xs = ridge > lo && ridge < hi ? [lo, ridge, hi] : [lo, hi];
  return { x: xs, yGflops: xs.map((x) => attainableFlops(c, x) / 1e9) };
}
