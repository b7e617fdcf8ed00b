/**
 * SANA text-to-image, end to end, as diffusers' `SanaPipeline.__call__` runs it:
 *
 *   1. text      prompt → CHI + prompt → Gemma-2 → 300 selected tokens + mask        (conditional)
 *                negative prompt ("") → Gemma-2 → 300 tokens + mask                  (unconditional)
 *                CFG (g > 1): one batch [uncond | cond]
 *   2. noise     z ~ N(0, I), (1, C, H/f, W/f), from the seed (reference/core/random.ts)
 *   3. denoise   for each scheduler timestep t:
 *                  v = DiT([z | z], t·timestep_scale, text)        (batch 2 under CFG, else batch 1)
 *                  v = v_u + g·(v_c − v_u)                         (CFG)
 *                  z = scheduler.step(v, t, z)                     (Flow-DPM-Solver++ or Flow-Euler)
 *   4. decode    x = DC-AE.decode(z / scaling_factor)  (tiled for large images)   ∈ [−1, 1]
 *   5. image     clamp(x/2 + 0.5, 0, 1) → round(255·v) → uint8 RGB
 *
 * Cost: 2 Gemma passes (L_all ≈ n_chi + 298 and 300 tokens), N DiT passes at batch 2 (1 without
 * CFG), one DC-AE decode. The DiT and the decoder are the reference models or native runners behind
 * the interfaces of models.ts (the text is bound to the DiT once per image: `condition`). Differences from diffusers: the noise comes from this project's seeded
 * generator (not torch.randn), and the requested size is used as is (diffusers' default
 * `use_resolution_binning` snaps it to a trained aspect-ratio bin and resizes back).
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { randn } from '../core/random.js';
import { AutoencoderDC } from '../dcae/autoencoder.js';
import { spatialCompressionRatio } from '../dcae/config.js';
import { SANA_4K_TILING, type TileSpec, type TilingOptions } from '../dcae/tiling.js';
import { SanaTransformer2DModel } from '../dit/model.js';
import { cfgCombineBatch, modelTimestep } from '../schedulers/guidance.js';
import type { FlowScheduler } from '../schedulers/from-config.js';
import {
  cfgPromptBatch,
  encodeSanaNegative,
  encodeSanaPrompts,
  SANA_COMPLEX_HUMAN_INSTRUCTION,
  type PromptEmbeds,
  type PromptEncoder,
  type PromptTokenizer,
} from '../text/sana-prompt.js';
import { loadSanaPipelineParts, type LoadPipelineOptions } from './load.js';
import { referenceDecoder, referenceDenoiser, unscaleLatent, type PipelineDecoder, type PipelineDenoiser } from './models.js';
import { imageToRgb8 } from './postprocess.js';
import { makeScheduler, type SamplerName } from './sampler.js';

export interface SanaPipelineParts {
  /** The DiT: the reference model, or any PipelineDenoiser (e.g. a native runner). */
  transformer: SanaTransformer2DModel | PipelineDenoiser;
  /** The DC-AE decoder: the reference model, or any PipelineDecoder. */
  vae: AutoencoderDC | PipelineDecoder;
  textEncoder: PromptEncoder & { config?: { vocabSize: number; hiddenSize: number } };
  tokenizer: PromptTokenizer & { vocabSize?: number };
  schedulerConfig: Readonly<Record<string, unknown>>;
}

export interface StepInfo {
  /** 0-based index of the step just finished, and the number of steps. */
  step: number;
  steps: number;
  /** The scheduler timestep of this step and its sigma. */
  timestep: number;
  sigma: number;
  /** Wall time of this step (the DiT pass(es), CFG and the scheduler update). */
  ms: number;
}

