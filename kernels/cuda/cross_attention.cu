// Op `cross-attention`: SANA's text cross-attention module (diffusers attn2), heads of d = C / heads:
//   q = x·Wqᵀ + bq (B·N × C), k = y·Wkᵀ + bk, v = y·Wvᵀ + bv (B·L × C)          three gemms
//   o_n = Σ_m softmax_m(q_n·k_m / √d + mask_bias[b, m]) v_m   per head         the core (versions below)
//   out = residual + o·Woᵀ + bo                                                 gemm, residual fused
// L ≤ 300 text tokens in SANA (d = 72 for 0.6B, 112 for 1.6B). Intermediates in the op's dtype.
// Precomputed k, v (B, L, C) (a runner projects the text once per prompt) skip the two text gemms; the
// core reads them in place (every version; cores v2, v3 need them 16-byte aligned, as the scratch rows are).
// FLOPs 2·B·(N·C·C·2 + L·Cy·C·2) + 4·B·N·L·C; minimal bytes (B·N·C·2 + B·L·Cy)·sizeof(T) + weights;
// the core alone: 4·B·N·L·C FLOPs over (2·B·N·C + 2·B·L·C)·sizeof(T) bytes ≈ L FLOP/B in bf16:
// compute-bound on tensor cores for L ≈ 300.
//
// Versions of the core (xattn_core; the op's versions below pick one):
//   core v1  SIMT, one warp per (query, batch·head): lanes over 32 keys at a time (q·k from the query in
//       shared memory), online softmax with warp max/sum, then each lane accumulates its channels
//       (lane + 32u) of Σ p·v with p broadcast by shuffles. K/V re-read per query from L1/L2. d ≤ 128.
//   core v2  flash-style on tensor cores (bf16, d % 8 == 0, d ≤ 128): 64 queries per block (4 warps × 16),
//       K/V in blocks of 64 keys staged in padded shared memory (head dim padded to 16 with zeros),
//       S = Q·Kᵀ and O += P·V by mma.sync m16n8k16 with f32 accumulators, the online softmax on the
//       S fragments in registers (quad shuffles), P re-packed to bf16 straight from the S fragment
//       into the A operand (the FlashAttention-2 layout identity), V read with ldmatrix.trans.
//   core v3  v2's arithmetic reorganised for SANA's short text (L ≤ 300; bf16, d % 8 == 0, d ≤ 128, the
//       head's K and V within the device's shared memory per block: L ≤ 640 at d = 72, 416 at d = 128):
//       128 queries per block (8 warps × 16); every key and value of the (batch, head) copied once per
//       block by cp.async in two groups (the first 64 keys, the rest — which land while the first step
//       computes) into rows padded by 16 bytes (ldmatrix conflict-free); 2 barriers per block in all; the
//       online softmax walks 64-key steps with no barrier; keys padded to 16 (304 for 300), not 64; the
//       P·V tile past d skipped (9 mma.sync per 16 keys at d = 72, not 10); Q's A fragments loaded from
//       global memory straight into registers; logits in the log₂ domain in one FMA, s·(scale·log₂e) +
//       mask·log₂e, with the mask pre-multiplied into shared memory (−∞ on the padding keys), and exp2f;
//       the padded head dim a template parameter (fully unrolled loops, accumulators sized to it).
//
// Why core v2 is slow at SANA's shapes (H200, Sana-0.6B 4096², batch 2: 0.92 ms, 49 TFLOP/s, vs SDPA's
// 0.58 ms; ptxas sm_90a: 191 registers, no spills → 2 blocks = 8 warps per SM, 34 KB of shared memory):
//   - its K/V staging is synchronous: each 64-key block is loaded global → registers → shared memory by
//     the same threads that then compute, between two __syncthreads, so nothing is in flight during the
//     mma work and no mma runs during the loads; with 8 warps per SM the L2 latency is exposed 5× per
//     block (L = 300: 5 key blocks, 10 barriers);
//   - 64 queries per block re-stage the whole head's K/V (320 × 80 × 2 × 2 B = 100 KB) per block: 8192
//     blocks move 0.84 GB from L2 for 0.15 GB of q and out;
//   - padding: L = 300 runs as 320 keys (7%), d = 72 as 80 in both products (11%): 53.7 GFLOP executed
//     for 45.3 useful;
//   - the softmax reads the mask from global memory for every logit (scalar loads behind `key < L`
//     branches) and spends a multiply, an add and expf (ex2 + another multiply) per logit;
//   - d is a run-time value: loops over kMaxD = 128 with breaks, 16 accumulator tiles held for d = 72.
// Not done yet (next): Q·Kᵀ at k = 72 (an m16n8k8 for the last 8 channels), K/V reuse across query
// tiles (a persistent block per head, or TMA multicast in a cluster), the products on wgmma (FA3-style).
//
// Versions of the op (the gemms use the default gemm for the dtype, or the wgmma engine):
//   v1, v2  the projections around core v1 / core v2.
//   v3  core v2 with the four projections (≈ 80% of the op's FLOPs at SANA's C = 1152, L = 300) on
//       the Hopper wgmma engine (gemm v3). bf16, C, Cy and d divisible by 8, an sm_90 GPU. The default
//       wherever it can run (H200: 1.33 ms vs v2's 1.75 ms at Sana-0.6B 4096², batch 2 — both
//       behind torch's 0.58 ms, whose flash core is faster than v2's); else v2, else v1.
//   v4  core v3 with the projections on the wgmma engine, as v3 (same needs, plus K/V of a head within
//       shared memory). Explicit only: version 0 keeps choosing v3 until a GPU has timed v4 (written
//       2026-11, emulator parity only). Core v3 at Sana-0.6B 4096², batch 2 (N 16384, L 300, 16 heads of
//       72): 45.3 GFLOP useful, 48.5 executed (Lk 304, Q·Kᵀ at k 80, P·V at n 72); HBM 0.15 GB (q, out;
//       K/V 2.8 MB); L2 → SM 0.40 GB of K/V staging (4096 blocks × 97 KB); 2 blocks of 8 warps per SM
//       (127 registers, 105 KB of shared memory each). Predicted ≈ 0.2 ms (mma.sync at ~450–600 TFLOP/s
//       gives 0.08–0.11 ms; 159 M exp2 at 16 per SM-clock 0.04 ms; the rest softmax ALU work and the
//       one exposed K/V load per block) vs v2's 0.92 ms; at 1024² (N 1024, 256 blocks: one wave) ≈ 10 µs,
//       so the whole op ≈ 0.09 ms (v3 0.14 ms, torch 0.065), then bound by its small-M projections.
#include <atomic>
#include <cmath>

