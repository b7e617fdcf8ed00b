/**
 * EfficientViT block (diffusers `EfficientViTBlock`, DC-AE's "EViTS5_GLU"): the block of the
 * low-resolution stages, a context half and a local half, each with its own residual:
 *
 *   x = x + RMSNorm2d(to_out(ReLU-attention(qkv + 5×5 aggregation)))     liteMla (attn.*)
 *   x = x + RMSNorm2d(conv_point(GLU(depthwise(conv_inverted(x)))))     glumbConv (conv_out.*)
 */
import type { Tensor } from '../core/tensor.js';
import { glumbConv } from './glumbconv.js';
import { liteMla, type LiteMlaOptions } from './lite-mla.js';
import type { ParamScope } from './params.js';

export function efficientVitBlock(x: Tensor, p: ParamScope, opts: LiteMlaOptions): Tensor {
  return glumbConv(liteMla(x, p.child('attn'), opts), p.child('conv_out'), opts);
}
