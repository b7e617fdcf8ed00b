/**
 * ReLU attention on LiteMLA's packed head layout (the attention core of DC-AE's EfficientViT block).
 *
 * Input: (B, G·3d, H, W). Each of the G heads owns 3d consecutive channels: q = the first d,
 * k = the next d, v = the last d, over N = H·W positions (diffusers: reshape(B, −1, 3d, N).chunk(3)).
 * Kernel φ = ReLU on q and k (not v). Output: (B, G·d, H, W), head g in channels [g·d, (g+1)·d).
 *
 * Linear form (used when N > d), with ṽ = [v; 1] ∈ R^{(d+1)×N}:
 *   VK = ṽ · φ(K)ᵀ             (d+1)×d        2·(d+1)·d·N FLOPs
 *   O  = VK · φ(Q)             (d+1)×N        2·(d+1)·d·N FLOPs
 *   out[:, n] = O[:d, n] / (O[d, n] + eps)
 * i.e. out_n = Σ_m v_m (φ(k_m)·φ(q_n)) / (Σ_m φ(k_m)·φ(q_n) + eps), linear in N.
 *
 * Quadratic form (used when N ≤ d, where it is cheaper; same math up to where eps enters):
 *   S = φ(K)ᵀ · φ(Q)           N×N, S[m, n] = φ(k_m)·φ(q_n)
 *   S[m, n] ← S[m, n] / (Σ_m' S[m', n] + eps)        normalise over keys
 *   out = V · S                d×N
 *
 * eps = 1e-15 (diffusers hard-codes it; the original DC-AE uses the same default).
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { nchw } from './elementwise.js';
import { accumulatorRound, type DcaeOpOptions } from './params.js';

export const LITE_MLA_EPS = 1e-15;

function packedHeads(x: Tensor, d: number, op: string): { B: number; G: number; N: number; H: number; W: number } {
  const [B, C, H, W] = nchw(x, op);
  if (!Number.isSafeInteger(d) || d < 1 || C % (3 * d) !== 0) {
    throw new RangeError(`${op}: ${C} channels of ${shapeStr(x.shape)} are not heads of 3·${d} (q, k, v) channels`);
  }
  return { B, G: C / (3 * d), N: H * W, H, W };
}

export function packedReluLinearAttention(qkv: Tensor, d: number, eps = LITE_MLA_EPS, opts: DcaeOpOptions = {}): Tensor {
  const { B, G, N, H, W } = packedHeads(qkv, d, 'packedReluLinearAttention');
  const xs = qkv.toFloat32();
  const r = accumulatorRound(opts);
  const out = new Float32Array(B * G * d * N);
  const vk = new Float64Array((d + 1) * d);
  const kRelu = new Float64Array(d * N);
  for (let bg = 0; bg < B * G; bg++) {
    const q0 = bg * 3 * d * N;
    const k0 = q0 + d * N;
    const v0 = k0 + d * N;
    for (let i = 0; i < d * N; i++) kRelu[i] = Math.max(xs[k0 + i]!, 0);
    // VK = [v; 1] · φ(K)ᵀ
    for (let i = 0; i <= d; i++) {
      for (let c = 0; c < d; c++) {
        let s = 0;
        for (let m = 0; m < N; m++) {
          const v = i < d ? xs[v0 + i * N + m]! : 1;
          s = r(s + r(v * kRelu[c * N + m]!));
        }
        vk[i * d + c] = s;
      }
    }
    // O = VK · φ(Q), then divide by the last row
    const o0 = bg * d * N;
    for (let n = 0; n < N; n++) {
      let den = 0;
      for (let c = 0; c < d; c++) den = r(den + r(vk[d * d + c]! * Math.max(xs[q0 + c * N + n]!, 0)));
      for (let i = 0; i < d; i++) {
        let num = 0;
        for (let c = 0; c < d; c++) num = r(num + r(vk[i * d + c]! * Math.max(xs[q0 + c * N + n]!, 0)));
        out[o0 + i * N + n] = num / r(den + eps);
      }
    }
  }
  return new Tensor([B, G * d, H, W], 'f32', out);
}

export function packedReluQuadraticAttention(qkv: Tensor, d: number, eps = LITE_MLA_EPS, opts: DcaeOpOptions = {}): Tensor {
  const { B, G, N, H, W } = packedHeads(qkv, d, 'packedReluQuadraticAttention');
  const xs = qkv.toFloat32();
  const r = accumulatorRound(opts);
  const out = new Float32Array(B * G * d * N);
  const S = new Float64Array(N * N);
  for (let bg = 0; bg < B * G; bg++) {
    const q0 = bg * 3 * d * N;
    const k0 = q0 + d * N;
    const v0 = k0 + d * N;
    // S[m, n] = φ(k_m) · φ(q_n)
    for (let m = 0; m < N; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let c = 0; c < d; c++) s = r(s + r(Math.max(xs[k0 + c * N + m]!, 0) * Math.max(xs[q0 + c * N + n]!, 0)));
        S[m * N + n] = s;
      }
    }
    // normalise every query column over the keys
    for (let n = 0; n < N; n++) {
      let colSum = 0;
      for (let m = 0; m < N; m++) colSum = r(colSum + S[m * N + n]!);
      const den = r(colSum + eps);
      for (let m = 0; m < N; m++) S[m * N + n] = r(S[m * N + n]! / den);
    }
    // out = V · S
    const o0 = bg * d * N;
    for (let i = 0; i < d; i++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let m = 0; m < N; m++) s = r(s + r(xs[v0 + i * N + m]! * S[m * N + n]!));
        out[o0 + i * N + n] = s;
      }
    }
  }
  return new Tensor([B, G * d, H, W], 'f32', out);
}
