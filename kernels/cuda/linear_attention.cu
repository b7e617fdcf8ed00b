// Ops `linear-attention` and `linear-attention-block` (at the end of the file).
// `linear-attention`: SANA's ReLU linear-attention core on token-major (B, N, C) tensors, heads of d
// channels (d = 32 in SANA). Per (batch, head), with φ = ReLU and the "ones row" of [V; 1]:
//   state  vk[i][j] = Σ_m v̂_m[i]·φ(k_m)[j],  i ∈ [0, d] (v̂[d] = 1 → vk[d] = Σ_m φ(k_m)), j ∈ [0, d)
//   output out_n[i] = Σ_j vk[i][j]·φ(q_n)[j] / (Σ_j vk[d][j]·φ(q_n)[j] + eps)
// The (d+1)×d state is f32 in device memory (B·heads·(d+1)·d·4 bytes, zeroed by la_state_zero, then accumulated with
// atomics by token chunks); nothing of size N×N or (d+1)×N is materialised.
// FLOPs 2·B·H·(M + N)·d·(d+1) ≈ 4·B·N·C·(d+1) for M = N (≈ 4.2 kFLOP per token-head at d = 32);
// minimal bytes (2·B·M·C + 2·B·N·C)·sizeof(T): read q, k, v once, write out once → ≈ 16.5 FLOP/B in
// bf16, far under the ridge point: the target is HBM bandwidth.
//
// Versions:
//   v1  obviously right, any d ≤ 64. State: blocks over (token chunk, batch·head) stage 32-token tiles
//       of φ(k) and v in shared memory; each thread owns state entries e = tid + 256·s and sums over
//       the tile; one atomicAdd per entry per block. Apply: one thread per (token, output channel),
//       the state transposed in shared memory (conflict-free), q tile staged, num and den each a d-loop.
//   v2  d = 32 only, 16-byte loads. State: 64-token tiles; each thread owns a 4×4 block of the state
//       (float4 shared-memory reads, 16 FMAs per 2 loads) for one of 4 token groups, the groups summed
//       in shared memory before the atomics. Apply: 4 threads per token (8 channels each, one 16-byte
//       load of q and one 16-byte store of out per thread, so warps touch whole 64-byte head slices);
//       φ(q) broadcast inside the quad with shuffles, the state read as float4 broadcasts; a block
//       covers 4 × 64 tokens so that its 4.2 KB state load is amortised.
//       H200, Sana-0.6B 4096², batch 2 (B·N·C = 2·16384·1152): 0.315 ms = 23% of the HBM roofline (≈ 71 µs):
//       both passes issue their (d+1)·d FMAs per token-head on f32 CUDA cores (apply: 3 shared loads and
//       a shuffle per 9 FMAs), and a thread loads its next tile only after computing the current one.
//   v3  bf16, d = 32, 16-byte rows; both passes on tensor cores (mma.sync m16n8k16, f32 accumulators),
//       fed by cp.async pipelines 4 tiles of 64 tokens deep (3 in flight while one is multiplied); 128
//       threads = 4 warps × 16 tokens of each tile; rows staged 80 bytes apart (ldmatrix conflict-free).
//       State: (32 × 40) = φ(k)ᵀ·[v | 1] per 16 tokens: A = φ(k)ᵀ by ldmatrix.trans with ReLU on the
//       fragment bits, B = v by ldmatrix.trans plus a constant all-ones n8 tile (its columns are Σφ(k),
//       the state's row d); 10 mma per 16 tokens. bf16 products are exact in f32, so this is v2's math.
//       The warps' partial states are summed in shared memory, then v2's chunks and atomics.
//       Apply: (16 tokens × 40) = φ(q)·[S | S_d ×8]ᵀ with S split S_hi + S_lo (bf16 each, S_lo = bf16(S −
//       S_hi): ≈ 16 mantissa bits, where one bf16 S would add bf16's rounding to every product: on the
//       self-test's cases S_hi alone gives 1.2× v2's output error and moves outputs by 1.2–1.4× of it,
//       S_hi + S_lo 1.0× and 0.01–0.1×), 20 mma per 16 tokens; the B fragments built once per 512-token
//       block; the 5th n8 tile repeats the denominator row so each lane divides its own fragments; out
//       staged per warp in shared memory for 16-byte stores.
//       Tensor FLOPs executed 2·16·8·16·(10 + 20)/16 ≈ 7.7 k per token-head (4.2 k useful; ≈ 9 GFLOP at
//       the shape above: ≈ 10 µs at the dense bf16 peak); bytes: the minimal ones above plus the state
//       (4.2 KB per head) per state chunk and per apply block, from L2. ptxas (CUDA 13.0): la_state_v3
//       78 registers, la_apply_v3 95 (sm_90a) / 92 (sm_80), no spills. Not yet timed on a GPU.
#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/internal.h"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

constexpr int kThreads = plan::kLaThreads;

// ---------------------------------------------------------------- v1
constexpr int kV1Tile = 32, kV1MaxD = 64;

template <typename T>
__global__ void __launch_bounds__(kThreads) la_state_v1(const T* __restrict__ k, int64_t ldk, const T* __restrict__ v, int64_t ldv,
                                                        int64_t M, int H, int d, int64_t hs, int64_t chunk, float* __restrict__ state) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  __shared__ float kt[kV1Tile][kV1MaxD], vt[kV1Tile][kV1MaxD];
  __shared__ float part[(kV1MaxD + 1) * kV1MaxD];
  const int tid = threadIdx.x;
  const int64_t bh = blockIdx.y, b = bh / H;
  const int h = static_cast<int>(bh % H);
  const int64_t m_begin = blockIdx.x * chunk, m_end = min(M, m_begin + chunk);
  const int E = (d + 1) * d;
  for (int e = tid; e < E; e += kThreads) part[e] = 0.0f;
  for (int64_t m0 = m_begin; m0 < m_end; m0 += kV1Tile) {
    __syncthreads();  // the previous tile is consumed
    for (int idx = tid; idx < kV1Tile * d; idx += kThreads) {
      const int t = idx / d, c = idx % d;
      const int64_t m = m0 + t;
      const bool ok = m < m_end;
      kt[t][c] = ok ? relu_f(ldf(k[(b * M + m) * ldk + h * hs + c])) : 0.0f;
      vt[t][c] = ok ? ldf(v[(b * M + m) * ldv + h * hs + c]) : 0.0f;
    }
    __syncthreads();
    for (int e = tid; e < E; e += kThreads) {  // each entry owned by one thread: no race on part[e]
      const int i = e / d, j = e % d;
      float acc = 0.0f;
      for (int t = 0; t < kV1Tile; ++t) acc += (i < d ? vt[t][i] : 1.0f) * kt[t][j];
      part[e] += acc;
    }
  }
  for (int e = tid; e < E; e += kThreads) atomicAdd(&state[bh * E + e], part[e]);
}

