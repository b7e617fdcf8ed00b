/**
 * Write a SANA directory of small random weights in exactly the diffusers layout (model_index.json,
 * transformer/, vae/, text_encoder/, tokenizer/, scheduler/), so the whole pipeline runs where real
 * checkpoints cannot be downloaded. The configs are SANA's with every width shrunk; the structure is
 * kept: a 6-stage f32 DC-AE (3 ResBlock + 3 EfficientViT stages, interpolate up-sampling, shortcuts),
 * a Linear DiT with cross-attention, a Gemma-2 with GQA / soft-capping / sliding+global layers, a
 * Gemma-layout BPE tokenizer, and SANA's Flow-DPM-Solver scheduler config.
 *
 * Weights are deterministic from the seed: N(0, 1/fan_in) matrices and convolutions, small biases,
 * norm scales near 1 (Gemma's zero-centred (1+w) scales near 0), scale-shift tables N(0, 1/C).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../core/random.js';
import { writeSafetensors } from '../core/safetensors.js';
import { Tensor } from '../core/tensor.js';
import { parseDcaeConfig } from '../dcae/config.js';
import { dcaeParamShapes } from '../dcae/param-shapes.js';
import { parseSanaTransformerConfig } from '../dit/config.js';
import { sanaTransformerWeightShapes } from '../dit/weights.js';
import { gemma2ConfigFromJson } from '../text/gemma2-config.js';
import { gemma2ExpectedShapes } from '../text/gemma2-weights.js';
import { HfTokenizer } from '../text/tokenizer.js';
import { PIPELINE_CLASS_NAME } from './model-dir.js';
import { tinySpecialTokensMap, tinyTokenizerConfig, tinyTokenizerJson } from './tiny-tokenizer.js';

type Json = Record<string, unknown>;

export interface RandomModelPreset {
  name: string;
  description: string;
  transformer: Json;
  vae: Json;
  /** Gemma-2 config.json without vocab_size (taken from the tokenizer). */
  textEncoder: Json;
  scheduler: Json;
  tokenizerMerges: number;
}

const DIFFUSERS_VERSION = '0.32.0';

/** SANA's scheduler (Sana_1600M_1024px_diffusers scheduler_config.json). */
export const SANA_SCHEDULER_CONFIG: Json = Object.freeze({
  _class_name: 'DPMSolverMultistepScheduler',
  _diffusers_version: DIFFUSERS_VERSION,
  algorithm_type: 'dpmsolver++',
  beta_end: 0.02,
  beta_schedule: 'linear',
  beta_start: 0.0001,
  dynamic_thresholding_ratio: 0.995,
  euler_at_final: false,
  final_sigmas_type: 'zero',
  flow_shift: 3.0,
  lower_order_final: true,
  num_train_timesteps: 1000,
  prediction_type: 'flow_prediction',
  rescale_betas_zero_snr: false,
  sample_max_value: 1.0,
  solver_order: 2,
  solver_type: 'midpoint',
  steps_offset: 0,
  thresholding: false,
  timestep_spacing: 'linspace',
  trained_betas: null,
  use_beta_sigmas: false,
  use_exponential_sigmas: false,
  use_flow_sigmas: true,
  use_karras_sigmas: false,
  use_lu_lambdas: false,
  variance_type: null,
});

