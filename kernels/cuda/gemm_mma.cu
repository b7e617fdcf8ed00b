// gemm v2: bf16 tensor cores through mma.sync (sm_80+), f32 accumulation, fused epilogue.
// See gemm.cu for the op and v1. FLOPs 2·M·N·K; minimal bytes (M·K + N·K + M·N)·2 (+ epilogue
// operands); each A tile is read by ⌈N/128⌉ blocks and each B tile by ⌈M/128⌉ (mostly from L2).
//
// Block: 128×128 output tile (blocks in grouped order, see plan::gemm_tile_of), 256 threads = 8 warps in a 2 (M) × 4 (N) grid, each warp 64×32 =
// 4 m16 × 4 n8 mma tiles (64 f32 accumulators per thread). K advances 32 at a time through a
// 4-stage cp.async ring (16-byte copies, cache-global; rows or K chunks outside the matrix are
// zero-filled by copying 0 source bytes, so edges need no special path). Shared tiles are rows of
// 4 × 16-byte chunks; chunk c of row r lives at slot c ^ ((r >> 1) & 3), which makes every
// ldmatrix (8 rows × 16 bytes) hit 8 distinct bank groups. Fragments come from ldmatrix.x4
// (A: 16 rows × k16; B: stored N×K so the non-transposed load yields the "col" operand directly).
//
// A variant (kLaState) replaces the store with linear attention's state reduction: see LaStateArgs and
// linear-attention-block v3 (linear_attention.cu).
//
// The A operand is dense (row stride lda) or, for conv3x3, the implicit im2col of an NHWC image:
// each 16-byte chunk is 8 consecutive input channels of one tap, so with Cin % 8 == 0 a chunk is
// contiguous in memory and the padding/upsampling decision is made once per chunk.
#include <cstdint>

#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

constexpr int BM = plan::kMmaBM, BN = plan::kMmaBN, BK = plan::kMmaBK, STAGES = plan::kMmaStages, THREADS = plan::kMmaThreads;
static_assert(BK == 32, "the swizzle assumes 4 chunks of 16 bytes per row");
constexpr int kStageBytes = (BM + BN) * BK * 2;
static_assert(int64_t{kStageBytes} * STAGES == plan::kMmaSmemBytes, "plan and kernel disagree on shared memory");

using ptx::cp_async16;
using ptx::cp_async_commit;
using ptx::cp_async_wait;
using ptx::ldmatrix_x4;
using ptx::smem_u32;
// Byte offset of chunk c (0..3) of row r inside a tile.
__device__ __forceinline__ uint32_t swz(int r, int c) { return static_cast<uint32_t>((r * 4 + (c ^ ((r >> 1) & 3))) * 16); }
__device__ __forceinline__ void mma_bf16(float* c, const uint32_t* a, const uint32_t* b) { ptx::mma_m16n8k16_bf16(c, a, b[0], b[1]); }

struct MmaArgs {
  const bf16* a;
  int64_t lda;
  const bf16* b;
  int64_t ldb;
  int64_t M, N, K;
  // conv A
  int64_t H, W, Cin, Ho, Wo;
  int stride, up;
  bool pair_store;  // out rows 4-byte aligned: store two bf16 at once
};

// Per-thread A-row state for the implicit im2col (2 rows per thread, fixed for the whole K loop).
struct ConvRow {
  int64_t pix;   // b·H·W: the image's first input pixel
  int iy0, ix0;  // top-left tap in upsampled input coordinates (|·| < 2³¹: checked on the host)
  bool valid;
};

// The linear-attention state epilogue (kLaState): the block's 128 columns are the k and v
// projections of two heads (tile rows 0–63 from wk, 64–127 from wv, rows 64·nt + …), and instead of
// storing them the block reduces its 128 tokens into those heads' (33 × 32) f32 states.
struct LaStateArgs {
  const bf16* wv = nullptr;  // the second weight (B rows 64–127 of each tile)
  float* state = nullptr;    // (B·heads, 33, 32), zeroed by the caller
  int64_t tokens = 0;        // tokens per batch item (a multiple of 128: a tile never spans two items)
  int64_t heads = 0;
};

