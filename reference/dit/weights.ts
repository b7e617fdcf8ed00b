/**
 * The parameters of a SanaTransformer2DModel under diffusers' state_dict key names, their shapes
 * (computed from the config alone, so presets need no allocation), and loading with strict checks:
 * every missing, unexpected or mis-shaped key is reported together in one WeightKeyError.
 */
import { SafetensorsFile } from '../core/safetensors.js';
import { listSome } from '../core/list-some.js';
import { shapeStr, Tensor } from '../core/tensor.js';
import { ditDims, type SanaTransformerConfig } from './config.js';

/** Width of the sinusoidal timestep features (fixed in SANA / diffusers). */
export const TIMESTEP_FEATURES = 256;

/** Keys of one transformer block, relative to `transformer_blocks.<i>.`, with their shapes. */
export function blockWeightShapes(cfg: SanaTransformerConfig): [string, number[]][] {
  const { inner: C, crossInner: Ci, ffnHidden: h } = ditDims(cfg);
  const out: [string, number[]][] = [['scale_shift_table', [6, C]]];
  for (const p of ['to_q', 'to_k', 'to_v']) {
    out.push([`attn1.${p}.weight`, [C, C]]);
    if (cfg.attentionBias) out.push([`attn1.${p}.bias`, [C]]);
  }
  out.push(['attn1.to_out.0.weight', [C, C]], ['attn1.to_out.0.bias', [C]]);
  out.push(
    ['attn2.to_q.weight', [Ci, C]],
    ['attn2.to_q.bias', [Ci]],
    ['attn2.to_k.weight', [Ci, cfg.crossAttentionDim]],
    ['attn2.to_k.bias', [Ci]],
    ['attn2.to_v.weight', [Ci, cfg.crossAttentionDim]],
    ['attn2.to_v.bias', [Ci]],
    ['attn2.to_out.0.weight', [C, Ci]],
    ['attn2.to_out.0.bias', [C]],
  );
  out.push(
    ['ff.conv_inverted.weight', [2 * h, C, 1, 1]],
    ['ff.conv_inverted.bias', [2 * h]],
    ['ff.conv_depth.weight', [2 * h, 1, 3, 3]],
    ['ff.conv_depth.bias', [2 * h]],
    ['ff.conv_point.weight', [C, h, 1, 1]],
  );
  return out;
}

/** Every parameter key of the model with its shape, in diffusers' state_dict order. */
export function sanaTransformerWeightShapes(cfg: SanaTransformerConfig): Map<string, number[]> {
  const { inner: C, projOut } = ditDims(cfg);
  const p = cfg.patchSize;
  const m = new Map<string, number[]>([
    ['scale_shift_table', [2, C]],
    ['patch_embed.proj.weight', [C, cfg.inChannels, p, p]],
    ['patch_embed.proj.bias', [C]],
    ['time_embed.emb.timestep_embedder.linear_1.weight', [C, TIMESTEP_FEATURES]],
    ['time_embed.emb.timestep_embedder.linear_1.bias', [C]],
    ['time_embed.emb.timestep_embedder.linear_2.weight', [C, C]],
    ['time_embed.emb.timestep_embedder.linear_2.bias', [C]],
    ['time_embed.linear.weight', [6 * C, C]],
    ['time_embed.linear.bias', [6 * C]],
    ['caption_projection.linear_1.weight', [C, cfg.captionChannels]],
    ['caption_projection.linear_1.bias', [C]],
    ['caption_projection.linear_2.weight', [C, C]],
    ['caption_projection.linear_2.bias', [C]],
    ['caption_norm.weight', [C]],
  ]);
  const block = blockWeightShapes(cfg);
  for (let i = 0; i < cfg.numLayers; i++) {
    for (const [k, s] of block) m.set(`transformer_blocks.${i}.${k}`, s);
  }
  m.set('proj_out.weight', [projOut, C]);
  m.set('proj_out.bias', [projOut]);
  return m;
}

/** Missing, unexpected and mis-shaped keys, counted in one message with the first 8 of each kind named. */

