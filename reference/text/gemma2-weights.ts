/**
 * Gemma-2 weights under Hugging Face key names, checked against the config before any use.
 *
 * Accepted layouts: `Gemma2Model` (keys `embed_tokens.weight`, `layers.N.…`, `norm.weight`; SANA's
 * diffusers `text_encoder/`), and `Gemma2ForCausalLM` (the same under `model.`, plus an optional
 * `lm_head.weight`, which the encoder does not use). A directory holds `config.json` and either
 * `model.safetensors` or sharded files listed by `model.safetensors.index.json`.
 * Missing, unexpected or mis-shaped keys give one error listing every problem.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../core/config.js';
import { SafetensorsFile } from '../core/safetensors.js';
import { listSome } from '../core/list-some.js';
import { shapeStr, type Tensor } from '../core/tensor.js';
import { gemma2ConfigFromJson, type Gemma2Config } from './gemma2-config.js';

/** Every key (without prefix) a Gemma2Model with this config has, with its shape. */
export function gemma2ExpectedShapes(cfg: Gemma2Config): Map<string, number[]> {
  const { hiddenSize: H, intermediateSize: I, numAttentionHeads: Hq, numKeyValueHeads: Hkv, headDim: d } = cfg;
  const m = new Map<string, number[]>([['embed_tokens.weight', [cfg.vocabSize, H]]]);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `layers.${l}.`;
    for (const n of ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm']) m.set(`${p}${n}.weight`, [H]);
    m.set(`${p}self_attn.q_proj.weight`, [Hq * d, H]);
    m.set(`${p}self_attn.k_proj.weight`, [Hkv * d, H]);
    m.set(`${p}self_attn.v_proj.weight`, [Hkv * d, H]);
    m.set(`${p}self_attn.o_proj.weight`, [H, Hq * d]);
    if (cfg.attentionBias) {
      m.set(`${p}self_attn.q_proj.bias`, [Hq * d]);
      m.set(`${p}self_attn.k_proj.bias`, [Hkv * d]);
      m.set(`${p}self_attn.v_proj.bias`, [Hkv * d]);
      m.set(`${p}self_attn.o_proj.bias`, [H]);
    }
    m.set(`${p}mlp.gate_proj.weight`, [I, H]);
    m.set(`${p}mlp.up_proj.weight`, [I, H]);
    m.set(`${p}mlp.down_proj.weight`, [H, I]);
  }
  m.set('norm.weight', [H]);
  return m;
}

const FLOAT_DTYPES = new Set(['f32', 'bf16', 'f16', 'f64']);

/**
 * Check names, shapes and dtypes of a checkpoint (given as name → {shape, dtype}) against the config.
 * Returns the key prefix in use ('' or 'model.'); throws one Error listing every problem.
 */
export function checkGemma2Keys(cfg: Gemma2Config, entries: ReadonlyMap<string, { shape: readonly number[]; dtype: string }>, source: string): string {
  const expected = gemma2ExpectedShapes(cfg);
  const names = [...entries.keys()];
  const prefix = names.length > 0 && names.every((n) => n.startsWith('model.') || n === 'lm_head.weight') ? 'model.' : '';
  const problems: string[] = [];
  for (const [key, shape] of expected) {
    const e = entries.get(prefix + key);
    if (e === undefined) problems.push(`missing ${prefix}${key} ${shapeStr(shape)}`);
    else if (e.shape.length !== shape.length || e.shape.some((v, i) => v !== shape[i])) {
      problems.push(`${prefix}${key} has shape ${shapeStr(e.shape)}, want ${shapeStr(shape)}`);
    } else if (!FLOAT_DTYPES.has(e.dtype)) problems.push(`${prefix}${key} has dtype ${e.dtype}, want a float dtype`);
  }
  for (const n of names) {
    if (prefix === 'model.' && n === 'lm_head.weight') continue;
    if (!expected.has(n.slice(prefix.length)) || !n.startsWith(prefix)) problems.push(`unexpected ${n}`);
  }
  if (problems.length > 0) {
    throw new Error(`Gemma2 weights ${source}: ${problems.length} problem(s) against the config: ${listSome(problems, '; ', 20)}`);
  }
  return prefix;
}

/** Validate an in-memory state dict and return it keyed without prefix. */
export function gemma2WeightsFromMap(cfg: Gemma2Config, tensors: ReadonlyMap<string, Tensor>, source = 'state dict'): Map<string, Tensor> {
  const prefix = checkGemma2Keys(cfg, tensors, source);
  const out = new Map<string, Tensor>();
  for (const key of gemma2ExpectedShapes(cfg).keys()) out.set(key, tensors.get(prefix + key)!);
  return out;
}

/** The safetensors files of a Hugging Face model directory (single file or an index of shards). */
export function safetensorsFilesIn(dir: string): string[] {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  const index = join(dir, 'model.safetensors.index.json');
  if (!existsSync(index)) throw new Error(`Gemma2: ${dir} has neither model.safetensors nor model.safetensors.index.json`);
  let map: unknown;
  try {
    map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: unknown }).weight_map;
  } catch (e) {
    throw new Error(`Gemma2: ${index} is not valid JSON: ${(e as Error).message}`);
  }
  if (map === null || typeof map !== 'object') throw new Error(`Gemma2: ${index} has no "weight_map" object`);
  return [...new Set(Object.values(map as Record<string, string>))].map((f) => join(dir, f));
}

/** Read config.json and the weights of a Gemma-2 directory, checking every key before reading data. */
export function loadGemma2Dir(dir: string): { config: Gemma2Config; weights: Map<string, Tensor> } {
  const configPath = join(dir, 'config.json');
  const config = gemma2ConfigFromJson(loadConfig(configPath), configPath);
  const files = safetensorsFilesIn(dir).map((p) => SafetensorsFile.open(p));
  try {
    const owner = new Map<string, SafetensorsFile>();
    const entries = new Map<string, { shape: readonly number[]; dtype: string }>();
    for (const f of files) {
      for (const n of f.names()) {
        if (owner.has(n)) throw new Error(`Gemma2 weights ${dir}: ${n} appears in both ${owner.get(n)!.path} and ${f.path}`);
        owner.set(n, f);
        entries.set(n, f.entry(n));
      }
    }
    const prefix = checkGemma2Keys(config, entries, dir);
    const weights = new Map<string, Tensor>();
    for (const key of gemma2ExpectedShapes(config).keys()) weights.set(key, owner.get(prefix + key)!.tensor(prefix + key));
    return { config, weights };
  } finally {
    for (const f of files) f.close();
  }
}