template <typename T>
__global__ void __launch_bounds__(kThreads) la_apply_v1(const T* __restrict__ q, int64_t ldq, const float* __restrict__ state, T* __restrict__ out,
                                                        int64_t ldo, int64_t N, int H, int d, int64_t hs, int64_t hso, float eps) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  __shared__ float st[kV1MaxD * (kV1MaxD + 1)];  // st[j·(d+1) + i] = vk[i][j]
  __shared__ float qs[kThreads];
  const int tid = threadIdx.x;
  const int64_t bh = blockIdx.y, b = bh / H;
  const int h = static_cast<int>(bh % H);
  const int tokens = kThreads / d;
  const int64_t n0 = blockIdx.x * int64_t{tokens};
  const int E = (d + 1) * d;
  for (int e = tid; e < E; e += kThreads) {
    const int i = e / d, j = e % d;
    st[j * (d + 1) + i] = state[bh * E + e];
  }
  if (tid < tokens * d) {
    const int t = tid / d, c = tid % d;
    const int64_t n = n0 + t;
    qs[tid] = n < N ? relu_f(ldf(q[(b * N + n) * ldq + h * hs + c])) : 0.0f;
  }
  __syncthreads();
  if (tid >= tokens * d) return;
  const int t = tid / d, i = tid % d;
  const int64_t n = n0 + t;
  if (n >= N) return;
  float num = 0.0f, den = 0.0f;
  for (int j = 0; j < d; ++j) {
    const float qj = qs[t * d + j];
    num += qj * st[j * (d + 1) + i];
    den += qj * st[j * (d + 1) + d];
  }
  out[(b * N + n) * ldo + h * hso + i] = stf<T>(num / (den + eps));
}

// ---------------------------------------------------------------- v2 (d = 32)
constexpr int kD = 32, kTile = plan::kLaTile, kE = (kD + 1) * kD;

template <typename T>
__global__ void __launch_bounds__(kThreads) la_state_v2(const T* __restrict__ k, int64_t ldk, const T* __restrict__ v, int64_t ldv,
                                                        int64_t M, int H, int64_t hs, int64_t chunk, float* __restrict__ state) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  __shared__ __align__(16) float kt[kTile][kD];
  __shared__ __align__(16) float vt[kTile][kD];
  __shared__ float red[4][kE];
  const int tid = threadIdx.x;
  const int64_t bh = blockIdx.y, b = bh / H;
  const int h = static_cast<int>(bh % H);
  const int64_t m_begin = blockIdx.x * chunk, m_end = min(M, m_begin + chunk);
  const int g = tid / 64, w = tid % 64;
  const int j0 = (w % 8) * 4, i0 = (w / 8) * 4;
  // tile loader: one 8-channel chunk of k and of v per thread
  const int lt = tid / 4, lc = (tid % 4) * 8;

  float acc[4][4], ks[4];
#pragma unroll
  for (int a = 0; a < 4; ++a) {
    ks[a] = 0.0f;
#pragma unroll
    for (int c = 0; c < 4; ++c) acc[a][c] = 0.0f;
  }
  for (int64_t m0 = m_begin; m0 < m_end; m0 += kTile) {
    const int64_t m = m0 + lt;
    float kv[8], vv[8];
    if (m < m_end) {
      load8(k + (b * M + m) * ldk + h * hs + lc, kv);
      load8(v + (b * M + m) * ldv + h * hs + lc, vv);
    } else {
#pragma unroll
      for (int c = 0; c < 8; ++c) kv[c] = vv[c] = 0.0f;
    }
    __syncthreads();  // the previous tile is consumed
    // float4 stores: 8 threads of a quarter-warp cover 256 contiguous bytes (conflict-free)
    *reinterpret_cast<float4*>(&kt[lt][lc]) = make_float4(relu_f(kv[0]), relu_f(kv[1]), relu_f(kv[2]), relu_f(kv[3]));
    *reinterpret_cast<float4*>(&kt[lt][lc + 4]) = make_float4(relu_f(kv[4]), relu_f(kv[5]), relu_f(kv[6]), relu_f(kv[7]));
    *reinterpret_cast<float4*>(&vt[lt][lc]) = make_float4(vv[0], vv[1], vv[2], vv[3]);
    *reinterpret_cast<float4*>(&vt[lt][lc + 4]) = make_float4(vv[4], vv[5], vv[6], vv[7]);
    __syncthreads();
#pragma unroll 4
    for (int t = g; t < kTile; t += 4) {
      const float4 kq = *reinterpret_cast<const float4*>(&kt[t][j0]);
      const float4 vq = *reinterpret_cast<const float4*>(&vt[t][i0]);
      const float kk[4] = {kq.x, kq.y, kq.z, kq.w}, vk4[4] = {vq.x, vq.y, vq.z, vq.w};
#pragma unroll
      for (int a = 0; a < 4; ++a)
#pragma unroll
        for (int c = 0; c < 4; ++c) acc[a][c] = fmaf(vk4[a], kk[c], acc[a][c]);
#pragma unroll
      for (int c = 0; c < 4; ++c) ks[c] += kk[c];
    }
  }
#pragma unroll
  for (int a = 0; a < 4; ++a)
#pragma unroll
    for (int c = 0; c < 4; ++c) red[g][(i0 + a) * kD + j0 + c] = acc[a][c];
  if (i0 == 0) {
#pragma unroll
    for (int c = 0; c < 4; ++c) red[g][kD * kD + j0 + c] = ks[c];
  }
  __syncthreads();
  for (int e = tid; e < kE; e += kThreads) atomicAdd(&state[bh * kE + e], red[0][e] + red[1][e] + red[2][e] + red[3][e]);
}

