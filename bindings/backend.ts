/**
 * The op API's backends: `reference` (pure TS, always there), `cpu` (the native addon) and, later,
 * `cuda`. A backend allocates BackendTensors and runs ops by name on already-validated arguments
 * (validation lives in one place, bindings/validate.ts, so every backend rejects the same inputs with
 * the same messages). `getBackend(name)` returns a cached instance.
 */
import { API_OP_NAMES, type ApiOpName } from '../bench/catalogue.js';
import { f32ArrayToBf16 } from '../reference/core/dtype.js';
import { shapeStr, type Tensor } from '../reference/core/tensor.js';
import type { NativeDeviceTiming as DeviceTiming, NativeTimingOptions as DeviceTimingOptions } from './addon.js';
import type { BackendName } from './backends.js';
import type { BackendTensor, TensorDType } from './tensor.js';

/** The op API's op names: the catalogue's ops that the op API has under their own name (bench/catalogue.ts). */
export const OP_NAMES = API_OP_NAMES;
export type OpName = ApiOpName;

/** Validated arguments of one op: tensors by key (null = absent) and scalar options. */
export type OpArgs = Record<string, BackendTensor | number | string | null | undefined>;

/** One numbered kernel version of an op on a backend (the op option `version`; 0 = the default). */
export interface OpVersion {
  version: number;
  /** The idea, one line. */
  summary: string;
  /** What it supports beyond the op's own rules, e.g. "bf16; K % 8 == 0" ("" = everything). */
  needs: string;
}

/** CUDA-event timing options and results (bindings/addon.ts NativeTimingOptions / NativeDeviceTiming). */
export type { DeviceTiming, DeviceTimingOptions };

export interface Backend {
  readonly name: BackendName;
  /** A tensor with unspecified contents. */
  empty(shape: readonly number[], dtype: TensorDType): BackendTensor;
  /**
   * A copy of `data`: a Float32Array (stored as f32, or rounded to bf16 when dtype is 'bf16') or a
   * Uint16Array of bf16 bits (dtype 'bf16').
   */
  fromArray(data: Float32Array | Uint16Array, shape: readonly number[], dtype?: TensorDType): BackendTensor;
  /** Runs op `op` on validated arguments; `out` is args.out. */
  run(op: OpName, args: OpArgs, mode: 'sync'): void;
  run(op: OpName, args: OpArgs, mode: 'async'): Promise<void>;
  /** Whether this backend implements `op`. */
  supports(op: OpName): boolean;
  /** The numbered kernel versions of `op` here (empty: only the default, version 0). */
  versions(op: OpName): readonly OpVersion[];
  /** Device timing of one validated op call (cuda; CUDA events, warm-up, L2 flush). */
  time?(op: OpName, args: OpArgs, opts?: DeviceTimingOptions): Promise<DeviceTiming>;
  /** Sets every byte of a tensor's storage (0xFF = NaN in f32 and bf16: poisoned outputs). */
  fillBytes?(t: BackendTensor, byte: number): void;
  /** Seeded uniform values in [lo, hi), generated where the tensor lives. */
  fillRandom?(t: BackendTensor, seed: number, lo: number, hi: number): void;
  /**
   * Empty tensors of `shapes` in one allocation, in order, each on a 256-byte boundary: back to back when
   * their sizes are multiples of 256 bytes (a model's q, k, v weights: linear-attention-block multiplies by
   * them as one matrix on cuda). Disjoint ordinary tensors; the memory goes when the last is disposed.
   */
  arena?(shapes: readonly (readonly number[])[], dtype: TensorDType): BackendTensor[];
}

export function checkDType(op: string, dtype: unknown): asserts dtype is TensorDType {
  if (dtype !== 'f32' && dtype !== 'bf16') throw new TypeError(`${op}: dtype must be 'f32' or 'bf16', got ${String(dtype)}`);
}

/** Checks a shape for fromArray/empty: safe non-negative integers, at most 8 dims. */
export function checkShape(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape)) throw new TypeError(`${op}: shape must be an array of integers`);
  if (shape.length > 8) throw new RangeError(`${op}: ${shape.length} dimensions, at most 8`);
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      const shown = typeof d === 'number' ? String(d) : `${JSON.stringify(d)} (a ${typeof d})`;
      throw new RangeError(`${op}: invalid dimension ${shown} in shape ${shapeStr(shape)} (want non-negative integers)`);
    }
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new RangeError(`${op}: shape ${shapeStr(shape)} has more than 2^53 elements`);
}

/**
 * Normalises fromArray's input to storage: { dtype, data } with data a Float32Array for f32 and a
 * Uint16Array for bf16. Throws on a mismatch of dtype and array type or of length and shape.
 */
export function storageFor(op: string, data: unknown, shape: readonly number[], dtype?: TensorDType): { dtype: TensorDType; data: Float32Array | Uint16Array } {
  checkShape(op, shape);
  if ((data instanceof Float32Array || data instanceof Uint16Array) && isDetached(data)) {
    throw new TypeError(`${op}: the array's ArrayBuffer is detached (transferred or structuredClone'd away); keep a copy of the values before transferring`);
  }
  let d: TensorDType;
  let arr: Float32Array | Uint16Array;
  if (data instanceof Float32Array) {
    d = dtype ?? 'f32';
    if (d !== 'f32' && d !== 'bf16') throw new TypeError(`${op}: dtype must be 'f32' or 'bf16', got ${String(dtype)}`);
    arr = d === 'bf16' ? f32ArrayToBf16(data) : data;
  } else if (data instanceof Uint16Array) {
    if (dtype !== 'bf16') throw new TypeError(`${op}: a Uint16Array holds bf16 bits; pass dtype 'bf16' (got ${String(dtype)})`);
    d = 'bf16';
    arr = data;
  } else {
    throw new TypeError(`${op}: data must be a Float32Array or a Uint16Array of bf16 bits`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  if (arr.length !== n) throw new RangeError(`${op}: ${arr.length} values for shape ${shapeStr(shape)} (${n} elements)`);
  return { dtype: d, data: arr };
}

/** Whether a typed array's buffer was detached (Node 20 has no ArrayBuffer.prototype.detached). */
function isDetached(a: ArrayBufferView): boolean {
  if (a.byteLength !== 0) return false;
  try {
    new Uint8Array(a.buffer);
    return false;
  } catch {
    return true;
  }
}

/** A reference Tensor's values as backend input (f32/bf16 copied as is, other dtypes converted to f32). */
export function tensorStorage(t: Tensor): { dtype: TensorDType; data: Float32Array | Uint16Array } {
  if (t.dtype === 'bf16') return { dtype: 'bf16', data: t.data as Uint16Array };
  return { dtype: 'f32', data: t.toFloat32() };
}
