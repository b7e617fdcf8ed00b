/**
 * The native runners behind the text-to-image pipeline's model interfaces (reference/pipeline/models.ts),
 * for `sana-lab generate --backend cpu|cuda`: the DiT (NativeSanaTransformer) is bound to the text once
 * per image — caption projection and every block's cross-attention keys/values, kept on the backend for
 * all steps — and runs the sampling loop there (dit-denoise.ts) unless `loop: 'host'`; the DC-AE decode
 * runs on NativeDcaeDecoder. The text encoder stays in TS.
 */
import type { Tensor } from '../../reference/core/tensor.js';
import type { DecoderFactory, DenoiserFactory } from '../../reference/pipeline/load.js';
import type { ConditionedDenoiser, PipelineDecoder, PipelineDenoiser } from '../../reference/pipeline/models.js';
import type { BackendName } from '../backends.js';
import type { TensorDType } from '../tensor.js';
import { NativeDcaeDecoder } from './dcae-runner.js';
import { canDenoiseOnBackend, denoiseOnBackend } from './dit-denoise.js';
import { NativeSanaTransformer, type DitBlockMode } from './dit-runner.js';

export interface NativePipelineOptions {
  backend?: BackendName;
  dtype?: TensorDType;
  /**
   * 'dit-block' (default: one op per block; faster than 'ops' in the README's cpu and H200 profiles) or
   * 'ops' (the block's ops one by one). Either way the text keys/values are computed once per image.
   */
  blockMode?: DitBlockMode;
  /**
   * 'backend' (default): the sampling loop runs on the backend (dit-denoise.ts: the latent stays there,
   * the update is the sampler-update op); 'host': the pipeline's own loop, the latent read back and
   * uploaded at every step. Both give the same latents bit for bit.
   */
  loop?: 'backend' | 'host';
  /** cuda, loop 'backend': replay each iteration after the second as one CUDA graph. */
  cudaGraph?: boolean;
}

/** A native DiT as the pipeline's denoiser; `dispose` frees the model. */
export function nativeDenoiser(model: NativeSanaTransformer, loop: 'backend' | 'host' = 'backend'): PipelineDenoiser {
  const onBackend = loop === 'backend' && canDenoiseOnBackend(model);
  return {
    config: model.config,
    label: `${model.backend.name} ${model.dtype} (${model.blockMode}${onBackend ? `, loop on the backend${model.cudaGraph ? ', cuda graphs' : ''}` : ''})`,
    condition: (encoderHiddenStates: Tensor, encoderAttentionMask: Tensor | null) => {
      const cond = model.encodeCondition(encoderHiddenStates, encoderAttentionMask);
      const bound: ConditionedDenoiser = { forward: (hiddenStates, timestep) => model.step(hiddenStates, timestep, cond), dispose: () => cond.dispose() };
      if (onBackend) bound.denoise = (z0, run) => denoiseOnBackend(model, z0, cond, run);
      return bound;
    },
    dispose: () => model.dispose(),
  };
}

/** A native DC-AE decoder as the pipeline's decoder; `dispose` frees the model. */
export function nativeDecoder(model: NativeDcaeDecoder): PipelineDecoder {
  return {
    config: model.config,
    label: `${model.backend.name} ${model.dtype}`,
    decode: (latent, opts) => model.decode(latent, opts),
    dispose: () => model.dispose(),
  };
}

/** Factories for `SanaPipeline.fromDir(dir, { ...nativePipelineFactories(opts) })`. */
export function nativePipelineFactories(opts: NativePipelineOptions = {}): { denoiser: DenoiserFactory; decoder: DecoderFactory } {
  const o = { backend: opts.backend ?? 'cpu', dtype: opts.dtype ?? 'f32' };
  return {
    denoiser: (config, weights, source) =>
      nativeDenoiser(NativeSanaTransformer.fromStateDict(config, weights, { ...o, blockMode: opts.blockMode ?? 'dit-block', cudaGraph: opts.cudaGraph ?? false }, source), opts.loop),
    decoder: (config, weights, source) => nativeDecoder(NativeDcaeDecoder.fromStateDict(config, weights, o, source)),
  };
}
