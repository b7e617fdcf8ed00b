/**
 * Normalisations over one axis, computed in float64 and rounded once to float32 (torch computes the
 * statistics in float32 with wider accumulators; the difference is at the float32 rounding level).
 *
 * LayerNorm (torch.nn.LayerNorm, biased variance), over the last dimension of size C:
 *   μ = mean(x),  σ² = mean((x − μ)²),  y = (x − μ) / √(σ² + eps) · w + b      (w, b optional)
 *   SANA's DiT uses it without affine, eps 1e-6.
 *
 * RMSNorm (diffusers RMSNorm), over the last dimension:
 *   y = x / √(mean(x²) + eps) · w + b                                           (w, b optional)
 *   SANA's caption_norm uses eps 1e-5 with a weight and no bias; DC-AE's uses weight and bias.
 *
 * rmsNormChannels applies the same RMSNorm over the channel axis of an NCHW tensor (DC-AE's
 * "RMSNorm2d": diffusers moves the channel axis last, normalises, moves it back).
 *
 * FLOPs ≈ 4–5 per element.
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import type { AccumulateOption } from './linear.js';

export interface NormOptions extends AccumulateOption {
  eps: number;
  /** Per-channel scale (length C), or null/undefined for none. */
  weight?: Tensor | null;
  /** Per-channel shift (length C), or null/undefined for none. */
  bias?: Tensor | null;
}

function checkAffine(op: string, C: number, t: Tensor | null | undefined, what: string, xShape: readonly number[]): Float32Array | null {
  if (t === null || t === undefined) return null;
  if (t.ndim !== 1 || t.shape[0] !== C) {
    throw new RangeError(`${op}: ${what} ${shapeStr(t.shape)} does not match ${C} channels of input ${shapeStr(xShape)}`);
  }
  return t.toFloat32();
}

function lastDim(op: string, x: Tensor): number {
  if (x.ndim < 1 || x.shape[x.ndim - 1] === 0) throw new RangeError(`${op}: input ${shapeStr(x.shape)} has no last dimension to normalise`);
  return x.shape[x.ndim - 1]!;
}

/** LayerNorm over the last dimension. */
export function layerNorm(x: Tensor, opts: NormOptions): Tensor {
  const C = lastDim('layerNorm', x);
  const w = checkAffine('layerNorm', C, opts.weight, 'weight', x.shape);
  const b = checkAffine('layerNorm', C, opts.bias, 'bias', x.shape);
  const xs = x.toFloat32();
  const out = new Float32Array(xs.length);
  const rows = xs.length / C;
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let mean = 0;
    for (let c = 0; c < C; c++) mean += xs[o + c]!;
    mean /= C;
    let v = 0;
    for (let c = 0; c < C; c++) {
      const d = xs[o + c]! - mean;
      v += d * d;
    }
    const rstd = 1 / Math.sqrt(v / C + opts.eps);
    for (let c = 0; c < C; c++) {
      let y = (xs[o + c]! - mean) * rstd;
      if (w) y *= w[c]!;
      if (b) y += b[c]!;
      out[o + c] = y;
    }
  }
  return new Tensor(x.shape, 'f32', out);
}

/** RMSNorm over the last dimension. */
export function rmsNorm(x: Tensor, opts: NormOptions): Tensor {
  const C = lastDim('rmsNorm', x);
  const w = checkAffine('rmsNorm', C, opts.weight, 'weight', x.shape);
  const b = checkAffine('rmsNorm', C, opts.bias, 'bias', x.shape);
  const xs = x.toFloat32();
  const out = new Float32Array(xs.length);
  const rows = xs.length / C;
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += xs[o + c]! * xs[o + c]!;
    const rinv = 1 / Math.sqrt(ss / C + opts.eps);
    for (let c = 0; c < C; c++) {
      let y = xs[o + c]! * rinv;
      if (w) y *= w[c]!;
      if (b) y += b[c]!;
      out[o + c] = y;
    }
  }
  return new Tensor(x.shape, 'f32', out);
}

/** RMSNorm over the channel axis of an NCHW tensor (each pixel normalised across its C channels). */
export function rmsNormChannels(x: Tensor, opts: NormOptions): Tensor {
  if (x.ndim !== 4) throw new RangeError(`rmsNormChannels: want x (B,C,H,W), got ${shapeStr(x.shape)}`);
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const w = checkAffine('rmsNormChannels', C, opts.weight, 'weight', x.shape);
  const b = checkAffine('rmsNormChannels', C, opts.bias, 'bias', x.shape);
  const xs = x.toFloat32();
  const out = new Float32Array(xs.length);
  const HW = H * W;
  const r = opts.accumulate === 'f32' ? Math.fround : (v: number) => v; // f32: round every partial sum
  for (let bi = 0; bi < B; bi++) {
    const base = bi * C * HW;
    for (let p = 0; p < HW; p++) {
      let ss = 0;
      for (let c = 0; c < C; c++) {
        const v = xs[base + c * HW + p]!;
        ss = r(ss + r(v * v));
      }
      const rinv = 1 / Math.sqrt(r(ss / C) + opts.eps);
      for (let c = 0; c < C; c++) {
        let y = xs[base + c * HW + p]! * rinv;
        if (w) y *= w[c]!;
        if (b) y += b[c]!;
        out[base + c * HW + p] = y;
      }
    }
  }
  return new Tensor(x.shape, 'f32', out);
}
