/**
 * Non-finite values at a run command's boundary. A NaN or ±Inf input poisons every output of a DiT or
 * DC-AE forward, and an output written with exit code 0 would pass for a result: inputs holding one are
 * refused before the model runs, and an output holding one is an error, with nothing written.
 */
import { shapeStr, type Tensor } from '../reference/core/tensor.js';

export interface NonFinite {
  count: number;
  first: number; // flat (row-major) index
  value: number;
}

/** The non-finite elements of a floating-point tensor (integer tensors have none), or null. */
export function findNonFinite(t: Tensor): NonFinite | null {
  if (t.dtype === 'i32' || t.dtype === 'i64') return null;
  const v = t.dtype === 'f32' || t.dtype === 'f64' ? (t.data as Float32Array | Float64Array) : t.toFloat32();
  let count = 0;
  let first = -1;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) {
      if (count++ === 0) first = i;
    }
  }
  return count === 0 ? null : { count, first, value: v[first]! };
}

function describe(what: string, t: Tensor, bad: NonFinite): string {
  const n = bad.count === 1 ? '1 non-finite value' : `${bad.count} non-finite values`;
  return `${what} ${shapeStr(t.shape)} holds ${n} (first at flat index ${bad.first}: ${bad.value})`;
}

/** Throws `cmd: <what> [shape] holds N non-finite values …` when an input holds NaN or ±Inf. */
export function requireFiniteInput(cmd: string, what: string, t: Tensor): void {
  const bad = findNonFinite(t);
  if (bad !== null) throw new RangeError(`${cmd}: ${describe(what, t, bad)}; the model's output would be NaN, so nothing was run`);
}

/** Throws when a run's output holds NaN or ±Inf (weights or inputs beyond float32's range); nothing is written. */
export function requireFiniteOutput(cmd: string, what: string, t: Tensor, outPath: string): void {
  const bad = findNonFinite(t);
  if (bad !== null) {
    throw new RangeError(`${cmd}: ${describe(what, t, bad)}; nothing written to ${outPath} (inputs or weights beyond float32's range?)`);
  }
}
