/**
 * DC-AE configuration: a diffusers `AutoencoderDC` config.json, checked and normalised, plus the
 * preset of the real `dc-ae-f32c32-sana-1.0` checkpoint.
 *
 * Scope: every option of the diffusers class that SANA-family checkpoints use — ResBlock and
 * EfficientViTBlock stages, "conv" / "pixel_unshuffle" downsampling, "interpolate" / "pixel_shuffle"
 * upsampling, the encoder-out and decoder-in shortcuts, rms_norm, per-stage activations. Stages with
 * 0 layers (diffusers' f64/f128 variants that start with a down block) are rejected with a clear error.
 */
import { ConfigError, loadConfig } from '../core/config.js';
import type { ActivationName } from './activations.js';
import type { DownsampleBlockType } from './down-block.js';
import type { UpsampleBlockType } from './up-block.js';

export type DcaeBlockType = 'ResBlock' | 'EfficientViTBlock';

export interface DcaeStage {
  blockType: DcaeBlockType;
  channels: number;
  layers: number;
  /** Aggregation kernel sizes of the EfficientViT blocks' LiteMLA (empty for ResBlock stages). */
  qkvMultiscales: number[];
}

export interface DcaeDecoderStage extends DcaeStage {
  /** Activation inside the ResBlocks (diffusers `decoder_act_fns`). */
  act: ActivationName;
}

export interface DcaeConfig {
  inChannels: number;
  latentChannels: number;
  attentionHeadDim: number;
  encoder: { stages: DcaeStage[]; downsampleBlockType: DownsampleBlockType; outShortcut: boolean };
  decoder: { stages: DcaeDecoderStage[]; upsampleBlockType: UpsampleBlockType; inShortcut: boolean; convAct: ActivationName };
  scalingFactor: number;
}

/** Image side / latent side: 2^(stages − 1) (32 for f32c32). */
export function spatialCompressionRatio(config: DcaeConfig): number {
  return 2 ** (config.encoder.stages.length - 1);
}

/** diffusers config.json of `mit-han-lab/dc-ae-f32c32-sana-1.0-diffusers` (the SANA 1.0 VAE). */
export const DC_AE_F32C32_SANA_1_0: Readonly<Record<string, unknown>> = Object.freeze({
  _class_name: 'AutoencoderDC',
  in_channels: 3,
  latent_channels: 32,
  attention_head_dim: 32,
  encoder_block_types: ['ResBlock', 'ResBlock', 'ResBlock', 'EfficientViTBlock', 'EfficientViTBlock', 'EfficientViTBlock'],
  decoder_block_types: ['ResBlock', 'ResBlock', 'ResBlock', 'EfficientViTBlock', 'EfficientViTBlock', 'EfficientViTBlock'],
  encoder_block_out_channels: [128, 256, 512, 512, 1024, 1024],
  decoder_block_out_channels: [128, 256, 512, 512, 1024, 1024],
  encoder_layers_per_block: [2, 2, 2, 3, 3, 3],
  decoder_layers_per_block: [3, 3, 3, 3, 3, 3],
  encoder_qkv_multiscales: [[], [], [], [5], [5], [5]],
  decoder_qkv_multiscales: [[], [], [], [5], [5], [5]],
  upsample_block_type: 'interpolate',
  downsample_block_type: 'Conv',
  decoder_norm_types: 'rms_norm',
  decoder_act_fns: 'silu',
  encoder_out_shortcut: true,
  decoder_in_shortcut: true,
  decoder_conv_act_fn: 'relu',
  scaling_factor: 0.41407,
});

export const DCAE_PRESETS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = Object.freeze({
  'dc-ae-f32c32-sana-1.0': DC_AE_F32C32_SANA_1_0,
});

/** Read and check a diffusers AutoencoderDC config.json. */
export function loadDcaeConfig(path: string): DcaeConfig {
  return parseDcaeConfig(loadConfig(path), path);
}

/** A preset by name (see DCAE_PRESETS). */
export function dcaePreset(name: string): DcaeConfig {
  const raw = DCAE_PRESETS[name];
  if (raw === undefined) throw new RangeError(`DC-AE: unknown preset "${name}" (presets: ${Object.keys(DCAE_PRESETS).join(', ')})`);
  return parseDcaeConfig(raw, `preset ${name}`);
}

