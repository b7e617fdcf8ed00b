/**
 * Model dimensions the shape catalogue is derived from: Sana-0.6B, Sana-1.6B and DC-AE f32c32.
 *
 * These are plain constants copied from /work/shared/notes/sana-architecture.md (§2, §5), which cites
 * NVlabs/Sana `sana_multi_scale.py` (SanaMS_600M_P1_D28, SanaMS_1600M_P1_D20) and efficientvit
 * `dc_ae.py` (dc-ae-f32c32-sana-1.0). The DiT and DC-AE reference presets are being written in
 * reference/ at the same time; once they land, these constants can be replaced by imports of those
 * presets (one source of truth) without changing the catalogue's API.
 */

/** The dimensions of one Linear DiT (patch size 1, latent = image / 32). */
export interface DitDims {
  readonly key: '0.6b' | '1.6b';
  readonly name: string;
  readonly depth: number;
  /** Hidden size C. */
  readonly hidden: number;
  /** Linear self-attention heads: C / 32, each 32 channels wide. */
  readonly linearHeads: number;
  readonly linearHeadDim: number;
  /** Softmax cross-attention heads and their width (C = heads · width). */
  readonly crossHeads: number;
  readonly crossHeadDim: number;
  readonly mlpRatio: number;
  /** Mix-FFN hidden width int(mlp_ratio · C); the inverted conv produces 2× this. */
  readonly ffnHidden: number;
  /** Gemma-2-2B hidden size fed to the caption projection. */
  readonly captionChannels: number;
  /** Text tokens per prompt. */
  readonly textTokens: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly patch: number;
  /** Sinusoidal timestep feature width. */
  readonly timestepFeatures: number;
}

export const SANA_0_6B: DitDims = Object.freeze({
  key: '0.6b',
  name: 'Sana-0.6B',
  depth: 28,
  hidden: 1152,
  linearHeads: 36,
  linearHeadDim: 32,
  crossHeads: 16,
  crossHeadDim: 72,
  mlpRatio: 2.5,
  ffnHidden: 2880,
  captionChannels: 2304,
  textTokens: 300,
  inChannels: 32,
  outChannels: 32,
  patch: 1,
  timestepFeatures: 256,
});

export const SANA_1_6B: DitDims = Object.freeze({
  key: '1.6b',
  name: 'Sana-1.6B',
  depth: 20,
  hidden: 2240,
  linearHeads: 70,
  linearHeadDim: 32,
  crossHeads: 20,
  crossHeadDim: 112,
  mlpRatio: 2.5,
  ffnHidden: 5600,
  captionChannels: 2304,
  textTokens: 300,
  inChannels: 32,
  outChannels: 32,
  patch: 1,
  timestepFeatures: 256,
});

/** DC-AE f32c32 ("dc-ae-f32c32-sana-1.0"): six stages, 32× spatial compression, 32 latent channels. */
export interface DcaeDims {
  readonly key: 'dcae';
  readonly name: string;
  /** Channel width of stages 0…5 (stage s works at resolution image / 2^s). */
  readonly widths: readonly number[];
  readonly encoderDepths: readonly number[];
  readonly decoderDepths: readonly number[];
  /** Block type per stage: ResBlock for 0–2, EViT (LiteMLA + GLUMBConv) for 3–5. */
  readonly blockTypes: readonly ('res' | 'evit')[];
  readonly latentChannels: number;
  readonly imageChannels: number;
  readonly spatialCompression: number;
  /** LiteMLA head width and its aggregation kernel (5×5 depthwise). */
  readonly headDim: number;
  readonly aggregationKernel: number;
  /** EViT GLUMBConv expansion (c → 8c before the GLU, 4c after). */
  readonly evitExpand: number;
}

export const DCAE_F32C32: DcaeDims = Object.freeze({
  key: 'dcae',
  name: 'DC-AE f32c32',
  widths: Object.freeze([128, 256, 512, 512, 1024, 1024]),
  encoderDepths: Object.freeze([2, 2, 2, 3, 3, 3]),
  decoderDepths: Object.freeze([3, 3, 3, 3, 3, 3]),
  blockTypes: Object.freeze(['res', 'res', 'res', 'evit', 'evit', 'evit'] as const),
  latentChannels: 32,
  imageChannels: 3,
  spatialCompression: 32,
  headDim: 32,
  aggregationKernel: 5,
  evitExpand: 4,
});

export type ModelKey = '0.6b' | '1.6b' | 'dcae';
export const MODEL_KEYS: readonly ModelKey[] = ['0.6b', '1.6b', 'dcae'];

export function ditDims(model: '0.6b' | '1.6b'): DitDims {
  return model === '0.6b' ? SANA_0_6B : SANA_1_6B;
}

export function isModelKey(s: string): s is ModelKey {
  return (MODEL_KEYS as readonly string[]).includes(s);
}