export interface GenerateOptions {
  prompt: string;
  /** The unconditional prompt (default ""). */
  negativePrompt?: string;
  /** Image size in pixels; default sample_size × the DC-AE ratio (the model's training size). */
  width?: number;
  height?: number;
  steps?: number;
  /** CFG scale g (default 4.5); g ≤ 1 runs the conditional branch only, as diffusers does. */
  guidanceScale?: number;
  seed?: number;
  /** 'dpm' | 'euler', built with the model's shift; default: the model's scheduler_config.json. */
  sampler?: SamplerName;
  /** Text tokens the DiT sees (300). */
  maxSequenceLength?: number;
  /** The instruction prefix of the conditional prompt; [] disables it. */
  complexHumanInstruction?: readonly string[];
  /**
   * DC-AE tiling: explicit tiles, null (never), or 'auto' (default): SANA's 4K recipe (1024-px tiles,
   * stride 896) when a side exceeds 1024 px, else one whole-image decode like diffusers' default.
   */
  tiling?: TilingOptions | null | 'auto';
  /**
   * Run the [uncond | cond] batch even when g ≤ 1 (diffusers skips it then). With g = 1 the result
   * equals the conditional branch up to float32 rounding of v_u + (v_c − v_u) — a check that the
   * batch halves stay separate and in order.
   */
  alwaysBatchCfg?: boolean;
  /** Initial noise instead of the seeded draw, (1, C, H/f, W/f). */
  initialLatents?: Tensor;
  onStep?: (info: StepInfo) => void;
  onTile?: (spec: TileSpec, index: number, count: number) => void;
}

export interface GenerateResult {
  /** Interleaved 8-bit RGB, height × width × 3. */
  pixels: Uint8Array;
  width: number;
  height: number;
  /** The decoded image (1, 3, H, W) in about [−1, 1], before the 8-bit conversion. */
  image: Tensor;
  /** The final (scaled, model-space) latent (1, C, H/f, W/f). */
  latents: Tensor;
  timesteps: number[];
  sigmas: number[];
  /** Whether the step ran the [uncond | cond] batch. */
  cfgBatch: boolean;
  /** Lengths of the text sequences Gemma-2 encoded (conditional, and unconditional when used). */
  textTokens: { conditional: number; unconditional: number | null };
  timings: { encodeMs: number; denoiseMs: number; decodeMs: number; totalMs: number };
  /** Which implementations ran the DiT and the decoder (e.g. "reference", "cpu f32 (ops)"). */
  models: { denoiser: string; decoder: string };
}

const now = (): number => performance.now();

/** Stack a batch-1 tensor with itself along the batch (torch.cat([z] * 2)). */
function repeatBatch(z: Tensor, times: number): Tensor {
  const src = z.toFloat32();
  const out = new Float32Array(src.length * times);
  for (let i = 0; i < times; i++) out.set(src, i * src.length);
  return new Tensor([z.shape[0]! * times, ...z.shape.slice(1)], 'f32', out);
}

/** The first `channels` channels of (B, C, H, W) (diffusers' learned-sigma chunk). */
function firstChannels(v: Tensor, channels: number): Tensor {
  const [B, C, H, W] = v.shape as [number, number, number, number];
  const src = v.toFloat32();
  const out = new Float32Array(B * channels * H * W);
  for (let b = 0; b < B; b++) out.set(src.subarray(b * C * H * W, (b * C + channels) * H * W), b * channels * H * W);
  return new Tensor([B, channels, H, W], 'f32', out);
}

export class SanaPipeline {
  readonly transformer: PipelineDenoiser;
  readonly vae: PipelineDecoder;
  readonly textEncoder: SanaPipelineParts['textEncoder'];
  readonly tokenizer: SanaPipelineParts['tokenizer'];
  readonly schedulerConfig: Readonly<Record<string, unknown>>;

