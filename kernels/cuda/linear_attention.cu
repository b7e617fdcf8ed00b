// Ops `linear-attention` and `linear-attention-block` (at the end of the file).
// `linear-attention`: SANA's ReLU linear-attention core on token-major (B, N, C) tensors, heads of d
// channels (d = 32 in SANA). Per (batch, head), with φ = ReLU and the "ones row" of [V; 1]:
//   state  vk[i][j] = Σ_m v̂_m[i]·φ(k_m)[j],  i ∈ [0, d] (v̂[d] = 1 → vk[d] = Σ_m φ(k_m)), j ∈ [0, d)
//   output out_n[i] = Σ_j vk[i][j]·φ(q_n)[j] / (Σ_j vk[d][j]·φ(q_n)[j] + eps)
// The (d+1)×d state is f32 in device memory (B·heads·(d+1)·d·4 bytes, zeroed, then accumulated with
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
#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/internal.h"

namespace sana::cuda {
namespace {

constexpr int kThreads = plan::kLaThreads;

// ---------------------------------------------------------------- v1
constexpr int kV1Tile = 32, kV1MaxD = 64;

template <typename T>
__global__ void __launch_bounds__(kThreads) la_state_v1(const T* __restrict__ k, int64_t ldk, const T* __restrict__ v, int64_t ldv,
                                                        int64_t M, int H, int d, int64_t hs, int64_t chunk, float* __restrict__ state) {
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
      la_state_v1<T><<<grid, block, 0, op_stream()>>>(k, ldk, v, ldv, M, static_cast<int>(H), static_cast<int>(d), hs, chunk, state);
      SANA_CUDA_LAUNCHED(op, "la_state_v1");
    }
    SANA_RETURN_IF_ERROR(to_dims(op, "la_apply_v1", plan::la_apply_v1(BH, N, d), &grid, &block));
    la_apply_v1<T><<<grid, block, 0, op_stream()>>>(q, ldq, state, out, ldo, N, static_cast<int>(H), static_cast<int>(d), hs, hso, eps);
    SANA_CUDA_LAUNCHED(op, "la_apply_v1");
  } else {
    if (has_keys) {
      la_state_v2<T><<<grid, block, 0, op_stream()>>>(k, ldk, v, ldv, M, static_cast<int>(H), hs, chunk, state);
      SANA_CUDA_LAUNCHED(op, "la_state_v2");
    }
    SANA_RETURN_IF_ERROR(to_dims(op, "la_apply_v2", plan::la_apply_v2(BH, N), &grid, &block));
    la_apply_v2<T><<<grid, block, 0, op_stream()>>>(q, ldq, state, out, ldo, N, static_cast<int>(H), hs, hso, eps);
    SANA_CUDA_LAUNCHED(op, "la_apply_v2");
  }
  return Status::Ok();
}

template <typename T>
Status run_apply_v2(const char* op, const T* q, int64_t ldq, const float* state, T* out, int64_t ldo, int64_t B, int64_t N, int64_t H, int64_t hs,
                    int64_t hso, float eps) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "la_apply_v2", plan::la_apply_v2(B * H, N), &grid, &block));
  la_apply_v2<T><<<grid, block, 0, op_stream()>>>(q, ldq, state, out, ldo, N, static_cast<int>(H), hs, hso, eps);
  SANA_CUDA_LAUNCHED(op, "la_apply_v2");
  return Status::Ok();
}

}  // namespace

void set_la_target_blocks(int64_t blocks) { g_la_target_blocks = blocks > 0 ? blocks : 0; }

int la_default_version(int64_t d, bool aligned) { return d == kD && aligned ? 2 : 1; }

