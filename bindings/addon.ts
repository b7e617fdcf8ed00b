/**
 * Loads the native addon (build/Release/sana_lab.node, built by `npm install` / `npm run build:native`)
 * and gives it a typed face. SANA_LAB_ADDON=/path/to/sana_lab.node selects another build (for example a
 * CPU-only or sanitizer build in a second folder).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { projectRoot } from '../reference/core/golden.js';

export interface NativeCudaDevice {
  index: number;
  name: string;
  computeCapability: string;
  totalMemoryBytes: number;
  smCount: number;
}

export interface NativeCudaInfo {
  compiled: boolean;
  available: boolean;
  reason?: string;
  errorCode: number;
  runtimeVersion: string;
  /** The CUDA architectures the addon was built for, as configured (e.g. "80 90a-real"; "" without CUDA or on the emulator). */
  archs: string;
  driverVersion: number;
  devices: NativeCudaDevice[];
}

/** An opaque native tensor handle (an N-API External); see bindings/tensor.ts for the public type. */
export type NativeTensorHandle = { readonly __nativeTensor: unique symbol };

/** Storage dtypes of native tensors. */
export type NativeDType = 'f32' | 'bf16';

/** Argument objects of the native ops (bindings/native/ops.cpp); every tensor is a handle. */
export type NativeOpArgs = Record<string, NativeTensorHandle | number | string | null | undefined>;

/** A native op: sync when `async` is false (returns undefined), else a Promise settled off the JS thread. */
export interface NativeOp {
  (args: NativeOpArgs, async: true): Promise<void>;
  (args: NativeOpArgs, async?: false): undefined;
}

/** One numbered kernel version of an op (bindings/native/versions.h). */
export interface NativeVersionInfo {
  version: number;
  /** The idea, one line (the kernel file's header has FLOP and byte counts). */
  summary: string;
  /** What it supports beyond the op's own rules, e.g. "bf16; K % 8 == 0" ("" = everything). */
  needs: string;
}

export interface NativeOpVersions {
  /** The catalogue / CLI op name, e.g. "linear-attention". */
  op: string;
  versions: NativeVersionInfo[];
}

/** One kernel launch of a kernel timeline (runtime.kernelTimelineEnd). */
export interface NativeKernelTime {
  /** The op that launched it (a composite's sub-ops name themselves). */
  op: string;
  /** The kernel, as its launch check names it (e.g. "gemm_wgmma_kernel"). */
  kernel: string;
  ms: number;
}

/** How runtime.timeOp / measureCeilings time on the device (defaults: 3, 5, 100, 2000 ms, true). */
export interface NativeTimingOptions {
  /** Untimed runs first. */
  warmup?: number;
  /** At least this many timed runs … */
  minReps?: number;
  /** … at most this many, stopping once budgetMs of wall time is spent (after minReps). */
  maxReps?: number;
  budgetMs?: number;
  /** Write a buffer of max(2 × L2, 64 MiB) before every timed run (outside the events). */
  flushL2?: boolean;
}

/** CUDA-event timing of one op call, ms (percentiles at index round(p·(n − 1)) of the sorted runs). */
export interface NativeDeviceTiming {
  medianMs: number;
  p20Ms: number;
  p80Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  stderrMs: number;
  reps: number;
  warmup: number;
  /** Bytes written by each L2 flush (0 when off). */
  flushBytes: number;
  /** Every timed run, in run order. */
  samplesMs: number[];
}

export interface NativeCeilingOptions extends NativeTimingOptions {
  /** Bytes per copy (read once + written once; default 1 GiB). */
  copyBytes?: number;
  /** M = N = K of the bf16 gemm (default 8192). */
  gemmSize?: number;
  /** The gemm version (0 = the default version: v2, mma.sync; 3 = the Hopper wgmma kernel, only when asked). */
  gemmVersion?: number;
}

/** The device ceilings (kernels/cuda/timing.cu measure_ceilings). */
export interface NativeDeviceCeilings {
  device: string;
  computeCapability: string;
  smCount: number;
  l2Bytes: number;
  memoryBytes: number;
  smClockKHz: number;
  memClockKHz: number;
  memBusBits: number;
  /** cudaMemcpyAsync device→device, (read + written) / median time. */
  copyGBps: number;
  /** This library's 16-byte vector copy kernel, same counting. */
  copyKernelGBps: number;
  /** L2 read bandwidth as all SMs see it: a buffer of l2Bytes / 4 read 64 times (0 when the L2 size is unknown). */
  l2ReadGBps: number;
  l2ReadBytes: number;
  copyBytes: number;
  /** 2·S³ / median time of this library's bf16 gemm (random inputs, f32 accumulation). */
  gemmBf16TFLOPs: number;
  gemmMs: number;
  gemmSize: number;
  gemmVersion: number;
}

