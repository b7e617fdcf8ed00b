/**
 * Gemma-2 configuration, read from a Hugging Face `config.json` (`model_type: "gemma2"`).
 * Defaults are transformers' Gemma2Config defaults (= gemma-2-2b, SANA's text encoder).
 */
import { ConfigError, ConfigReader } from '../core/config.js';

export type Gemma2LayerType = 'sliding_attention' | 'full_attention';

export interface Gemma2Config {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  attentionBias: boolean;
  /** Query scale is queryPreAttnScalar^−½ (not headDim^−½). */
  queryPreAttnScalar: number;
  /** Tokens a sliding layer sees: itself and the previous slidingWindow − 1 (null: no window). */
  slidingWindow: number | null;
  /** Attention logits become cap·tanh(logits/cap) (null: no soft-cap). */
  attnLogitSoftcapping: number | null;
  /** Per layer; by default even layers slide and odd layers are global. */
  layerTypes: Gemma2LayerType[];
  padTokenId: number | null;
  bosTokenId: number | null;
}

export function gemma2ConfigFromJson(raw: Readonly<Record<string, unknown>>, source = 'gemma2 config.json'): Gemma2Config {
  const r = new ConfigReader(source, raw);
  const modelType = raw.model_type;
  if (modelType !== undefined && modelType !== 'gemma2') throw new ConfigError(source, `"model_type" is "${String(modelType)}", want "gemma2"`);
  const act = r.optional('hidden_activation', (c, k) => c.str(k)) ?? r.str('hidden_act', 'gelu_pytorch_tanh');
  if (act !== 'gelu_pytorch_tanh' && act !== 'gelu_new') {
    throw new ConfigError(source, `hidden activation "${act}" is not implemented (Gemma-2 uses "gelu_pytorch_tanh")`);
  }
  const numHiddenLayers = r.int('num_hidden_layers', 26);
  const numAttentionHeads = r.int('num_attention_heads', 8);
  const numKeyValueHeads = r.int('num_key_value_heads', 4);
  if (numAttentionHeads < 1 || numKeyValueHeads < 1 || numAttentionHeads % numKeyValueHeads !== 0) {
    throw new ConfigError(source, `num_attention_heads ${numAttentionHeads} must be a positive multiple of num_key_value_heads ${numKeyValueHeads}`);
  }
  const headDim = r.int('head_dim', 256);
  if (headDim < 2 || headDim % 2 !== 0) throw new ConfigError(source, `"head_dim" must be even (RoPE rotates pairs), got ${headDim}`);
  const slidingWindow = r.optional('sliding_window', (c, k) => c.int(k));
  if (slidingWindow !== null && slidingWindow < 1) throw new ConfigError(source, `"sliding_window" must be >= 1, got ${slidingWindow}`);
  const layerTypes = r.optional('layer_types', (c, k) => c.strList(k)) ??
    Array.from({ length: numHiddenLayers }, (_, i) => (i % 2 === 0 ? 'sliding_attention' : 'full_attention'));
  if (layerTypes.length !== numHiddenLayers || !layerTypes.every((t) => t === 'sliding_attention' || t === 'full_attention')) {
    throw new ConfigError(source, `"layer_types" must list ${numHiddenLayers} of "sliding_attention"/"full_attention"`);
  }
  const cfg: Gemma2Config = {
    vocabSize: r.int('vocab_size', 256000),
    hiddenSize: r.int('hidden_size', 2304),
    intermediateSize: r.int('intermediate_size', 9216),
    numHiddenLayers,
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: r.num('rms_norm_eps', 1e-6),
    ropeTheta: r.num('rope_theta', 10000),
    attentionBias: r.bool('attention_bias', false),
    queryPreAttnScalar: r.num('query_pre_attn_scalar', 256),
    slidingWindow,
    attnLogitSoftcapping: r.optional('attn_logit_softcapping', (c, k) => c.num(k)),
    layerTypes: layerTypes as Gemma2LayerType[],
    padTokenId: r.optional('pad_token_id', (c, k) => c.int(k)),
    bosTokenId: r.optional('bos_token_id', (c, k) => c.int(k)),
  };
  for (const [k, v] of Object.entries({ vocab_size: cfg.vocabSize, hidden_size: cfg.hiddenSize, intermediate_size: cfg.intermediateSize, num_hidden_layers: numHiddenLayers })) {
    if (v < 1) throw new ConfigError(source, `"${k}" must be >= 1, got ${v}`);
  }
  if (!(cfg.queryPreAttnScalar > 0)) throw new ConfigError(source, `"query_pre_attn_scalar" must be > 0`);
  if (cfg.attnLogitSoftcapping !== null && !(cfg.attnLogitSoftcapping > 0)) throw new ConfigError(source, `"attn_logit_softcapping" must be > 0 or null`);
  return cfg;
}
