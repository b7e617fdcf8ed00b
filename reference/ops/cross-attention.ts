/**
 * Multi-head softmax attention with an additive mask bias — SANA's text cross-attention
 * (diffusers SanaAttnProcessor2_0 = scaled_dot_product_attention; NVlabs MultiHeadCrossAttention
 * without xformers).
 *
 * Per batch item b and head h (head h owns channels [h·d, (h+1)·d) of token-major tensors):
 *
 *   s_nm  = (q_n · k_m) / √d + bias_bm          (bias: (B, L) or (B, 1, L), broadcast over heads and queries)
 *   a_nm  = softmax_m(s_nm)
 *   out_n = Σ_m a_nm v_m
 *
 * Masks follow diffusers: keep = 1, drop = 0 becomes the bias (1 − mask)·(−10000) (`maskToBias`).
 * A masked key's weight e^(−10000 + …) underflows to exactly 0 in float32 and float64, so a masked
 * token contributes nothing. If every key of a sample is masked, the same −10000 is added to every
 * logit and cancels in the softmax: the result is the unmasked attention (as diffusers computes it).
 * Logits, softmax and the weighted sum are evaluated in float64 (default) or with float32 rounding
 * of every partial sum (`accumulate: 'f32'`), then stored as float32.
 *
 * FLOPs of the core: 4·B·N·L·C (q·k and a·v); projections 2·B·(2N·C² + 2L·Cy·C).
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { linear, type AccumulateOption } from './linear.js';

/** The additive bias diffusers uses for a dropped (mask = 0) key. */
export const MASK_BIAS = -10000;

/** (1 − mask)·(−10000): a keep/drop mask (B, L) of 1s and 0s (any numeric dtype) → an additive f32 bias (B, L). */
export function maskToBias(mask: Tensor): Tensor {
  if (mask.ndim !== 2) throw new RangeError(`maskToBias: want mask (B, L), got ${shapeStr(mask.shape)}`);
  const m = mask.toFloat64();
  const out = new Float32Array(m.length);
  for (let i = 0; i < m.length; i++) out[i] = (1 - m[i]!) * MASK_BIAS;
  return new Tensor(mask.shape, 'f32', out);
}

export interface SoftmaxAttentionOptions extends AccumulateOption {
  heads: number;
  /** Additive bias over keys, (B, L) or (B, 1, L); null/undefined for none. */
  bias?: Tensor | null;
  /** Logit scale (default 1/√d). */
  scale?: number;
}

/** The attention core: q (B, N, H·d), k and v (B, L, H·d) token-major → (B, N, H·d) float32. */
export function softmaxAttention(q: Tensor, k: Tensor, v: Tensor, opts: SoftmaxAttentionOptions): Tensor {
  const op = 'softmaxAttention';
  if (q.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3) {
    throw new RangeError(`${op}: want q, k, v of shape (B, N, C), got ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`);
  }
  const [B, N, C] = q.shape as [number, number, number];
  const L = k.shape[1]!;
  if (k.shape[0] !== B || v.shape[0] !== B || k.shape[2] !== C || v.shape[2] !== C || v.shape[1] !== L) {
    throw new RangeError(`${op}: q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)} do not agree (want (B,N,C), (B,L,C), (B,L,C))`);
  }
  const H = opts.heads;
  if (!Number.isSafeInteger(H) || H < 1 || C % H !== 0) throw new RangeError(`${op}: ${C} channels cannot be split into ${H} heads`);
  const d = C / H;
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  let bias: Float32Array | null = null;
  if (opts.bias) {
    const bs = opts.bias.shape;
    const ok = (bs.length === 2 && bs[0] === B && bs[1] === L) || (bs.length === 3 && bs[0] === B && bs[1] === 1 && bs[2] === L);
    if (!ok) throw new RangeError(`${op}: bias ${shapeStr(bs)} does not fit ${B} samples × ${L} keys (want (B, L) or (B, 1, L))`);
    bias = opts.bias.toFloat32();
  }
  const f32 = opts.accumulate === 'f32';
  const r = f32 ? Math.fround : (x: number) => x;
  const qs = q.toFloat32();
  const ks = k.toFloat32();
  const vs = v.toFloat32();
  const out = new Float32Array(B * N * C);
  const logits = new Float64Array(L);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const c0 = h * d;
      for (let n = 0; n < N; n++) {
        const qo = (b * N + n) * C + c0;
        let max = -Infinity;
        for (let m = 0; m < L; m++) {
          const ko = (b * L + m) * C + c0;
          let dot = 0;
          for (let j = 0; j < d; j++) dot = r(dot + r(qs[qo + j]! * ks[ko + j]!));
          let s = r(dot * scale);
          if (bias) s = r(s + bias[b * L + m]!);
          logits[m] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let m = 0; m < L; m++) {
          const e = r(Math.exp(logits[m]! - max));
          logits[m] = e;
          sum = r(sum + e);
        }
        for (let j = 0; j < d; j++) {
          let acc = 0;
          for (let m = 0; m < L; m++) acc = r(acc + r(r(logits[m]! / sum) * vs[(b * L + m) * C + c0 + j]!));
          out[qo + j] = acc;
        }
      }
    }
  }
  return new Tensor([B, N, C], 'f32', out);
}

