/**
 * The configuration of diffusers' SanaTransformer2DModel (its config.json), with diffusers' defaults,
 * and the dimensions derived from it. Options that no SANA 1.0 checkpoint uses and this reference
 * does not implement (guidance embeddings, q/k norms, affine norm2) are rejected with a ConfigError.
 */
import { ConfigError, ConfigReader, loadConfig } from '../core/config.js';

export interface SanaTransformerConfig {
  inChannels: number;
  outChannels: number;
  /** Linear self-attention heads (SANA: C/32) and their width (32). inner dim C = heads · headDim. */
  numAttentionHeads: number;
  attentionHeadDim: number;
  numLayers: number;
  /** Softmax cross-attention heads and width (0.6B: 16 × 72, 1.6B: 20 × 112). */
  numCrossAttentionHeads: number;
  crossAttentionHeadDim: number;
  /** Width of the (projected) text tokens fed to the cross-attention: must equal C. */
  crossAttentionDim: number;
  /** Width of the text-encoder features (Gemma-2-2B: 2304). */
  captionChannels: number;
  mlpRatio: number;
  /** Bias on attn1's to_q / to_k / to_v (SANA: false). */
  attentionBias: boolean;
  /** Latent size the model was trained at (base of the sincos position grid). */
  sampleSize: number;
  patchSize: number;
  normEps: number;
  /** null = no position embedding (512/1024 px); 1.0 / 2.0 for the 2K / 4K checkpoints. */
  interpolationScale: number | null;
  /** Read by diffusers' pipeline only (timestep × scale before the model); kept for completeness. */
  timestepScale: number;
}

/** Defaults of diffusers' SanaTransformer2DModel.__init__ (the 1.6B / 1024 px model). */
export const DIFFUSERS_DEFAULTS: SanaTransformerConfig = {
  inChannels: 32,
  outChannels: 32,
  numAttentionHeads: 70,
  attentionHeadDim: 32,
  numLayers: 20,
  numCrossAttentionHeads: 20,
  crossAttentionHeadDim: 112,
  crossAttentionDim: 2240,
  captionChannels: 2304,
  mlpRatio: 2.5,
  attentionBias: false,
  sampleSize: 32,
  patchSize: 1,
  normEps: 1e-6,
  interpolationScale: null,
  timestepScale: 1,
};

/** Dimensions every layer derives from the config. */
export interface DitDims {
  /** C = numAttentionHeads · attentionHeadDim. */
  inner: number;
  /** numCrossAttentionHeads · crossAttentionHeadDim (the q/k/v width of attn2). */
  crossInner: number;
  /** Mix-FFN hidden width h = int(mlpRatio · C). */
  ffnHidden: number;
  /** p² · outChannels: proj_out width. */
  projOut: number;
}

export function ditDims(cfg: SanaTransformerConfig): DitDims {
  const inner = cfg.numAttentionHeads * cfg.attentionHeadDim;
  return {
    inner,
    crossInner: cfg.numCrossAttentionHeads * cfg.crossAttentionHeadDim,
    ffnHidden: Math.trunc(cfg.mlpRatio * inner),
    projOut: cfg.patchSize * cfg.patchSize * cfg.outChannels,
  };
}