#include "sana/cross_attention_checks.h"
#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/internal.h"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// ---------------------------------------------------------------- v1
constexpr int kV1Warps = 8, kMaxD = plan::kXaMaxHeadDim;

template <typename T>
__global__ void __launch_bounds__(kV1Warps * 32) xattn_v1(const T* __restrict__ q, int64_t ldq, const T* __restrict__ k, int64_t ldk,
                                                         const T* __restrict__ v, int64_t ldv, const T* __restrict__ mask, int64_t mask_ld,
                                                         T* __restrict__ out, int64_t ldo, int64_t N, int64_t L, int H, int d, float scale) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  __shared__ float qs[kV1Warps][kMaxD];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t bh = blockIdx.y, b = bh / H;
  const int h = static_cast<int>(bh % H);
  const int64_t n = blockIdx.x * int64_t{kV1Warps} + warp;
  if (n >= N) return;  // the whole warp leaves; only warp-level sync below
  const int64_t hd = int64_t{h} * d;
  for (int c = lane; c < d; c += 32) qs[warp][c] = ldf(q[(b * N + n) * ldq + hd + c]);
  __syncwarp();
  float m_run = -INFINITY, l_run = 0.0f, o[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int64_t j0 = 0; j0 < L; j0 += 32) {
    const int64_t j = j0 + lane;
    float s = -INFINITY;
    if (j < L) {
      const T* kr = k + (b * L + j) * ldk + hd;
      float acc = 0.0f;
      for (int c = 0; c < d; ++c) acc = fmaf(qs[warp][c], ldf(kr[c]), acc);
      s = acc * scale + (mask ? ldf(mask[b * mask_ld + j]) : 0.0f);
    }
    const float m_new = fmaxf(m_run, warp_max(s));
    const float m_use = m_new == -INFINITY ? 0.0f : m_new;  // all −∞ so far: keep exp() finite
    const float p = j < L ? expf(s - m_use) : 0.0f;
    const float corr = expf(m_run - m_use);
    l_run = l_run * corr + warp_sum(p);
#pragma unroll
    for (int u = 0; u < 4; ++u) o[u] *= corr;
    const int cnt = static_cast<int>(L - j0 < 32 ? L - j0 : 32);
    for (int t = 0; t < cnt; ++t) {
      const float pt = __shfl_sync(0xffffffffu, p, t);
      const T* vr = v + (b * L + j0 + t) * ldv + hd;
#pragma unroll
      for (int u = 0; u < 4; ++u) {
        const int c = lane + 32 * u;
        if (c < d) o[u] = fmaf(pt, ldf(vr[c]), o[u]);
      }
    }
    m_run = m_new;
  }
#pragma unroll
  for (int u = 0; u < 4; ++u) {
    const int c = lane + 32 * u;
    if (c < d) out[(b * N + n) * ldo + hd + c] = stf<T>(o[u] / l_run);
  }
}

// ---------------------------------------------------------------- v2 (tensor cores)
constexpr int QB = plan::kXaQueries, KB = plan::kXaKeys;

