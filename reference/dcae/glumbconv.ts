/**
 * GLUMBConv, DC-AE flavour (diffusers `GLUMBConv(C, C, expand_ratio=4, norm_type="rms_norm",
 * residual_connection=True)`): the feed-forward half of an EfficientViT block.
 *
 *   u      = SiLU(conv_inverted(x))            1×1, C → 2·hid with bias, hid = 4·C
 *   u      = conv_depth(u)                     depthwise 3×3 on 2·hid channels, with bias
 *   [a, g] = split(u) along channels           first hid channels a, last hid the gate g
 *   h      = conv_point(a · SiLU(g))           1×1, hid → C, no bias
 *   y      = x + RMSNorm2d(h)
 *
 * (The DiT's Mix-FFN is the same op with expand 2.5, no norm and no residual.)
 * FLOPs ≈ 2·H·W·(C·2hid + 9·2hid + hid·C) = 2·H·W·(12·C² + 72·C) per image (hid = 4C).
 */
import type { Tensor } from '../core/tensor.js';
import { gluMbConv } from '../ops/mix-ffn.js';
import type { DcaeOpOptions, ParamScope } from './params.js';
import { DCAE_RMS_NORM_EPS } from './rms-norm-2d.js';

/** The generic GLUMBConv (reference/ops/mix-ffn.ts) with DC-AE's norm and residual. */
export function glumbConv(x: Tensor, p: ParamScope, opts: DcaeOpOptions = {}): Tensor {
  return gluMbConv(
    x,
    {
      convInverted: p.get('conv_inverted.weight'),
      convInvertedBias: p.get('conv_inverted.bias'),
      convDepth: p.get('conv_depth.weight'),
      convDepthBias: p.get('conv_depth.bias'),
      convPoint: p.get('conv_point.weight'),
    },
    { norm: { weight: p.get('norm.weight'), bias: p.get('norm.bias'), eps: DCAE_RMS_NORM_EPS }, residual: true, accumulate: opts.accumulate },
  );
}