/** Read a diffusers config object (already parsed). `source` names it in errors. */
export function parseSanaTransformerConfig(raw: Readonly<Record<string, unknown>>, source = '<config>'): SanaTransformerConfig {
  const r = new ConfigReader(source, raw);
  const d = DIFFUSERS_DEFAULTS;
  const cls = r.optional('_class_name', (x, k) => x.str(k));
  if (cls !== null && cls !== 'SanaTransformer2DModel') {
    throw new ConfigError(source, `_class_name is "${cls}", expected "SanaTransformer2DModel"`);
  }
  const inChannels = r.int('in_channels', d.inChannels);
  const cfg: SanaTransformerConfig = {
    inChannels,
    // diffusers: out_channels = out_channels or in_channels
    outChannels: r.optional('out_channels', (x, k) => x.int(k)) || inChannels,
    numAttentionHeads: r.int('num_attention_heads', d.numAttentionHeads),
    attentionHeadDim: r.int('attention_head_dim', d.attentionHeadDim),
    numLayers: r.int('num_layers', d.numLayers),
    numCrossAttentionHeads: r.int('num_cross_attention_heads', d.numCrossAttentionHeads),
    crossAttentionHeadDim: r.int('cross_attention_head_dim', d.crossAttentionHeadDim),
    crossAttentionDim: r.int('cross_attention_dim', d.crossAttentionDim),
    captionChannels: r.int('caption_channels', d.captionChannels),
    mlpRatio: r.num('mlp_ratio', d.mlpRatio),
    attentionBias: r.bool('attention_bias', d.attentionBias),
    sampleSize: r.int('sample_size', d.sampleSize),
    patchSize: r.int('patch_size', d.patchSize),
    normEps: r.num('norm_eps', d.normEps),
    interpolationScale: r.optional('interpolation_scale', (x, k) => x.num(k)),
    timestepScale: r.num('timestep_scale', d.timestepScale),
  };
  const unsupported = (what: string) => {
    throw new ConfigError(source, `${what} is not supported by the SANA 1.0 reference`);
  };
  if (r.optional('guidance_embeds', (x, k) => x.bool(k)) === true) unsupported('guidance_embeds = true (Sana Sprint)');
  const qk = r.optional('qk_norm', (x, k) => x.str(k));
  if (qk !== null) unsupported(`qk_norm = "${qk}" (Sana 1.5 / Sprint)`);
  if (r.optional('norm_elementwise_affine', (x, k) => x.bool(k)) === true) unsupported('norm_elementwise_affine = true');
  for (const k of ['cross_attention_dim', 'num_cross_attention_heads', 'cross_attention_head_dim']) {
    if (raw[k] === null) unsupported(`${k} = null (a model without cross-attention)`);
  }
  validateConfig(cfg, source);
  return cfg;
}

/** Check the dimensions fit together; throws a ConfigError naming the problem. */
export function validateConfig(cfg: SanaTransformerConfig, source = '<config>'): void {
  const positive: (keyof SanaTransformerConfig)[] = [
    'inChannels', 'outChannels', 'numAttentionHeads', 'attentionHeadDim', 'numCrossAttentionHeads',
    'crossAttentionHeadDim', 'crossAttentionDim', 'captionChannels', 'sampleSize', 'patchSize',
  ];
  for (const k of positive) {
    const v = cfg[k] as number;
    if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(source, `${k} must be a positive integer, got ${v}`);
  }
  if (!Number.isSafeInteger(cfg.numLayers) || cfg.numLayers < 0) throw new ConfigError(source, `numLayers must be >= 0, got ${cfg.numLayers}`);
  const dims = ditDims(cfg);
  if (cfg.crossAttentionDim !== dims.inner) {
    throw new ConfigError(source, `cross_attention_dim ${cfg.crossAttentionDim} must equal the inner dim ${dims.inner} (the projected captions are ${dims.inner} wide)`);
  }
  if (!(cfg.mlpRatio > 0) || dims.ffnHidden < 1) throw new ConfigError(source, `mlp_ratio ${cfg.mlpRatio} gives no Mix-FFN channels`);
  if (!(cfg.normEps > 0)) throw new ConfigError(source, `norm_eps must be > 0, got ${cfg.normEps}`);
  if (cfg.interpolationScale !== null) {
    if (!(cfg.interpolationScale > 0)) throw new ConfigError(source, `interpolation_scale must be > 0 or null, got ${cfg.interpolationScale}`);
    if (dims.inner % 4 !== 0) throw new ConfigError(source, `the sincos position embedding needs an inner dim divisible by 4, got ${dims.inner}`);
  }
}

/** Load and parse a diffusers config.json of a SanaTransformer2DModel. */
export function loadSanaTransformerConfig(path: string): SanaTransformerConfig {
  return parseSanaTransformerConfig(loadConfig(path), path);
}
