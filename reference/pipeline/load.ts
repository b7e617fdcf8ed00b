/**
 * Load the five components of a diffusers-layout SANA directory into the reference models. Every
 * checkpoint's keys and shapes are checked against its config from the safetensors headers before
 * any tensor data is read; the VAE loads its decoder half only (text-to-image never encodes).
 * `loadSanaPipelineParts` builds the DiT and the decoder through factories instead (e.g. native
 * runners), from the same checked weights; the text encoder is always the TS reference.
 */
import { loadConfig } from '../core/config.js';
import type { Tensor } from '../core/tensor.js';
import { AutoencoderDC } from '../dcae/autoencoder.js';
import { loadDcaeConfig, type DcaeConfig } from '../dcae/config.js';
import { dcaeParamShapes } from '../dcae/param-shapes.js';
import { checkDcaeWeights } from '../dcae/weights.js';
import { loadSanaTransformerConfig, type SanaTransformerConfig } from '../dit/config.js';
import { SanaTransformer2DModel } from '../dit/model.js';
import { checkWeightKeys } from '../dit/weights.js';
import { gemma2ConfigFromJson } from '../text/gemma2-config.js';
import { Gemma2Model, type Gemma2DType } from '../text/gemma2-model.js';
import { checkGemma2Keys } from '../text/gemma2-weights.js';
import { HfTokenizer } from '../text/tokenizer.js';
import { withComponentWeights } from './component-weights.js';
import { checkSanaModelDir, type SanaModelPaths } from './model-dir.js';
import { referenceDecoder, referenceDenoiser, type PipelineDecoder, type PipelineDenoiser } from './models.js';

export interface SanaComponents {
  transformer: SanaTransformer2DModel;
  vae: AutoencoderDC;
  textEncoder: Gemma2Model;
  tokenizer: HfTokenizer;
  /** The parsed scheduler_config.json (a scheduler is built per generation, from this). */
  schedulerConfig: Record<string, unknown>;
  paths: SanaModelPaths;
}

export interface LoadSanaOptions {
  /** Weights variant, e.g. "fp16" / "bf16" for diffusion_pytorch_model.<variant>.safetensors. */
  variant?: string;
  /** Activation precision of the Gemma-2 encoder: 'f32' (default) or 'bf16' (how SANA runs it). */
  textEncoderDtype?: Gemma2DType;
}

/** Builds the pipeline's DiT from its config and checked state dict. */
export type DenoiserFactory = (config: SanaTransformerConfig, weights: Map<string, Tensor>, source: string) => PipelineDenoiser;
/** Builds the pipeline's decoder from the DC-AE config and its checked `decoder.*` weights. */
export type DecoderFactory = (config: DcaeConfig, decoderWeights: Map<string, Tensor>, source: string) => PipelineDecoder;

export interface LoadPipelineOptions extends LoadSanaOptions {
  /** Default: the reference SanaTransformer2DModel. */
  denoiser?: DenoiserFactory;
  /** Default: the reference AutoencoderDC decoder. */
  decoder?: DecoderFactory;
}

export interface SanaPipelineComponents extends Omit<SanaComponents, 'transformer' | 'vae'> {
  transformer: PipelineDenoiser;
  vae: PipelineDecoder;
}

export function loadSanaComponents(dir: string, opts: LoadSanaOptions = {}): SanaComponents {
  const paths = checkSanaModelDir(dir, { variant: opts.variant });
  const v = opts.variant;

  const ditConfig = loadSanaTransformerConfig(paths.transformerConfig);
  const transformer = withComponentWeights(paths.transformerDir, 'diffusion_pytorch_model', v, (w) => {
    checkWeightKeys(ditConfig, w.entries, w.source);
    return new SanaTransformer2DModel(ditConfig, w.read(), w.source);
  });

  const vaeConfig = loadDcaeConfig(paths.vaeConfig);
  const vae = withComponentWeights(paths.vaeDir, 'diffusion_pytorch_model', v, (w) => {
    checkDcaeWeights(dcaeParamShapes(vaeConfig), w.entryMap(), w.source);
    return new AutoencoderDC(vaeConfig, w.read((n) => n.startsWith('decoder.')), { source: w.source, part: 'decoder' });
  });
  return { transformer, vae, ...loadTextComponents(paths, opts), paths };
}

/** The components with the DiT and the decoder built by `opts.denoiser` / `opts.decoder` (reference by default). */
export function loadSanaPipelineParts(dir: string, opts: LoadPipelineOptions = {}): SanaPipelineComponents {
  if (opts.denoiser === undefined && opts.decoder === undefined) {
    const c = loadSanaComponents(dir, opts);
    return { ...c, transformer: referenceDenoiser(c.transformer), vae: referenceDecoder(c.vae) };
  }
  const paths = checkSanaModelDir(dir, { variant: opts.variant });
  const v = opts.variant;
  const ditConfig = loadSanaTransformerConfig(paths.transformerConfig);
  const vaeConfig = loadDcaeConfig(paths.vaeConfig);
  // Key checks of both checkpoints (headers only) before any tensor data is read.
  withComponentWeights(paths.transformerDir, 'diffusion_pytorch_model', v, (w) => checkWeightKeys(ditConfig, w.entries, w.source));
  withComponentWeights(paths.vaeDir, 'diffusion_pytorch_model', v, (w) => checkDcaeWeights(dcaeParamShapes(vaeConfig), w.entryMap(), w.source));
  const text = loadTextComponents(paths, opts);
  const transformer = withComponentWeights(paths.transformerDir, 'diffusion_pytorch_model', v, (w) =>
    opts.denoiser ? opts.denoiser(ditConfig, w.read(), w.source) : referenceDenoiser(new SanaTransformer2DModel(ditConfig, w.read(), w.source)),
  );
  try {
    const vae = withComponentWeights(paths.vaeDir, 'diffusion_pytorch_model', v, (w) => {
      const decoder = w.read((n) => n.startsWith('decoder.'));
      return opts.decoder ? opts.decoder(vaeConfig, decoder, w.source) : referenceDecoder(new AutoencoderDC(vaeConfig, decoder, { source: w.source, part: 'decoder' }));
    });
    return { transformer, vae, ...text, paths };
  } catch (e) {
    transformer.dispose?.();
    throw e;
  }
}

/** Text encoder, tokenizer and scheduler config (always the TS reference). */
function loadTextComponents(paths: SanaModelPaths, opts: LoadSanaOptions): Pick<SanaComponents, 'textEncoder' | 'tokenizer' | 'schedulerConfig'> {
  const gemmaConfig = gemma2ConfigFromJson(loadConfig(paths.textEncoderConfig), paths.textEncoderConfig);
  const textEncoder = withComponentWeights(paths.textEncoderDir, 'model', opts.variant, (w) => {
    checkGemma2Keys(gemmaConfig, w.entryMap(), w.source);
    // A Gemma2ForCausalLM checkpoint's lm_head is not part of the encoder: not read.
    return new Gemma2Model(gemmaConfig, w.read((n) => n !== 'lm_head.weight'), { dtype: opts.textEncoderDtype });
  });
  const tokenizer = HfTokenizer.fromDir(paths.tokenizerDir);
  const schedulerConfig = loadConfig(paths.schedulerConfig);
  return { textEncoder, tokenizer, schedulerConfig };
}