template <typename T>
__global__ void __launch_bounds__(plan::kLaApplyTokens * 4) la_apply_v2(const T* __restrict__ q, int64_t ldq, const float* __restrict__ state,
                                                                      T* __restrict__ out, int64_t ldo, int64_t N, int H, int64_t hs, int64_t hso,
                                                                      float eps) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  __shared__ __align__(16) float st[kD][kD + 4];  // st[j][i] = vk[i][j]
  __shared__ float ks[kD];                        // vk[d][j]
  const int tid = threadIdx.x, lane = tid % 32;
  const int64_t bh = blockIdx.y, b = bh / H;
  const int h = static_cast<int>(bh % H);
  for (int e = tid; e < kE; e += plan::kLaApplyTokens * 4) {
    const int i = e / kD, j = e % kD;
    const float s = state[bh * kE + e];
    if (i < kD) st[j][i] = s;
    else ks[j] = s;
  }
  __syncthreads();
  const int part = tid % 4, c0 = part * 8;
  // kLaApplyRounds groups of 64 tokens per block: the state load is amortised over them
  for (int round = 0; round < plan::kLaApplyRounds; ++round) {
    const int64_t n = (blockIdx.x * int64_t{plan::kLaApplyRounds} + round) * plan::kLaApplyTokens + tid / 4;
    float qv[8];
    if (n < N) {
      load8(q + (b * N + n) * ldq + h * hs + c0, qv);
#pragma unroll
      for (int c = 0; c < 8; ++c) qv[c] = relu_f(qv[c]);
    } else {
#pragma unroll
      for (int c = 0; c < 8; ++c) qv[c] = 0.0f;
    }
    float num[8], den = 0.0f;
#pragma unroll
    for (int c = 0; c < 8; ++c) num[c] = 0.0f;
#pragma unroll
    for (int j = 0; j < kD; ++j) {
      const float qj = __shfl_sync(0xffffffffu, qv[j % 8], (lane & ~3) | (j / 8));  // φ(q)[j] from the quad's owner
      const float4 s0 = *reinterpret_cast<const float4*>(&st[j][c0]);
      const float4 s1 = *reinterpret_cast<const float4*>(&st[j][c0 + 4]);
      num[0] = fmaf(qj, s0.x, num[0]);
      num[1] = fmaf(qj, s0.y, num[1]);
      num[2] = fmaf(qj, s0.z, num[2]);
      num[3] = fmaf(qj, s0.w, num[3]);
      num[4] = fmaf(qj, s1.x, num[4]);
      num[5] = fmaf(qj, s1.y, num[5]);
      num[6] = fmaf(qj, s1.z, num[6]);
      num[7] = fmaf(qj, s1.w, num[7]);
      den = fmaf(qj, ks[j], den);
    }
    if (n < N) {
      const float inv = 1.0f / (den + eps);
      float o[8];
#pragma unroll
      for (int c = 0; c < 8; ++c) o[c] = num[c] * inv;
      store8(out + (b * N + n) * ldo + h * hso + c0, o);
    }
  }
}

// ---------------------------------------------------------------- v3 (bf16, d = 32, tensor cores)
// mma.sync m16n8k16 (bf16 × bf16 → f32) on tiles of 64 tokens staged by cp.async, kLa3Stages deep.
// Staged rows are 32 bf16 + 16 bytes of padding (80 bytes): the 8 rows of an ldmatrix land in 8
// different bank quads. Shared memory is dynamic (the plan's sizes; the emulator's PTX accesses see it).
constexpr int kRow3 = kD + 8, kStages3 = plan::kLa3Stages, kThreads3 = plan::kLa3Threads;
constexpr int64_t kStage3Bytes = int64_t{kTile} * kRow3 * 2;
static_assert(kRow3 * 2 == plan::kLa3RowBytes && plan::kLa3StateSmem == 2 * kStages3 * kStage3Bytes, "la_state_v3's shared memory layout");
static_assert(plan::kLa3ApplySmem == kStages3 * kStage3Bytes + (kThreads3 / 32) * 16 * kRow3 * 2 + (kD + 1) * (kD + 4) * 4,
              "la_apply_v3's shared memory layout");
constexpr uint32_t kOnesBf16x2 = 0x3F803F80u;  // two bf16 1.0: the B operand of the ones column

using ptx::smem_u32;

// φ = ReLU on the two bf16 of a fragment register, as relu_f: x < 0 → +0 (a NaN, whatever its sign,
// stays NaN). Exact: the result is one of the inputs or zero.
__device__ __forceinline__ uint32_t relu_bf16x2(uint32_t x) {
  const uint32_t lo = x & 0xFFFFu, hi = x >> 16;
  const bool lo_neg = (lo & 0x8000u) != 0 && (lo & 0x7FFFu) <= 0x7F80u;
  const bool hi_neg = (hi & 0x8000u) != 0 && (hi & 0x7FFFu) <= 0x7F80u;
  return (lo_neg ? 0u : lo) | ((hi_neg ? 0u : hi) << 16);
}
__device__ __forceinline__ uint32_t bf16_pair(bf16 lo, bf16 hi) {
  return static_cast<uint32_t>(__bfloat16_as_ushort(lo)) | (static_cast<uint32_t>(__bfloat16_as_ushort(hi)) << 16);
}
// The state entries (s0, s1) as bf16 pairs hi = bf16(s) and lo = bf16(s − hi): hi + lo carries ~16 of
// f32's 24 mantissa bits (the bf16 mma multiplies each exactly, accumulating in f32).
__device__ __forceinline__ void split_bf16x2(float s0, float s1, uint32_t* hi, uint32_t* lo) {
  const bf16 h0 = __float2bfloat16_rn(s0), h1 = __float2bfloat16_rn(s1);
  *hi = bf16_pair(h0, h1);
  *lo = bf16_pair(__float2bfloat16_rn(s0 - __bfloat162float(h0)), __float2bfloat16_rn(s1 - __bfloat162float(h1)));
}

// Copies rows [row0, row0 + 64) of a (rows × 32) bf16 head slice into a staged tile: 256 16-byte chunks,
// 2 per thread; rows at or past `end` are zero-filled (their products vanish).
__device__ __forceinline__ void stage_tile3(bf16 (*tile)[kRow3], const bf16* base, int64_t ld, int64_t row0, int64_t end, int tid) {
#pragma unroll
  for (int u = 0; u < kTile * 4 / kThreads3; ++u) {
    const int idx = tid + u * kThreads3, r = idx / 4, c = (idx % 4) * 8;
    const int64_t row = row0 + r;
    const bool ok = row < end;
    ptx::cp_async16(smem_u32(&tile[r][c]), base + (ok ? row : row0) * ld + c, ok);
  }
}

