/**
 * SANA's Linear DiT: diffusers SanaTransformer2DModel, forward pass in pure TypeScript.
 *
 *   tokens x  = PatchEmbed(latent) (+ 2-D sincos PE when interpolation_scale is set)    (B, N, C)
 *   t₀, t̂     = adaLN-single(timestep)                                                  (B, 6C), (B, C)
 *   y         = RMSNorm(CaptionProjection(text))                                         (B, L, C)
 *   x         = Block_{depth−1} ∘ … ∘ Block_0 (x; y, mask, t₀)
 *   out       = Unpatchify(FinalLayer(x, t̂))                                          (B, C_out, H, W)
 *
 * Inputs: latent (B, C_in, H, W) with H, W multiples of the patch size (any aspect ratio); one timestep
 * per sample (B), in model units 0…1000 (diffusers feeds 1000·σ); text features (B, L, D_text);
 * optional mask (B, L), 1 = keep, 0 = drop, turned into the additive bias (1 − mask)·(−10000).
 * Storage is float32; matmul-like reductions accumulate in float64 by default (`accumulate: 'f32'`
 * rounds every partial sum instead).
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { maskToBias } from '../ops/cross-attention.js';
import { LINEAR_ATTENTION_EPS_DIFFUSERS } from '../ops/linear-attention.js';
import { patchEmbed, unpatchify } from '../ops/patchify.js';
import { sincosPosEmbed2d } from '../ops/pos-embed.js';
import { adaLayerNormSingle } from './adaln-single.js';
import { sanaTransformerBlock } from './block.js';
import { captionNorm, captionProjection } from './caption.js';
import { ditDims, loadSanaTransformerConfig, validateConfig, type DitDims, type SanaTransformerConfig } from './config.js';
import { finalLayer } from './final-layer.js';
import { param, type StateDict } from './params.js';
import { loadSanaTransformerWeights, prepareWeights } from './weights.js';

export interface DitInputs {
  /** Noisy latent (B, C_in, H, W). */
  hiddenStates: Tensor;
  /** One timestep per sample, shape (B), any numeric dtype (used as float32). */
  timestep: Tensor;
  /** Text-encoder features (B, L, caption_channels). */
  encoderHiddenStates: Tensor;
  /** (B, L): 1 keep, 0 masked; null/undefined = attend to every token. */
  encoderAttentionMask?: Tensor | null;
}

export interface DitForwardOptions {
  /** Accumulator of every reduction: 'f64' (default) or 'f32'. */
  accumulate?: 'f32' | 'f64';
  /** Linear-attention denominator eps: 1e-15 (diffusers, default) or 1e-8 (NVlabs/Sana). */
  linearAttentionEps?: number;
  /**
   * Called with each intermediate under the golden files' names (without the `intermediate.` prefix):
   * patch_embed, time_embed.timestep, time_embed.embedded_timestep, caption_projection, caption_norm,
   * transformer_blocks.<i>.attn1 / .attn2 / .ff / (block output), norm_out, proj_out.
   */
  onIntermediate?: (name: string, t: Tensor) => void;
}

export class SanaTransformer2DModel {
  readonly dims: DitDims;
  private readonly weights: StateDict;

  /** Builds from a config and a diffusers state dict (validated: one error lists every bad key). */
  constructor(
    readonly config: SanaTransformerConfig,
    weights: ReadonlyMap<string, Tensor>,
    source = '<weights>',
  ) {
    validateConfig(config);
    this.dims = ditDims(config);
    this.weights = prepareWeights(config, weights, source);
  }

  /** Loads a diffusers config.json and a safetensors checkpoint with diffusers key names. */
  static fromFiles(configPath: string, weightsPath: string): SanaTransformer2DModel {
    const cfg = loadSanaTransformerConfig(configPath);
    return new SanaTransformer2DModel(cfg, loadSanaTransformerWeights(cfg, weightsPath), weightsPath);
  }

