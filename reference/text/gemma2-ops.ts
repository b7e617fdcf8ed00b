/**
 * The Gemma-2 building blocks (transformers `modeling_gemma2.py`, eager path), on float32 storage.
 * Each op takes `round`, the model dtype's rounding of stored activations (identity for float32,
 * bf16 rounding for a bf16 model), applied where PyTorch would store a bf16 tensor.
 */

export type ActivationRound = (a: Float32Array) => Float32Array;

/**
 * Gemma RMSNorm over rows of length n: y = x / sqrt(mean(x²) + eps) · (1 + w), computed in float32
 * (weights stored zero-centred, hence 1 + w), then cast to the model dtype.  FLOPs ≈ 4 per element.
 */
export function gemmaRmsNorm(x: Float32Array, weight: Float32Array, eps: number, round: ActivationRound): Float32Array {
  const n = weight.length;
  const out = new Float32Array(x.length);
  const f = Math.fround;
  for (let r = 0; r < x.length / n; r++) {
    const o = r * n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[o + i]! * x[o + i]!;
    const inv = f(1 / Math.sqrt(f(f(ss / n) + f(eps))));
    for (let i = 0; i < n; i++) out[o + i] = f(f(x[o + i]! * inv) * f(1 + weight[i]!));
  }
  return round(out);
}

/**
 * Rotary position embedding tables (rotate-half convention, θ = rope_theta, full head_dim):
 *   inv_freq_k = 1 / θ^(2k/d), k < d/2;  angle(p, k) = p·inv_freq_k;  cos/sin over [angle, angle]
 * computed in float32 like transformers, then cast to the model dtype.  Returns (L, d) tables.
 */
export function ropeTables(seqLen: number, headDim: number, theta: number, round: ActivationRound): { cos: Float32Array; sin: Float32Array } {
  const f = Math.fround;
  const half = headDim / 2;
  const cos = new Float32Array(seqLen * headDim);
  const sin = new Float32Array(seqLen * headDim);
  for (let k = 0; k < half; k++) {
    const invFreq = f(1 / f(Math.pow(theta, f(f(2 * k) / headDim))));
    for (let p = 0; p < seqLen; p++) {
      const a = f(p * invFreq);
      const c = f(Math.cos(a));
      const s = f(Math.sin(a));
      cos[p * headDim + k] = c;
      cos[p * headDim + half + k] = c;
      sin[p * headDim + k] = s;
      sin[p * headDim + half + k] = s;
    }
  }
  return { cos: round(cos), sin: round(sin) };
}

/**
 * Apply RoPE in place to x laid out (L, heads, d) as it comes out of the projection:
 *   x' = x·cos + rotate_half(x)·sin,  rotate_half([x1, x2]) = [−x2, x1]  (6 flops per pair).
 */
export function applyRope(x: Float32Array, seqLen: number, heads: number, headDim: number, cos: Float32Array, sin: Float32Array, round: ActivationRound): Float32Array {
  const half = headDim / 2;
  for (let p = 0; p < seqLen; p++) {
    const t = p * headDim;
    for (let h = 0; h < heads; h++) {
      const o = (p * heads + h) * headDim;
      for (let k = 0; k < half; k++) {
        const x1 = x[o + k]!;
        const x2 = x[o + half + k]!;
        x[o + k] = x1 * cos[t + k]! - x2 * sin[t + k]!;
        x[o + half + k] = x2 * cos[t + half + k]! + x1 * sin[t + half + k]!;
      }
    }
  }
  return round(x);
}

export interface GqaAttentionShape {
  seqLen: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
}

export interface GqaAttentionRule {
  /** Multiplies q·k (Gemma-2: query_pre_attn_scalar^−½). */
  scaling: number;
  /** cap·tanh(s/cap) on the scaled logits, before masking (null: none). */
  softcap: number | null;
  /** Only keys with q − k < window are visible (null: all earlier keys). */
  window: number | null;
  /** Per key position: 1 = token, 0 = padding (excluded as a key). */
  keyMask: ArrayLike<number>;
}

/**
 * Causal grouped-query attention for one sequence. q: (L, Hq, d), k/v: (L, Hkv, d) → (L, Hq·d).
 * Query head h reads KV head ⌊h / (Hq/Hkv)⌋ (transformers' repeat_kv).
 *   s_ij = softcap(scaling · q_i·k_j) for visible j (j ≤ i, mask_j = 1, i − j < window)
 *   out_i = Σ_j softmax_j(s_ij) · v_j          FLOPs ≈ 4·L²·Hq·d (half of it masked away).
 * The softmax is in float32 (accumulated in float64 here), its probabilities cast to the model dtype.
 * A query that sees no key at all (a padded position whose window holds only padding) gets what
 * transformers' eager path gives: every logit plus the float32-min mask rounds to the same value, so
 * the softmax is uniform over all L positions. SANA never uses such positions (they are masked keys).
 */
export function causalGqaAttention(q: Float32Array, k: Float32Array, v: Float32Array, shape: GqaAttentionShape, rule: GqaAttentionRule, round: ActivationRound): Float32Array {
  const { seqLen: L, numHeads: Hq, numKvHeads: Hkv, headDim: d } = shape;
  const group = Hq / Hkv;
  const out = new Float32Array(L * Hq * d);
  const scores = new Float32Array(L);
  const f = Math.fround;
  for (let h = 0; h < Hq; h++) {
    const kvh = Math.floor(h / group);
    for (let i = 0; i < L; i++) {
      const qo = (i * Hq + h) * d;
      let max = -Infinity;
      let visible = 0;
      const lo = rule.window === null ? 0 : Math.max(0, i - rule.window + 1);
      for (let j = lo; j <= i; j++) {
        if (rule.keyMask[j] === 0) continue;
        const ko = (j * Hkv + kvh) * d;
        let dot = 0;
        for (let c = 0; c < d; c++) dot += q[qo + c]! * k[ko + c]!;
        let s = f(f(dot) * f(rule.scaling));
        if (rule.softcap !== null) s = f(f(Math.tanh(f(s / rule.softcap))) * f(rule.softcap));
        scores[j] = s;
        if (s > max) max = s;
        visible++;
      }
      const oo = (i * Hq + h) * d;
      if (visible === 0) {
        // HF eager: all L logits equal (min_dtype absorbs them) → uniform weights 1/L, future keys included.
        const pu = round(Float32Array.of(1 / L))[0]!;
        for (let c = 0; c < d; c++) {
          let acc = 0;
          for (let j = 0; j < L; j++) acc += pu * v[(j * Hkv + kvh) * d + c]!;
          out[oo + c] = acc;
        }
        continue;
      }
      let sum = 0;
      for (let j = lo; j <= i; j++) if (rule.keyMask[j] !== 0) sum += Math.exp(scores[j]! - max);
      const probs = new Float32Array(i + 1 - lo);
      for (let j = lo; j <= i; j++) probs[j - lo] = rule.keyMask[j] === 0 ? 0 : Math.exp(scores[j]! - max) / sum;
      round(probs);
      for (let c = 0; c < d; c++) {
        let acc = 0;
        for (let j = lo; j <= i; j++) acc += probs[j - lo]! * v[(j * Hkv + kvh) * d + c]!;
        out[oo + c] = acc;
      }
    }
  }
  return round(out);
}