// State: D (32 × 40, f32) = φ(k)ᵀ · [v | 1] over the block's chunk of tokens (the mma's k = 16 tokens):
// rows j of φ(k), columns i < 32 of v, and an n8 tile of ones whose 8 columns each give Σ φ(k)[·][j]
// (the state's row d). 10 mma (2 m16 × 5 n8) per warp per 16 tokens.
__global__ void __launch_bounds__(kThreads3) la_state_v3(const bf16* __restrict__ k, int64_t ldk, const bf16* __restrict__ v, int64_t ldv,
                                                         int64_t M, int H, int64_t hs, int64_t chunk, float* __restrict__ state) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  extern __shared__ __align__(16) uint8_t smem_raw[];
  bf16(*const kt)[kTile][kRow3] = reinterpret_cast<bf16(*)[kTile][kRow3]>(smem_raw);  // [kStages3][kTile][kRow3]
  bf16(*const vt)[kTile][kRow3] = reinterpret_cast<bf16(*)[kTile][kRow3]>(smem_raw + kStages3 * kStage3Bytes);
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int64_t bh = blockIdx.y, b = bh / H;
  const int h = static_cast<int>(bh % H);
  const int64_t m_begin = blockIdx.x * chunk, m_end = min(M, m_begin + chunk);
  const int64_t tiles = (m_end - m_begin + kTile - 1) / kTile;
  const bf16* kb = k + b * M * ldk + h * hs;
  const bf16* vb = v + b * M * ldv + h * hs;

  float acc[2][5][4];
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int nt = 0; nt < 5; ++nt)
#pragma unroll
      for (int c = 0; c < 4; ++c) acc[mt][nt][c] = 0.0f;

  // Prologue: the first kStages3 − 1 tiles in flight (one commit group per tile, empty past the end).
#pragma unroll
  for (int s = 0; s < kStages3 - 1; ++s) {
    if (s < tiles) {
      stage_tile3(kt[s], kb, ldk, m_begin + s * kTile, m_end, tid);
      stage_tile3(vt[s], vb, ldv, m_begin + s * kTile, m_end, tid);
    }
    ptx::cp_async_commit();
  }
  // ldmatrix row addresses (lane → row of one of the x4's four 8×8 matrices), relative to a tile
  const int t0 = warp * 16;
  const int a_tok = t0 + (lane / 16) * 8 + lane % 8, a_col = ((lane / 8) % 2) * 8;  // φ(k)ᵀ: matrices (j, j+8) × (tokens, tokens+8)
  const int b_tok = t0 + ((lane / 8) % 2) * 8 + lane % 8, b_col = (lane / 16) * 8;  // v: (tokens, tokens+8) × (i, i+8)
  for (int64_t t = 0; t < tiles; ++t) {
    ptx::cp_async_wait<kStages3 - 2>();  // this thread's copies of tile t have landed
    __syncthreads();                     // everyone's have, and tile t − 1's stage is free to refill
    {
      const int64_t nt = t + kStages3 - 1;
      if (nt < tiles) {
        stage_tile3(kt[nt % kStages3], kb, ldk, m_begin + nt * kTile, m_end, tid);
        stage_tile3(vt[nt % kStages3], vb, ldv, m_begin + nt * kTile, m_end, tid);
      }
      ptx::cp_async_commit();
    }
    const int s = static_cast<int>(t % kStages3);
    uint32_t a[2][4], bv[5][2];
#pragma unroll
    for (int mt = 0; mt < 2; ++mt) {
      ptx::ldmatrix_x4_trans(a[mt], smem_u32(&kt[s][a_tok][mt * 16 + a_col]));
#pragma unroll
      for (int r = 0; r < 4; ++r) a[mt][r] = relu_bf16x2(a[mt][r]);
    }
#pragma unroll
    for (int p = 0; p < 2; ++p) {
      uint32_t r4[4];
      ptx::ldmatrix_x4_trans(r4, smem_u32(&vt[s][b_tok][p * 16 + b_col]));
      bv[2 * p][0] = r4[0];
      bv[2 * p][1] = r4[1];
      bv[2 * p + 1][0] = r4[2];
      bv[2 * p + 1][1] = r4[3];
    }
    bv[4][0] = bv[4][1] = kOnesBf16x2;
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
      for (int nt = 0; nt < 5; ++nt) ptx::mma_m16n8k16_bf16(acc[mt][nt], a[mt], bv[nt][0], bv[nt][1]);
  }
  // The 4 warps' partial states summed in shared memory (over the staged tiles, once all are consumed
  // and no copy is pending), then one atomicAdd per state entry per block, as v2.
  ptx::cp_async_wait<0>();
  __syncthreads();
  float(*const red)[kE] = reinterpret_cast<float(*)[kE]>(smem_raw);
  static_assert(plan::kLa3StateSmem >= sizeof(float) * (kThreads3 / 32) * kE, "the reduction reuses the stages");
  const int grp = lane / 4, tig = lane % 4;
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      const int j = mt * 16 + grp + 8 * (c / 2);
#pragma unroll
      for (int nt = 0; nt < 4; ++nt) red[warp][(nt * 8 + 2 * tig + c % 2) * kD + j] = acc[mt][nt][c];
      if (tig == 0 && c % 2 == 0) red[warp][kD * kD + j] = acc[mt][4][c];  // column 0 of the ones tile
    }
  __syncthreads();
  for (int e = tid; e < kE; e += kThreads3) atomicAdd(&state[bh * kE + e], red[0][e] + red[1][e] + red[2][e] + red[3][e]);
}