  /** Runs the DiT; returns the predicted velocity (B, C_out, H, W) as float32. */
  forward(inputs: DitInputs, opts: DitForwardOptions = {}): Tensor {
    const cfg = this.config;
    const { inner: C } = this.dims;
    const { hiddenStates, timestep, encoderHiddenStates } = inputs;
    const mask = inputs.encoderAttentionMask ?? null;
    const emit = opts.onIntermediate;
    const acc = { accumulate: opts.accumulate };
    const p = cfg.patchSize;

    // Inputs.
    if (hiddenStates.ndim !== 4 || hiddenStates.shape[1] !== cfg.inChannels) {
      throw new RangeError(`SanaTransformer2DModel: hidden_states ${shapeStr(hiddenStates.shape)} is not (B, ${cfg.inChannels}, H, W)`);
    }
    const [B, , H, W] = hiddenStates.shape as [number, number, number, number];
    if (B < 1 || H < p || W < p || H % p !== 0 || W % p !== 0) {
      throw new RangeError(`SanaTransformer2DModel: latent ${shapeStr(hiddenStates.shape)} needs B >= 1 and H, W positive multiples of patch size ${p}`);
    }
    if (timestep.ndim !== 1 || timestep.shape[0] !== B) {
      throw new RangeError(`SanaTransformer2DModel: timestep ${shapeStr(timestep.shape)} must have one value per sample, shape [${B}]`);
    }
    if (encoderHiddenStates.ndim !== 3 || encoderHiddenStates.shape[0] !== B || encoderHiddenStates.shape[2] !== cfg.captionChannels) {
      throw new RangeError(
        `SanaTransformer2DModel: encoder_hidden_states ${shapeStr(encoderHiddenStates.shape)} is not (${B}, L, ${cfg.captionChannels})`,
      );
    }
    const L = encoderHiddenStates.shape[1]!;
    if (L < 1) throw new RangeError('SanaTransformer2DModel: encoder_hidden_states has no tokens (L = 0)');
    if (mask !== null && (mask.ndim !== 2 || mask.shape[0] !== B || mask.shape[1] !== L)) {
      throw new RangeError(`SanaTransformer2DModel: encoder_attention_mask ${shapeStr(mask.shape)} is not (${B}, ${L})`);
    }
    const h = H / p;
    const w = W / p;

    // 1. Patch embedding (+ optional sincos position embedding).
    let x = patchEmbed(hiddenStates, param(this.weights, 'patch_embed.proj.weight'), param(this.weights, 'patch_embed.proj.bias'), p, acc);
    if (cfg.interpolationScale !== null) {
      const pe = sincosPosEmbed2d(C, h, w, { baseSize: Math.floor(cfg.sampleSize / p), interpolationScale: cfg.interpolationScale });
      const xs = x.data as Float32Array;
      const ps = pe.data as Float32Array;
      for (let i = 0; i < xs.length; i++) xs[i] = xs[i]! + ps[i % ps.length]!;
    }
    emit?.('patch_embed', x);

    // 2. Timestep (adaLN-single) and text conditioning.
    const t = adaLayerNormSingle(timestep, this.weights, acc);
    emit?.('time_embed.timestep', t.timestep);
    emit?.('time_embed.embedded_timestep', t.embeddedTimestep);
    const yProj = captionProjection(encoderHiddenStates, this.weights, acc);
    emit?.('caption_projection', yProj);
    const y = captionNorm(yProj, this.weights);
    emit?.('caption_norm', y);

    // 3. Blocks.
    const ctx = {
      ...acc,
      encoderHiddenStates: y,
      encoderBias: mask === null ? null : maskToBias(mask),
      timestep: t.timestep,
      height: h,
      width: w,
      selfAttentionHeads: cfg.numAttentionHeads,
      crossAttentionHeads: cfg.numCrossAttentionHeads,
      normEps: cfg.normEps,
      linearAttentionEps: opts.linearAttentionEps ?? LINEAR_ATTENTION_EPS_DIFFUSERS,
      onIntermediate: emit,
    };
    for (let i = 0; i < cfg.numLayers; i++) {
      x = sanaTransformerBlock(x, i, this.weights, ctx);
      emit?.(`transformer_blocks.${i}`, x);
    }

    // 4. Final layer and unpatchify.
    const out = finalLayer(x, t.embeddedTimestep, this.weights, acc);
    emit?.('norm_out', out.normOut);
    emit?.('proj_out', out.projOut);
    return unpatchify(out.projOut, h, w, p);
  }
}