const TINY: RandomModelPreset = {
  name: 'tiny',
  description: 'DiT 2 blocks × C 64, DC-AE f32 c8 (channels 8…32), Gemma-2 2 layers × 64, ~750-token BPE; trained size 128 px',
  transformer: {
    _class_name: 'SanaTransformer2DModel',
    _diffusers_version: DIFFUSERS_VERSION,
    attention_bias: false,
    attention_head_dim: 32,
    caption_channels: 64,
    cross_attention_dim: 64,
    cross_attention_head_dim: 32,
    dropout: 0.0,
    in_channels: 8,
    interpolation_scale: null,
    mlp_ratio: 2.5,
    norm_elementwise_affine: false,
    norm_eps: 1e-6,
    num_attention_heads: 2,
    num_cross_attention_heads: 2,
    num_layers: 2,
    out_channels: 8,
    patch_size: 1,
    sample_size: 4,
    timestep_scale: 1.0,
  },
  vae: {
    _class_name: 'AutoencoderDC',
    _diffusers_version: DIFFUSERS_VERSION,
    attention_head_dim: 8,
    decoder_act_fns: 'silu',
    decoder_block_out_channels: [8, 8, 16, 16, 32, 32],
    decoder_block_types: ['ResBlock', 'ResBlock', 'ResBlock', 'EfficientViTBlock', 'EfficientViTBlock', 'EfficientViTBlock'],
    decoder_conv_act_fn: 'relu',
    decoder_in_shortcut: true,
    decoder_layers_per_block: [1, 1, 1, 1, 1, 1],
    decoder_norm_types: 'rms_norm',
    decoder_qkv_multiscales: [[], [], [], [5], [5], [5]],
    downsample_block_type: 'Conv',
    encoder_block_out_channels: [8, 8, 16, 16, 32, 32],
    encoder_block_types: ['ResBlock', 'ResBlock', 'ResBlock', 'EfficientViTBlock', 'EfficientViTBlock', 'EfficientViTBlock'],
    encoder_layers_per_block: [1, 1, 1, 1, 1, 1],
    encoder_out_shortcut: true,
    encoder_qkv_multiscales: [[], [], [], [5], [5], [5]],
    in_channels: 3,
    latent_channels: 8,
    scaling_factor: 0.41407,
    upsample_block_type: 'interpolate',
  },
  textEncoder: {
    architectures: ['Gemma2Model'],
    model_type: 'gemma2',
    attention_bias: false,
    attention_dropout: 0.0,
    attn_logit_softcapping: 50.0,
    bos_token_id: 2,
    eos_token_id: 1,
    final_logit_softcapping: 30.0,
    head_dim: 16,
    hidden_activation: 'gelu_pytorch_tanh',
    hidden_size: 64,
    initializer_range: 0.02,
    intermediate_size: 128,
    max_position_embeddings: 8192,
    num_attention_heads: 4,
    num_hidden_layers: 2,
    num_key_value_heads: 2,
    pad_token_id: 0,
    query_pre_attn_scalar: 16,
    rms_norm_eps: 1e-6,
    rope_theta: 10000.0,
    sliding_window: 256,
    torch_dtype: 'float32',
  },
  scheduler: SANA_SCHEDULER_CONFIG,
  tokenizerMerges: 400,
};

export const RANDOM_MODEL_PRESETS: Readonly<Record<string, RandomModelPreset>> = Object.freeze({ tiny: TINY });

export function randomModelPreset(name: string): RandomModelPreset {
  const p = RANDOM_MODEL_PRESETS[name];
  if (p === undefined) throw new RangeError(`unknown random-model preset "${name}" (presets: ${Object.keys(RANDOM_MODEL_PRESETS).join(', ')})`);
  return p;
}

/** A seed per component, so changing one component's config leaves the others' weights alone. */
function componentSeed(seed: number, component: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + component * 0x85ebca6b) | 0;
}

/** Random values for one parameter, by its role (see the file comment). */
function randomParam(key: string, shape: readonly number[], rng: Rng, zeroCentredNorms: boolean): Tensor {
  const t = new Tensor(shape, 'f32');
  const d = t.data as Float32Array;
  const last = key.split('.').slice(-2).join('.');
  const isNorm = /norm/.test(last);
  if (shape.length === 1) {
    if (key.endsWith('.bias')) rng.fillNormal(d, 0, 0.02);
    else if (isNorm) rng.fillNormal(d, zeroCentredNorms ? 0 : 1, 0.1);
    else rng.fillNormal(d, 0, 0.02);
  } else if (key.endsWith('scale_shift_table')) {
    rng.fillNormal(d, 0, 1 / Math.sqrt(shape[shape.length - 1]!));
  } else if (key.endsWith('embed_tokens.weight')) {
    rng.fillNormal(d, 0, 1 / Math.sqrt(shape[1]!));
  } else {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    rng.fillNormal(d, 0, 1 / Math.sqrt(fanIn));
  }
  return t;
}