template <bool kConv, bool kLaState>
__global__ void __launch_bounds__(THREADS, 2) gemm_mma_kernel(MmaArgs p, Epilogue<bf16> ep, LaStateArgs la) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  extern __shared__ __align__(128) uint8_t smem[];
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int warp_m = warp / 4, warp_n = warp % 4;
  int64_t tile_m, tile_n;
  plan::gemm_tile_of(blockIdx.x, (p.M + BM - 1) / BM, (p.N + BN - 1) / BN, &tile_m, &tile_n);
  const int64_t m0 = tile_m * BM, n0 = tile_n * BN;
  const int64_t KT = (p.K + BK - 1) / BK;

  // This thread copies chunk lc of rows lr and lr + 64 of both tiles.
  const int lr = tid / 4, lc = tid % 4;
  ConvRow crow[2];
  if (kConv) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int64_t m = m0 + lr + 64 * i;
      crow[i].valid = m < p.M;
      const int64_t mm = crow[i].valid ? m : 0;
      const int64_t ox = mm % p.Wo, t = mm / p.Wo, oy = t % p.Ho, b = t / p.Ho;
      crow[i].pix = b * p.H * p.W;
      crow[i].iy0 = static_cast<int>(oy * p.stride - 1);
      crow[i].ix0 = static_cast<int>(ox * p.stride - 1);
    }
  }

  auto load_stage = [&](int stage, int64_t kt) {
    uint8_t* sa = smem + stage * kStageBytes;
    uint8_t* sb = sa + BM * BK * 2;
    const int64_t k = kt * BK + lc * 8;
    const bool k_ok = k < p.K;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int r = lr + 64 * i;
      // A
      const bf16* src = p.a;
      bool ok;
      if (kConv) {
        const int64_t tap = k / p.Cin, ci = k - tap * p.Cin;
        const int64_t iy = crow[i].iy0 + tap / 3, ix = crow[i].ix0 + tap % 3;
        ok = crow[i].valid && k_ok && iy >= 0 && iy < p.H * p.up && ix >= 0 && ix < p.W * p.up;
        if (ok) src = p.a + ((crow[i].pix + (iy / p.up) * p.W + ix / p.up) * p.Cin + ci);
      } else {
        ok = (m0 + r < p.M) && k_ok;
        if (ok) src = p.a + (m0 + r) * p.lda + k;
      }
      cp_async16(smem_u32(sa + swz(r, lc)), src, ok);
      // B
      if constexpr (kLaState) {  // rows 0–63: wk rows 64·nt + r; rows 64–127: wv rows 64·nt + r − 64
        const bf16* wrow = (r < 64 ? p.b : la.wv) + (tile_n * 64 + (r & 63)) * p.ldb;
        cp_async16(smem_u32(sb + swz(r, lc)), k_ok ? wrow + k : p.b, k_ok);
      } else {
        const bool okb = (n0 + r < p.N) && k_ok;
        cp_async16(smem_u32(sb + swz(r, lc)), okb ? p.b + (n0 + r) * p.ldb + k : p.b, okb);
      }
    }
  };

  float acc[4][4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0.0f;

#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < KT) load_stage(s, s);
    cp_async_commit();
  }

  for (int64_t kt = 0; kt < KT; ++kt) {
    cp_async_wait<STAGES - 2>();
    __syncthreads();  // tile kt visible to all; everyone is done with the stage we refill next
    const int64_t pf = kt + STAGES - 1;
    if (pf < KT) load_stage(static_cast<int>(pf % STAGES), pf);
    cp_async_commit();

    const uint8_t* sa = smem + static_cast<int>(kt % STAGES) * kStageBytes;
    const uint8_t* sb = sa + BM * BK * 2;
#pragma unroll
    for (int kk = 0; kk < 2; ++kk) {
      uint32_t af[4][4], bfr[4][2];
#pragma unroll
      for (int mt = 0; mt < 4; ++mt) {
        const int r = warp_m * 64 + mt * 16 + (lane % 16);
        ldmatrix_x4(af[mt], smem_u32(sa + swz(r, kk * 2 + lane / 16)));
      }
#pragma unroll
      for (int np = 0; np < 2; ++np) {
        const int mi = lane / 8;
        const int r = warp_n * 32 + np * 16 + (mi / 2) * 8 + (lane % 8);
        uint32_t t[4];
        ldmatrix_x4(t, smem_u32(sb + swz(r, kk * 2 + (mi % 2))));
        bfr[2 * np][0] = t[0];
        bfr[2 * np][1] = t[1];
        bfr[2 * np + 1][0] = t[2];
        bfr[2 * np + 1][1] = t[3];
      }
#pragma unroll
      for (int mt = 0; mt < 4; ++mt)
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) mma_bf16(acc[mt][nt], af[mt], bfr[nt]);
    }
  }
  cp_async_wait<0>();

  if constexpr (kLaState) {
    // φ(k) and v of the tile, rounded to bf16 as the PyTorch reference stores them (F.linear output),
    // into shared memory [128 tokens][128 (+8 pad)]: columns 0–63 φ(k) of the two heads, 64–127 v.
    constexpr int LD = BN + 8;
    __syncthreads();  // every warp is done reading the pipeline stages
    bf16* kv = reinterpret_cast<bf16*>(smem);
#pragma unroll
    for (int mt2 = 0; mt2 < 4; ++mt2)
#pragma unroll
      for (int nt2 = 0; nt2 < 4; ++nt2)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int row = warp_m * 64 + mt2 * 16 + lane / 4 + 8 * (e / 2), col = warp_n * 32 + nt2 * 8 + (lane % 4) * 2 + (e % 2);
          float v = __bfloat162float(__float2bfloat16_rn(acc[mt2][nt2][e]));
          if (col < 64) v = relu_f(v);
          kv[row * LD + col] = __float2bfloat16_rn(v);
        }
    __syncthreads();
    // state[i][j] += Σ_m v[m][i]·φk[m][j] (i < 32), state[32][j] += Σ_m φk[m][j]: per head 33 × 32 sums
    // over the 128 tokens; thread = (head hh, 2 rows i, 4 columns j).
    const int hh = tid / 128, t = tid % 128, i0 = (t / 8) * 2, j0 = (t % 8) * 4;
    float sacc[2][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}}, ks[4] = {0, 0, 0, 0};
    for (int m = 0; m < BM; ++m) {
      const bf16* kr = kv + m * LD + hh * 32 + j0;
      const bf16* vr = kv + m * LD + 64 + hh * 32 + i0;
      const float k4[4] = {__bfloat162float(kr[0]), __bfloat162float(kr[1]), __bfloat162float(kr[2]), __bfloat162float(kr[3])};
      const float v2[2] = {__bfloat162float(vr[0]), __bfloat162float(vr[1])};
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        sacc[0][c] = fmaf(v2[0], k4[c], sacc[0][c]);
        sacc[1][c] = fmaf(v2[1], k4[c], sacc[1][c]);
        ks[c] += k4[c];
      }
    }
    const int64_t b = m0 / la.tokens, head = tile_n * 2 + hh;
    float* S = la.state + (b * la.heads + head) * (33 * 32);