using ptx::smem_u32;
__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

// One online-softmax step (cores v2 and v3) for the two rows a thread holds in mma.sync fragments (g and
// g + 8 of its warp's 16 queries; a row's keys live in one quad of lanes): s[nt][2r], s[nt][2r + 1] are
// row r's logits in key block nt. Raises the running maximum m_run, replaces s by exp(s − max), adds
// their sum to l_run, and rescales l_run and the output fragments o by exp(old max − new max). kExp2: the
// logits are in the log₂ domain (core v3: exp2f); else natural (core v2: expf).
template <bool kExp2, int SN, int ON>
__device__ __forceinline__ void online_softmax_step(float (&s)[SN][4], float (&o)[ON][4], float (&m_run)[2], float (&l_run)[2]) {
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    float mx = -INFINITY;
#pragma unroll
    for (int nt = 0; nt < SN; ++nt) mx = fmaxf(mx, fmaxf(s[nt][2 * r], s[nt][2 * r + 1]));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
    const float m_new = fmaxf(m_run[r], mx);
    const float m_use = m_new == -INFINITY ? 0.0f : m_new;  // every logit −∞ so far: keep exp() finite
    const float corr = kExp2 ? exp2f(m_run[r] - m_use) : expf(m_run[r] - m_use);
    float sum = 0.0f;
#pragma unroll
    for (int nt = 0; nt < SN; ++nt) {
      s[nt][2 * r] = kExp2 ? exp2f(s[nt][2 * r] - m_use) : expf(s[nt][2 * r] - m_use);
      s[nt][2 * r + 1] = kExp2 ? exp2f(s[nt][2 * r + 1] - m_use) : expf(s[nt][2 * r + 1] - m_use);
      sum += s[nt][2 * r] + s[nt][2 * r + 1];
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    sum += __shfl_xor_sync(0xffffffffu, sum, 2);
    l_run[r] = l_run[r] * corr + sum;
    m_run[r] = m_new;
#pragma unroll
    for (int nt = 0; nt < ON; ++nt) {
      o[nt][2 * r] *= corr;
      o[nt][2 * r + 1] *= corr;
    }
  }
}

__global__ void __launch_bounds__(128) xattn_v2(const bf16* __restrict__ q, int64_t ldq, const bf16* __restrict__ k, int64_t ldk,
                                                const bf16* __restrict__ v, int64_t ldv, const bf16* __restrict__ mask, int64_t mask_ld,
                                                bf16* __restrict__ out, int64_t ldo, int64_t N, int64_t L, int H, int d, float scale) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  extern __shared__ __align__(16) uint8_t smem_raw[];
  const int DP = (d + 15) / 16 * 16, stride = DP + 8, cpr = DP / 8;  // row stride (DP + 8)·2 bytes: ldmatrix conflict-free
  bf16* sq = reinterpret_cast<bf16*>(smem_raw);
  bf16* sk = sq + QB * stride;
  bf16* sv = sk + KB * stride;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int64_t bh = blockIdx.y, b = bh / H;
  const int64_t hd = (bh % H) * d;
  const int64_t n0 = blockIdx.x * int64_t{QB};
  const uint4 zero = make_uint4(0, 0, 0, 0);

  for (int idx = tid; idx < QB * cpr; idx += 128) {
    const int r = idx / cpr, c8 = (idx % cpr) * 8;
    const int64_t n = n0 + r;
    uint4 val = zero;
    if (n < N && c8 < d) val = *reinterpret_cast<const uint4*>(q + (b * N + n) * ldq + hd + c8);
    *reinterpret_cast<uint4*>(sq + r * stride + c8) = val;
  }
  __syncthreads();
  uint32_t qf[kMaxD / 16][4];
#pragma unroll
  for (int kt = 0; kt < kMaxD / 16; ++kt) {
    if (kt * 16 < DP) ptx::ldmatrix_x4(qf[kt], smem_u32(sq + (warp * 16 + lane % 16) * stride + kt * 16 + (lane / 16) * 8));
  }
  float o[kMaxD / 8][4];
#pragma unroll
  for (int nt = 0; nt < kMaxD / 8; ++nt)