Status la_check_version(const char* op, int version, int64_t d, bool aligned) {
  if (version < 0 || version > 2) return unknown_version(op, version, 2);
  if (version == 0) version = la_default_version(d, aligned);
  if (version == 1 && d > kV1MaxD) {
    return InvalidArgument(std::string(op) + ": head_dim " + std::to_string(d) + " > " + std::to_string(kV1MaxD) + " is not supported on the cuda backend");
  }
  if (version == 2 && d != kD) return bad_version(op, 2, "is specialised for head_dim 32, got " + std::to_string(d));
  if (version == 2 && !aligned) return bad_version(op, 2, "needs 16-byte aligned q/k/v/out rows");
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
  if (version == 0) version = la_default_version(d, aligned);
  if (B * H == 0 || N == 0) return Status::Ok();  // nothing to write (and no zero-sized grid to refuse)
  const int64_t state_bytes = B * H * (d + 1) * d * 4;
  float* state = nullptr;
  SANA_RETURN_IF_ERROR(scratch.alloc_n(B * H * (d + 1) * d, &state));
  SANA_CUDA_CHECK(op, cudaMemsetAsync(state, 0, static_cast<size_t>(state_bytes), op_stream()));
  if (dt == DType::kF32) {
    return run_core<float>(op, version, static_cast<const float*>(q), ldq, static_cast<const float*>(k), ldk, static_cast<const float*>(v), ldv,
                           static_cast<float*>(out), ldo, B, N, M, H, d, hs, hso, eps, state);
  }
  return run_core<bf16>(op, version, static_cast<const bf16*>(q), ldq, static_cast<const bf16*>(k), ldk, static_cast<const bf16*>(v), ldv,
                        static_cast<bf16*>(out), ldo, B, N, M, H, d, hs, hso, eps, state);
}

Status linear_attention(const LinearAttentionArgs& a, int version) {
  const char* op = "linear-attention";
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
//   q, k, v = x·Wqᵀ, x·Wkᵀ, x·Wvᵀ     three gemms into one (M × 3C) buffer (row stride 3C)
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
// Default: v4 wherever it can run (H200, 2026-11-28: 1.00 ms vs v2's 1.73 ms and v3's 1.65 ms at
// Sana-0.6B 4096², batch 2); else v2 (head_dim 32), else v1. v3 stays explicit (slower than v4 there).
Status linear_attention_block(const LinearAttentionBlockArgs& a, int version) {
  const char* op = "linear-attention-block";
  LinearAttentionBlockSizes z;
  SANA_RETURN_IF_ERROR(check_linear_attention_block_args(Device::kCuda, a, &z));
  // This op has 4 versions (la_check_version below knows only the core's 2 and would say "1..2").
  if (version < 0 || version > 4) return unknown_version(op, version, 4);
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
    // The gemms' operands from the caller (TMA needs 16-byte rows): x and the four weights.
    const bool v4_ok = dt == DType::kBF16 && d == 32 && aligned && aligned16(a.x.data) && aligned16(a.wq.data) && aligned16(a.wk.data) &&
                       aligned16(a.wv.data) && aligned16(a.wo.data);
    if (version == 0 && v4_ok && hopper_defaults()) version = 4;
    if (version == 4 && !v4_ok) {
      return bad_version(op, 4, "(wgmma gemms, core v2) needs bf16, head_dim 32, C % 8 == 0 and 16-byte aligned x and weights, got head_dim " +
                                    std::to_string(d) + ", C " + std::to_string(C));
    }
    SANA_RETURN_IF_ERROR(la_check_version(op, version == 4 ? 2 : version, d, aligned));
  }
  const int core_version = version == 4 ? 2 : version, engine = version == 4 ? 3 : 0;

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
      SANA_CUDA_CHECK(op, cudaMemsetAsync(state, 0, static_cast<size_t>(B * H * (d + 1) * d * 4), op_stream()));
      SANA_RETURN_IF_ERROR(launch_kv_state_mma(op, a.x.data, M, C, a.wk.data, a.wv.data, N, state));
      SANA_RETURN_IF_ERROR(run_apply_v2<bf16>(op, q, C, state, o, C, B, N, H, d, d, a.eps));
      po.a = o;
      return launch_gemm(op, po, 0);
    }
    uint8_t* qkv = nullptr;
    uint8_t* o = nullptr;
    SANA_RETURN_IF_ERROR(scratch.alloc_n(M * 3 * C * es, &qkv));
    SANA_RETURN_IF_ERROR(scratch.alloc_n(M * C * es, &o));
    const TensorView* w[3] = {&a.wq, &a.wk, &a.wv};
    for (int i = 0; i < 3; ++i) {
      GemmProblem p;
      p.dtype = dt;
      p.M = M;
      p.N = C;
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
