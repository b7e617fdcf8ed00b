/**
 * Sinusoidal timestep features (DDPM / diffusers get_timestep_embedding), as SANA uses them:
 * dim = 256, half = 128, cos first (flip_sin_to_cos), no frequency shift, t in model units 0…1000.
 *
 *   freq_k = exp(−ln(10000)·k / (half − shift)),  k = 0 … half−1
 *   e(t)   = [cos(t·freq_0 … t·freq_{half−1}), sin(t·freq_0 … t·freq_{half−1})]     (cos first)
 *          = [sin(…), cos(…)] when flipSinToCos is false; odd dims get one zero pad at the end.
 *
 * Float32 is followed step by step as diffusers computes it (exponent, exp, t·freq each rounded to
 * float32, then sin/cos): with t up to 1000 an argument differing by one float32 ulp (~6e-5) changes
 * cos/sin by as much, which dominates the DiT's float32-vs-float64 difference. `precision: 'f64'`
 * evaluates the same formula in float64 (the golden files' *_f64 pass).
 *
 * FLOPs: B·dim sin/cos evaluations.
 */
import { shapeStr, Tensor } from '../core/tensor.js';

export interface TimestepEmbeddingOptions {
  /** Output features (SANA: 256). */
  dim: number;
  /** Put cos before sin (SANA: true). */
  flipSinToCos?: boolean;
  /** Frequency shift: exponent divided by (half − shift) (SANA: 0). */
  downscaleFreqShift?: number;
  /** Multiplier on t·freq (default 1). */
  scale?: number;
  /** Longest period (default 10000). */
  maxPeriod?: number;
  /** 'f32' (default) mirrors diffusers' float32 arithmetic; 'f64' evaluates in float64. */
  precision?: 'f32' | 'f64';
}

/** timesteps (B) of any numeric dtype → (B, dim) float32 features. */
export function timestepEmbedding(timesteps: Tensor, opts: TimestepEmbeddingOptions): Tensor {
  if (timesteps.ndim !== 1) throw new RangeError(`timestepEmbedding: want timesteps of shape (B), got ${shapeStr(timesteps.shape)}`);
  const { dim } = opts;
  if (!Number.isSafeInteger(dim) || dim < 2) throw new RangeError(`timestepEmbedding: dim must be an integer >= 2, got ${dim}`);
  const flip = opts.flipSinToCos ?? true;
  const shift = opts.downscaleFreqShift ?? 0;
  const scale = opts.scale ?? 1;
  const maxPeriod = opts.maxPeriod ?? 10000;
  const r = (opts.precision ?? 'f32') === 'f32' ? Math.fround : (x: number) => x;
  const half = Math.floor(dim / 2);
  const freq = new Float64Array(half);
  const negLog = r(-Math.log(maxPeriod));
  for (let k = 0; k < half; k++) freq[k] = r(Math.exp(r(r(negLog * k) / (half - shift))));
  const t = timesteps.dtype === 'f64' ? timesteps.toFloat64() : Float64Array.from(timesteps.toFloat32());
  const B = t.length;
  const out = new Float32Array(B * dim);
  for (let b = 0; b < B; b++) {
    const tb = r(t[b]!);
    const o = b * dim;
    for (let k = 0; k < half; k++) {
      const arg = r(r(tb * freq[k]!) * scale);
      const s = Math.sin(arg);
      const c = Math.cos(arg);
      out[o + k] = flip ? c : s;
      out[o + half + k] = flip ? s : c;
    }
  }
  return new Tensor([B, dim], 'f32', out);
}