#pragma unroll
    for (int e = 0; e < 4; ++e) o[nt][e] = 0.0f;
  float m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.0f, 0.0f};

  for (int64_t j0 = 0; j0 < L; j0 += KB) {
    __syncthreads();  // the previous K/V block is consumed
    for (int idx = tid; idx < KB * cpr; idx += 128) {
      const int r = idx / cpr, c8 = (idx % cpr) * 8;
      const int64_t j = j0 + r;
      uint4 kv = zero, vv = zero;
      if (j < L && c8 < d) {
        kv = *reinterpret_cast<const uint4*>(k + (b * L + j) * ldk + hd + c8);
        vv = *reinterpret_cast<const uint4*>(v + (b * L + j) * ldv + hd + c8);
      }
      *reinterpret_cast<uint4*>(sk + r * stride + c8) = kv;
      *reinterpret_cast<uint4*>(sv + r * stride + c8) = vv;
    }
    __syncthreads();

    // S = Q·Kᵀ for this warp's 16 queries × 64 keys (8 n8 tiles)
    float s[KB / 8][4];
#pragma unroll
    for (int nt = 0; nt < KB / 8; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) s[nt][e] = 0.0f;
    const int mi = lane / 8;
#pragma unroll
    for (int kt = 0; kt < kMaxD / 16; ++kt) {
      if (kt * 16 >= DP) break;
#pragma unroll
      for (int np = 0; np < KB / 16; ++np) {
        uint32_t t[4];
        ptx::ldmatrix_x4(t, smem_u32(sk + (np * 16 + (mi / 2) * 8 + lane % 8) * stride + kt * 16 + (mi % 2) * 8));
        ptx::mma_m16n8k16_bf16(s[2 * np], qf[kt], t[0], t[1]);
        ptx::mma_m16n8k16_bf16(s[2 * np + 1], qf[kt], t[2], t[3]);
      }
    }
    // scale, mask, online softmax (rows g = lane / 4 and g + 8; a row's 64 keys live in one quad)
#pragma unroll
    for (int nt = 0; nt < KB / 8; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int64_t key = j0 + nt * 8 + 2 * (lane % 4) + (e & 1);
        s[nt][e] = key < L ? s[nt][e] * scale + (mask ? __bfloat162float(mask[b * mask_ld + key]) : 0.0f) : -INFINITY;
      }
    online_softmax_step<false>(s, o, m_run, l_run);
    // O += P·V: P's S fragments are the A fragments of m16n8k16 over 16 keys
#pragma unroll
    for (int kk = 0; kk < KB / 16; ++kk) {
      const uint32_t a[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]), pack_bf16(s[2 * kk][2], s[2 * kk][3]),
                             pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int np = 0; np < kMaxD / 16; ++np) {
        if (np * 16 >= DP) break;
        uint32_t t[4];
        ptx::ldmatrix_x4_trans(t, smem_u32(sv + (kk * 16 + (mi % 2) * 8 + lane % 8) * stride + np * 16 + (mi / 2) * 8));
        ptx::mma_m16n8k16_bf16(o[2 * np], a, t[0], t[1]);
        ptx::mma_m16n8k16_bf16(o[2 * np + 1], a, t[2], t[3]);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t n = n0 + warp * 16 + lane / 4 + 8 * r;
    if (n >= N) continue;
    const float inv = 1.0f / l_run[r];
#pragma unroll
    for (int nt = 0; nt < kMaxD / 8; ++nt) {
      const int c = nt * 8 + 2 * (lane % 4);
      if (c >= d) break;
      bf16* dst = out + (b * N + n) * ldo + hd + c;
      dst[0] = __float2bfloat16_rn(o[nt][2 * r] * inv);
      dst[1] = __float2bfloat16_rn(o[nt][2 * r + 1] * inv);  // d % 8 == 0: c + 1 < d
    }
  }
}

// ---------------------------------------------------------------- v3 (tensor cores, the head's K/V resident)
constexpr int kV3Queries = plan::kXaV3Queries, kV3Threads = plan::kXaV3Threads, kV3Step = plan::kXaV3Step;
constexpr float kLog2e = 1.4426950408889634f;
using ptx::ldmatrix_x4_trans;  // called unqualified below: a mutant (kernels/emu/mutants.mjs) edits v2's qualified call