function randomWeights(shapes: ReadonlyMap<string, readonly number[]>, seed: number, zeroCentredNorms = false): Map<string, Tensor> {
  const rng = new Rng(seed);
  const out = new Map<string, Tensor>();
  for (const [k, s] of shapes) out.set(k, randomParam(k, s, rng, zeroCentredNorms));
  return out;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

export interface RandomModelSummary {
  dir: string;
  preset: string;
  seed: number;
  files: string[];
  parameters: { transformer: number; vae: number; textEncoder: number };
  vocabSize: number;
}

function count(m: ReadonlyMap<string, Tensor>): number {
  let n = 0;
  for (const t of m.values()) n += t.numel;
  return n;
}

/**
 * Write the preset's directory under `outDir` (created if needed; it must be empty or absent unless
 * `overwrite`). Returns the files written (relative paths) and parameter counts.
 */
export function writeRandomModel(outDir: string, presetName = 'tiny', seed = 0, opts: { overwrite?: boolean } = {}): RandomModelSummary {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`writeRandomModel: seed must be an integer, got ${seed}`);
  const preset = randomModelPreset(presetName);
  if (existsSync(outDir) && readdirSync(outDir).length > 0 && opts.overwrite !== true) {
    throw new Error(`writeRandomModel: ${outDir} exists and is not empty (pass overwrite to write into it)`);
  }
  const files: string[] = [];
  const put = (rel: string, write: (path: string) => void): void => {
    const path = join(outDir, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    write(path);
    files.push(rel);
  };

  // Tokenizer first: the text encoder's vocabulary is its size.
  const tokJson = tinyTokenizerJson(preset.tokenizerMerges);
  const tokConfig = tinyTokenizerConfig();
  const vocabSize = new HfTokenizer(tokJson, tokConfig, 'tiny tokenizer').vocabSize;
  const textConfigJson = { ...preset.textEncoder, vocab_size: vocabSize };

  // Parse every config with the reference loaders, so the directory is valid by construction.
  const ditConfig = parseSanaTransformerConfig(preset.transformer, `preset ${preset.name} transformer`);
  const vaeConfig = parseDcaeConfig(preset.vae, `preset ${preset.name} vae`);
  const gemmaConfig = gemma2ConfigFromJson(textConfigJson, `preset ${preset.name} text_encoder`);

  const dit = randomWeights(sanaTransformerWeightShapes(ditConfig), componentSeed(seed, 1));
  const vae = randomWeights(dcaeParamShapes(vaeConfig), componentSeed(seed, 2));
  const gemma = randomWeights(gemma2ExpectedShapes(gemmaConfig), componentSeed(seed, 3), true);
  const meta = { format: 'pt' };

  put('model_index.json', (p) =>
    writeJson(p, {
      _class_name: PIPELINE_CLASS_NAME,
      _diffusers_version: DIFFUSERS_VERSION,
      scheduler: ['diffusers', preset.scheduler._class_name],
      text_encoder: ['transformers', 'Gemma2Model'],
      tokenizer: ['transformers', 'GemmaTokenizerFast'],
      transformer: ['diffusers', 'SanaTransformer2DModel'],
      vae: ['diffusers', 'AutoencoderDC'],
    }),
  );
  put('transformer/config.json', (p) => writeJson(p, preset.transformer));
  put('transformer/diffusion_pytorch_model.safetensors', (p) => writeSafetensors(p, dit, meta));
  put('vae/config.json', (p) => writeJson(p, preset.vae));
  put('vae/diffusion_pytorch_model.safetensors', (p) => writeSafetensors(p, vae, meta));
  put('text_encoder/config.json', (p) => writeJson(p, textConfigJson));
  put('text_encoder/model.safetensors', (p) => writeSafetensors(p, gemma, meta));
  put('tokenizer/tokenizer.json', (p) => writeJson(p, tokJson));
  put('tokenizer/tokenizer_config.json', (p) => writeJson(p, tokConfig));
  put('tokenizer/special_tokens_map.json', (p) => writeJson(p, tinySpecialTokensMap()));
  put('scheduler/scheduler_config.json', (p) => writeJson(p, preset.scheduler));
  return {
    dir: outDir,
    preset: preset.name,
    seed,
    files,
    parameters: { transformer: count(dit), vae: count(vae), textEncoder: count(gemma) },
    vocabSize,
  };
}
