/**
 * Text conditioning: caption projection then caption RMSNorm (SANA y_embedder.y_proj + attention_y_norm;
 * diffusers caption_projection (PixArtAlphaTextProjection, act gelu_tanh) + caption_norm).
 *
 *   y' = W₂·GELU_tanh(W₁·y + b₁) + b₂           (B, L, D_text) → (B, L, C)
 *   y″ = y' / √(mean_c(y'²) + 1e-5) · w          RMSNorm, weight only (initialised to 0.01 in training)
 *
 * Keys: caption_projection.linear_{1,2}.{weight,bias}, caption_norm.weight.
 * FLOPs 2·B·L·(D_text·C + C²).
 */
import type { Tensor } from '../core/tensor.js';
import { geluTanh } from '../ops/activations.js';
import { linear, type AccumulateOption } from '../ops/linear.js';
import { rmsNorm } from '../ops/norms.js';
import { param, type StateDict } from './params.js';

/** eps of SANA's caption RMSNorm. */
export const CAPTION_NORM_EPS = 1e-5;

export function captionProjection(y: Tensor, w: StateDict, opts: AccumulateOption = {}): Tensor {
  const h = geluTanh(linear(y, param(w, 'caption_projection.linear_1.weight'), param(w, 'caption_projection.linear_1.bias'), opts));
  return linear(h, param(w, 'caption_projection.linear_2.weight'), param(w, 'caption_projection.linear_2.bias'), opts);
}

export function captionNorm(y: Tensor, w: StateDict): Tensor {
  return rmsNorm(y, { eps: CAPTION_NORM_EPS, weight: param(w, 'caption_norm.weight') });
}
