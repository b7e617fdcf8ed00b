/**
 * The host tensor every layer shares: a shape, a dtype and contiguous row-major (C-order) storage.
 *
 * Element counts are JS numbers (exact to 2^53), so 64-bit sizes such as 4096² × 128 channels are
 * representable; a single host allocation is still limited by the JS engine's TypedArray maximum.
 */
import {
  allocStorage,
  bf16ArrayToF32,
  DTYPE_BYTES,
  f16ArrayToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  type DType,
  type Storage,
} from './dtype.js';

export type Shape = readonly number[];

/** Product of the dimensions; throws on a negative, fractional or unsafe size. */
export function numel(shape: Shape, what = 'tensor'): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`${what}: invalid dimension ${String(d)} in shape [${shape.join(', ')}]`);
    }
    n *= d;
  }
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`${what}: shape [${shape.join(', ')}] has more than 2^53 elements`);
  }
  return n;
}

/** Row-major strides in elements. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function shapeStr(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly data: Storage;

  constructor(shape: Shape, dtype: DType, data?: Storage) {
    const n = numel(shape);
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    if (data === undefined) {
      this.data = allocStorage(dtype, n);
    } else {
      if (data.length !== n) {
        throw new RangeError(
          `Tensor: ${data.length} elements of storage for shape ${shapeStr(shape)} (${n} elements)`,
        );
      }
      if (storageDType(data, dtype) !== true) {
        throw new TypeError(`Tensor: ${data.constructor.name} cannot store dtype ${dtype}`);
      }
      this.data = data;
    }
  }

  get numel(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get byteLength(): number {
    return this.data.length * DTYPE_BYTES[this.dtype];
  }

  /** A zero tensor. */
  static zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
    return new Tensor(shape, dtype);
  }

  /** An f32 tensor over the given values (copied when given a plain array). */
  static f32(shape: Shape, values: ArrayLike<number>): Tensor {
    return new Tensor(shape, 'f32', values instanceof Float32Array ? values : Float32Array.from(values));
  }

  /** An f64 tensor over the given values. */
  static f64(shape: Shape, values: ArrayLike<number>): Tensor {
    return new Tensor(shape, 'f64', values instanceof Float64Array ? values : Float64Array.from(values));
  }

  /** The same storage under another shape with the same element count (-1 infers one dimension). */
  reshape(shape: Shape): Tensor {
    const known = shape.filter((d) => d !== -1);
    const inferred = shape.length - known.length;
    if (inferred > 1) throw new RangeError(`reshape: more than one -1 in ${shapeStr(shape)}`);
    let target = [...shape];
    if (inferred === 1) {
      const rest = numel(known, 'reshape');
      if (rest === 0 || this.numel % rest !== 0) {
        throw new RangeError(`reshape: cannot reshape ${shapeStr(this.shape)} to ${shapeStr(shape)}`);
      }
      target = shape.map((d) => (d === -1 ? this.numel / rest : d));
    }
    if (numel(target, 'reshape') !== this.numel) {
      throw new RangeError(`reshape: cannot reshape ${shapeStr(this.shape)} to ${shapeStr(shape)}`);
    }
    return new Tensor(target, this.dtype, this.data);
  }

  /** Values as float32 (bf16/f16 decoded exactly, f64 rounded, integers converted). Copies unless already f32. */
  toFloat32(): Float32Array {
    switch (this.dtype) {
      case 'f32':
        return this.data as Float32Array;
      case 'bf16':
        return bf16ArrayToF32(this.data as Uint16Array);
      case 'f16':
        return f16ArrayToF32(this.data as Uint16Array);
      case 'f64':
        return Float32Array.from(this.data as Float64Array);
      case 'i32':
        return Float32Array.from(this.data as Int32Array);
      case 'i64':
        return Float32Array.from(this.data as BigInt64Array, (v) => Number(v));
    }
  }

  /** Values as float64 (exact for every float dtype). Always a copy. */
  toFloat64(): Float64Array {
    if (this.dtype === 'f64') return (this.data as Float64Array).slice();
    if (this.dtype === 'i64') return Float64Array.from(this.data as BigInt64Array, (v) => Number(v));
    if (this.dtype === 'i32') return Float64Array.from(this.data as Int32Array);
    return Float64Array.from(this.toFloat32());
  }

  /** Convert to another dtype (floats round to nearest even; a copy even when the dtype is the same). */
  to(dtype: DType): Tensor {
    if (dtype === this.dtype) return new Tensor(this.shape, dtype, this.data.slice() as Storage);
    switch (dtype) {
      case 'f32':
        return new Tensor(this.shape, 'f32', this.toFloat32()); // a fresh array: the dtype differs
      case 'f64':
        return new Tensor(this.shape, 'f64', this.toFloat64());
      case 'bf16':
        return new Tensor(this.shape, 'bf16', f32ArrayToBf16(this.toFloat32()));
      case 'f16':
        return new Tensor(this.shape, 'f16', f32ArrayToF16(this.toFloat32()));
      case 'i32':
        return new Tensor(this.shape, 'i32', Int32Array.from(this.toFloat64(), (v) => Math.trunc(v)));
      case 'i64':
        return new Tensor(this.shape, 'i64', BigInt64Array.from(this.toFloat64(), (v) => BigInt(Math.trunc(v))));
    }
  }

  toString(): string {
    return `Tensor(${this.dtype}, ${shapeStr(this.shape)})`;
  }
}

function storageDType(data: Storage, dtype: DType): boolean {
  switch (dtype) {
    case 'f32':
      return data instanceof Float32Array;
    case 'f64':
      return data instanceof Float64Array;
    case 'i64':
      return data instanceof BigInt64Array;
    case 'i32':
      return data instanceof Int32Array;
    case 'bf16':
    case 'f16':
      return data instanceof Uint16Array;
  }
}
