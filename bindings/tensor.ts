/**
 * BackendTensor: a tensor that lives on one compute backend ('reference' = JS memory, 'cpu' = native
 * host memory owned by the addon, later 'cuda'). Storage dtype f32 or bf16; always contiguous,
 * row-major (there are no strided views in this API, so every tensor an op receives is contiguous).
 *
 * Lifetime: call dispose() to free the memory now. A tensor that is garbage-collected without
 * dispose() is freed by its native finalizer (cpu) or by the JS GC (reference). An op in flight keeps
 * its inputs alive natively, so disposing a tensor while an async op reads it is safe.
 * Copies: backend.fromArray / fromTensor in, toArray / toFloat32 / toTensor out (always copies).
 */
import { bf16ArrayToF32, f32ArrayToBf16 } from '../reference/core/dtype.js';
import { shapeStr, Tensor } from '../reference/core/tensor.js';
import type { BackendName } from './backends.js';

export type TensorDType = 'f32' | 'bf16';

/** What a backend keeps per tensor. */
export interface TensorStorage {
  /** Copy of the values in storage dtype (Float32Array for f32, Uint16Array bf16 bits). */
  read(): Float32Array | Uint16Array;
  /** Copy of the values as float32, where the backend widens bf16 faster than toFloat32's JS loop. */
  readFloat32?(): Float32Array;
  /** Overwrite the values in place (same storage dtype and length; the address stays). */
  write(data: Float32Array | Uint16Array): void;
  /** Release the memory (idempotent). */
  free(): void;
}

export class BackendTensor {
  readonly shape: readonly number[];
  readonly numel: number;
  #storage: TensorStorage | null;
  /** Async ops currently writing this tensor (reading it meanwhile would see a half-written result). */
  #writers = 0;

  constructor(
    readonly backend: BackendName,
    readonly dtype: TensorDType,
    shape: readonly number[],
    storage: TensorStorage,
  ) {
    this.shape = Object.freeze([...shape]);
    this.numel = this.shape.reduce((a, b) => a * b, 1);
    this.#storage = storage;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.#storage === null;
  }

  /** The backend storage; throws a TypeError naming `op` when the tensor was disposed. */
  storage(op: string, what = 'tensor'): TensorStorage {
    if (this.#storage === null) throw new TypeError(`${op}: ${what} ${this.describe()} has been disposed`);
    return this.#storage;
  }

  /** Frees the memory now. Idempotent; any later use throws a TypeError. */
  dispose(): void {
    if (this.#storage === null) return;
    this.#storage.free();
    this.#storage = null;
  }

  /** Copy of the values in storage dtype: Float32Array (f32) or Uint16Array of bf16 bit patterns. */
  toArray(): Float32Array | Uint16Array {
    if (this.#writers > 0) {
      throw new Error(`toArray: ${this.describe()} is being written by an async op in flight; await the op first`);
    }
    return this.storage('toArray').read();
  }

  /** Copy of the values as float32 (bf16 decoded exactly). */
  toFloat32(): Float32Array {
    const st = this.storage('toFloat32');
    if (st.readFloat32 !== undefined) {
      if (this.#writers > 0) throw new Error(`toFloat32: ${this.describe()} is being written by an async op in flight; await the op first`);
      return st.readFloat32();
    }
    const a = this.toArray();
    return a instanceof Float32Array ? a : bf16ArrayToF32(a);
  }

  /**
   * Overwrites the values in place from the host: a Float32Array (converted to bf16 for a bf16 tensor) or
   * a Uint16Array of bf16 bits. The storage, and so its device address, stays: a captured CUDA graph
   * that reads this tensor sees the new values at its next launch.
   */
  write(data: Float32Array | Uint16Array): void {
    const st = this.storage('write');
    if (this.#writers > 0) throw new Error(`write: ${this.describe()} is being written by an async op in flight; await the op first`);
    let values: Float32Array | Uint16Array;
    if (data instanceof Float32Array) values = this.dtype === 'bf16' ? f32ArrayToBf16(data) : data;
    else if (data instanceof Uint16Array && this.dtype === 'bf16') values = data;
    else throw new TypeError(`write: ${this.describe()} takes a Float32Array${this.dtype === 'bf16' ? ' or a Uint16Array of bf16 bits' : ''}`);
    if (values.length !== this.numel) throw new RangeError(`write: ${values.length} values for ${this.describe()} (${this.numel} elements)`);
    st.write(values);
  }

  /** Copy as a reference Tensor (same dtype). */
  toTensor(): Tensor {
    return new Tensor(this.shape, this.dtype, this.toArray());
  }

  describe(): string {
    return `${this.dtype}${shapeStr(this.shape)} on ${this.backend}`;
  }

  toString(): string {
    return `BackendTensor(${this.describe()}${this.disposed ? ', disposed' : ''})`;
  }

  /** @internal bookkeeping of async ops writing this tensor. */
  beginWrite(): void {
    this.#writers++;
  }

  /** @internal */
  endWrite(): void {
    this.#writers--;
  }
}
