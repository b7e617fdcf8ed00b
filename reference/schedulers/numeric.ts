/**
 * Numeric helpers shared by the schedulers: NumPy's float64 `linspace`, and the sample containers a
 * scheduler accepts (Float32Array, Float64Array or an f32/f64 Tensor), returned as the same kind.
 *
 * Float32 arithmetic is emulated with Math.fround: for +, −, ×, ÷ of two float32 values, rounding the
 * exact float64 result to float32 equals IEEE float32 arithmetic (53 ≥ 2·24 + 2), so `fround(a op b)`
 * reproduces what PyTorch computes on float32 tensors bit for bit.
 */
import { Tensor, type Shape } from '../core/tensor.js';

export const f32 = Math.fround;

/**
 * numpy.linspace(start, stop, num) in float64, evaluated as NumPy does: y_i = i·step + start with
 * step = (stop − start)/(num − 1), and the last value set to `stop` exactly.
 */
export function linspace(start: number, stop: number, num: number): Float64Array {
  if (!Number.isSafeInteger(num) || num < 0) throw new RangeError(`linspace: num must be a non-negative integer, got ${num}`);
  const y = new Float64Array(num);
  if (num === 0) return y;
  const div = num - 1;
  const delta = stop - start;
  if (div === 0) {
    y[0] = 0 * delta + start; // NumPy: one value, start (step undefined)
    return y;
  }
  const step = delta / div;
  for (let i = 0; i < num; i++) {
    // NumPy switches to (i / div) · delta only when step == 0.
    y[i] = (step === 0 ? (i / div) * delta : i * step) + start;
  }
  y[num - 1] = stop;
  return y;
}

/** What a scheduler's `step` takes and returns: flat float storage, or an f32/f64 Tensor. */
export type Sample = Float32Array | Float64Array | Tensor;

/** The flat values of a sample, with the precision the step runs in. */
export interface SampleView {
  data: Float32Array | Float64Array;
  precision: 'f32' | 'f64';
  shape: Shape | null;
}

export function viewSample(op: string, name: string, x: Sample): SampleView {
  if (x instanceof Float32Array) return { data: x, precision: 'f32', shape: null };
  if (x instanceof Float64Array) return { data: x, precision: 'f64', shape: null };
  if (x instanceof Tensor) {
    if (x.dtype === 'f32') return { data: x.data as Float32Array, precision: 'f32', shape: x.shape };
    if (x.dtype === 'f64') return { data: x.data as Float64Array, precision: 'f64', shape: x.shape };
    throw new TypeError(`${op}: ${name} is a ${x.dtype} Tensor; the scheduler steps f32 or f64 samples (diffusers' pipelines step in float32)`);
  }
  throw new TypeError(`${op}: ${name} must be a Float32Array, Float64Array or Tensor`);
}

/** Check that model output and sample agree in length and precision, as `step` requires. */
export function viewStepInputs(op: string, modelOutput: Sample, sample: Sample): { mo: SampleView; x: SampleView } {
  const mo = viewSample(op, 'modelOutput', modelOutput);
  const x = viewSample(op, 'sample', sample);
  if (mo.data.length !== x.data.length) {
    throw new RangeError(`${op}: modelOutput has ${mo.data.length} values but sample has ${x.data.length}`);
  }
  if (mo.precision !== x.precision) {
    throw new TypeError(`${op}: modelOutput is ${mo.precision} but sample is ${x.precision}; pass both in the same precision`);
  }
  if (mo.shape !== null && x.shape !== null && mo.shape.join(',') !== x.shape.join(',')) {
    throw new RangeError(`${op}: modelOutput shape [${mo.shape.join(', ')}] differs from sample shape [${x.shape.join(', ')}]`);
  }
  return { mo, x };
}

/** Fresh output storage of the given precision. */
export function allocLike(view: SampleView): Float32Array | Float64Array {
  return view.precision === 'f32' ? new Float32Array(view.data.length) : new Float64Array(view.data.length);
}

/** Wrap `data` as the same kind of container as `template` (TypedArray → TypedArray, Tensor → Tensor). */
export function wrapLike(template: Sample, data: Float32Array | Float64Array): Sample {
  if (template instanceof Tensor) return new Tensor(template.shape, data instanceof Float32Array ? 'f32' : 'f64', data);
  return data;
}

/** Element rounding of the step's precision: float32 rounding, or none in float64. */
export function rounder(precision: 'f32' | 'f64'): (v: number) => number {
  return precision === 'f32' ? Math.fround : (v: number) => v;
}
