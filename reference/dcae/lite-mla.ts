/**
 * LiteMLA — lightweight multi-scale ReLU linear attention (diffusers `SanaMultiscaleLinearAttention`,
 * EfficientViT's `LiteMLA`), the token-mixing half of DC-AE's EfficientViT block.
 *
 * With C channels, head dim d, heads h = ⌊C/d⌋, inner width I = h·d and S aggregation kernels:
 *   qkv  = [to_q(x) | to_k(x) | to_v(x)]                     1×1, C → 3I, no bias (channels stacked)
 *   agg_s = proj_out_s(proj_in_s(qkv))                       depthwise k_s×k_s (pad k_s/2), then a
 *                                                            grouped 1×1 with 3h groups of d channels
 *   m    = concat(qkv, agg_1, …, agg_S)                      3I·(1+S) channels = (1+S)·h heads of 3d
 *   a    = ReLU attention per head (relu-attention.ts)       linear form if H·W > d, else quadratic
 *   y    = x + RMSNorm2d(to_out(a))                          1×1, I·(1+S) → C, no bias
 *
 * Channel layout: each attention head takes 3d CONSECUTIVE channels of m as its q, k, v. Because qkv
 * stacks the three projections, head j of the first half reads rows [3dj, 3dj+3d) of the stacked
 * [W_q; W_k; W_v] — so diffusers' "to_q/to_k/to_v" are the three thirds of the original fused qkv
 * weight, not literally the queries, keys and values of one head (the checkpoint conversion keeps the
 * original head-major interleave this way).
 *
 * FLOPs per image, N = H·W: projections 2·N·(3I·C + Σ_s 3I·(k_s² + d) + I·(1+S)·C), attention
 * (linear form) 4·(d+1)·d·N per head over (1+S)·h heads.
 */
import { Tensor } from '../core/tensor.js';
import { conv2d } from '../ops/conv2d.js';
import { concatChannels } from './channel-ops.js';
import { add, nchw } from './elementwise.js';
import type { DcaeOpOptions, ParamScope } from './params.js';
import { LITE_MLA_EPS, packedReluLinearAttention, packedReluQuadraticAttention } from './relu-attention.js';
import { rmsNorm2d } from './rms-norm-2d.js';

export interface LiteMlaOptions extends DcaeOpOptions {
  /** Channels per head (diffusers `attention_head_dim`; 32 in SANA's DC-AE). */
  headDim: number;
  /** Depthwise aggregation kernel sizes (diffusers `qkv_multiscales`; (5,) in SANA's DC-AE). */
  kernelSizes: readonly number[];
  eps?: number;
}

/** True when LiteMLA uses the linear form: H·W > head dim (diffusers' rule). */
export function usesLinearAttention(height: number, width: number, headDim: number): boolean {
  return height * width > headDim;
}

/** Stack the three 1×1 projection weights [I, C] into one conv weight [3I, C, 1, 1]. */
function stackedQkvWeight(p: ParamScope): Tensor {
  const ws = ['to_q.weight', 'to_k.weight', 'to_v.weight'].map((k) => p.get(k));
  const [I, C] = ws[0]!.shape as [number, number];
  const data = new Float32Array(3 * I * C);
  ws.forEach((w, i) => {
    if (w.ndim !== 2 || w.shape[0] !== I || w.shape[1] !== C) {
      throw new RangeError(`liteMla: ${p.prefix}to_q/k/v weights have different shapes`);
    }
    data.set(w.toFloat32(), i * I * C);
  });
  return new Tensor([3 * I, C, 1, 1], 'f32', data);
}

export function liteMla(x: Tensor, p: ParamScope, opts: LiteMlaOptions): Tensor {
  const [, , H, W] = nchw(x, 'liteMla');
  const acc = { accumulate: opts.accumulate };
  const d = opts.headDim;
  const qkv = conv2d(x, stackedQkvWeight(p), null, { padding: 0, ...acc });
  const branches = [qkv];
  opts.kernelSizes.forEach((k, s) => {
    const proj = p.child('to_qkv_multiscale').child(s);
    const wIn = proj.get('proj_in.weight');
    if (wIn.shape[2] !== k || wIn.shape[3] !== k) {
      throw new RangeError(`liteMla: ${proj.prefix}proj_in.weight has kernel ${wIn.shape[2]}×${wIn.shape[3]}, config says ${k}×${k}`);
    }
    const agg = conv2d(qkv, wIn, null, { padding: Math.floor(k / 2), groups: qkv.shape[1], ...acc });
    branches.push(conv2d(agg, proj.get('proj_out.weight'), null, { padding: 0, groups: qkv.shape[1]! / d, ...acc }));
  });
  const m = branches.length === 1 ? qkv : concatChannels(branches);
  const eps = opts.eps ?? LITE_MLA_EPS;
  const a = usesLinearAttention(H, W, d) ? packedReluLinearAttention(m, d, eps, opts) : packedReluQuadraticAttention(m, d, eps, opts);
  const wOut = p.get('to_out.weight');
  const o = conv2d(a, wOut.reshape([wOut.shape[0]!, wOut.shape[1]!, 1, 1]), null, { padding: 0, ...acc });
  return add(rmsNorm2d(o, p.get('norm_out.weight'), p.get('norm_out.bias'), undefined, opts), x, 'liteMla residual');
}
