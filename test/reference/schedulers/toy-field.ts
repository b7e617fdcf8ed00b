/**
 * The golden README's test velocity field v(x, t) = 0.1·(A·x) + (t/1000)·b, evaluated in the sample's
 * precision (t converted to that precision first). A·x is accumulated in float64 and rounded once,
 * so in float32 it differs from the BLAS sgemv used for the golden files at the rounding level.
 */
export function toyVelocity(A: Float64Array, b: Float64Array, x: Float32Array | Float64Array, t: number): Float32Array | Float64Array {
  const n = b.length;
  const f32 = x instanceof Float32Array;
  const r = f32 ? Math.fround : (v: number) => v;
  const out = f32 ? new Float32Array(n) : new Float64Array(n);
  const tt = r(r(t) / 1000);
  const c01 = r(0.1);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let j = 0; j < n; j++) acc += A[i * n + j]! * x[j]!;
    out[i] = r(r(r(acc) * c01) + r(tt * b[i]!));
  }
  return out;
}
