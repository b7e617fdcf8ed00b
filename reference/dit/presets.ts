/**
 * The released SANA 1.0 DiT configurations as diffusers writes them (scripts/convert_sana_to_diffusers.py:
 * in/out 32 channels, caption 2304 (Gemma-2-2B), sample_size = image_size / 32, interpolation_scale
 * {512: none, 1024: none, 2048: 1.0, 4096: 2.0}). Configs only: no weights are allocated; the
 * parameter count comes from the shapes (`countParameters`).
 *
 *   Sana-0.6B: 28 blocks × C 1152 (36 linear heads × 32; cross-attention 16 × 72), FFN 2880
 *   Sana-1.6B: 20 blocks × C 2240 (70 linear heads × 32; cross-attention 20 × 112), FFN 5600
 */
import { DIFFUSERS_DEFAULTS, type SanaTransformerConfig } from './config.js';
import { countParameters } from './weights.js';

function sana(size: '0.6b' | '1.6b', imageSize: 512 | 1024 | 2048 | 4096): SanaTransformerConfig {
  const big = size === '1.6b';
  const pe: Record<number, number | null> = { 512: null, 1024: null, 2048: 1.0, 4096: 2.0 };
  return {
    ...DIFFUSERS_DEFAULTS,
    inChannels: 32,
    outChannels: 32,
    numAttentionHeads: big ? 70 : 36,
    attentionHeadDim: 32,
    numLayers: big ? 20 : 28,
    numCrossAttentionHeads: big ? 20 : 16,
    crossAttentionHeadDim: big ? 112 : 72,
    crossAttentionDim: big ? 2240 : 1152,
    captionChannels: 2304,
    mlpRatio: 2.5,
    sampleSize: imageSize / 32,
    patchSize: 1,
    interpolationScale: pe[imageSize]!,
  };
}

export interface DitPreset {
  name: string;
  description: string;
  config: SanaTransformerConfig;
}

export const DIT_PRESETS: readonly DitPreset[] = [
  { name: 'sana-0.6b', description: 'Sana-0.6B, 1024 px (Sana_600M_1024px_diffusers)', config: sana('0.6b', 1024) },
  { name: 'sana-0.6b-512', description: 'Sana-0.6B, 512 px (Sana_600M_512px_diffusers)', config: sana('0.6b', 512) },
  { name: 'sana-1.6b', description: 'Sana-1.6B, 1024 px (Sana_1600M_1024px_diffusers)', config: sana('1.6b', 1024) },
  { name: 'sana-1.6b-512', description: 'Sana-1.6B, 512 px (Sana_1600M_512px_diffusers)', config: sana('1.6b', 512) },
  { name: 'sana-1.6b-2k', description: 'Sana-1.6B, 2048 px, sincos PE scale 1.0 (Sana_1600M_2Kpx_BF16_diffusers)', config: sana('1.6b', 2048) },
  { name: 'sana-1.6b-4k', description: 'Sana-1.6B, 4096 px, sincos PE scale 2.0 (Sana_1600M_4Kpx_BF16_diffusers)', config: sana('1.6b', 4096) },
];

/** Look up a preset by name; '0.6b' / '1.6b' (any case, optional 'sana-' / 'sana_') name the 1024 px models. */
export function ditPreset(name: string): DitPreset {
  const key = name.toLowerCase().replace(/^sana[-_]?/, '');
  const found = DIT_PRESETS.find((p) => p.name === `sana-${key}`);
  if (found === undefined) {
    throw new RangeError(`unknown DiT preset "${name}" (known: ${DIT_PRESETS.map((p) => p.name).join(', ')}; aliases 0.6b, 1.6b)`);
  }
  return found;
}

/** Parameter count of a preset, from shapes only. */
export function presetParameterCount(name: string): number {
  return countParameters(ditPreset(name).config);
}
