import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorStats, formatStats, randn, Tensor, writeSafetensors } from '../../../reference/core/index.js';
import { Gemma2Model, gemma2ConfigFromJson } from '../../../reference/text/index.js';
import { naiveGemma2 } from './naive-gemma2.js';
import { randomGemma2Weights, TINY_GEMMA2, writeTinyGemma2 } from './tiny-gemma2.js';

const IDS = [2, 5, 9, 1, 7, 3, 10, 4];
const rowOf = (t: Tensor, b: number, p: number): Float32Array => {
  const [, L, H] = t.shape as [number, number, number];
  return (t.data as Float32Array).slice((b * L + p) * H, (b * L + p + 1) * H);
};

describe('Gemma2Model (tiny random checkpoint on disk)', () => {
  const weights = randomGemma2Weights(TINY_GEMMA2, 100);
  const dir = writeTinyGemma2(TINY_GEMMA2, weights);
  const model = Gemma2Model.fromDir(dir);

  it('matches an independent naive float64 forward (GQA, RoPE, soft-cap, sliding/global, padding)', () => {
    const mask = [1, 1, 1, 1, 1, 1, 0, 0]; // window 3: padded query 7 still sees real key 5
    const out = model.forward([IDS], [mask]);
    expect(out.shape).toEqual([1, 8, 12]);
    const ref = naiveGemma2(TINY_GEMMA2, weights, IDS, mask).flat();
    const st = errorStats(out.data as Float32Array, ref);
    console.log(`[gemma2] f32 model vs naive f64: ${formatStats(st)}`);
    expect(st.nonFinite).toBe(0);
    expect(st.rel).toBeLessThanOrEqual(1e-5);
  });

  it('is causal: changing a later token leaves earlier outputs bit-identical', () => {
    const a = model.forward([IDS]);
    const changed = [...IDS];
    changed[5] = 8;
    const b = model.forward([changed]);
    for (let p = 0; p < 5; p++) expect(Array.from(rowOf(b, 0, p)), `position ${p}`).toEqual(Array.from(rowOf(a, 0, p)));
    expect(errorStats(rowOf(b, 0, 5), rowOf(a, 0, 5)).maxAbs).toBeGreaterThan(1e-3);
  });

  it('ignores padded keys: right padding leaves the real tokens as if unpadded', () => {
    const short = model.forward([IDS.slice(0, 5)]);
    const padded = model.forward([[...IDS.slice(0, 5), 0, 0, 0]], [[1, 1, 1, 1, 1, 0, 0, 0]]);
    for (let p = 0; p < 5; p++) expect(Array.from(rowOf(padded, 0, p))).toEqual(Array.from(rowOf(short, 0, p)));
    // A padded key at position 5 does not reach the padded query at 6 (only its own token and real keys do).
    const other = model.forward([[...IDS.slice(0, 5), 9, 0, 0]], [[1, 1, 1, 1, 1, 0, 0, 0]]);
    expect(Array.from(rowOf(other, 0, 6))).toEqual(Array.from(rowOf(padded, 0, 6)));
  });

  it('batches sequences independently', () => {
    const second = [3, 3, 8, 1, 0, 6, 2, 9];
    const both = model.forward([IDS, second]);
    const one = model.forward([second]);
    expect(Array.from((both.data as Float32Array).subarray(8 * 12))).toEqual(Array.from(one.data as Float32Array));
  });

  it('loads the Gemma2ForCausalLM layout (model. prefix, lm_head) and sharded checkpoints identically', () => {
    const withHead = new Map(weights);
    const causal = writeTinyGemma2({ ...TINY_GEMMA2, architectures: ['Gemma2ForCausalLM'] }, new Map([...withHead].map(([k, v]) => [k, v])), 'model.');
    writeSafetensors(join(causal, 'extra.safetensors'), new Map([['lm_head.weight', randn([11, 12], 5)]]));
    const ref = model.forward([IDS]);
    // Shard it: everything in model-00001, lm_head in model-00002, listed by an index file.
    renameSync(join(causal, 'model.safetensors'), join(causal, 'model-00001-of-00002.safetensors'));
    renameSync(join(causal, 'extra.safetensors'), join(causal, 'model-00002-of-00002.safetensors'));
    const weightMap: Record<string, string> = { 'lm_head.weight': 'model-00002-of-00002.safetensors' };
    for (const k of weights.keys()) weightMap[`model.${k}`] = 'model-00001-of-00002.safetensors';
    writeFileSync(join(causal, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const out = Gemma2Model.fromDir(causal).forward([IDS]);
    expect(Array.from(out.data as Float32Array)).toEqual(Array.from(ref.data as Float32Array));
  });

  it('accepts (B, L) integer tensors as well as arrays', () => {
    const t = new Tensor([1, 8], 'i64', BigInt64Array.from(IDS.map(BigInt)));
    expect(Array.from(model.forward(t).data as Float32Array)).toEqual(Array.from(model.forward([IDS]).data as Float32Array));
  });

  it('bf16 mode rounds activations: close to f32 (bf16-level error), not identical', () => {
    const bf = Gemma2Model.fromDir(dir, { dtype: 'bf16' }).forward([IDS]);
    const f = model.forward([IDS]);
    const st = errorStats(bf.data as Float32Array, f.data as Float32Array);
    console.log(`[gemma2] bf16 mode vs f32: ${formatStats(st)}`);
    expect(st.rel).toBeGreaterThan(1e-4);
    expect(st.rel).toBeLessThan(5e-2);
    // every output value is a bf16 value
    const bits = new Uint32Array((bf.data as Float32Array).buffer);
    expect(bits.every((b) => (b & 0xffff) === 0)).toBe(true);
  });
});

describe('Gemma2Model structure properties', () => {
  it('sliding window: a token beyond the window has no effect on a sliding layer, but does on a global one', () => {
    const oneLayer = { ...TINY_GEMMA2, num_hidden_layers: 1 };
    const w = randomGemma2Weights(oneLayer, 7);
    const sliding = new Gemma2Model(gemma2ConfigFromJson({ ...oneLayer, layer_types: ['sliding_attention'] }), w);
    const global = new Gemma2Model(gemma2ConfigFromJson({ ...oneLayer, layer_types: ['full_attention'] }), w);
    const changed = [...IDS];
    changed[2] = 6; // position 7 sees positions 5, 6, 7 with window 3
    for (const [m, reaches] of [[sliding, false], [global, true]] as const) {
      const a = rowOf(m.forward([IDS]), 0, 7);
      const b = rowOf(m.forward([changed]), 0, 7);
      if (reaches) expect(errorStats(b, a).maxAbs).toBeGreaterThan(1e-4);
      else expect(Array.from(b)).toEqual(Array.from(a));
    }
    // …while a token inside the window (position 5) does reach it.
    const inside = [...IDS];
    inside[5] = 6;
    expect(errorStats(rowOf(sliding.forward([inside]), 0, 7), rowOf(sliding.forward([IDS]), 0, 7)).maxAbs).toBeGreaterThan(1e-4);
  });

  it('grouped-query attention equals multi-head attention with repeated KV heads', () => {
    const gqaRaw = { ...TINY_GEMMA2, num_attention_heads: 4, num_key_value_heads: 2 };
    const mhaRaw = { ...TINY_GEMMA2, num_attention_heads: 4, num_key_value_heads: 4 };
    const w = randomGemma2Weights(gqaRaw, 21);
    const wm = new Map(w);
    const d = 6;
    for (let l = 0; l < 2; l++) {
      for (const n of ['k_proj', 'v_proj']) {
        const key = `layers.${l}.self_attn.${n}.weight`;
        const src = w.get(key)!.data as Float32Array; // (2·d, H)
        const rep = new Float32Array(4 * d * 12);
        for (let h = 0; h < 4; h++) rep.set(src.subarray(Math.floor(h / 2) * d * 12, (Math.floor(h / 2) + 1) * d * 12), h * d * 12);
        wm.set(key, new Tensor([4 * d, 12], 'f32', rep));
      }
    }
    const a = new Gemma2Model(gemma2ConfigFromJson(gqaRaw), w).forward([IDS]);
    const b = new Gemma2Model(gemma2ConfigFromJson(mhaRaw), wm).forward([IDS]);
    expect(errorStats(a.data as Float32Array, b.data as Float32Array).maxAbs).toBeLessThanOrEqual(1e-6);
  });

  it('a single token, computed by hand', () => {
    // hidden 2, one head of dim 2, intermediate 1, one layer, no soft-cap. With one token the
    // attention returns v itself (softmax over one key) and RoPE at position 0 is the identity.
    const raw = {
      model_type: 'gemma2', vocab_size: 2, hidden_size: 2, intermediate_size: 1, num_hidden_layers: 1,
      num_attention_heads: 1, num_key_value_heads: 1, head_dim: 2, query_pre_attn_scalar: 2,
      attn_logit_softcapping: null, sliding_window: null, rms_norm_eps: 0,
    };
    const t = (shape: number[], v: number[]) => Tensor.f32(shape, v);
    const w = new Map<string, Tensor>([
      ['embed_tokens.weight', t([2, 2], [0, 0, 3, 4])],
      ['layers.0.input_layernorm.weight', t([2], [0, 0])],
      ['layers.0.self_attn.q_proj.weight', t([2, 2], [1, 0, 0, 1])],
      ['layers.0.self_attn.k_proj.weight', t([2, 2], [1, 0, 0, 1])],
      ['layers.0.self_attn.v_proj.weight', t([2, 2], [2, 0, 0, 1])],
      ['layers.0.self_attn.o_proj.weight', t([2, 2], [0, 1, 1, 0])],
      ['layers.0.post_attention_layernorm.weight', t([2], [1, 0])],
      ['layers.0.pre_feedforward_layernorm.weight', t([2], [0, 0])],
      ['layers.0.mlp.gate_proj.weight', t([1, 2], [1, 1])],
      ['layers.0.mlp.up_proj.weight', t([1, 2], [1, -1])],
      ['layers.0.mlp.down_proj.weight', t([2, 1], [1, 2])],
      ['layers.0.post_feedforward_layernorm.weight', t([2], [0, 0])],
      ['norm.weight', t([2], [0, 0])],
    ]);
    const out = new Gemma2Model(gemma2ConfigFromJson(raw), w).forward([[1]]).data as Float32Array;
    // h0 = [3, 4]·√2;  rms = 5 → x = [0.6√2, 0.8√2]·(1/√2)·√2 … written out:
    const s2 = Math.SQRT2;
    const h0 = [3 * s2, 4 * s2];
    const rms = (v: number[]) => Math.sqrt((v[0]! ** 2 + v[1]! ** 2) / 2);
    const x = h0.map((v) => v / rms(h0)); // [0.6√2, 0.8√2]
    const vv = [2 * x[0]!, x[1]!]; // v_proj; attention over one token returns it
    const o = [vv[1]!, vv[0]!]; // o_proj swaps
    const on = o.map((v, i) => (v / rms(o)) * (1 + [1, 0][i]!)); // post-attn norm, w = [1, 0]
    const h1 = [h0[0]! + on[0]!, h0[1]! + on[1]!];
    const x2 = h1.map((v) => v / rms(h1));
    const g = x2[0]! + x2[1]!;
    const u = x2[0]! - x2[1]!;
    const gl = 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g ** 3)));
    const dn = [gl * u, 2 * gl * u];
    const dnn = dn.map((v) => v / rms(dn));
    const h2 = [h1[0]! + dnn[0]!, h1[1]! + dnn[1]!];
    const want = h2.map((v) => v / rms(h2));
    expect(errorStats(out, want).maxAbs).toBeLessThanOrEqual(2e-6);
  });
});

