/**
 * The final layer (SANA T2IFinalLayer; diffusers norm_out = SanaModulatedNorm, then proj_out).
 *
 *   (shift, scale) = table (2, C) + t̂                (t̂ = embedded timestep, NOT the 6C block modulation)
 *   h = LayerNorm(x)·(1 + scale) + shift              LayerNorm without affine, eps 1e-6
 *   out = W·h + b                                     (B, N, C) → (B, N, p²·C_out)
 *
 * Keys: scale_shift_table, proj_out.{weight,bias}. FLOPs 2·B·N·C·p²·C_out.
 */
import type { Tensor } from '../core/tensor.js';
import { linear, type AccumulateOption } from '../ops/linear.js';
import { layerNorm } from '../ops/norms.js';
import { broadcastChunks, modulate } from './modulation.js';
import { param, type StateDict } from './params.js';

/** eps of the final LayerNorm (fixed in diffusers, independent of norm_eps). */
export const FINAL_NORM_EPS = 1e-6;

export interface FinalLayerOutput {
  /** The modulated LayerNorm output (B, N, C). */
  normOut: Tensor;
  /** proj_out output (B, N, p²·C_out), before unpatchify. */
  projOut: Tensor;
}

export function finalLayer(x: Tensor, embeddedTimestep: Tensor, w: StateDict, opts: AccumulateOption = {}): FinalLayerOutput {
  const chunks = broadcastChunks(param(w, 'scale_shift_table'), embeddedTimestep);
  const normOut = modulate(layerNorm(x, { eps: FINAL_NORM_EPS }), chunks, 0, 1);
  return { normOut, projOut: linear(normOut, param(w, 'proj_out.weight'), param(w, 'proj_out.bias'), opts) };
}
