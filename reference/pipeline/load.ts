/**
 * Load the five components of a diffusers-layout SANA directory into the reference models. Every
 * checkpoint's keys and shapes are checked against its config from the safetensors headers before
 * any tensor data is read; the VAE loads its decoder half only (text-to-image never encodes).
 */
import { loadConfig } from '../core/config.js';
import { AutoencoderDC } from '../dcae/autoencoder.js';
import { loadDcaeConfig } from '../dcae/config.js';
import { dcaeParamShapes } from '../dcae/param-shapes.js';
import { checkDcaeWeights } from '../dcae/weights.js';
import { loadSanaTransformerConfig } from '../dit/config.js';
import { SanaTransformer2DModel } from '../dit/model.js';
import { checkWeightKeys } from '../dit/weights.js';
import { gemma2ConfigFromJson } from '../text/gemma2-config.js';
import { Gemma2Model, type Gemma2DType } from '../text/gemma2-model.js';
import { checkGemma2Keys } from '../text/gemma2-weights.js';
import { HfTokenizer } from '../text/tokenizer.js';
import { withComponentWeights } from './component-weights.js';
import { checkSanaModelDir, type SanaModelPaths } from './model-dir.js';

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

  const gemmaConfig = gemma2ConfigFromJson(loadConfig(paths.textEncoderConfig), paths.textEncoderConfig);
  const textEncoder = withComponentWeights(paths.textEncoderDir, 'model', v, (w) => {
    checkGemma2Keys(gemmaConfig, w.entryMap(), w.source);
    // A Gemma2ForCausalLM checkpoint's lm_head is not part of the encoder: not read.
    return new Gemma2Model(gemmaConfig, w.read((n) => n !== 'lm_head.weight'), { dtype: opts.textEncoderDtype });
  });

  const tokenizer = HfTokenizer.fromDir(paths.tokenizerDir);
  const schedulerConfig = loadConfig(paths.schedulerConfig);
  return { transformer, vae, textEncoder, tokenizer, schedulerConfig, paths };
}