// DP = the head dim padded to 16 (the k extent of Q·Kᵀ); the P·V n-tiles past d are skipped. 2 blocks of
// 8 warps per SM up to DP = 80 (≤ 128 registers; 105 KB of shared memory each at L = 300, d = 72).
template <int DP>
__global__ void __launch_bounds__(kV3Threads, DP <= 80 ? 2 : 1)
    xattn_v3(const bf16* __restrict__ q, int64_t ldq, const bf16* __restrict__ k, int64_t ldk, const bf16* __restrict__ v, int64_t ldv,
             const bf16* __restrict__ mask, int64_t mask_ld, bf16* __restrict__ out, int64_t ldo, int64_t N, int64_t L, int H, int d,
             float scale_log2e) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  constexpr int KT = DP / 16, NT = DP / 8, stride = DP + 8, cpr = DP / 8, S8 = kV3Step / 8;
  extern __shared__ __align__(16) uint8_t smem_raw[];
  const int Lk = static_cast<int>((L + 15) / 16 * 16);  // keys rounded up to the 16 of one P·V step
  bf16* sk = reinterpret_cast<bf16*>(smem_raw);
  bf16* sv = sk + Lk * stride;
  float* smask = reinterpret_cast<float*>(sv + Lk * stride);  // mask bias · log₂e; −∞ past L
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int64_t bh = blockIdx.y, b = bh / H;
  const int64_t hd = (bh % H) * d;
  const int64_t n0 = blockIdx.x * int64_t{kV3Queries};
  const bf16* kb = k + b * L * ldk + hd;
  const bf16* vb = v + b * L * ldv + hd;

  // All of K and V by cp.async, zero-filled past L and d (P·V multiplies the padding by p = 0, which
  // must not meet a NaN): group 0 the first step's rows, group 1 the rest, which lands while step 0 runs.
  auto stage = [&](int r0, int r1) {
    for (int idx = r0 * cpr + tid; idx < r1 * cpr; idx += kV3Threads) {
      const int r = idx / cpr, c8 = (idx % cpr) * 8;
      const bool ok = r < L && c8 < d;
      const int64_t rr = ok ? r : 0, cc = ok ? c8 : 0;  // a valid address even when nothing is copied
      ptx::cp_async16(smem_u32(sk + r * stride + c8), kb + rr * ldk + cc, ok);
      ptx::cp_async16(smem_u32(sv + r * stride + c8), vb + rr * ldv + cc, ok);
    }
    ptx::cp_async_commit();
  };
  const int first = Lk < kV3Step ? Lk : kV3Step;
  stage(0, first);
  stage(first, Lk);
  for (int j = tid; j < Lk; j += kV3Threads) smask[j] = j < L ? (mask ? __bfloat162float(mask[b * mask_ld + j]) * kLog2e : 0.0f) : -INFINITY;

  // This warp's 16 queries as A fragments, straight from global memory into registers for the whole
  // block (a0: row g, columns 2c…; a1: row g + 8; a2, a3: the same 8 columns on), zero past N and d.
  const int g = lane / 4, c2 = 2 * (lane % 4), mi = lane / 8;
  uint32_t qf[KT][4];
#pragma unroll
  for (int kt = 0; kt < KT; ++kt)
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int64_t n = n0 + warp * 16 + g + (e & 1) * 8;
      const int c = kt * 16 + c2 + (e / 2) * 8;
      qf[kt][e] = n < N && c < d ? *reinterpret_cast<const uint32_t*>(q + (b * N + n) * ldq + hd + c) : 0u;
    }
  float o[NT][4];
#pragma unroll
  for (int nt = 0; nt < NT; ++nt)
#pragma unroll
    for (int e = 0; e < 4; ++e) o[nt][e] = 0.0f;
  float m_run[2] = {-INFINITY, -INFINITY}, l_run[2] = {0.0f, 0.0f};  // in the log₂ domain

  ptx::cp_async_wait<1>();
  __syncthreads();  // step 0's keys and values and the mask are in
  for (int j0 = 0; j0 < Lk; j0 += kV3Step) {
    if (j0 == kV3Step) {  // the only other barrier: the rest of K and V are in
      ptx::cp_async_wait<0>();
      __syncthreads();
    }
    // S = Q·Kᵀ for 16 queries × up to 64 keys (n8 tiles past Lk are skipped, their logits −∞)
    float s[S8][4];
#pragma unroll
    for (int nt = 0; nt < S8; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) s[nt][e] = 0.0f;
#pragma unroll
    for (int kt = 0; kt < KT; ++kt)
#pragma unroll
      for (int np = 0; np < S8 / 2; ++np) {
        if (j0 + np * 16 >= Lk) break;
        uint32_t t[4];
        ptx::ldmatrix_x4(t, smem_u32(sk + (j0 + np * 16 + (mi / 2) * 8 + lane % 8) * stride + kt * 16 + (mi % 2) * 8));
        ptx::mma_m16n8k16_bf16(s[2 * np], qf[kt], t[0], t[1]);
        ptx::mma_m16n8k16_bf16(s[2 * np + 1], qf[kt], t[2], t[3]);
      }
    // logits in the log₂ domain, one FMA each: s·(scale·log₂e) + mask·log₂e
#pragma unroll
    for (int nt = 0; nt < S8; ++nt) {
      const int key = j0 + nt * 8 + c2;
      if (key < Lk) {
        const float2 mk = *reinterpret_cast<const float2*>(smask + key);
        s[nt][0] = fmaf(s[nt][0], scale_log2e, mk.x);
        s[nt][1] = fmaf(s[nt][1], scale_log2e, mk.y);
        s[nt][2] = fmaf(s[nt][2], scale_log2e, mk.x);
        s[nt][3] = fmaf(s[nt][3], scale_log2e, mk.y);
      } else {
#pragma unroll
        for (int e = 0; e < 4; ++e) s[nt][e] = -INFINITY;
      }
    }
    // online softmax per row (g and g + 8; a row's keys live in one quad)
    online_softmax_step<true>(s, o, m_run, l_run);
    // O += P·V over this step's 16-key groups (P re-packed from the S fragments into A fragments)
#pragma unroll
    for (int kk = 0; kk < S8 / 2; ++kk) {
      if (j0 + kk * 16 >= Lk) break;
      const uint32_t a[4] = {pack_bf16(s[2 * kk][0], s[2 * kk][1]), pack_bf16(s[2 * kk][2], s[2 * kk][3]),
                             pack_bf16(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack_bf16(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int np = 0; np < NT / 2; ++np) {
        uint32_t t[4];
        ldmatrix_x4_trans(t, smem_u32(sv + (j0 + kk * 16 + (mi % 2) * 8 + lane % 8) * stride + np * 16 + (mi / 2) * 8));
        ptx::mma_m16n8k16_bf16(o[2 * np], a, t[0], t[1]);
        if ((2 * np + 1) * 8 < d) ptx::mma_m16n8k16_bf16(o[2 * np + 1], a, t[2], t[3]);  // d = 72: the 10th tile is padding
      }
    }
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int64_t n = n0 + warp * 16 + g + 8 * r;
    if (n >= N) continue;
    const float inv = 1.0f / l_run[r];
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
      const int c = nt * 8 + c2;
      if (c >= d) break;
      *reinterpret_cast<__nv_bfloat162*>(out + (b * N + n) * ldo + hd + c) = __floats2bfloat162_rn(o[nt][2 * r] * inv, o[nt][2 * r + 1] * inv);
    }
  }
}