// Apply: D (16 tokens × 40, f32) = φ(q) · Bᵀ with B's rows = the state rows i < 32 and, in the 5th
// n8 tile, the denominator row d repeated 8 times (so every lane holds its rows' denominators); each
// product twice, with S_hi and S_lo (20 mma per warp per 16 tokens). Out = num / (den + eps), staged
// per warp in shared memory for 16-byte stores.
__global__ void __launch_bounds__(kThreads3) la_apply_v3(const bf16* __restrict__ q, int64_t ldq, const float* __restrict__ state,
                                                         bf16* __restrict__ out, int64_t ldo, int64_t N, int H, int64_t hs, int64_t hso, float eps) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  extern __shared__ __align__(16) uint8_t smem_raw[];
  bf16(*const qt)[kTile][kRow3] = reinterpret_cast<bf16(*)[kTile][kRow3]>(smem_raw);  // [kStages3][kTile][kRow3]
  bf16(*const ot)[16][kRow3] = reinterpret_cast<bf16(*)[16][kRow3]>(smem_raw + kStages3 * kStage3Bytes);  // [warps][16][kRow3]
  float(*const st)[kD + 4] = reinterpret_cast<float(*)[kD + 4]>(smem_raw + kStages3 * kStage3Bytes + (kThreads3 / 32) * 16 * kRow3 * 2);
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32, grp = lane / 4, tig = lane % 4;
  const int64_t bh = blockIdx.y, b = bh / H;
  const int h = static_cast<int>(bh % H);
  const int64_t n_begin = blockIdx.x * int64_t{plan::kLa3ApplyTokens}, n_end = min(N, n_begin + plan::kLa3ApplyTokens);
  const int64_t tiles = (n_end - n_begin + kTile - 1) / kTile;
  const bf16* qb = q + b * N * ldq + h * hs;
  bf16* ob = out + b * N * ldo + h * hso;

#pragma unroll
  for (int s = 0; s < kStages3 - 1; ++s) {
    if (s < tiles) stage_tile3(qt[s], qb, ldq, n_begin + s * kTile, n_end, tid);
    ptx::cp_async_commit();
  }
  // While the first q tiles are in flight: the state, then its B fragments (column n = grp of each n8
  // tile: state row 8·nt + grp, or row d in the 5th; k rows 16·ks + 8·r + 2·tig and + 1).
  for (int e = tid; e < kE; e += kThreads3) st[e / kD][e % kD] = state[bh * kE + e];
  __syncthreads();
  uint32_t bhi[5][2][2], blo[5][2][2];
#pragma unroll
  for (int nt = 0; nt < 5; ++nt)
#pragma unroll
    for (int ks = 0; ks < 2; ++ks)
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const float2 s2 = *reinterpret_cast<const float2*>(&st[nt < 4 ? nt * 8 + grp : kD][ks * 16 + r * 8 + 2 * tig]);
        split_bf16x2(s2.x, s2.y, &bhi[nt][ks][r], &blo[nt][ks][r]);
      }
  const int t0 = warp * 16;
  const int a_row = t0 + ((lane / 8) % 2) * 8 + lane % 8, a_col = (lane / 16) * 8;  // φ(q): (tokens, tokens+8) × (j, j+8)
  for (int64_t t = 0; t < tiles; ++t) {
    ptx::cp_async_wait<kStages3 - 2>();
    __syncthreads();
    {
      const int64_t nt = t + kStages3 - 1;
      if (nt < tiles) stage_tile3(qt[nt % kStages3], qb, ldq, n_begin + nt * kTile, n_end, tid);
      ptx::cp_async_commit();
    }
    const int s = static_cast<int>(t % kStages3);
    uint32_t a[2][4];
#pragma unroll
    for (int ks = 0; ks < 2; ++ks) {
      ptx::ldmatrix_x4(a[ks], smem_u32(&qt[s][a_row][ks * 16 + a_col]));
#pragma unroll
      for (int r = 0; r < 4; ++r) a[ks][r] = relu_bf16x2(a[ks][r]);
    }
    float acc[5][4];
#pragma unroll
    for (int nt = 0; nt < 5; ++nt) {
#pragma unroll
      for (int c = 0; c < 4; ++c) acc[nt][c] = 0.0f;
#pragma unroll
      for (int ks = 0; ks < 2; ++ks) {
        ptx::mma_m16n8k16_bf16(acc[nt], a[ks], blo[nt][ks][0], blo[nt][ks][1]);
        ptx::mma_m16n8k16_bf16(acc[nt], a[ks], bhi[nt][ks][0], bhi[nt][ks][1]);
      }
    }
    // rows grp (c = 0, 1) and grp + 8 (c = 2, 3); columns 8·nt + 2·tig, + 1
    const float inv0 = 1.0f / (acc[4][0] + eps), inv1 = 1.0f / (acc[4][2] + eps);
#pragma unroll
    for (int nt = 0; nt < 4; ++nt) {
      *reinterpret_cast<__nv_bfloat162*>(&ot[warp][grp][nt * 8 + 2 * tig]) = __floats2bfloat162_rn(acc[nt][0] * inv0, acc[nt][1] * inv0);
      *reinterpret_cast<__nv_bfloat162*>(&ot[warp][grp + 8][nt * 8 + 2 * tig]) = __floats2bfloat162_rn(acc[nt][2] * inv1, acc[nt][3] * inv1);
    }
    __syncwarp();
#pragma unroll
    for (int u = 0; u < 2; ++u) {
      const int idx = lane + 32 * u, r = idx / 4, c = (idx % 4) * 8;
      const int64_t n = n_begin + t * kTile + t0 + r;
      if (n < n_end) *reinterpret_cast<uint4*>(ob + n * ldo + c) = *reinterpret_cast<const uint4*>(&ot[warp][r][c]);
    }
    __syncwarp();  // the staging rows are read before the next tile overwrites them
  }
}

// The state's zero fill as a kernel rather than cudaMemsetAsync: programmatic dependent launch pairs
// kernels only, so a memset between the gemm ahead and la_state would end the overlap chain there
// (SANA_LAB_PDL). Bytes: B·H·(d+1)·d·4 written (135 KB at Sana-0.6B, batch 2); no FLOPs.
__global__ void __launch_bounds__(256) la_state_zero(float* __restrict__ state, int64_t n) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * 256 + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * 256) state[i] = 0.f;
}

Status zero_state(const char* op, float* state, int64_t n) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "la_state_zero", plan::elementwise(n), &grid, &block));
  SANA_CUDA_CHECK(op, launch_dependent("la_state_zero", la_state_zero, grid, block, 0, state, n));
  SANA_CUDA_LAUNCHED(op, "la_state_zero");
  return Status::Ok();
}

int64_t g_la_target_blocks = 0;

