/**
 * Element types and the bit-exact conversions between them.
 *
 * bf16 and f16 are stored as raw 16-bit patterns (Uint16Array); conversion from f32 rounds to nearest,
 * ties to even, exactly as PyTorch and CUDA's __float2bfloat16_rn / __float2half_rn do. NaN stays NaN
 * (quiet), ±Inf stays ±Inf, f16 overflow goes to ±Inf and f16 subnormals are produced and read exactly.
 */

export type DType = 'f32' | 'bf16' | 'f16' | 'f64' | 'i64' | 'i32';

export const DTYPES: readonly DType[] = ['f32', 'bf16', 'f16', 'f64', 'i64', 'i32'];

/** Bytes per element. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  f32: 4,
  bf16: 2,
  f16: 2,
  f64: 8,
  i64: 8,
  i32: 4,
};

/** The TypedArray that stores each dtype. */
export type StorageOf<D extends DType> = D extends 'f32'
  ? Float32Array
  : D extends 'f64'
    ? Float64Array
    : D extends 'i64'
      ? BigInt64Array
      : D extends 'i32'
        ? Int32Array
        : Uint16Array;

export type Storage = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint16Array;

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

/** Allocate zeroed storage for `n` elements. */
export function allocStorage(dtype: DType, n: number): Storage {
  switch (dtype) {
    case 'f32':
      return new Float32Array(n);
    case 'f64':
      return new Float64Array(n);
    case 'i64':
      return new BigInt64Array(n);
    case 'i32':
      return new Int32Array(n);
    case 'bf16':
    case 'f16':
      return new Uint16Array(n);
  }
}

/** View `byteLength` bytes of `buffer` at `byteOffset` as the storage of `dtype` (no copy; offset must be aligned). */
export function viewStorage(dtype: DType, buffer: ArrayBufferLike, byteOffset: number, n: number): Storage {
  switch (dtype) {
    case 'f32':
      return new Float32Array(buffer, byteOffset, n);
    case 'f64':
      return new Float64Array(buffer, byteOffset, n);
    case 'i64':
      return new BigInt64Array(buffer, byteOffset, n);
    case 'i32':
      return new Int32Array(buffer, byteOffset, n);
    case 'bf16':
    case 'f16':
      return new Uint16Array(buffer, byteOffset, n);
  }
}

// One shared scratch word for reinterpreting f32 bits.
const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** f32 bit pattern of `x` (after rounding `x` to f32). */
export function f32Bits(x: number): number {
  f32Scratch[0] = x;
  return u32Scratch[0]!;
}

/** The f32 whose bit pattern is `bits`. */
export function f32FromBits(bits: number): number {
  u32Scratch[0] = bits >>> 0;
  return f32Scratch[0]!;
}

/** f32 → bf16 bits, round to nearest even; NaN → quiet NaN with the sign kept. */
export function f32ToBf16Bits(x: number): number {
  const bits = f32Bits(x);
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x0040) & 0xffff; // NaN: keep quiet
  const lsb = (bits >>> 16) & 1;
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** bf16 bits → f32 value (exact). */
export function bf16BitsToF32(h: number): number {
  return f32FromBits((h & 0xffff) << 16);
}

/** f32 → f16 bits, round to nearest even, overflow → ±Inf, gradual underflow to subnormals. */
export function f32ToF16Bits(x: number): number {
  const bits = f32Bits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x0200 | (mant >>> 13) : 0); // Inf / NaN
  // Unbiased exponent, re-biased for f16 (bias 15).
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    // Subnormal f16 (or zero): shift the full 24-bit significand right, rounding to nearest even.
    if (e < -10) return sign; // below half the smallest subnormal → ±0
    mant |= 0x800000;
    const shift = 14 - e; // 13 for the f32→f16 mantissa drop, plus 1 - e for the denormal shift
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let out = mant >>> shift;
    if (rest > half || (rest === half && (out & 1) === 1)) out += 1;
    return sign | out; // a carry into bit 10 correctly yields the smallest normal
  }
  // Normal: drop 13 mantissa bits with round to nearest even; carries propagate into the exponent.
  let out = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (out & 1) === 1)) out += 1; // may round up to Inf: correct
  return sign | out;
}

/** f16 bits → f32 value (exact, subnormals included). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Convert a whole f32 array to bf16 bits. */
export function f32ArrayToBf16(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32ToBf16Bits(src[i]!);
  return out;
}

export function bf16ArrayToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) u[i] = src[i]! << 16;
  return out;
}

export function f32ArrayToF16(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32ToF16Bits(src[i]!);
  return out;
}

export function f16ArrayToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f16BitsToF32(src[i]!);
  return out;
}

/** Round every value of `x` through bf16 and back (in place); models bf16 storage in f32 code. */
export function roundToBf16InPlace(x: Float32Array): Float32Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < x.length; i++) u[i] = f32ToBf16Bits(x[i]!) << 16;
  return x;
}
