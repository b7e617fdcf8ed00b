/**
 * SANA's ReLU linear attention (LiteLA / diffusers SanaLinearAttnProcessor2_0).
 *
 * Per batch item and head (head h owns channels [h·d, (h+1)·d) of the token-major (B, N, H·d) tensors),
 * with φ = ReLU applied to q and k only (v is not rectified, there is no 1/√d scaling):
 *
 *   out_n = Σ_m v_m (φ(k_m) · φ(q_n)) / (Σ_m φ(k_m) · φ(q_n) + eps)
 *
 * computed in linear time with the "ones-row trick": append a row of ones to Vᵀ so that a single
 * product also yields the denominator,
 *
 *   Ṽ = [Vᵀ; 1ᵀ] ∈ R^{(d+1)×M},  VK = Ṽ · φ(K) ∈ R^{(d+1)×d},  O = VK · φ(Q)ᵀ ∈ R^{(d+1)×N},
 *   out = O[0:d] / (O[d] + eps).
 *
 * eps: 1e-15 as diffusers (default), 1e-8 as NVlabs/Sana (`eps: 1e-8`). A query whose φ(q) is zero
 * on every channel where Σ_m φ(k_m) is non-zero has O = 0 and gets output 0 (0 / eps).
 * VK and O are stored in float32 (as diffusers' fp32 upcast); each product accumulates in float64
 * (default) or float32 (`accumulate: 'f32'`, every partial sum rounded).
 *
 * FLOPs of the core: 4·B·N·C·(d+1) (two (d+1)×d×N products per head; M = N for self-attention)
 * plus the projections 8·B·N·C² (q, k, v, out).
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { linear, type AccumulateOption } from './linear.js';

/** Denominator eps used by diffusers (hard-coded there). */
export const LINEAR_ATTENTION_EPS_DIFFUSERS = 1e-15;
/** Denominator eps used by the NVlabs/Sana blocks (LiteLA(eps=1e-8)). */
export const LINEAR_ATTENTION_EPS_SANA = 1e-8;

export interface LinearAttentionOptions extends AccumulateOption {
  /** Number of heads H; the channel count must be a multiple of it (SANA: head dim 32). */
  heads: number;
  /** Denominator eps (default 1e-15, diffusers). */
  eps?: number;
}

/**
 * The attention core: q (B, N, H·d), k and v (B, M, H·d), token-major. ReLU is applied to q and k
 * here. Returns (B, N, H·d) float32.
 */
export function reluLinearAttention(q: Tensor, k: Tensor, v: Tensor, opts: LinearAttentionOptions): Tensor {
  const op = 'reluLinearAttention';
  if (q.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3) {
    throw new RangeError(`${op}: want q, k, v of shape (B, N, C), got ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`);
  }
  const [B, N, C] = q.shape as [number, number, number];
  const M = k.shape[1]!;
  if (k.shape[0] !== B || v.shape[0] !== B || k.shape[2] !== C || v.shape[2] !== C || v.shape[1] !== M) {
    throw new RangeError(`${op}: q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)} do not agree (want (B,N,C), (B,M,C), (B,M,C))`);
  }
  const H = opts.heads;
  if (!Number.isSafeInteger(H) || H < 1 || C % H !== 0) {
    throw new RangeError(`${op}: ${C} channels cannot be split into ${H} heads`);
  }
  const d = C / H;
  const eps = opts.eps ?? LINEAR_ATTENTION_EPS_DIFFUSERS;
  const f32 = opts.accumulate === 'f32';
  const qs = q.toFloat32();
  const ks = k.toFloat32();
  const vs = v.toFloat32();
  const out = new Float32Array(B * N * C);
  const vk = new Float32Array((d + 1) * d); // row i < d: Σ_m v[m,i]·φ(k[m,j]); row d: Σ_m φ(k[m,j])
  const o = new Float32Array(d + 1);
  const phiQ = new Float32Array(d);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const c0 = h * d;
      // VK = [Vᵀ; 1] · φ(K)
      for (let i = 0; i <= d; i++) {
        for (let j = 0; j < d; j++) {
          let acc = 0;
          for (let m = 0; m < M; m++) {
            const row = (b * M + m) * C + c0;
            const kj = ks[row + j]!;
            if (kj <= 0) continue; // φ(k) = ReLU(k) = 0 contributes nothing (NaN still propagates)
            const vi = i < d ? vs[row + i]! : 1;
            acc = f32 ? Math.fround(acc + Math.fround(vi * kj)) : acc + vi * kj;
          }
          vk[i * d + j] = acc;
        }
      }
      // O = VK · φ(q_n), out_n = O[0:d] / (O[d] + eps)
      for (let n = 0; n < N; n++) {
        const row = (b * N + n) * C + c0;
        for (let j = 0; j < d; j++) {
          const qj = qs[row + j]!;
          phiQ[j] = qj < 0 ? 0 : qj; // ReLU, NaN propagates
        }
        for (let i = 0; i <= d; i++) {
          let acc = 0;
          for (let j = 0; j < d; j++) {
            const p = vk[i * d + j]! * phiQ[j]!;
            acc = f32 ? Math.fround(acc + Math.fround(p)) : acc + p;
          }
          o[i] = acc;
        }
        const den = Math.fround(o[d]! + eps);
        for (let i = 0; i < d; i++) out[row + i] = o[i]! / den;
      }
    }
  }
  return new Tensor([B, N, C], 'f32', out);
}

/** Parameters of a linear-attention module, diffusers names: to_q, to_k, to_v (bias optional), to_out.0. */
export interface LinearAttentionWeights {
  toQ: Tensor;
  toK: Tensor;
  toV: Tensor;
  toQBias?: Tensor | null;
  toKBias?: Tensor | null;
  toVBias?: Tensor | null;
  toOut: Tensor;
  toOutBias: Tensor | null;
}

/**
 * The full self-attention module of a SANA block (attn1): q, k, v = x·W_{q,k,v}ᵀ (no bias in SANA),
 * the ReLU linear attention core, then the output projection (with bias). x: (B, N, C) → (B, N, C).
 */
export function linearAttentionModule(x: Tensor, w: LinearAttentionWeights, opts: LinearAttentionOptions): Tensor {
  if (x.ndim !== 3) throw new RangeError(`linearAttentionModule: want x (B, N, C), got ${shapeStr(x.shape)}`);
  const acc = { accumulate: opts.accumulate };
  const q = linear(x, w.toQ, w.toQBias ?? null, acc);
  const k = linear(x, w.toK, w.toKBias ?? null, acc);
  const v = linear(x, w.toV, w.toVBias ?? null, acc);
  return linear(reluLinearAttention(q, k, v, opts), w.toOut, w.toOutBias, acc);
}