describe('Gemma2 weight and config errors', () => {
  const weights = randomGemma2Weights(TINY_GEMMA2, 100);
  const cfg = gemma2ConfigFromJson(TINY_GEMMA2);

  it('missing, unexpected and mis-shaped keys are reported together in one error', () => {
    const bad = new Map(weights);
    bad.delete('layers.1.mlp.up_proj.weight');
    bad.set('layers.0.self_attn.k_proj.weight', randn([13, 12], 1));
    bad.set('layers.0.self_attn.rotary_emb.inv_freq', randn([3], 1));
    let msg = '';
    try {
      new Gemma2Model(cfg, bad);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/3 problem/);
    expect(msg).toMatch(/missing layers\.1\.mlp\.up_proj\.weight \[20, 12\]/);
    expect(msg).toMatch(/layers\.0\.self_attn\.k_proj\.weight has shape \[13, 12\], want \[12, 12\]/);
    expect(msg).toMatch(/unexpected layers\.0\.self_attn\.rotary_emb\.inv_freq/);
  });

  it('a directory without weights, or with a corrupt config, fails clearly', () => {
    const dir = writeTinyGemma2(TINY_GEMMA2, weights);
    writeFileSync(join(dir, 'config.json'), '{"model_type": "gemma2", "num_attention_heads": 3, "num_key_value_heads": 2}');
    expect(() => Gemma2Model.fromDir(dir)).toThrow(/num_attention_heads 3 must be a positive multiple of num_key_value_heads 2/);
    writeFileSync(join(dir, 'config.json'), '{"model_type": "llama"}');
    expect(() => Gemma2Model.fromDir(dir)).toThrow(/want "gemma2"/);
    writeFileSync(join(dir, 'config.json'), '{"model_type": "gemma2", "hidden_activation": "relu"}');
    expect(() => Gemma2Model.fromDir(dir)).toThrow(/relu/);
    expect(() => Gemma2Model.fromDir(join(dir, 'nowhere'))).toThrow(/cannot read/);
  });

  it('a query with no visible key averages all positions, like the HF eager path (naive cross-check)', () => {
    const m = new Gemma2Model(cfg, weights);
    const ids = [4, 6, 1, 9];
    const mask = [0, 1, 1, 0];
    const st = errorStats(m.forward([ids], [mask]).data as Float32Array, naiveGemma2(TINY_GEMMA2, weights, ids, mask).flat());
    expect(st.rel).toBeLessThanOrEqual(1e-5);
  });

  it('bad inputs: out-of-vocabulary ids, shape mismatch', () => {
    const m = new Gemma2Model(cfg, weights);
    expect(() => m.forward([[1, 11]])).toThrow(/token id 11 at position 1 is outside the vocabulary \[0, 11\)/);
    expect(() => m.forward([[1, 2]], [[1]])).toThrow(/attentionMask must be \(B, L\) = \(1, 2\)/);
    expect(() => m.forward(new Tensor([2], 'i64'))).toThrow(/\(B, L\)/);
  });
});