template <typename T>
Status run_core(const char* op, int version, const T* q, int64_t ldq, const T* k, int64_t ldk, const T* v, int64_t ldv, T* out, int64_t ldo,
                int64_t B, int64_t N, int64_t M, int64_t H, int64_t d, int64_t hs, int64_t hso, float eps, float* state) {
  const int64_t BH = B * H;
  // No keys (M = 0): the zeroed state gives out = 0 / (0 + eps) = 0, as on the CPU; plan::la_chunk_tokens
  // returns 0 then, and plan::la_state's cdiv(M, 0) would be a host division by zero (SIGFPE).
  const bool has_keys = M > 0;
  const int64_t chunk = has_keys ? (g_la_target_blocks > 0 ? plan::la_chunk_tokens(BH, M, g_la_target_blocks) : plan::la_chunk_tokens(BH, M)) : plan::kLaTile;
  dim3 grid, block;
  if (has_keys) SANA_RETURN_IF_ERROR(to_dims(op, "la_state", plan::la_state(BH, M, chunk), &grid, &block));
  if (version == 1) {
    if (has_keys) {
      SANA_CUDA_CHECK(op, launch_dependent("la_state_v1", la_state_v1<T>, grid, block, 0, k, ldk, v, ldv, M, static_cast<int>(H), static_cast<int>(d),
                                           hs, chunk, state));
      SANA_CUDA_LAUNCHED(op, "la_state_v1");
    }
    SANA_RETURN_IF_ERROR(to_dims(op, "la_apply_v1", plan::la_apply_v1(BH, N, d), &grid, &block));
    SANA_CUDA_CHECK(op, launch_dependent("la_apply_v1", la_apply_v1<T>, grid, block, 0, q, ldq, state, out, ldo, N, static_cast<int>(H),
                                         static_cast<int>(d), hs, hso, eps));
    SANA_CUDA_LAUNCHED(op, "la_apply_v1");
  } else {
    if (has_keys) {
      SANA_CUDA_CHECK(op, launch_dependent("la_state_v2", la_state_v2<T>, grid, block, 0, k, ldk, v, ldv, M, static_cast<int>(H), hs, chunk, state));
      SANA_CUDA_LAUNCHED(op, "la_state_v2");
    }
    SANA_RETURN_IF_ERROR(to_dims(op, "la_apply_v2", plan::la_apply_v2(BH, N), &grid, &block));
    SANA_CUDA_CHECK(op, launch_dependent("la_apply_v2", la_apply_v2<T>, grid, block, 0, q, ldq, state, out, ldo, N, static_cast<int>(H), hs, hso,
                                         eps));
    SANA_CUDA_LAUNCHED(op, "la_apply_v2");
  }
  return Status::Ok();
}

// Core v3: bf16 only (la_core refuses f32 before anything runs).
Status run_core_v3(const char* op, const bf16* q, int64_t ldq, const bf16* k, int64_t ldk, const bf16* v, int64_t ldv, bf16* out, int64_t ldo,
                   int64_t B, int64_t N, int64_t M, int64_t H, int64_t hs, int64_t hso, float eps, float* state) {
  const int64_t BH = B * H;
  dim3 grid, block;
  if (M > 0) {  // no keys: the zeroed state gives out = 0, as in run_core
    const int64_t chunk = g_la_target_blocks > 0 ? plan::la_chunk_tokens(BH, M, g_la_target_blocks) : plan::la_chunk_tokens(BH, M);
    const plan::Launch l = plan::la_state_v3(BH, M, chunk);
    SANA_RETURN_IF_ERROR(to_dims(op, "la_state_v3", l, &grid, &block));
    SANA_CUDA_CHECK(op, launch_dependent("la_state_v3", la_state_v3, grid, block, static_cast<size_t>(l.smem), k, ldk, v, ldv, M, static_cast<int>(H),
                                         hs, chunk, state));
    SANA_CUDA_LAUNCHED(op, "la_state_v3");
  }
  const plan::Launch l = plan::la_apply_v3(BH, N);
  SANA_RETURN_IF_ERROR(to_dims(op, "la_apply_v3", l, &grid, &block));
  SANA_CUDA_CHECK(op, launch_dependent("la_apply_v3", la_apply_v3, grid, block, static_cast<size_t>(l.smem), q, ldq, state, out, ldo, N,
                                       static_cast<int>(H), hs, hso, eps));
  SANA_CUDA_LAUNCHED(op, "la_apply_v3");
  return Status::Ok();
}

template <typename T>
Status run_apply_v2(const char* op, const T* q, int64_t ldq, const float* state, T* out, int64_t ldo, int64_t B, int64_t N, int64_t H, int64_t hs,
                    int64_t hso, float eps) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "la_apply_v2", plan::la_apply_v2(B * H, N), &grid, &block));
  SANA_CUDA_CHECK(op, launch_dependent("la_apply_v2", la_apply_v2<T>, grid, block, 0, q, ldq, state, out, ldo, N, static_cast<int>(H), hs, hso, eps));
  SANA_CUDA_LAUNCHED(op, "la_apply_v2");
  return Status::Ok();
}

}  // namespace

void set_la_target_blocks(int64_t blocks) { g_la_target_blocks = blocks > 0 ? blocks : 0; }

int la_default_version(int64_t d, bool aligned) { return d == kD && aligned ? 2 : 1; }

Status la_check_version(const char* op, int version, int64_t d, bool aligned) {
  if (version < 0 || version > 3) return unknown_version(op, version, 3);
  if (version == 0) version = la_default_version(d, aligned);
  if (version == 1 && d > kV1MaxD) {
    return InvalidArgument(std::string(op) + ": head_dim " + std::to_string(d) + " > " + std::to_string(kV1MaxD) + " is not supported on the cuda backend");
  }
  if (version == 2 && d != kD) return bad_version(op, 2, "is specialised for head_dim 32, got " + std::to_string(d));
  if (version == 2 && !aligned) return bad_version(op, 2, "needs 16-byte aligned q/k/v/out rows");
  if (version == 3 && d != kD) return bad_version(op, 3, "(tensor cores) is specialised for head_dim 32, got " + std::to_string(d));
  if (version == 3 && !aligned) return bad_version(op, 3, "(tensor cores) needs 16-byte aligned q/k/v/out rows");
  return Status::Ok();
}