  /** Checks that the components fit together (channels, caption width, vocabulary). */
  constructor(parts: SanaPipelineParts) {
    this.transformer = parts.transformer instanceof SanaTransformer2DModel ? referenceDenoiser(parts.transformer) : parts.transformer;
    this.vae = parts.vae instanceof AutoencoderDC ? referenceDecoder(parts.vae) : parts.vae;
    this.textEncoder = parts.textEncoder;
    this.tokenizer = parts.tokenizer;
    this.schedulerConfig = parts.schedulerConfig;
    const dit = this.transformer.config;
    const latent = this.vae.config.latentChannels;
    const problems: string[] = [];
    if (dit.inChannels !== latent) problems.push(`transformer in_channels ${dit.inChannels} ≠ vae latent_channels ${latent}`);
    if (dit.outChannels !== latent && Math.floor(dit.outChannels / 2) !== latent) {
      problems.push(`transformer out_channels ${dit.outChannels} is neither vae latent_channels ${latent} nor twice it (learned sigma)`);
    }
    const enc = this.textEncoder.config;
    if (enc !== undefined && enc.hiddenSize !== dit.captionChannels) {
      problems.push(`text encoder hidden_size ${enc.hiddenSize} ≠ transformer caption_channels ${dit.captionChannels}`);
    }
    const vocab = this.tokenizer.vocabSize;
    if (enc !== undefined && vocab !== undefined && vocab > enc.vocabSize) {
      problems.push(`tokenizer has ${vocab} ids but the text encoder's vocab_size is ${enc.vocabSize}`);
    }
    if (problems.length > 0) throw new Error(`SanaPipeline: the components do not fit together: ${problems.join('; ')}`);
    makeScheduler(this.schedulerConfig); // fail now, not after the text encoder ran
  }

  /** Load a diffusers-layout directory (see model-dir.ts); `opts.denoiser` / `opts.decoder` pick other implementations. */
  static fromDir(dir: string, opts: LoadPipelineOptions = {}): SanaPipeline {
    const parts = loadSanaPipelineParts(dir, opts);
    try {
      return new SanaPipeline(parts);
    } catch (e) {
      parts.transformer.dispose?.();
      parts.vae.dispose?.();
      throw e;
    }
  }

  /** Frees backend resources of native models (the reference models hold none). */
  dispose(): void {
    this.transformer.dispose?.();
    this.vae.dispose?.();
  }

  /** The DC-AE's spatial compression f (32 for SANA's f32c32). */
  get spatialCompressionRatio(): number {
    return spatialCompressionRatio(this.vae.config);
  }

  /** Image side / latent side times the patch size: width and height must be multiples of this. */
  get sizeMultiple(): number {
    return this.spatialCompressionRatio * this.transformer.config.patchSize;
  }

  /** The default image side (diffusers: sample_size × vae_scale_factor). */
  get defaultSize(): number {
    return this.transformer.config.sampleSize * this.spatialCompressionRatio;
  }

  /** Throws a RangeError unless width × height is a valid image size for this model. */
  checkSize(width: number, height: number): void {
    const m = this.sizeMultiple;
    for (const [name, v] of [['width', width], ['height', height]] as const) {
      if (!Number.isSafeInteger(v) || v < m || v % m !== 0) {
        throw new RangeError(
          `SanaPipeline: ${name} ${v} must be a positive multiple of ${m} (DC-AE compression ${this.spatialCompressionRatio} × patch size ${this.transformer.config.patchSize})`,
        );
      }
    }
  }

  /** Conditional (and, for CFG, unconditional) text embeddings, stacked [uncond | cond] when both. */
  encodePrompt(prompt: string, negativePrompt: string, cfg: boolean, opts: { maxSequenceLength?: number; complexHumanInstruction?: readonly string[] } = {}): {
    text: PromptEmbeds;
    conditionalTokens: number;
  } {
    const maxSequenceLength = opts.maxSequenceLength ?? 300;
    const complexHumanInstruction = opts.complexHumanInstruction ?? SANA_COMPLEX_HUMAN_INSTRUCTION;
    let conditionalTokens = 0;
    const counting: PromptEncoder = {
      forward: (ids, mask) => {
        conditionalTokens = ids[0]?.length ?? 0;
        return this.textEncoder.forward(ids, mask);
      },
    };
    const cond = encodeSanaPrompts(counting, this.tokenizer, [prompt], { maxSequenceLength, complexHumanInstruction });
    if (!cfg) return { text: cond, conditionalTokens };
    const uncond = encodeSanaNegative(this.textEncoder, this.tokenizer, [negativePrompt], maxSequenceLength);
    return { text: cfgPromptBatch(uncond, cond), conditionalTokens };
  }

