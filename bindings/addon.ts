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

/** The functions the addon exports (kept in step with bindings/native/*.cpp). */
export interface NativeAddon {
  tensorEmpty(backend: string, dtype: NativeDType, shape: readonly number[]): NativeTensorHandle;
  tensorFromArray(backend: string, dtype: NativeDType, shape: readonly number[], data: Float32Array | Uint16Array): NativeTensorHandle;
  tensorToArray(t: NativeTensorHandle): Float32Array | Uint16Array;
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
  cpuThreads(): number;
  setCpuThreads(n: number): void;
  /** The gemm micro-kernel picked for this CPU, e.g. "avx512 8x32". */
  gemmKernel(): string;
  /** One thread's FP32 FMA peak in GFLOP/s, measured for `seconds` (default 0.2). */
  measureFmaPeak(seconds?: number): number;
  cpuInfo(): { threads: number; model: string };
  cudaInfo(): NativeCudaInfo;
  buildInfo(): { cuda: boolean; sanitize: boolean; compiler: string; napiVersion: number };
  f32ToBf16(src: Float32Array): Uint16Array;
  bf16ToF32(src: Uint16Array): Float32Array;
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