/** An instantiated CUDA graph (runtime.graphEnd). */
export type NativeGraphHandle = { readonly __nativeGraph: unique symbol };

/** addon.runtime (bindings/native/runtime.cpp): versions, device timing and ceilings, fills. */
export interface NativeRuntime {
  /** Every op's numbered versions on a backend (static data: works without a GPU in a CUDA build). */
  opVersions(backend: 'cpu' | 'cuda'): NativeOpVersions[];
  /** Times one call of the op function `op` (e.g. 'gemm') on `args` with CUDA events; cuda tensors only. */
  timeOp(op: string, args: NativeOpArgs, opts?: NativeTimingOptions): Promise<NativeDeviceTiming>;
  measureCeilings(opts?: NativeCeilingOptions): Promise<NativeDeviceCeilings>;
  /** Waits for queued device work; throws a pending asynchronous fault naming `what` (no-op without CUDA). */
  synchronize(what?: string): void;
  /**
   * Whether each cuda op synchronizes before it returns (default true); false = queued dispatch (ops return
   * once their kernels are queued). Returns the previous setting; always true without CUDA.
   */
  setSyncEachOp(on: boolean): boolean;
  /** Returns cached device scratch memory to the driver. */
  releaseCachedMemory(): void;
  /** The SANA_LAB_CUDA_DEFAULTS overrides in effect, "op=N,…" ("" = none, and always without CUDA). */
  cudaDefaultOverrides(): string;
  /**
   * gemm v3's (wgmma) launch modes as the cuda backend parsed them from SANA_LAB_GEMM_TILES, SANA_LAB_GEMM_SPLIT_K
   * and SANA_LAB_GEMM_CLUSTER (invalid values are ignored with a warning): the tile widths its plan may choose,
   * split-K (−1 = the plan's, 0 = off, 2 … 8 = forced) and the cluster size (1 = none, 2 = pairs sharing the
   * weight tile by TMA multicast). null without CUDA.
   */
  gemmWgmmaModes(): { tiles: number[]; splitK: number; cluster: number } | null;
  /**
   * Programmatic dependent launch (SANA_LAB_PDL=1, opt-in): `mode` 1 = on, 0 = off (an invalid value is ignored
   * with a warning); `active` = launches get the attribute on this device (on, and an sm_90 or newer GPU);
   * `launches` made with it so far in this process. null without CUDA.
   */
  pdlMode(): { mode: number; active: boolean; launches: number } | null;
  /** cuda: records a CUDA event on the op stream now (after the work queued so far); → its index since the last read. */
  timelineMark(what?: string): number;
  /** Waits for the last mark; → device ms from mark 0 to each mark; clears the marks (empty without CUDA). */
  timelineRead(what?: string): Float64Array;
  /** cuda: from now on every kernel launch records a CUDA event (and every op one as it starts); until kernelTimelineEnd. */
  kernelTimelineBegin(what?: string): void;
  /**
   * Waits for the last launch and stops recording; per launch, the device ms since the event before it
   * (the op's start or the previous launch: the kernel's time under queued dispatch, else an upper bound).
   */
  kernelTimelineEnd(what?: string): { kernels: NativeKernelTime[]; truncated: boolean };
  /** cuda: the ops called from now on are captured into a CUDA graph instead of run (until graphEnd). */
  graphBegin(what?: string): void;
  /** Ends the capture and instantiates it; throws (capture ended all the same) when something broke it. */
  graphEnd(what?: string): NativeGraphHandle;
  /** Runs the captured ops again, after the work queued before (synchronized unless dispatch is queued). */
  graphLaunch(graph: NativeGraphHandle, what?: string): void;
  /** Frees the graph (idempotent). */
  graphDispose(graph: NativeGraphHandle): void;
  /** Sets every byte of a tensor's storage (0xFF: NaN in f32 and bf16, the parity poison). */
  fillBytes(t: NativeTensorHandle, byte: number): void;
  /** Seeded uniform values in [lo, hi) (benchmark inputs generated on the device). */
  fillRandom(t: NativeTensorHandle, seed: number, lo: number, hi: number): void;
}

