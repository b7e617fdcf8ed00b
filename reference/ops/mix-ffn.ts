/**
 * GLUMBConv — SANA's Mix-FFN (diffusers GLUMBConv; NVlabs GLUMBConv with act (silu, silu, none)).
 * On an image x (B, C, H, W) with hidden width h = int(expand·C) (SANA DiT: 2.5·C):
 *
 *   u      = SiLU(W_inv ∗ x + b_inv)          1×1 conv C → 2h, bias, SiLU on all 2h channels
 *   u      = W_dw ⊛ u + b_dw                  depthwise 3×3 conv on 2h channels, zero pad 1, bias, no act
 *   [a | g] = u                               split channels: first h = a, last h = gate
 *   y      = W_pt ∗ (a ⊙ SiLU(g))             1×1 conv h → C_out, no bias
 *
 * Options used by DC-AE (not by the DiT): an RMSNorm over channels after the point conv
 * (`norm`, diffusers norm_type "rms_norm", eps 1e-5, weight + bias) and a residual `y + x`.
 * The zero-padded depthwise conv is what gives NoPE SANA its positional information.
 *
 * FLOPs: 2·B·H·W·(C·2h + 9·2h + h·C_out) (+ the SiLUs).
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { siluScalar } from './activations.js';
import { conv2d } from './conv2d.js';
import { nchwToTokens, tokensToNchw } from './layout.js';
import type { AccumulateOption } from './linear.js';
import { rmsNormChannels } from './norms.js';

/** Parameters, diffusers names: conv_inverted.{weight,bias}, conv_depth.{weight,bias}, conv_point.weight. */
export interface GluMbConvWeights {
  /** (2h, C, 1, 1) */
  convInverted: Tensor;
  /** (2h) */
  convInvertedBias: Tensor;
  /** (2h, 1, 3, 3) */
  convDepth: Tensor;
  /** (2h) */
  convDepthBias: Tensor;
  /** (C_out, h, 1, 1) */
  convPoint: Tensor;
}

export interface GluMbConvOptions extends AccumulateOption {
  /** RMSNorm over channels after conv_point (DC-AE): y = y/√(mean_c(y²) + eps)·weight + bias. */
  norm?: { weight: Tensor; bias: Tensor | null; eps: number } | null;
  /** Add the input to the output (DC-AE residual_connection). */
  residual?: boolean;
}

/** GLUMBConv on an NCHW image: (B, C, H, W) → (B, C_out, H, W). */
export function gluMbConv(x: Tensor, w: GluMbConvWeights, opts: GluMbConvOptions = {}): Tensor {
  if (x.ndim !== 4) throw new RangeError(`gluMbConv: want x (B, C, H, W), got ${shapeStr(x.shape)}`);
  const two = w.convInverted.shape[0]!;
  const hidden = two / 2;
  if (two % 2 !== 0 || w.convDepth.shape[0] !== two || w.convDepth.shape[1] !== 1 || w.convPoint.shape[1] !== hidden) {
    throw new RangeError(
      `gluMbConv: inconsistent weights conv_inverted ${shapeStr(w.convInverted.shape)}, conv_depth ${shapeStr(w.convDepth.shape)}, conv_point ${shapeStr(w.convPoint.shape)}`,
    );
  }
  const acc = { accumulate: opts.accumulate };
  const inv = conv2d(x, w.convInverted, w.convInvertedBias, { ...acc, stride: 1, padding: 0 });
  const invData = inv.data as Float32Array;
  for (let i = 0; i < invData.length; i++) invData[i] = siluScalar(invData[i]!);
  const dw = conv2d(inv, w.convDepth, w.convDepthBias, { ...acc, stride: 1, padding: 1, groups: two });
  const [B, , H, W] = dw.shape as [number, number, number, number];
  const HW = H * W;
  const ds = dw.data as Float32Array;
  const gated = new Float32Array(B * hidden * HW);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < hidden; c++) {
      const a0 = (b * two + c) * HW;
      const g0 = (b * two + hidden + c) * HW;
      const o0 = (b * hidden + c) * HW;
      for (let p = 0; p < HW; p++) gated[o0 + p] = ds[a0 + p]! * siluScalar(ds[g0 + p]!);
    }
  }
  let y = conv2d(new Tensor([B, hidden, H, W], 'f32', gated), w.convPoint, null, { ...acc, stride: 1, padding: 0 });
  if (opts.norm) y = rmsNormChannels(y, { eps: opts.norm.eps, weight: opts.norm.weight, bias: opts.norm.bias });
  if (opts.residual) {
    if (y.shape[1] !== x.shape[1]) throw new RangeError(`gluMbConv: residual needs C_out = C, got ${shapeStr(y.shape)} vs ${shapeStr(x.shape)}`);
    const ys = y.data as Float32Array;
    const xs = x.toFloat32();
    for (let i = 0; i < ys.length; i++) ys[i] = ys[i]! + xs[i]!;
  }
  return y;
}

/**
 * The DiT's Mix-FFN on token-major input: tokens (B, N, C) with N = height·width in row-major grid
 * order → image → GLUMBConv → tokens (B, N, C_out).
 */
export function mixFfnTokens(x: Tensor, height: number, width: number, w: GluMbConvWeights, opts: GluMbConvOptions = {}): Tensor {
  if (x.ndim !== 3 || x.shape[1] !== height * width) {
    throw new RangeError(`mixFfnTokens: want tokens (B, ${height}·${width}, C), got ${shapeStr(x.shape)}`);
  }
  return nchwToTokens(gluMbConv(tokensToNchw(x, height, width), w, opts));
}
