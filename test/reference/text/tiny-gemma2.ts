/** Tiny random Gemma-2 checkpoints written to a temp dir (config.json + safetensors), for tests. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randn, writeSafetensors, type Tensor } from '../../../reference/core/index.js';
import { gemma2ConfigFromJson, gemma2ExpectedShapes } from '../../../reference/text/index.js';

export const TINY_GEMMA2: Record<string, unknown> = {
  architectures: ['Gemma2Model'],
  model_type: 'gemma2',
  vocab_size: 11,
  hidden_size: 12,
  intermediate_size: 20,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 6,
  hidden_activation: 'gelu_pytorch_tanh',
  rms_norm_eps: 1e-6,
  rope_theta: 10000.0,
  attention_bias: false,
  query_pre_attn_scalar: 8,
  sliding_window: 3,
  attn_logit_softcapping: 50.0,
  final_logit_softcapping: 30.0,
  pad_token_id: 0,
  bos_token_id: 2,
  torch_dtype: 'float32',
};

/** Random weights for a config: N(0, 0.5²) matrices, N(0, 0.3²) norm weights (zero-centred like Gemma). */
export function randomGemma2Weights(raw: Record<string, unknown>, seed: number): Map<string, Tensor> {
  const cfg = gemma2ConfigFromJson(raw);
  const out = new Map<string, Tensor>();
  let s = seed;
  for (const [k, shape] of gemma2ExpectedShapes(cfg)) out.set(k, randn(shape, s++, shape.length === 1 ? 0.3 : 0.5));
  return out;
}

/** Write config.json + model.safetensors into a fresh temp dir; returns the dir. */
export function writeTinyGemma2(raw: Record<string, unknown>, weights: Map<string, Tensor>, prefix = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'sana-gemma2-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(raw, null, 2));
  writeSafetensors(join(dir, 'model.safetensors'), new Map([...weights].map(([k, t]) => [prefix + k, t])));
  return dir;
}