template <int DP>
Status launch_v3(const char* op, const plan::Launch& l, const bf16* q, int64_t ldq, const bf16* k, int64_t ldk, const bf16* v, int64_t ldv,
                 const bf16* mask, int64_t mask_ld, bf16* out, int64_t ldo, int64_t N, int64_t L, int H, int d, float scale_log2e) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "xattn_v3", l, &grid, &block));
  SANA_CUDA_CHECK(op, cudaFuncSetAttribute(xattn_v3<DP>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(l.smem)));
  SANA_CUDA_CHECK(op, launch_dependent("xattn_v3<DP>", xattn_v3<DP>, grid, block, l.smem, q, ldq, k, ldk, v, ldv, mask, mask_ld, out, ldo, N, L, H, d,
                                       scale_log2e));
  SANA_CUDA_LAUNCHED(op, "xattn_v3");
  return Status::Ok();
}

// The opt-in shared memory per block of device 0 (the device every op runs on; v3 holds a head's K and
// V there), asked once per process; a failed query is not cached.
Status smem_optin(const char* op, int64_t* bytes) {
  static std::atomic<int64_t> cached{0};
  *bytes = cached.load(std::memory_order_relaxed);
  if (*bytes > 0) return Status::Ok();
  cudaDeviceProp p;
  SANA_CUDA_CHECK(op, cudaGetDeviceProperties(&p, 0));
  *bytes = static_cast<int64_t>(p.sharedMemPerBlockOptin);
  cached.store(*bytes, std::memory_order_relaxed);
  return Status::Ok();
}

bool v2_aligned(const void* q, int64_t ldq, const void* k, int64_t ldk, const void* v, int64_t ldv, int64_t d) {
  return aligned16(q) && aligned16(k) && aligned16(v) && ldq % 8 == 0 && ldk % 8 == 0 && ldv % 8 == 0 && d % 8 == 0;
}

// Everything a core version needs, checked before any launch. `aligned`: q, k, v 16-byte aligned with row
// strides and d multiples of 8 (v2_aligned); `out_aligned`: the same for out (v3 stores bf16 pairs).
Status xattn_check_version(const char* op, int version, DType dt, int64_t d, int64_t L, bool aligned, bool out_aligned) {
  if (version < 0 || version > 3) return unknown_version(op, version, 3);
  if (d > kMaxD) {
    return InvalidArgument(std::string(op) + ": head dim " + std::to_string(d) + " > " + std::to_string(kMaxD) + " is not supported on the cuda backend");
  }
  if (version >= 2 && dt != DType::kBF16) return bad_version(op, version, "(tensor-core core) needs bf16");
  if (version >= 2 && !aligned) return bad_version(op, version, "needs a head dim divisible by 8 and 16-byte aligned rows");
  if (version == 3) {
    if (!out_aligned) return bad_version(op, 3, "needs a 16-byte aligned output with a row stride divisible by 8");
    int64_t optin = 0;
    SANA_RETURN_IF_ERROR(smem_optin(op, &optin));
    const int64_t need = plan::xattn_v3_smem(L, d);
    if (need > optin) {
      return bad_version(op, 3, "(the head's keys and values resident in shared memory) needs " + std::to_string(need) + " bytes for L = " +
                                    std::to_string(L) + ", d = " + std::to_string(d) + ", over this device's " + std::to_string(optin));
    }
  }
  return Status::Ok();
}

}  // namespace