Status la_core(const char* op, int version, DType dt, const void* q, int64_t ldq, const void* k, int64_t ldk, const void* v, int64_t ldv,
               void* out, int64_t ldo, int64_t B, int64_t N, int64_t M, int64_t H, int64_t d, float eps, Scratch& scratch, int64_t hs, int64_t hso) {
  if (hs == 0) hs = d;
  if (hso == 0) hso = d;
  const int64_t es = dt == DType::kF32 ? 4 : 2;
  const bool aligned = aligned16(q) && aligned16(k) && aligned16(v) && aligned16(out) && ldq % 8 == 0 && ldk % 8 == 0 && ldv % 8 == 0 &&
                       ldo % 8 == 0 && (hs * es) % 16 == 0 && (hso * es) % 16 == 0;
  SANA_RETURN_IF_ERROR(la_check_version(op, version, d, aligned));
  if (version == 3 && dt != DType::kBF16) return bad_version(op, 3, "(tensor cores) needs bf16 q/k/v/out, got f32");
  if (version == 0) version = la_default_version(d, aligned);
  if (B * H == 0 || N == 0) return Status::Ok();  // nothing to write (and no zero-sized grid to refuse)
  float* state = nullptr;
  SANA_RETURN_IF_ERROR(scratch.alloc_n(B * H * (d + 1) * d, &state));
  SANA_RETURN_IF_ERROR(zero_state(op, state, B * H * (d + 1) * d));
  if (version == 3) {
    return run_core_v3(op, static_cast<const bf16*>(q), ldq, static_cast<const bf16*>(k), ldk, static_cast<const bf16*>(v), ldv, static_cast<bf16*>(out),
                       ldo, B, N, M, H, hs, hso, eps, state);
  }
  if (dt == DType::kF32) {
    return run_core<float>(op, version, static_cast<const float*>(q), ldq, static_cast<const float*>(k), ldk, static_cast<const float*>(v), ldv,
                           static_cast<float*>(out), ldo, B, N, M, H, d, hs, hso, eps, state);
  }
  return run_core<bf16>(op, version, static_cast<const bf16*>(q), ldq, static_cast<const bf16*>(k), ldk, static_cast<const bf16*>(v), ldv,
                        static_cast<bf16*>(out), ldo, B, N, M, H, d, hs, hso, eps, state);
}

Status linear_attention(const LinearAttentionArgs& a, int version) {
  const char* op = "linear-attention";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  LinearAttentionSizes z;
  SANA_RETURN_IF_ERROR(check_linear_attention_args(Device::kCuda, a, &z));
  const int64_t B = z.B, N = z.N, C = z.C, M = z.M, H = z.H;
  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s;
  {
    Scratch scratch(op);
    s = la_core(op, version, a.q.dtype, a.q.data, C, a.k.data, C, a.v.data, C, a.out.data, C, B, N, M, H, a.head_dim, a.eps, scratch);
  }
  return scope.finish(s);
}

