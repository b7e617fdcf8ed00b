/**
 * The parity rules as plain functions (no test framework): random inputs, NaN-poisoned outputs, bf16
 * rounding of reference values, and the verdicts of the f32 and bf16 rules (bench/catalogue.ts
 * ParityRule). Used by `sana-lab parity` and by the kernel tests (test/kernels/parity.ts).
 */
import { errorStats, formatLocation, formatStats, locateErrors, type ErrorStats } from '../../reference/core/compare.js';
import { roundToBf16InPlace } from '../../reference/core/dtype.js';
import { Rng } from '../../reference/core/random.js';
import { Tensor } from '../../reference/core/tensor.js';
import type { ParityRule } from '../catalogue.js';

/** Fresh normal(mean, std²) values (never zeros), seeded. */
export function randData(shape: readonly number[], seed: number, std = 1, mean = 0): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  new Rng(seed).fillNormal(a, mean, std);
  return a;
}

/** bf16 quiet-NaN bits: what a poisoned bf16 output holds before the kernel writes it. */
export const BF16_NAN_BITS = 0x7fc0;

/** Poison for an output of `n` elements: f32 NaNs, or bf16 NaN bit patterns. */
export function poisonValues(n: number, dtype: 'f32' | 'bf16'): Float32Array | Uint16Array {
  return dtype === 'f32' ? new Float32Array(n).fill(NaN) : new Uint16Array(n).fill(BF16_NAN_BITS);
}

/** Values rounded to bf16 (a new f32 tensor). */
export function r16(t: Tensor): Tensor {
  return new Tensor(t.shape, 'f32', roundToBf16InPlace(t.toFloat32().slice()));
}

/** A copy of f32 values rounded to bf16. */
export function roundedBf16(v: Float32Array): Float32Array {
  return roundToBf16InPlace(v.slice());
}

export interface Verdict {
  pass: boolean;
  /** The kernel's error against the reference. */
  stats: ErrorStats;
  /** bf16 only: the plain bf16 computation's error against the same reference. */
  plain?: ErrorStats;
  /** The rule as text, with the numbers it was held to. */
  tolerance: string;
  /** Why it failed (empty when it passed). */
  reason: string;
}

/** f32: rel ≤ rule.rel, max|Δ|/max|ref| ≤ rule.maxRel, no NaN/Inf. */
export function judgeF32(out: ArrayLike<number>, reference: ArrayLike<number>, rule: ParityRule['f32'], shape?: readonly number[]): Verdict {
  const s = errorStats(out, reference);
  const tolerance = `rel ≤ ${rule.rel.toExponential(0)}, max-abs ≤ ${rule.maxRel.toExponential(0)}·max|ref|`;
  const reasons: string[] = [];
  if (s.nonFinite > 0) reasons.push(`${s.nonFinite} non-finite outputs`);
  if (!(s.rel <= rule.rel)) reasons.push(`rel ${s.rel.toExponential(2)} > ${rule.rel.toExponential(0)}`);
  if (!(s.maxRel <= rule.maxRel)) reasons.push(`max-abs/max|ref| ${s.maxRel.toExponential(2)} > ${rule.maxRel.toExponential(0)}`);
  if (reasons.length > 0) reasons.push(whereWrong(out, reference, rule.maxRel * (s.refMaxAbs > 0 ? s.refMaxAbs : 1), shape));
  return { pass: reasons.length === 0, stats: s, tolerance, reason: reasons.join('; ') };
}

/**
 * bf16: kernel rel ≤ factor × plain-bf16 rel and kernel max-abs ≤ factor × plain-bf16 max-abs (both
 * against the f64-accumulated reference: the flash-attention rule on both of the lab's error measures),
 * no NaN/Inf.
 */
export function judgeBf16(out: ArrayLike<number>, plain: ArrayLike<number>, reference: ArrayLike<number>, rule: ParityRule['bf16'], shape?: readonly number[]): Verdict {
  const s = errorStats(out, reference);
  const p = errorStats(plain, reference);
  const limit = rule.factor * p.rel;
  const absLimit = rule.factor * p.maxAbs;
  const tolerance = `rel ≤ ${rule.factor}× plain bf16 (${limit.toExponential(2)}), max-abs ≤ ${rule.factor}× plain bf16 (${absLimit.toExponential(2)})`;
  const reasons: string[] = [];
  if (s.nonFinite > 0) reasons.push(`${s.nonFinite} non-finite outputs`);
  if (p.nonFinite > 0 || !(p.rel >= rule.minPlainRel)) {
    reasons.push(`the plain bf16 computation shows no bf16-level error (${formatStats(p)}); the rule cannot judge`);
  }
  if (!(s.rel <= limit)) reasons.push(`rel ${s.rel.toExponential(2)} > ${limit.toExponential(2)} (${(s.rel / p.rel).toFixed(2)}× plain)`);
  if (!(s.maxAbs <= absLimit)) reasons.push(`max-abs ${s.maxAbs.toExponential(2)} > ${absLimit.toExponential(2)} (${(s.maxAbs / p.maxAbs).toFixed(2)}× plain)`);
  // Located against the element-wise analogue of the rule: factor × the plain bf16's worst element error.
  if (reasons.length > 0) reasons.push(whereWrong(out, reference, rule.factor * p.maxAbs, shape));
  return { pass: reasons.length === 0, stats: s, plain: p, tolerance, reason: reasons.join('; ') };
}

/** Where a failed output is wrong (count, first/last/worst flat index): what a one-shot GPU run needs to show. */
function whereWrong(out: ArrayLike<number>, reference: ArrayLike<number>, bound: number, shape: readonly number[] | undefined): string {
  return formatLocation(locateErrors(out, reference, bound), bound, shape);
}
