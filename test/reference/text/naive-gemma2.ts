/**
 * A second, deliberately naive Gemma-2 forward in float64, written from the transformers math with
 * full (L × L) score matrices, an additive −∞ mask, explicit repeat_kv and rotate_half by
 * concatenation — a different structure from reference/text, used to cross-check it.
 */
import type { Tensor } from '../../../reference/core/index.js';

type Mat = number[][];

const matT = (x: Mat, w: Tensor): Mat => {
  const [n, k] = w.shape as [number, number];
  const wv = w.toFloat64();
  return x.map((row) => Array.from({ length: n }, (_, i) => row.reduce((acc, xv, j) => acc + xv * wv[i * k + j]!, 0)));
};
const norm = (x: Mat, w: Tensor, eps: number): Mat => {
  const wv = w.toFloat64();
  return x.map((row) => {
    const rms = Math.sqrt(row.reduce((a, v) => a + v * v, 0) / row.length + eps);
    return row.map((v, i) => (v / rms) * (1 + wv[i]!));
  });
};
const add = (a: Mat, b: Mat): Mat => a.map((r, i) => r.map((v, j) => v + b[i]![j]!));
const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

export function naiveGemma2(raw: Record<string, unknown>, w: Map<string, Tensor>, ids: number[], mask: number[]): Mat {
  const H = raw.hidden_size as number;
  const nL = raw.num_hidden_layers as number;
  const Hq = raw.num_attention_heads as number;
  const Hkv = raw.num_key_value_heads as number;
  const d = raw.head_dim as number;
  const eps = raw.rms_norm_eps as number;
  const cap = raw.attn_logit_softcapping as number | null;
  const win = raw.sliding_window as number | null;
  const theta = raw.rope_theta as number;
  const L = ids.length;
  const emb = w.get('embed_tokens.weight')!.toFloat64();
  let h: Mat = ids.map((id) => Array.from({ length: H }, (_, i) => emb[id * H + i]! * Math.sqrt(H)));
  const rope = (x: number[], pos: number): number[] => {
    const ang = Array.from({ length: d / 2 }, (_, k) => pos / theta ** ((2 * k) / d));
    const full = [...ang, ...ang];
    const rot = [...x.slice(d / 2).map((v) => -v), ...x.slice(0, d / 2)];
    return x.map((v, i) => v * Math.cos(full[i]!) + rot[i]! * Math.sin(full[i]!));
  };
  for (let l = 0; l < nL; l++) {
    const p = `layers.${l}.`;
    const types = raw.layer_types as string[] | undefined;
    const sliding = (types ? types[l] === 'sliding_attention' : l % 2 === 0) && win !== null;
    const x = norm(h, w.get(`${p}input_layernorm.weight`)!, eps);
    const q = matT(x, w.get(`${p}self_attn.q_proj.weight`)!);
    const k = matT(x, w.get(`${p}self_attn.k_proj.weight`)!);
    const v = matT(x, w.get(`${p}self_attn.v_proj.weight`)!);
    const heads: Mat = Array.from({ length: L }, () => []);
    for (let hh = 0; hh < Hq; hh++) {
      const kvh = Math.floor(hh / (Hq / Hkv)); // repeat_kv
      const qh = q.map((r, pos) => rope(r.slice(hh * d, hh * d + d), pos));
      const kh = k.map((r, pos) => rope(r.slice(kvh * d, kvh * d + d), pos));
      const vh = v.map((r) => r.slice(kvh * d, kvh * d + d));
      for (let i = 0; i < L; i++) {
        const s = kh.map((kr, j) => {
          let z = kr.reduce((a, kv, c) => a + kv * qh[i]![c]!, 0) * (raw.query_pre_attn_scalar as number) ** -0.5;
          if (cap !== null) z = cap * Math.tanh(z / cap);
          const allowed = j <= i && mask[j] === 1 && (!sliding || i - j < win!);
          return z + (allowed ? 0 : -3.4028234663852886e38); // HF eager: additive float32-min mask
        });
        const m = Math.max(...s);
        const e = s.map((z) => Math.exp(z - m));
        const tot = e.reduce((a, b) => a + b, 0);
        for (let c = 0; c < d; c++) heads[i]!.push(e.reduce((a, ej, j) => a + (ej / tot) * vh[j]![c]!, 0));
      }
    }
    const o = norm(matT(heads, w.get(`${p}self_attn.o_proj.weight`)!), w.get(`${p}post_attention_layernorm.weight`)!, eps);
    h = add(h, o);
    const x2 = norm(h, w.get(`${p}pre_feedforward_layernorm.weight`)!, eps);
    const g = matT(x2, w.get(`${p}mlp.gate_proj.weight`)!);
    const u = matT(x2, w.get(`${p}mlp.up_proj.weight`)!);
    const prod = g.map((r, i) => r.map((gv, j) => gelu(gv) * u[i]![j]!));
    h = add(h, norm(matT(prod, w.get(`${p}mlp.down_proj.weight`)!), w.get(`${p}post_feedforward_layernorm.weight`)!, eps));
  }
  return norm(h, w.get('norm.weight')!, eps);
}
