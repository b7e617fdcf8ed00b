/**
 * Parity helpers for the native kernel tests: the same random inputs on the reference backend (the
 * float64-accumulated TS spec) and on the cpu backend (f32 and bf16 storage), NaN-poisoned outputs so
 * that an element a kernel forgets to write shows up as a non-finite value, and the two rules:
 *   f32:  ‖out − ref‖/‖ref‖ ≤ 1e-5, max|out − ref| ≤ 1e-4·max|ref| and no NaN/Inf;
 *   bf16: relative error ≤ 2 × that of a plain bf16 computation of the same op (inputs rounded to
 *         bf16, every intermediate tensor rounded to bf16, as a bf16 framework stores them).
 */
import { expect } from 'vitest';
import { getBackend } from '../../bindings/ops.js';
import type { BackendTensor, TensorDType } from '../../bindings/tensor.js';
import { formatStats, type ErrorStats } from '../../reference/core/compare.js';
import { DEFAULT_PARITY, type ParityRule } from '../../bench/catalogue.js';
import { judgeBf16, judgeF32, poisonValues, r16, randData, roundedBf16 } from '../../bench/parity/rules.js';
import { f32ArrayToBf16 } from '../../reference/core/dtype.js';
import { Tensor } from '../../reference/core/tensor.js';

export const ref = getBackend('reference');
export const cpu = getBackend('cpu');

// The rule helpers shared with `sana-lab parity` (bench/parity/rules.ts): seeded random inputs, NaN
// poison for outputs, bf16 rounding of reference values.
export { randData, r16 };

/** One logical input on every backend/dtype the tests use. */
export class Input {
  readonly ref: BackendTensor;
  readonly f32: BackendTensor;
  readonly bf16: BackendTensor;
  /** The f32 values rounded to bf16 (what the bf16 kernels see). */
  readonly bf16Values: Float32Array;
  constructor(
    readonly data: Float32Array,
    readonly shape: readonly number[],
  ) {
    this.ref = ref.fromArray(data, shape);
    this.f32 = cpu.fromArray(data, shape);
    this.bf16 = cpu.fromArray(data, shape, 'bf16');
    this.bf16Values = roundedBf16(data);
  }
  /** A reference Tensor of the f32 values / of the bf16-rounded values. */
  tensor(bf16 = false): Tensor {
    return new Tensor(this.shape, 'f32', bf16 ? this.bf16Values : this.data);
  }
  on(which: 'ref' | 'f32' | 'bf16'): BackendTensor {
    return this[which];
  }
  dispose(): void {
    this.ref.dispose();
    this.f32.dispose();
    this.bf16.dispose();
  }
}

export function input(shape: readonly number[], seed: number, std = 1, mean = 0): Input {
  return new Input(randData(shape, seed, std, mean), shape);
}

/** An output tensor filled with NaN (f32) or bf16 NaN bits, to catch unwritten elements. */
export function poisoned(shape: readonly number[], dtype: TensorDType, backend: 'cpu' | 'reference' = 'cpu'): BackendTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const be = backend === 'cpu' ? cpu : ref;
  return be.fromArray(poisonValues(n, dtype), shape, dtype);
}

/** Refills an existing output with the poison of `poisoned`, so that a call reusing it cannot pass on what an earlier call wrote. */
export function repoison(t: BackendTensor): BackendTensor {
  t.write(poisonValues(t.numel, t.dtype));
  return t;
}

/**
 * Same bits, element by element. NaN-safe: `toEqual` calls NaN equal to NaN, so two unwritten
 * (poisoned) outputs would match; here any NaN/Inf in `got` fails first.
 */
export function expectBits(label: string, got: Float32Array, want: Float32Array): void {
  expect(got.length, label).toBe(want.length);
  const bad = got.findIndex((v) => !Number.isFinite(v));
  expect(bad, bad < 0 ? label : `${label}: element ${bad} is ${got[bad]} (non-finite)`).toBe(-1);
  let differ = -1;
  for (let i = 0; i < got.length && differ < 0; i++) if (!Object.is(got[i], want[i])) differ = i;
  expect(differ, differ < 0 ? label : `${label}: element ${differ} is ${got[differ]}, want ${want[differ]}`).toBe(-1);
}

/** bf16 bits of f32 values. */
export function bits(v: Float32Array): Uint16Array {
  return f32ArrayToBf16(v);
}

const lines: string[] = [];

/**
 * Asserts the f32 rule of `sana-lab parity` (judgeF32: L2 rel ≤ rel, max-abs ≤ maxRel·max|ref|, no NaN/Inf)
 * and records the measured error. A number `tol` tightens both bounds together: rel = tol and maxRel =
 * tol × (DEFAULT_PARITY maxRel / rel), the default rule's ratio of the element bound to the L2 bound.
 */
export function expectF32(label: string, out: Float32Array, reference: Float32Array, tol: number | ParityRule['f32'] = DEFAULT_PARITY.f32): ErrorStats {
  const d = DEFAULT_PARITY.f32;
  const rule = typeof tol === 'number' ? { rel: tol, maxRel: (tol * d.maxRel) / d.rel } : tol;
  const v = judgeF32(out, reference, rule);
  lines.push(`${label} f32: ${formatStats(v.stats)}`);
  expect(v.pass, `${label}: ${formatStats(v.stats)} (want ${v.tolerance}): ${v.reason}`).toBe(true);
  return v.stats;
}

/** Asserts the bf16 rule of `sana-lab parity` (judgeBf16): kernel error ≤ 2 × plain-bf16 error, both against the f64-accumulated reference. */
export function expectBf16(label: string, out: Float32Array, plain: Float32Array, reference: Float32Array): { kernel: ErrorStats; plain: ErrorStats } {
  const v = judgeBf16(out, plain, reference, DEFAULT_PARITY.bf16);
  const k = v.stats;
  const p = v.plain!;
  lines.push(`${label} bf16: kernel ${formatStats(k)} | plain bf16 ${formatStats(p)} | ratio ${(k.rel / p.rel).toFixed(2)}`);
  expect(v.pass, `${label}: kernel ${formatStats(k)} vs plain ${formatStats(p)} (want ${v.tolerance}): ${v.reason}`).toBe(true);
  return { kernel: k, plain: p };
}

/** Prints the recorded errors (call in afterAll). */
export function printParity(file: string): void {
  if (lines.length) console.log(`[parity ${file}]\n  ${lines.join('\n  ')}`);
  lines.length = 0;
}