  generate(opts: GenerateOptions): GenerateResult {
    const t0 = now();
    const dit = this.transformer.config;
    const f = this.spatialCompressionRatio;
    const width = opts.width ?? this.defaultSize;
    const height = opts.height ?? this.defaultSize;
    this.checkSize(width, height);
    const steps = opts.steps ?? 20;
    if (!Number.isSafeInteger(steps) || steps < 1) throw new RangeError(`SanaPipeline: steps must be an integer >= 1, got ${steps}`);
    const g = opts.guidanceScale ?? 4.5;
    if (!Number.isFinite(g)) throw new RangeError(`SanaPipeline: guidance scale must be a finite number, got ${g}`);
    const seed = opts.seed ?? 0;
    if (!Number.isSafeInteger(seed)) throw new RangeError(`SanaPipeline: seed must be an integer, got ${seed}`);
    const cfg = g > 1 || opts.alwaysBatchCfg === true;
    const scheduler: FlowScheduler = makeScheduler(this.schedulerConfig, opts.sampler);
    scheduler.setTimesteps(steps);

    const latentShape = [1, dit.inChannels, height / f, width / f];
    const z0 = opts.initialLatents;
    if (z0 !== undefined && (z0.ndim !== 4 || z0.shape.some((d, i) => d !== latentShape[i]))) {
      throw new RangeError(`SanaPipeline: initialLatents ${shapeStr(z0.shape)} must be ${shapeStr(latentShape)} for ${width}×${height}`);
    }

    // 1. Text.
    const { text, conditionalTokens } = this.encodePrompt(opts.prompt, opts.negativePrompt ?? '', cfg, opts);
    const tEncoded = now();

    // 2. Noise.
    let latents = z0 !== undefined ? new Tensor(z0.shape, 'f32', Float32Array.from(z0.toFloat32())) : randn(latentShape, seed);

    // 3. Denoise.
    const batch = cfg ? 2 : 1;
    const timesteps = [...scheduler.timesteps];
    const model = this.transformer.condition(text.embeds, text.mask); // the text is bound once for all steps
    try {
      if (model.denoise !== undefined) {
        // The denoiser runs the loop itself (a native runner keeps the latent on its backend; same arithmetic).
        latents = model.denoise(latents, { scheduler, guidanceScale: g, cfg, timestepScale: dit.timestepScale, onStep: opts.onStep });
      } else {
        for (let i = 0; i < timesteps.length; i++) {
          const ts = now();
          const t = timesteps[i]!;
          const input = cfg ? repeatBatch(latents, 2) : latents;
          let v = model.forward(input, new Tensor([batch], 'f32', modelTimestep(t, batch, dit.timestepScale)));
          if (cfg) v = cfgCombineBatch(v, g);
          if (dit.outChannels !== dit.inChannels && Math.floor(dit.outChannels / 2) === dit.inChannels) v = firstChannels(v, dit.inChannels);
          latents = scheduler.step(v, t, latents);
          opts.onStep?.({ step: i, steps: timesteps.length, timestep: t, sigma: scheduler.sigmas[i]!, ms: now() - ts });
        }
      }
    } finally {
      model.dispose();
    }
    const tDenoised = now();

    // 4. Decode (z / scaling_factor), tiled for large images.
    const tiling = opts.tiling === undefined || opts.tiling === 'auto' ? (Math.max(width, height) > 1024 ? SANA_4K_TILING : null) : opts.tiling;
    const image = this.vae.decode(unscaleLatent(latents, this.vae.config), tiling === null ? {} : { tiling, onTile: opts.onTile });
    const tDecoded = now();

    // 5. 8-bit RGB.
    const { pixels } = imageToRgb8(image);
    return {
      pixels,
      width,
      height,
      image,
      latents,
      timesteps,
      sigmas: Array.from(scheduler.sigmas),
      cfgBatch: cfg,
      textTokens: { conditional: conditionalTokens, unconditional: cfg ? (opts.maxSequenceLength ?? 300) : null },
      timings: { encodeMs: tEncoded - t0, denoiseMs: tDenoised - tEncoded, decodeMs: tDecoded - tDenoised, totalMs: now() - t0 },
      models: { denoiser: this.transformer.label, decoder: this.vae.label },
    };
  }
}
