/**
 * adaLN-single (PixArt-α / SANA; diffusers AdaLayerNormSingle): one timestep MLP shared by all blocks.
 *
 *   e  = sinusoidal(t)                         (B, 256), cos first (ops/timestep-embedding)
 *   t̂  = W₂·SiLU(W₁·e + b₁) + b₂              (B, C)   "embedded_timestep" (t_embedder); used by the final layer
 *   t₀ = W·SiLU(t̂) + b                         (B, 6C)  "timestep" (t_block); each block adds its own 6×C table
 *
 * Keys: time_embed.emb.timestep_embedder.linear_{1,2}.{weight,bias}, time_embed.linear.{weight,bias}.
 * FLOPs 2·B·(256·C + C² + 6C²).
 */
import type { Tensor } from '../core/tensor.js';
import { silu } from '../ops/activations.js';
import { linear, type AccumulateOption } from '../ops/linear.js';
import { timestepEmbedding } from '../ops/timestep-embedding.js';
import { param, type StateDict } from './params.js';
import { TIMESTEP_FEATURES } from './weights.js';

export interface AdaLnSingleOutput {
  /** t₀ (B, 6C): the modulation fed to every block. */
  timestep: Tensor;
  /** t̂ (B, C): the timestep embedding, also used by the final layer. */
  embeddedTimestep: Tensor;
}

export function adaLayerNormSingle(timestep: Tensor, w: StateDict, opts: AccumulateOption = {}): AdaLnSingleOutput {
  const pre = 'time_embed.emb.timestep_embedder.';
  const e = timestepEmbedding(timestep, { dim: TIMESTEP_FEATURES, flipSinToCos: true, downscaleFreqShift: 0 });
  const h = silu(linear(e, param(w, `${pre}linear_1.weight`), param(w, `${pre}linear_1.bias`), opts));
  const embeddedTimestep = linear(h, param(w, `${pre}linear_2.weight`), param(w, `${pre}linear_2.bias`), opts);
  const t0 = linear(silu(embeddedTimestep), param(w, 'time_embed.linear.weight'), param(w, 'time_embed.linear.bias'), opts);
  return { timestep: t0, embeddedTimestep };
}