export class WeightKeyError extends Error {
  constructor(
    readonly source: string,
    readonly missing: string[],
    readonly unexpected: string[],
    readonly misshaped: { key: string; expected: number[]; actual: readonly number[] }[],
    readonly badDtype: { key: string; dtype: string }[] = [],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`${missing.length} missing: ${listSome(missing)}`);
    if (unexpected.length) parts.push(`${unexpected.length} unexpected: ${listSome(unexpected)}`);
    if (misshaped.length) {
      parts.push(`${misshaped.length} mis-shaped: ${listSome(misshaped.map((m) => `${m.key} is ${shapeStr(m.actual)}, expected ${shapeStr(m.expected)}`), '; ')}`);
    }
    if (badDtype.length) parts.push(`${badDtype.length} not floating point: ${listSome(badDtype.map((b) => `${b.key} (${b.dtype})`))}`);
    super(`SanaTransformer2DModel weights ${source} do not match the config: ${parts.join(' | ')}`);
    this.name = 'WeightKeyError';
  }
}

const FLOAT_DTYPES = new Set(['f32', 'f64', 'bf16', 'f16']);

/**
 * Check a set of (key → shape, dtype) against the config; throws one WeightKeyError listing every
 * problem. `entries` can come from a safetensors header, so nothing is read before the check.
 */
export function checkWeightKeys(
  cfg: SanaTransformerConfig,
  entries: Iterable<{ name: string; shape: readonly number[]; dtype: string }>,
  source = '<weights>',
): void {
  const want = sanaTransformerWeightShapes(cfg);
  const seen = new Set<string>();
  const unexpected: string[] = [];
  const misshaped: { key: string; expected: number[]; actual: readonly number[] }[] = [];
  const badDtype: { key: string; dtype: string }[] = [];
  for (const e of entries) {
    seen.add(e.name);
    const s = want.get(e.name);
    if (s === undefined) unexpected.push(e.name);
    else if (s.length !== e.shape.length || s.some((d, i) => d !== e.shape[i])) misshaped.push({ key: e.name, expected: s, actual: e.shape });
    else if (!FLOAT_DTYPES.has(e.dtype)) badDtype.push({ key: e.name, dtype: e.dtype });
  }
  const missing = [...want.keys()].filter((k) => !seen.has(k));
  if (missing.length || unexpected.length || misshaped.length || badDtype.length) {
    throw new WeightKeyError(source, missing, unexpected, misshaped, badDtype);
  }
}

/** Validate an in-memory state dict and convert every tensor to float32. */
export function prepareWeights(cfg: SanaTransformerConfig, weights: ReadonlyMap<string, Tensor>, source = '<weights>'): Map<string, Tensor> {
  checkWeightKeys(cfg, [...weights].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype })), source);
  const out = new Map<string, Tensor>();
  for (const [k, t] of weights) out.set(k, t.dtype === 'f32' ? t : t.to('f32'));
  return out;
}

/** Read a diffusers safetensors checkpoint: the header is checked before any tensor is read. */
export function loadSanaTransformerWeights(cfg: SanaTransformerConfig, path: string): Map<string, Tensor> {
  const file = SafetensorsFile.open(path);
  try {
    checkWeightKeys(cfg, file.names().map((n) => file.entry(n)), path);
    const out = new Map<string, Tensor>();
    for (const n of file.names()) {
      const t = file.tensor(n);
      out.set(n, t.dtype === 'f32' ? t : t.to('f32'));
    }
    return out;
  } finally {
    file.close();
  }
}

/** Number of elements of every parameter (from shapes only; nothing is allocated). */
export function countParameters(cfg: SanaTransformerConfig): number {
  let n = 0;
  for (const s of sanaTransformerWeightShapes(cfg).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** Parameter counts grouped by top-level module (patch_embed, time_embed, caption_projection, …, transformer_blocks). */
export function parameterGroups(cfg: SanaTransformerConfig): Map<string, number> {
  const groups = new Map<string, number>();
  for (const [key, s] of sanaTransformerWeightShapes(cfg)) {
    const group = key.split('.')[0]!;
    groups.set(group, (groups.get(group) ?? 0) + s.reduce((a, b) => a * b, 1));
  }
  return groups;
}