/** Parameters of a cross-attention module, diffusers names: to_q, to_k, to_v, to_out.0 (all with bias in SANA). */
export interface CrossAttentionWeights {
  toQ: Tensor;
  toQBias: Tensor | null;
  toK: Tensor;
  toKBias: Tensor | null;
  toV: Tensor;
  toVBias: Tensor | null;
  toOut: Tensor;
  toOutBias: Tensor | null;
}

/** The text side of a cross-attention module: keys and values (B, L, C) of the text tokens. */
export interface CrossAttentionKv {
  k: Tensor;
  v: Tensor;
}

/**
 * The module's text keys and values: k = y·W_kᵀ + b_k, v = y·W_vᵀ + b_v, y (B, L, Cy) → (B, L, C) each.
 * They depend on the text only, so a sampler computes them once per prompt and reuses them at every
 * step (`crossAttentionWithKv`). FLOPs 4·B·L·Cy·C.
 */
export function crossAttentionKv(y: Tensor, w: Pick<CrossAttentionWeights, 'toK' | 'toKBias' | 'toV' | 'toVBias'>, opts: AccumulateOption = {}): CrossAttentionKv {
  if (y.ndim !== 3) throw new RangeError(`crossAttentionKv: want y (B, L, Cy), got ${shapeStr(y.shape)}`);
  const acc = { accumulate: opts.accumulate };
  return { k: linear(y, w.toK, w.toKBias, acc), v: linear(y, w.toV, w.toVBias, acc) };
}

/**
 * The cross-attention module with precomputed text keys and values (`crossAttentionKv`):
 *   out = W_o · softmaxAttention(x·W_qᵀ + b_q, k, v) + b_o
 * FLOPs 4·B·N·C² + 4·B·N·L·C (the text projections are not part of it).
 */
export function crossAttentionWithKv(x: Tensor, kv: CrossAttentionKv, w: Pick<CrossAttentionWeights, 'toQ' | 'toQBias' | 'toOut' | 'toOutBias'>, opts: SoftmaxAttentionOptions): Tensor {
  const { k, v } = kv;
  if (x.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3 || k.shape[0] !== x.shape[0] || !k.shape.every((d, i) => d === v.shape[i])) {
    throw new RangeError(`crossAttentionWithKv: want x (B, N, C), k and v (B, L, C) with the same B, got ${shapeStr(x.shape)}, ${shapeStr(k.shape)} and ${shapeStr(v.shape)}`);
  }
  const acc = { accumulate: opts.accumulate };
  const q = linear(x, w.toQ, w.toQBias, acc);
  return linear(softmaxAttention(q, k, v, opts), w.toOut, w.toOutBias, acc);
}

/**
 * The cross-attention module of a SANA block (attn2): queries from the image tokens x (B, N, C),
 * keys and values from the text tokens y (B, L, Cy); softmax attention with the mask bias; output
 * projection. No norm, modulation or gate (the block adds the result to the residual stream).
 */
export function crossAttentionModule(x: Tensor, y: Tensor, w: CrossAttentionWeights, opts: SoftmaxAttentionOptions): Tensor {
  if (x.ndim !== 3 || y.ndim !== 3 || x.shape[0] !== y.shape[0]) {
    throw new RangeError(`crossAttentionModule: want x (B, N, C) and y (B, L, Cy) with the same B, got ${shapeStr(x.shape)} and ${shapeStr(y.shape)}`);
  }
  return crossAttentionWithKv(x, crossAttentionKv(y, w, opts), w, opts);
}