#pragma unroll
    for (int c = 0; c < 4; ++c) {
      atomicAdd(&S[(i0 + 0) * 32 + j0 + c], sacc[0][c]);
      atomicAdd(&S[(i0 + 1) * 32 + j0 + c], sacc[1][c]);
      if (i0 == 0) atomicAdd(&S[32 * 32 + j0 + c], ks[c]);
    }
  } else {
    // Epilogue: c0,c1 at (row g, cols 2q, 2q+1), c2,c3 at row g + 8, with g = lane / 4, q = lane % 4.
#pragma unroll
    for (int mt = 0; mt < 4; ++mt) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int64_t m = m0 + warp_m * 64 + mt * 16 + lane / 4 + 8 * h;
        if (m >= p.M) continue;
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) {
          const int64_t n = n0 + warp_n * 32 + nt * 8 + (lane % 4) * 2;
          if (n >= p.N) continue;
          const float v0 = ep.apply(m, n, acc[mt][nt][2 * h]);
          if (n + 1 < p.N) {
            const float v1 = ep.apply(m, n + 1, acc[mt][nt][2 * h + 1]);
            bf16* o = ep.out + m * ep.ldo + n;
            if (p.pair_store) {
              *reinterpret_cast<__nv_bfloat162*>(o) = __floats2bfloat162_rn(v0, v1);
            } else {
              o[0] = __float2bfloat16_rn(v0);
              o[1] = __float2bfloat16_rn(v1);
            }
          } else {
            ep.out[m * ep.ldo + n] = __float2bfloat16_rn(v0);
          }
        }
      }
    }
  }  // kLaState
}

