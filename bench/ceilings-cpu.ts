/**
 * Measured CPU ceilings for the roofline: a streaming-copy bandwidth and an FP32 gemm peak.
 *
 * - Bandwidth: TypedArray.set between two buffers much larger than the last-level cache (a memcpy in
 *   the engine), counting read + write bytes, best of several repeats. This is one thread's streaming
 *   bandwidth; a multi-threaded native copy can reach more on machines with many memory channels.
 * - Peak: the best 2·M·N·K / time of a pluggable gemm — the native CPU gemm (bench/backends/native.ts)
 *   when the addon is built, else the TS reference `linear`, labelled as a pure-JS baseline. This
 *   achieved gemm peak is the roofline's compute ceiling. Beside it the record keeps the FMA peak the
 *   addon measures (register-resident FMA loops on every pool thread at once), the machine's FP32 peak
 *   that a gemm approaches from below.
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { linear } from '../reference/ops/linear.js';
import { randn } from '../reference/core/random.js';
import type { Ceilings } from './roofline.js';

/** A gemm the peak measurement can drive: prepare inputs once, then time run(). */
export interface PeakGemm {
  /** How the result will be described, e.g. "native cpu gemm v2 (2 threads)". */
  label: string;
  prepare(M: number, N: number, K: number): Promise<{ run(): void | Promise<void>; dispose?(): void }>;
  /** The (M, N, K) sizes to try (default: small ones that suit the slow JS baseline). */
  sizes?: [number, number, number][];
  /** Timed calls per size (default: the ceiling measurement's repeats). */
  repeats?: number;
}

/** A compute peak obtained another way (the addon's FMA loop), with how. */
export interface FmaPeak {
  flops: number;
  source: string;
}

/** The TS reference `linear` (float64 accumulation) as a gemm — honestly labelled. */
export function referenceLinearGemm(): PeakGemm {
  return {
    label: 'reference linear (pure JS, single thread, f64 accumulation) — a JS baseline, not the machine FP32 peak',
    async prepare(M, N, K) {
      const x = randn([M, K], 1);
      const w = randn([N, K], 2);
      return { run: () => void linear(x, w) };
    },
  };
}

/** The device string CPU records and ceilings share. */
export function cpuDeviceName(): string {
  const list = cpus();
  const model = (list[0]?.model ?? 'unknown CPU').trim().replace(/\s+/g, ' ');
  return `cpu: ${model} (${list.length} cores)`;
}

export interface StreamCopyResult {
  /** Bytes per second, read + write. */
  bandwidth: number;
  bufferBytes: number;
  repeats: number;
}

/** Best-of-`repeats` streaming copy bandwidth with two buffers of `bufferBytes` each. */
export function measureStreamCopy(bufferBytes = 256 * 2 ** 20, repeats = 5): StreamCopyResult {
  if (!Number.isSafeInteger(bufferBytes) || bufferBytes < 8) throw new RangeError(`measureStreamCopy: bad buffer size ${bufferBytes}`);
  const n = Math.floor(bufferBytes / 8);
  const src = new Float64Array(n);
  const dst = new Float64Array(n);
  for (let i = 0; i < n; i += 512) src[i] = i; // touch every page of the source
  dst.set(src); // and of the destination (first-touch page faults stay out of the timing)
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    dst.set(src);
    const dt = (performance.now() - t0) / 1e3;
    if (dt > 0) best = Math.min(best, dt);
  }
  if (dst[n - 1] !== src[n - 1]) throw new Error('measureStreamCopy: copy check failed');
  return { bandwidth: (2 * n * 8) / best, bufferBytes: n * 8, repeats };
}

export interface GemmPeakResult {
  /** FLOP/s. */
  flops: number;
  M: number;
  N: number;
  K: number;
  label: string;
  /** How many sizes were tried, each `repeats` times. */
  sizesTried: number;
  repeats: number;
}

/** Best 2·M·N·K / time over the given sizes and repeats (after one warm-up call per size). */
export async function measureGemmPeak(gemm: PeakGemm, sizes: readonly [number, number, number][] = [[192, 192, 192], [64, 1024, 1024]], repeats = 5): Promise<GemmPeakResult> {
  let best: GemmPeakResult | undefined;
  for (const [M, N, K] of sizes) {
    const p = await gemm.prepare(M, N, K);
    try {
      await p.run();
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        await p.run();
        const dt = (performance.now() - t0) / 1e3;
        const flops = (2 * M * N * K) / dt;
        if (dt > 0 && (best === undefined || flops > best.flops)) best = { flops, M, N, K, label: gemm.label, sizesTried: sizes.length, repeats };
      }
    } finally {
      p.dispose?.();
    }
  }
  if (best === undefined) throw new Error(`measureGemmPeak: no timing for ${gemm.label}`);
  return best;
}

export interface CpuCeilingOptions {
  gemm?: PeakGemm;
  /** The FMA peak to record beside the achieved gemm peak. */
  fma?: FmaPeak;
  gemmSizes?: [number, number, number][];
  copyBytes?: number;
  repeats?: number;
}

/** Measure both CPU ceilings and describe how. */
export async function measureCpuCeilings(opts: CpuCeilingOptions = {}): Promise<Ceilings> {
  const gemm = opts.gemm ?? referenceLinearGemm();
  const repeats = opts.repeats ?? 5;
  const copy = measureStreamCopy(opts.copyBytes, repeats);
  const gemmRepeats = opts.repeats ?? gemm.repeats ?? repeats;
  const peak = await measureGemmPeak(gemm, opts.gemmSizes ?? gemm.sizes, gemmRepeats);
  const mib = (copy.bufferBytes / 2 ** 20).toFixed(0);
  return {
    device: cpuDeviceName(),
    dtype: 'any',
    peakFlops: peak.flops,
    peakSource: `achieved: ${peak.label}; best of ${peak.repeats} calls at each of ${peak.sizesTried} sizes, reached at M=${peak.M} N=${peak.N} K=${peak.K}`,
    bandwidth: copy.bandwidth,
    bandwidthSource: `TypedArray.set streaming copy, ${mib} MiB buffers, read+write bytes, best of ${copy.repeats} (one thread)`,
    measuredAt: new Date().toISOString(),
    ...(opts.fma ? { fmaPeakFlops: opts.fma.flops, fmaPeakSource: opts.fma.source } : {}),
  };
}