/** The functions the addon exports (kept in step with bindings/native/*.cpp). */
export interface NativeAddon {
  tensorEmpty(backend: string, dtype: NativeDType, shape: readonly number[]): NativeTensorHandle;
  /** One allocation, a tensor per shape in order, each part on a 256-byte boundary (back to back when sizes are multiples of 256 bytes). */
  tensorArena(backend: string, dtype: NativeDType, shapes: readonly (readonly number[])[]): NativeTensorHandle[];
  tensorFromArray(backend: string, dtype: NativeDType, shape: readonly number[], data: Float32Array | Uint16Array): NativeTensorHandle;
  /** Overwrites t's values in place (Float32Array for f32, Uint16Array of bf16 bits for bf16; same length). */
  tensorWrite(t: NativeTensorHandle, data: Float32Array | Uint16Array): void;
  tensorToArray(t: NativeTensorHandle): Float32Array | Uint16Array;
  /** The values as float32 (bf16 widened natively). */
  tensorToFloat32(t: NativeTensorHandle): Float32Array;
  tensorDispose(t: NativeTensorHandle): void;
  tensorIsAlive(t: NativeTensorHandle): boolean;
  tensorInfo(t: NativeTensorHandle): { dtype: NativeDType; shape: number[]; bytes: number; alive: boolean; backend: string };
  gemm: NativeOp;
  linearAttention: NativeOp;
  linearAttentionBlock: NativeOp;
  mixFfn: NativeOp;
  crossAttention: NativeOp;
  layerNormModulate: NativeOp;
  rmsNorm: NativeOp;
  conv3x3: NativeOp;
  dcaeResBlock: NativeOp;
  liteMla: NativeOp;
  ditBlock: NativeOp;
  /** The DC-AE decoder's model-level ops (bindings/models/dcae-ops.ts). */
  dcaeUpsample: NativeOp;
  dcaeHead: NativeOp;
  dcaeEvitBlock: NativeOp;
  /** The sampling loop's elementwise tail (bindings/models/sampler-ops.ts). */
  samplerUpdate: NativeOp;
  cpuThreads(): number;
  setCpuThreads(n: number): void;
  /** The gemm micro-kernel picked for this CPU, e.g. "avx512 8x32". */
  gemmKernel(): string;
  /**
   * FP32 FMA peak in GFLOP/s, measured for `seconds` (default 0.2): one thread, or with `allThreads`
   * every CPU-pool thread at once (the sum of their concurrent rates).
   */
  measureFmaPeak(seconds?: number, allThreads?: boolean): number;
  cpuInfo(): { threads: number; model: string };
  cudaInfo(): NativeCudaInfo;
  buildInfo(): { cuda: boolean; sanitize: boolean; compiler: string; napiVersion: number };
  f32ToBf16(src: Float32Array): Uint16Array;
  bf16ToF32(src: Uint16Array): Float32Array;
  runtime: NativeRuntime;
}

export class AddonLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddonLoadError';
  }
}

let cached: NativeAddon | null = null;
let cachedError: AddonLoadError | null = null;

export function addonPath(): string {
  const env = process.env.SANA_LAB_ADDON;
  return env ? resolve(env) : join(projectRoot(), 'build', 'Release', 'sana_lab.node');
}

/** The addon, or throws an AddonLoadError saying how to build it. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  if (cachedError) throw cachedError;
  const path = addonPath();
  if (!existsSync(path)) {
    cachedError = new AddonLoadError(
      `native addon not found at ${path}: run "npm run build:native" (needs CMake >= 3.18 and a C++17 compiler)`,
    );
    throw cachedError;
  }
  try {
    cached = createRequire(import.meta.url)(path) as NativeAddon;
    return cached;
  } catch (e) {
    cachedError = new AddonLoadError(`native addon at ${path} failed to load: ${(e as Error).message}`);
    throw cachedError;
  }
}

/** The addon, or null with the reason (for code that can fall back to the reference backend). */
export function tryLoadAddon(): { addon: NativeAddon | null; error: string | null } {
  try {
    return { addon: loadAddon(), error: null };
  } catch (e) {
    return { addon: null, error: (e as Error).message };
  }
}