template <bool kConv, bool kLaState = false> Status launch(const char* op, const GemmProblem& g, const LaStateArgs& la = LaStateArgs()) {
  dim3 grid, block;
  const plan::Launch l = plan::gemm_mma(g.M, g.N);
  SANA_RETURN_IF_ERROR(to_dims(op, "gemm_mma_kernel", l, &grid, &block));
  SANA_CUDA_CHECK(op, cudaFuncSetAttribute(gemm_mma_kernel<kConv, kLaState>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(l.smem)));
  MmaArgs p;
  p.a = static_cast<const bf16*>(g.a);
  p.lda = g.lda;
  p.b = static_cast<const bf16*>(g.b);
  p.ldb = g.ldb;
  p.M = g.M;
  p.N = g.N;
  p.K = g.K;
  p.H = g.conv_h;
  p.W = g.conv_w;
  p.Cin = g.conv_cin;
  p.Ho = g.conv_ho;
  p.Wo = g.conv_wo;
  p.stride = g.conv_stride;
  p.up = g.conv_upsample < 1 ? 1 : g.conv_upsample;
  p.pair_store = g.ldc % 2 == 0 && (reinterpret_cast<uintptr_t>(g.c) & 3u) == 0;
  const Epilogue<bf16> ep = make_epilogue<bf16>(g);
  SANA_CUDA_CHECK(op, launch_dependent("gemm_mma_kernel<kConv, kLaState>", gemm_mma_kernel<kConv, kLaState>, grid, block, l.smem, p, ep, la));
  SANA_CUDA_LAUNCHED(op, "gemm_mma_kernel");
  return Status::Ok();
}

}  // namespace

const char* gemm_mma_unsupported(const GemmProblem& p) {
  if (p.dtype != DType::kBF16) return "it needs bf16 storage";
  if (p.b_torch_conv) return "it needs the conv weight reordered to (Cout, 9·Cin)";
  if (p.K % 8 != 0) return "K must be a multiple of 8";
  if (p.ldb % 8 != 0 || !aligned16(p.b)) return "w rows must be 16-byte aligned";
  if (p.a_conv) {
    if (p.conv_phase >= 0) return "sub-pixel conv phases run on the wgmma engine only";
    if (p.conv_cin % 8 != 0) return "conv input channels must be a multiple of 8";
    if (!aligned16(p.a)) return "x must be 16-byte aligned";
  } else if (p.lda % 8 != 0 || !aligned16(p.a)) {
    return "x rows must be 16-byte aligned";
  }
  return "";
}

Status launch_gemm_mma(const char* op, const GemmProblem& p) {
  if (p.M == 0 || p.N == 0) return Status::Ok();
  const char* why = gemm_mma_unsupported(p);
  if (why[0] != '\0') return InvalidArgument(std::string(op) + ": tensor-core gemm: " + why);
  return p.a_conv ? launch<true>(op, p) : launch<false>(op, p);
}

Status launch_kv_state_mma(const char* op, const void* x, int64_t M, int64_t C, const void* wk, const void* wv, int64_t tokens, float* state) {
  if (C % 64 != 0 || tokens % BM != 0 || M % tokens != 0) {
    return InvalidArgument(std::string(op) + ": fused k/v-state gemm needs C % 64 == 0 and tokens % 128 == 0");
  }
  if (!aligned16(x) || !aligned16(wk) || !aligned16(wv)) return InvalidArgument(std::string(op) + ": fused k/v-state gemm needs 16-byte aligned x, wk, wv");
  GemmProblem g;
  g.dtype = DType::kBF16;
  g.M = M;
  g.N = 2 * C;  // virtual columns: per 128-column tile, 64 of k then 64 of v
  g.K = C;
  g.a = x;
  g.lda = C;
  g.b = wk;
  g.ldb = C;
  g.c = nullptr;
  g.ldc = 0;
  LaStateArgs la;
  la.wv = static_cast<const bf16*>(wv);
  la.state = state;
  la.tokens = tokens;
  la.heads = C / 32;
  return launch<false, true>(op, g, la);
}

}  // namespace sana::cuda