Status xattn_core(const char* op, int version, DType dt, const void* q, int64_t ldq, const void* k, int64_t ldk, const void* v,
                  int64_t ldv, const void* mask_bias, int64_t mask_ld, void* out, int64_t ldo, int64_t B, int64_t N, int64_t L,
                  int64_t H, int64_t d) {
  const bool aligned = v2_aligned(q, ldq, k, ldk, v, ldv, d);
  SANA_RETURN_IF_ERROR(xattn_check_version(op, version, dt, d, L, aligned, aligned16(out) && ldo % 8 == 0));
  if (version == 0) version = dt == DType::kBF16 && aligned ? 2 : 1;  // v3 explicit only until a GPU has timed it
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  dim3 grid, block;
  if (version == 3) {
    const plan::Launch l = plan::xattn_v3(B * H, N, L, d);
    const bf16 *qb = static_cast<const bf16*>(q), *kb = static_cast<const bf16*>(k), *vb = static_cast<const bf16*>(v);
    const bf16* mb = static_cast<const bf16*>(mask_bias);
    bf16* ob = static_cast<bf16*>(out);
    const int Hi = static_cast<int>(H), di = static_cast<int>(d);
    const float sl = scale * kLog2e;
    switch (plan::xattn_padded_dim(d)) {
      case 16: return launch_v3<16>(op, l, qb, ldq, kb, ldk, vb, ldv, mb, mask_ld, ob, ldo, N, L, Hi, di, sl);
      case 32: return launch_v3<32>(op, l, qb, ldq, kb, ldk, vb, ldv, mb, mask_ld, ob, ldo, N, L, Hi, di, sl);
      case 48: return launch_v3<48>(op, l, qb, ldq, kb, ldk, vb, ldv, mb, mask_ld, ob, ldo, N, L, Hi, di, sl);
      case 64: return launch_v3<64>(op, l, qb, ldq, kb, ldk, vb, ldv, mb, mask_ld, ob, ldo, N, L, Hi, di, sl);
      case 80: return launch_v3<80>(op, l, qb, ldq, kb, ldk, vb, ldv, mb, mask_ld, ob, ldo, N, L, Hi, di, sl);
      case 96: return launch_v3<96>(op, l, qb, ldq, kb, ldk, vb, ldv, mb, mask_ld, ob, ldo, N, L, Hi, di, sl);
      case 112: return launch_v3<112>(op, l, qb, ldq, kb, ldk, vb, ldv, mb, mask_ld, ob, ldo, N, L, Hi, di, sl);
      default: return launch_v3<128>(op, l, qb, ldq, kb, ldk, vb, ldv, mb, mask_ld, ob, ldo, N, L, Hi, di, sl);  // d ≤ 128 checked
    }
  }
  if (version == 2) {
    const plan::Launch l = plan::xattn_v2(B * H, N, d);
    SANA_RETURN_IF_ERROR(to_dims(op, "xattn_v2", l, &grid, &block));
    SANA_CUDA_CHECK(op, cudaFuncSetAttribute(xattn_v2, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(l.smem)));
    SANA_CUDA_CHECK(op, launch_dependent("xattn_v2", xattn_v2, grid, block, l.smem, static_cast<const bf16*>(q), ldq, static_cast<const bf16*>(k),
                                         ldk, static_cast<const bf16*>(v), ldv, static_cast<const bf16*>(mask_bias), mask_ld, static_cast<bf16*>(out),
                                         ldo, N, L, static_cast<int>(H), static_cast<int>(d), scale));
    SANA_CUDA_LAUNCHED(op, "xattn_v2");
    return Status::Ok();
  }
  SANA_RETURN_IF_ERROR(to_dims(op, "xattn_v1", plan::xattn_v1(B * H, N), &grid, &block));
  if (dt == DType::kF32) {
    SANA_CUDA_CHECK(op, launch_dependent("xattn_v1<float>", xattn_v1<float>, grid, block, 0, static_cast<const float*>(q), ldq,
                                         static_cast<const float*>(k), ldk, static_cast<const float*>(v), ldv, static_cast<const float*>(mask_bias),
                                         mask_ld, static_cast<float*>(out), ldo, N, L, static_cast<int>(H), static_cast<int>(d), scale));
  } else {
    SANA_CUDA_CHECK(op, launch_dependent("xattn_v1<bf16>", xattn_v1<bf16>, grid, block, 0, static_cast<const bf16*>(q), ldq,
                                         static_cast<const bf16*>(k), ldk, static_cast<const bf16*>(v), ldv, static_cast<const bf16*>(mask_bias),
                                         mask_ld, static_cast<bf16*>(out), ldo, N, L, static_cast<int>(H), static_cast<int>(d), scale));
  }
  SANA_CUDA_LAUNCHED(op, "xattn_v1");
  return Status::Ok();
}