// ---------------------------------------------------------------- op `linear-attention-block`
// SANA's self-attention module (attn1), composed here (one translation unit per op family keeps the
// nvcc build short):
//   q, k, v = x·Wqᵀ, x·Wkᵀ, x·Wvᵀ     three gemms into one (M × 3C) buffer (row stride 3C), or one gemm
//                                     against [Wq; Wk; Wv] when the weights sit back to back in memory
//                                     (a runner's arena; every version but v3): the same dot products,
//                                     one launch, and at small M (1024², batch 2: M 2048) 3C-wide tiles
//                                     that fill the SMs where three C-wide gemms leave a partial wave each
//                                     (H200, gemm v3, 2026-11-28: M 2048 × N 3456 took 0.037 ms, M 2048 ×
//                                     N 1152 0.021 ms, so ≈ 0.064 for three; at M 32768 0.50 vs 3 × 0.175)
//   o       = linear-attention core     reads q, k, v in place → (M × C)
//   out     = residual + gate ⊙ (o·Woᵀ + bo)   gemm with bias, gate and residual fused in the epilogue
// M = B·N tokens. Intermediates are stored in the op's dtype (bf16 for bf16, as PyTorch does).
// FLOPs 2·M·C·3C + 4·M·C·(d+1) + 2·M·C·Cout; minimal bytes (M·C + M·Cout + 3C² + C·Cout)·sizeof(T)
// (+ gate, residual); this composition moves 2·4·M·C·sizeof(T) more (qkv and o written and read).
// Versions (the gemms use the default gemm for the dtype: tensor cores for bf16):
//   v1  the core's v1 (any head_dim ≤ 64)
//   v2  the core's v2 (head_dim 32) — the default
//   v3  K and V never reach HBM: q = x·Wqᵀ is a plain gemm, while k and v are computed together by a
//       tensor-core gemm whose 128-column tiles hold the k and v columns of two heads; its epilogue
//       rounds them to bf16 (as F.linear would), applies the ReLU, and reduces the tile's 128 tokens
//       into the heads' (33 × 32) f32 states in shared memory, then atomics (gemm_mma.cu, kLaState).
//       Then the apply pass (core v2) and the output gemm. Saves 4·M·C·2 bytes of HBM traffic (k, v
//       written and read) and x is read twice instead of three times. bf16; head_dim 32;
//       C % 64 == 0; N % 128 == 0 (a tile never spans two batch items).
//   v4  v2 with its four gemms (≈ 99% of the op's FLOPs at SANA's widths) on the Hopper wgmma engine
//       (gemm v3); bf16, head_dim 32, C % 8 == 0, an sm_90 GPU.
//   v5  v4 with the core's v3 (tensor cores, pipelined loads) instead of v2; same needs as v4.
// Default: v4 wherever it can run (H200, 2026-11-28: 1.00 ms vs v2's 1.73 ms and v3's 1.65 ms at
// Sana-0.6B 4096², batch 2); else v2 (head_dim 32), else v1. v3 stays explicit (slower than v4 there);
// v5 too until a GPU has timed it.
Status linear_attention_block(const LinearAttentionBlockArgs& a, int version) {
  const char* op = "linear-attention-block";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  LinearAttentionBlockSizes z;
  SANA_RETURN_IF_ERROR(check_linear_attention_block_args(Device::kCuda, a, &z));
  // This op has 5 versions (la_check_version below knows only the core's 3 and would say "1..3").
  if (version < 0 || version > 5) return unknown_version(op, version, 5);
  const DType dt = a.x.dtype;
  const int64_t B = z.B, N = z.N, C = z.C, Cout = z.Cout, M = B * N;
  const int64_t d = a.head_dim, H = z.H;
  if (version == 3) {
    if (dt != DType::kBF16) return bad_version(op, 3, "(fused k/v-state gemm) needs bf16");
    if (d != 32 || C % 64 != 0 || N % 128 != 0) {
      return bad_version(op, 3, "needs head_dim 32, C % 64 == 0 and N % 128 == 0, got head_dim " + std::to_string(d) + ", C " + std::to_string(C) +
                                    ", N " + std::to_string(N));
    }
    if (!aligned16(a.x.data) || !aligned16(a.wk.data) || !aligned16(a.wv.data)) return bad_version(op, 3, "needs 16-byte aligned x, wk, wv");
  } else {
    // The core reads q/k/v at column offsets 0, C, 2C of the packed buffer: aligned when C·sizeof(T) % 16 == 0.
    const bool aligned = C % 8 == 0 && (d * (dt == DType::kF32 ? 4 : 2)) % 16 == 0;
    // The four gemms as the wgmma engine sees them: x · wq/wk/wvᵀ, then o (op scratch) · woᵀ; the core's
    // own conditions beside them.
    const bool v4_ok = dt == DType::kBF16 && d == 32 && aligned && gemm_wgmma_dense_ok(dt, a.x.data, C, a.wq.data, C, M, C, C) &&
                       gemm_wgmma_dense_ok(dt, a.x.data, C, a.wk.data, C, M, C, C) && gemm_wgmma_dense_ok(dt, a.x.data, C, a.wv.data, C, M, C, C) &&
                       gemm_wgmma_dense_ok(dt, nullptr, C, a.wo.data, C, M, Cout, C);
    if (version == 0 && v4_ok && hopper_defaults()) version = 4;
    if ((version == 4 || version == 5) && !v4_ok) {
      return bad_version(op, version,
                         std::string(version == 4 ? "(wgmma gemms, core v2)" : "(wgmma gemms, core v3)") +
                             " needs bf16, head_dim 32, C % 8 == 0 and 16-byte aligned x and weights, got " + (dt == DType::kF32 ? "f32" : "bf16") +
                             ", head_dim " + std::to_string(d) + ", C " + std::to_string(C));
    }
    SANA_RETURN_IF_ERROR(la_check_version(op, version == 4 ? 2 : version == 5 ? 3 : version, d, aligned));
  }
  // v4, v5: the wgmma gemms (engine 3) around core v2, v3
  const int core_version = version == 4 ? 2 : version == 5 ? 3 : version, engine = version >= 4 ? 3 : 0;

  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s = [&]() -> Status {
    Scratch scratch(op);
    const int64_t es = dt == DType::kF32 ? 4 : 2;
    GemmProblem po;  // the output projection, shared by every version
    po.dtype = dt;
    po.M = M;
    po.N = Cout;
    po.K = C;
    po.lda = C;
    po.b = a.wo.data;
    po.ldb = C;
    po.c = a.out.data;
    po.ldc = Cout;
    po.bias = a.bo ? a.bo->data : nullptr;
    po.gate = a.gate ? a.gate->data : nullptr;
    po.gate_ld = Cout;
    po.gate_rows = z.gate_rows;
    po.residual = a.residual ? a.residual->data : nullptr;
    po.res_ld = Cout;
    if (version == 3) {
      bf16 *q = nullptr, *o = nullptr;
      float* state = nullptr;
      SANA_RETURN_IF_ERROR(scratch.alloc_n(M * C, &q));
      SANA_RETURN_IF_ERROR(scratch.alloc_n(M * C, &o));
      SANA_RETURN_IF_ERROR(scratch.alloc_n(B * H * (d + 1) * d, &state));
      GemmProblem pq;
      pq.dtype = dt;
      pq.M = M;
      pq.N = C;
      pq.K = C;
      pq.a = a.x.data;
      pq.lda = C;
      pq.b = a.wq.data;
      pq.ldb = C;
      pq.c = q;
      pq.ldc = C;
      SANA_RETURN_IF_ERROR(launch_gemm(op, pq, 0));
      SANA_RETURN_IF_ERROR(zero_state(op, state, B * H * (d + 1) * d));
      SANA_RETURN_IF_ERROR(launch_kv_state_mma(op, a.x.data, M, C, a.wk.data, a.wv.data, N, state));
      SANA_RETURN_IF_ERROR(run_apply_v2<bf16>(op, q, C, state, o, C, B, N, H, d, d, a.eps));
      po.a = o;
      return launch_gemm(op, po, 0);
    }
    uint8_t* qkv = nullptr;
    uint8_t* o = nullptr;
    SANA_RETURN_IF_ERROR(scratch.alloc_n(M * 3 * C * es, &qkv));
    SANA_RETURN_IF_ERROR(scratch.alloc_n(M * C * es, &o));
    // q, k, v: one gemm against [wq; wk; wv] when the three weights sit back to back in memory (a
    // runner's arena: bindings/models/weights.ts packed) — N = 3C fills more of the GPU than three
    // N = C gemms at small M, in one launch; each output element is the same dot product either way.
    const int64_t wbytes = C * C * es;
    const uint8_t* wq = static_cast<const uint8_t*>(a.wq.data);
    const bool packed = a.wk.data == wq + wbytes && a.wv.data == wq + 2 * wbytes;
    const TensorView* w[3] = {&a.wq, &a.wk, &a.wv};
    for (int i = 0; i < (packed ? 1 : 3); ++i) {
      GemmProblem p;
      p.dtype = dt;
      p.M = M;
      p.N = packed ? 3 * C : C;
      p.K = C;
      p.a = a.x.data;
      p.lda = C;
      p.b = w[i]->data;
      p.ldb = C;
      p.c = qkv + i * C * es;
      p.ldc = 3 * C;
      SANA_RETURN_IF_ERROR(launch_gemm(op, p, engine, version));
    }
    SANA_RETURN_IF_ERROR(la_core(op, core_version, dt, qkv, 3 * C, qkv + C * es, 3 * C, qkv + 2 * C * es, 3 * C, o, C, B, N, N, H, d, a.eps, scratch));
    po.a = o;
    return launch_gemm(op, po, engine, version);
  }();
  return scope.finish(s);
}

}  // namespace sana::cuda
