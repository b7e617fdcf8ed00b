/**
 * The two models the sampling loop drives, as interfaces, so that the same pipeline runs the TS
 * reference models or native runners (bindings/models/pipeline-models.ts) with the text encoder in TS:
 *
 *   denoiser   condition(text, mask) once per prompt batch → forward(z, t) per step → velocity
 *   decoder    decode(z) → image in about [−1, 1]
 *
 * `condition` is where a runner does the work that depends on the text only (a native runner projects
 * the caption and every block's cross-attention keys/values there, once, instead of at every step);
 * the reference denoiser evaluates the whole model at each step, as diffusers does.
 */
import { Tensor } from '../core/tensor.js';
import type { AutoencoderDC, DcaeDecodeOptions } from '../dcae/autoencoder.js';
import type { DcaeConfig } from '../dcae/config.js';
import type { SanaTransformerConfig } from '../dit/config.js';
import type { SanaTransformer2DModel } from '../dit/model.js';
import type { FlowScheduler } from '../schedulers/from-config.js';

/** What the pipeline hands a denoiser that runs the whole sampling loop itself (`denoise`). */
export interface DenoiseLoop {
  /** The scheduler after setTimesteps: its timesteps are the loop's, `nextUpdate` gives each step's update. */
  scheduler: FlowScheduler;
  guidanceScale: number;
  /** Run [uncond | cond] and combine with the guidance scale. */
  cfg: boolean;
  timestepScale: number;
  onStep?: (info: { step: number; steps: number; timestep: number; sigma: number; ms: number }) => void;
}

/** A DiT bound to one prompt batch's text. */
export interface ConditionedDenoiser {
  /** Velocity (B, C_out, H, W) for the latent (B, C_in, H, W) at one model timestep per sample (B). */
  forward(hiddenStates: Tensor, timestep: Tensor): Tensor;
  /**
   * Optional: the whole loop from the initial latent z₀ (B, C_in, H, W) to the final one, with the same
   * arithmetic as the pipeline's own loop around `forward` (a native runner keeps the latent on its
   * backend: bindings/models/dit-denoise.ts). The pipeline uses it when present.
   */
  denoise?(z0: Tensor, loop: DenoiseLoop): Tensor;
  /** Frees what `condition` prepared (backend buffers). */
  dispose(): void;
}

export interface PipelineDenoiser {
  readonly config: SanaTransformerConfig;
  /** Binds the text (B, L, caption_channels) and its keep/drop mask (B, L) for the steps of one image. */
  condition(encoderHiddenStates: Tensor, encoderAttentionMask: Tensor | null): ConditionedDenoiser;
  /** Name shown in logs (e.g. "reference", "cpu f32"). */
  readonly label: string;
  dispose?(): void;
}

export interface PipelineDecoder {
  readonly config: DcaeConfig;
  /** Raw (unscaled) latent (B, latent_channels, h, w) → image (B, 3, h·f, w·f). */
  decode(latent: Tensor, opts: Pick<DcaeDecodeOptions, 'tiling' | 'onTile'>): Tensor;
  readonly label: string;
  dispose?(): void;
}

/** The reference SanaTransformer2DModel: the full forward (caption projection included) at every step. */
export function referenceDenoiser(model: SanaTransformer2DModel): PipelineDenoiser {
  return {
    config: model.config,
    label: 'reference',
    condition: (encoderHiddenStates, encoderAttentionMask) => ({
      forward: (hiddenStates, timestep) => model.forward({ hiddenStates, timestep, encoderHiddenStates, encoderAttentionMask }),
      dispose: () => {},
    }),
  };
}

/** The reference AutoencoderDC's decoder. */
export function referenceDecoder(vae: AutoencoderDC): PipelineDecoder {
  return { config: vae.config, label: 'reference', decode: (latent, opts) => vae.decode(latent, opts) };
}

/** z / scaling_factor in float32 (AutoencoderDC.unscaleLatent): the model-space latent → the decoder's input. */
export function unscaleLatent(z: Tensor, config: DcaeConfig): Tensor {
  const zs = z.toFloat32();
  const out = new Float32Array(zs.length);
  const s = Math.fround(config.scalingFactor);
  for (let i = 0; i < zs.length; i++) out[i] = zs[i]! / s;
  return new Tensor(z.shape, 'f32', out);
}