Status cross_attention(const CrossAttentionArgs& a, int version) {
  const char* op = "cross-attention";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  CrossAttentionDims dims;
  SANA_RETURN_IF_ERROR(check_cross_attention(Device::kCuda, a, &dims));
  const DType dt = a.x.dtype;
  const int64_t B = dims.B, N = dims.N, C = dims.C, L = dims.L, Cy = dims.Cy, Cout = dims.Cout, H = dims.H, d = dims.d;
  const bool kv = dims.precomputed_kv;
  // Scratch rows are C elements from 256-byte aligned allocations: aligned when C % 8 == 0; given k, v must be too.
  const bool aligned = C % 8 == 0 && d % 8 == 0 && (!kv || (aligned16(a.k->data) && aligned16(a.v->data)));
  if (version < 0 || version > 4) return unknown_version(op, version, 4);
  // The projections as the wgmma engine sees them: x · wqᵀ, o (op scratch) · woᵀ, and y · wkᵀ, y · wvᵀ
  // unless k, v are given; the core's own conditions beside them.
  const bool v3_ok = dt == DType::kBF16 && aligned && d <= kMaxD && gemm_wgmma_dense_ok(dt, a.x.data, C, a.wq.data, C, B * N, C, C) &&
                     gemm_wgmma_dense_ok(dt, nullptr, C, a.wo.data, C, B * N, Cout, C) &&
                     (kv || (gemm_wgmma_dense_ok(dt, a.y.data, Cy, a.wk.data, Cy, B * L, C, Cy) && gemm_wgmma_dense_ok(dt, a.y.data, Cy, a.wv.data, Cy, B * L, C, Cy)));
  if (version == 0 && v3_ok && hopper_defaults()) version = 3;
  if ((version == 3 || version == 4) && !v3_ok) {
    return bad_version(op, version, "(wgmma projections, tensor-core core) needs bf16, C, Cy and the head dim (≤ 128) divisible by 8, 16-byte aligned x, y, k, v and weights");
  }
  const int core_version = version == 4 ? 3 : version == 3 ? 2 : version, engine = version >= 3 ? 3 : 0;
  SANA_RETURN_IF_ERROR(xattn_check_version(op, core_version, dt, d, L, aligned, aligned));  // o: scratch rows of C

  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s = [&]() -> Status {
    Scratch scratch(op);
    const int64_t es = dt == DType::kF32 ? 4 : 2;
    uint8_t *q = nullptr, *k = nullptr, *v = nullptr, *o = nullptr;
    SANA_RETURN_IF_ERROR(scratch.alloc_n(B * N * C * es, &q));
    if (!kv) {
      SANA_RETURN_IF_ERROR(scratch.alloc_n(B * L * C * es, &k));
      SANA_RETURN_IF_ERROR(scratch.alloc_n(B * L * C * es, &v));
    }
    SANA_RETURN_IF_ERROR(scratch.alloc_n(B * N * C * es, &o));
    auto project = [&](const TensorView& src, int64_t rows, int64_t K, const TensorView& w, const TensorView* bias, void* dst) {
      GemmProblem p;
      p.dtype = dt;
      p.M = rows;
      p.N = C;
      p.K = K;
      p.a = src.data;
      p.lda = K;
      p.b = w.data;
      p.ldb = K;
      p.c = dst;
      p.ldc = C;
      p.bias = bias ? bias->data : nullptr;
      return launch_gemm(op, p, engine, version);
    };
    SANA_RETURN_IF_ERROR(project(a.x, B * N, C, a.wq, a.bq, q));
    const void* kp = k;
    const void* vp = v;
    if (kv) {
      kp = a.k->data;
      vp = a.v->data;
    } else {
      SANA_RETURN_IF_ERROR(project(a.y, B * L, Cy, a.wk, a.bk, k));
      SANA_RETURN_IF_ERROR(project(a.y, B * L, Cy, a.wv, a.bv, v));
    }
    SANA_RETURN_IF_ERROR(xattn_core(op, core_version, dt, q, C, kp, C, vp, C, a.mask_bias ? a.mask_bias->data : nullptr, L, o, C, B, N, L, H, d));
    GemmProblem p;
    p.dtype = dt;
    p.M = B * N;
    p.N = Cout;
    p.K = C;
    p.a = o;
    p.lda = C;
    p.b = a.wo.data;
    p.ldb = C;
    p.c = a.out.data;
    p.ldc = Cout;
    p.bias = a.bo ? a.bo->data : nullptr;
    p.residual = a.residual ? a.residual->data : nullptr;
    p.res_ld = Cout;
    return launch_gemm(op, p, engine, version);
  }();
  return scope.finish(s);
}

}  // namespace sana::cuda