/** Check a diffusers AutoencoderDC config object; defaults are diffusers' `__init__` defaults. */
export function parseDcaeConfig(raw: Readonly<Record<string, unknown>>, source = '<config>'): DcaeConfig {
  const fail = (problem: string): never => {
    throw new ConfigError(source, problem);
  };
  const get = (key: string, fallback: unknown): unknown => (raw[key] === undefined || raw[key] === null ? fallback : raw[key]);
  const posInt = (key: string, fallback: number): number => {
    const v = get(key, fallback);
    if (!Number.isSafeInteger(v) || (v as number) < 1) fail(`"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = get(key, fallback);
    if (typeof v !== 'boolean') fail(`"${key}" must be a boolean, got ${JSON.stringify(v)}`);
    return v as boolean;
  };
  const intList = (key: string, fallback: number[]): number[] => {
    const v = get(key, fallback);
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isSafeInteger(x) && x >= 0)) {
      fail(`"${key}" must be a non-empty list of non-negative integers, got ${JSON.stringify(v)}`);
    }
    return [...(v as number[])];
  };
  /** A string or a per-stage list of strings (diffusers accepts both). */
  const perStage = <T extends string>(key: string, fallback: string, n: number, allowed: readonly string[]): T[] => {
    const v = get(key, fallback);
    const list = typeof v === 'string' ? new Array<string>(n).fill(v) : v;
    if (!Array.isArray(list) || list.length !== n || !list.every((x) => typeof x === 'string')) {
      fail(`"${key}" must be a string or a list of ${n} strings, got ${JSON.stringify(v)}`);
    }
    for (const x of list as string[]) if (!allowed.includes(x)) fail(`"${key}": unsupported value "${x}" (supported: ${allowed.join(', ')})`);
    return list as T[];
  };
  const multiscales = (key: string, n: number): number[][] => {
    const def = [[], [], [], [5], [5], [5]];
    const v = get(key, def);
    if (!Array.isArray(v) || v.length !== n || !v.every((s) => Array.isArray(s) && s.every((k) => Number.isSafeInteger(k) && k > 0 && k % 2 === 1))) {
      fail(`"${key}" must be a list of ${n} lists of odd kernel sizes, got ${JSON.stringify(v)}`);
    }
    return (v as number[][]).map((s) => [...s]);
  };
  const activation = (key: string, fallback: string): ActivationName => {
    const v = get(key, fallback);
    const name = v === 'swish' ? 'silu' : v;
    if (name !== 'silu' && name !== 'relu' && name !== 'relu6') fail(`"${key}": unsupported activation ${JSON.stringify(v)} (supported: silu, swish, relu, relu6)`);
    return name as ActivationName;
  };

  if (raw._class_name !== undefined && raw._class_name !== 'AutoencoderDC') {
    fail(`_class_name is ${JSON.stringify(raw._class_name)}, not "AutoencoderDC"`);
  }
  const inChannels = posInt('in_channels', 3);
  const latentChannels = posInt('latent_channels', 32);
  const attentionHeadDim = posInt('attention_head_dim', 32);
  const scalingFactor = get('scaling_factor', 1.0);
  if (typeof scalingFactor !== 'number' || !Number.isFinite(scalingFactor) || scalingFactor === 0) {
    fail(`"scaling_factor" must be a finite non-zero number, got ${JSON.stringify(scalingFactor)}`);
  }

  const side = (prefix: 'encoder' | 'decoder', layersDefault: number[]): DcaeStage[] => {
    const channels = intList(`${prefix}_block_out_channels`, [128, 256, 512, 512, 1024, 1024]);
    const n = channels.length;
    const layers = intList(`${prefix}_layers_per_block`, layersDefault);
    if (layers.length !== n) fail(`"${prefix}_layers_per_block" has ${layers.length} entries, "${prefix}_block_out_channels" has ${n}`);
    if (channels.some((c) => c < 1)) fail(`"${prefix}_block_out_channels" must be positive, got ${JSON.stringify(channels)}`);
    if (layers.some((l) => l === 0)) {
      fail(`"${prefix}_layers_per_block" ${JSON.stringify(layers)}: stages with 0 layers are not supported by this reference`);
    }
    const types = perStage<DcaeBlockType>(`${prefix}_block_types`, 'ResBlock', n, ['ResBlock', 'EfficientViTBlock']);
    const scales = multiscales(`${prefix}_qkv_multiscales`, n);
    return channels.map((c, i) => {
      if (types[i] === 'EfficientViTBlock' && c < attentionHeadDim) {
        fail(`${prefix} stage ${i}: ${c} channels is less than one attention head of ${attentionHeadDim}`);
      }
      return { blockType: types[i]!, channels: c, layers: layers[i]!, qkvMultiscales: types[i] === 'EfficientViTBlock' ? scales[i]! : [] };
    });
  };

  const encStages = side('encoder', [2, 2, 2, 3, 3, 3]);
  const decBase = side('decoder', [3, 3, 3, 3, 3, 3]);
  if (encStages.length !== decBase.length) fail(`encoder has ${encStages.length} stages, decoder ${decBase.length}`);
  const n = decBase.length;
  perStage<string>('decoder_norm_types', 'rms_norm', n, ['rms_norm']); // SANA checkpoints use rms_norm only; others are rejected
  const acts = perStage<string>('decoder_act_fns', 'silu', n, ['silu', 'swish', 'relu', 'relu6']).map((a) => (a === 'swish' ? 'silu' : a) as ActivationName);
  const decStages: DcaeDecoderStage[] = decBase.map((s, i) => ({ ...s, act: acts[i]! }));

  const down = String(get('downsample_block_type', 'pixel_unshuffle'));
  // diffusers tests `== "pixel_unshuffle"` and treats anything else as a strided conv; we accept "conv" in any case.
  const downsampleBlockType: DownsampleBlockType = down === 'pixel_unshuffle' ? 'pixel_unshuffle' : down.toLowerCase() === 'conv' ? 'conv' : fail(`"downsample_block_type": unsupported value "${down}" (supported: conv, pixel_unshuffle)`);
  const up = String(get('upsample_block_type', 'pixel_shuffle'));
  if (up !== 'interpolate' && up !== 'pixel_shuffle') fail(`"upsample_block_type": unsupported value "${up}" (supported: interpolate, pixel_shuffle)`);

  const config: DcaeConfig = {
    inChannels,
    latentChannels,
    attentionHeadDim,
    encoder: { stages: encStages, downsampleBlockType, outShortcut: bool('encoder_out_shortcut', true) },
    decoder: { stages: decStages, upsampleBlockType: up as UpsampleBlockType, inShortcut: bool('decoder_in_shortcut', true), convAct: activation('decoder_conv_act_fn', 'relu') },
    scalingFactor: scalingFactor as number,
  };
  checkShortcutChannels(config, fail);
  return config;
}

/** The shortcuts regroup channels, so neighbouring widths must divide as diffusers' reshapes need. */
function checkShortcutChannels(c: DcaeConfig, fail: (problem: string) => never): void {
  const enc = c.encoder.stages;
  for (let i = 0; i + 1 < enc.length; i++) {
    if ((4 * enc[i]!.channels) % enc[i + 1]!.channels !== 0) {
      fail(`encoder stage ${i}→${i + 1}: 4·${enc[i]!.channels} channels do not average into ${enc[i + 1]!.channels}`);
    }
    if (c.encoder.downsampleBlockType === 'pixel_unshuffle' && enc[i + 1]!.channels % 4 !== 0) {
      fail(`encoder stage ${i + 1}: ${enc[i + 1]!.channels} channels not divisible by 4 (pixel_unshuffle downsampling)`);
    }
  }
  const dec = c.decoder.stages;
  for (let i = 0; i + 1 < dec.length; i++) {
    if ((4 * dec[i]!.channels) % dec[i + 1]!.channels !== 0) {
      fail(`decoder stage ${i + 1}→${i}: ${dec[i + 1]!.channels} channels do not repeat into 4·${dec[i]!.channels}`);
    }
  }
  const encLast = enc[enc.length - 1]!.channels;
  const decLast = dec[dec.length - 1]!.channels;
  if (c.encoder.outShortcut && encLast % c.latentChannels !== 0) fail(`encoder out shortcut: ${encLast} channels do not average into ${c.latentChannels} latent channels`);
  if (c.decoder.inShortcut && decLast % c.latentChannels !== 0) fail(`decoder in shortcut: ${c.latentChannels} latent channels do not repeat into ${decLast}`);
}
