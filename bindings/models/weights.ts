/**
 * Weight sources for the runners: where the values of a parameter come from (a diffusers state dict,
 * or random values with the real shapes for profiling), and the upload to a backend, once, in the
 * runner's dtype. Uploads are counted so the runners can report the bytes their weights hold.
 */
import { shapeStr, type Tensor } from '../../reference/core/tensor.js';
import type { Backend } from '../backend.js';
import type { BackendTensor, TensorDType } from '../tensor.js';
import { tensorBytes } from './buffers.js';

/** The f32 values of parameter `key` (diffusers name), which must have `shape`. */
export type WeightSource = (key: string, shape: readonly number[]) => Float32Array;

/** A diffusers state dict as a source (shapes are checked; bf16/f16/f64 tensors are converted to f32). */
export function stateDictSource(weights: ReadonlyMap<string, Tensor>, what = 'weights'): WeightSource {
  return (key, shape) => {
    const t = weights.get(key);
    if (t === undefined) throw new Error(`${what}: parameter "${key}" is missing`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new RangeError(`${what}: parameter "${key}" is ${shapeStr(t.shape)}, expected ${shapeStr(shape)}`);
    }
    return t.toFloat32();
  };
}

/**
 * Random values with a parameter's shape, for profiling (timings do not depend on the values, only
 * finite, non-degenerate ones are needed): uniform with std `1/√fan_in` for matrices and convs
 * (fan_in = prod(shape[1:])), std 0.2 around 0 for vectors, plus 1 for norm weights so that norms
 * do not collapse the activations. A xorshift32 generator: ~10× faster than normal sampling, which
 * matters for the 0.6–1.6 B parameters of the full models.
 */
export function randomSource(seed = 1): WeightSource {
  let s = (seed >>> 0) || 0x9e3779b9;
  return (key, shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 0;
    const std = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0.2;
    const half = std * Math.sqrt(3); // uniform(−a, a) has std a/√3
    const mean = /norm.*weight$/.test(key) ? 1 : 0;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = mean + ((s >>> 0) / 4294967296 - 0.5) * 2 * half;
    }
    return out;
  };
}

/** Uploads parameters to one backend in one dtype, counting the bytes. */
export class WeightUploader {
  bytes = 0;
  readonly tensors: BackendTensor[] = [];

  constructor(
    readonly backend: Backend,
    readonly dtype: TensorDType,
    readonly source: WeightSource,
  ) {}

  /** Parameter `key` with `shape`, uploaded as `as` (a reshape of the same values, e.g. a conv as a matrix). */
  get(key: string, shape: readonly number[], as: readonly number[] = shape): BackendTensor {
    return this.values(this.source(key, shape), as);
  }

  /**
   * Parameters uploaded into one allocation where the backend has arenas (back to back when each is a
   * multiple of 256 bytes), else one by one: the same tensors either way. linear-attention-block on cuda
   * multiplies by q, k, v weights that sit back to back as one [3C, C] matrix (one gemm instead of three).
   */
  packed(parts: readonly { key: string; shape: readonly number[] }[]): BackendTensor[] {
    if (!this.backend.arena) return parts.map((p) => this.get(p.key, p.shape));
    const ts = this.backend.arena(
      parts.map((p) => p.shape),
      this.dtype,
    );
    this.tensors.push(...ts);
    parts.forEach((p, i) => {
      ts[i]!.write(this.source(p.key, p.shape));
      this.bytes += tensorBytes(p.shape, this.dtype);
    });
    return ts;
  }

  /** Values computed on the host (e.g. a sum of two biases), uploaded. */
  values(v: Float32Array, shape: readonly number[]): BackendTensor {
    const t = this.backend.fromArray(v, shape, this.dtype);
    this.bytes += tensorBytes(shape, this.dtype);
    this.tensors.push(t);
    return t;
  }

  dispose(): void {
    for (const t of this.tensors) t.dispose();
    this.tensors.length = 0;
    this.bytes = 0;
  }
}
