// Op `lite-mla`: DC-AE's LiteMLA (EfficientViT multi-scale ReLU linear attention) with its RMSNorm2d
// and residual, on NHWC activations (B, H, W, C), M = B·H·W pixels, head dim d, I = h·d (h = C / d),
// composed as the CPU backend does (kernels/cpu/lite_mla.cpp), intermediates in the op's dtype:
//   1. m[:, 0:3I]  = x·[Wq; Wk; Wv]ᵀ                   three gemms into m (M × 6I, row stride 6I)
//   2. t           = dw_k×k(m[:, 0:3I])                depthwise k×k, zero pad k/2, no bias → (M × 3I)
//   3. m[:, 3I:6I] = grouped 1×1(t), 3h groups of d    one thread per (pixel, output channel)
//   4. a           = ReLU attention on 2h heads of 3d consecutive channels of m (q | k | v): the
//                    linear-attention core with a head stride of 3d (H·W > d), or the quadratic form
//                    for tiny maps (H·W ≤ d) → (M × 2I)
//   5. out         = x + RMSNorm2d(a·W_outᵀ)            gemm → (M × C), then rmsnorm with the residual
// FLOPs 2·M·(3I·C + 3I·k² + 3I·d + 2I·C) + 4·M·2I·(d+1) (linear form) + ~5·M·C; minimal bytes
// 2·M·C·sizeof(T) + weights; this composition also moves m (6I), t (3I), a (2I), o (C) per pixel.
//
// Versions: v1 = the simple kernels (steps 2–3 one thread per output, core v1); v2 = the core's
// default (v2 for d = 32) with the same steps 2–3; v3 = v2 with steps 2–3 fused into one kernel.
//
// v3 (dw_group_v3): t never goes to memory. A block owns one group g of d = 32 channels (one of q, k, v
// of one head; blockIdx.y) and a run of consecutive pixels of one image row (blockIdx.x), one pixel per
// thread. The group's depthwise taps, transposed to a (k², 32) f32 table, and its 32×32 1×1 weights sit
// in shared memory (every thread reads the same address: broadcasts, 16-byte vector reads). A thread
// accumulates the 32 depthwise sums of its pixel in f32 registers, reading each neighbour's 32 channels
// with 16-byte loads (4 for bf16, 8 for f32; neighbouring threads share taps through L1), in v1's tap
// order; rounds them to T where v2 stores t (so v3 computes v2's function, and its summation order:
// taps ky, kx ascending, the 1×1 over i ascending), then the 32 outputs of the 1×1, stored 8 at a time
// with 16-byte stores into m[:, 3I + g·d …]. Per pixel and group: 2·32·(k² + 32) FLOPs, 64·sizeof(T)
// bytes read from DRAM once (the k² taps come from L1/L2) and 32·sizeof(T) written; the v2 pair moved
// that plus t (M·3I written and read back) with one thread per output and 64-bit div/mod per element.
// At DC-AE stage 3 of a 4096² decode (M = 512², 3I = 1536, k = 5): 46 GFLOP of f32 FMAs (≈ 0.7 ms at
// H200's f32 peak), 1.6 GB (bf16). Needs head_dim 32, k odd ≤ 7 (1, 3, 5, 7: the taps are unrolled),
// 16-byte aligned m rows (always, for d = 32: 6I·sizeof(T) % 16 == 0 and scratch is 256-aligned); f32
// and bf16. Runs are W rounded up to a warp, at most 128 pixels (plan::lite_mla_dw_group_v3). ptxas
// (sm_90a, CUDA 13.0): 96 registers for bf16 k = 5 and 7, no spills (5 blocks of 128 threads per SM).
// Explicit only: version 0 stays v2 until a GPU has timed v3.
#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/internal.h"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

// out[p][c] = Σ_taps w[c][tap]·in[neighbour][c], in rows of ld_in, out rows of ld_out.
template <typename T>
__global__ void dw_kxk_v1(const T* __restrict__ in, int64_t ld_in, const T* __restrict__ w, T* __restrict__ out, int64_t ld_out, int64_t B,
                          int64_t H, int64_t W, int64_t Cc, int ks) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int64_t total = B * H * W * Cc;
  const int pad = ks / 2;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = e % Cc, p = e / Cc, x = p % W, t = p / W, y = t % H, b = t / H;
    float acc = 0.0f;
    for (int ky = 0; ky < ks; ++ky) {
      const int64_t iy = y + ky - pad;
      if (iy < 0 || iy >= H) continue;
      for (int kx = 0; kx < ks; ++kx) {
        const int64_t ix = x + kx - pad;
        if (ix < 0 || ix >= W) continue;
        acc = fmaf(ldf(w[c * ks * ks + ky * ks + kx]), ldf(in[((b * H + iy) * W + ix) * ld_in + c]), acc);
      }
    }
    out[p * ld_out + c] = stf<T>(acc);
  }
}

// agg[p][g·d + o] = Σ_i wg[(g·d + o)·d + i]·t[p][g·d + i]  (groups of d channels)
template <typename T>
__global__ void group1x1_v1(const T* __restrict__ t, const T* __restrict__ wg, T* __restrict__ agg, int64_t ld_agg, int64_t M, int64_t I3, int64_t d) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int64_t total = M * I3;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = e % I3, p = e / I3, g0 = c - c % d;
    float acc = 0.0f;
    for (int64_t i = 0; i < d; ++i) acc = fmaf(ldf(wg[c * d + i]), ldf(t[p * I3 + g0 + i]), acc);
    agg[p * ld_agg + c] = stf<T>(acc);
  }
}

// v3 (see the header): steps 2 and 3 fused for groups of 32 channels. m rows of ld (= 6I) elements;
// reads m[:, g·32 …], writes agg[:, g·32 …] (agg = m + 3I: disjoint columns of the same rows).
constexpr int kGroupD = 32;

template <typename T, int KS>
__global__ void __launch_bounds__(plan::kMlaRun) dw_group_v3(const T* __restrict__ m, int64_t ld, const T* __restrict__ w_dw,
                                                              const T* __restrict__ w_group, T* __restrict__ agg, int64_t H, int64_t W) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  constexpr int D = kGroupD, K2 = KS * KS, pad = KS / 2;
  __shared__ __align__(16) float wt[K2][D], wg[D][D];  // wt[tap][c] = w_dw[(g·d + c)·k² + tap]; wg[o][i] = w_group[(g·d + o)·d + i]
  const int64_t g = blockIdx.y;
  for (int i = threadIdx.x; i < D * K2; i += blockDim.x) wt[i % K2][i / K2] = ldf(w_dw[g * D * K2 + i]);
  for (int i = threadIdx.x; i < D * D; i += blockDim.x) wg[i / D][i % D] = ldf(w_group[g * D * D + i]);
  __syncthreads();
  const int64_t run = blockDim.x, runs = (W + run - 1) / run;
  const int64_t row = blockIdx.x / runs, x = (blockIdx.x % runs) * run + threadIdx.x;  // row = b·H + y
  if (x >= W) return;  // past the row end (no barrier follows)
  const int64_t y = row % H, img = row - y;                // img = b·H, the image's first row
  float acc[D];
#pragma unroll
  for (int c = 0; c < D; ++c) acc[c] = 0.0f;
#pragma unroll
  for (int ky = 0; ky < KS; ++ky) {
    const int64_t iy = y + ky - pad;
    if (iy < 0 || iy >= H) continue;
    const T* mrow = m + (img + iy) * W * ld + g * D;
#pragma unroll
    for (int kx = 0; kx < KS; ++kx) {
      const int64_t ix = x + kx - pad;
      if (ix < 0 || ix >= W) continue;
      const T* px = mrow + ix * ld;
      const float* wtap = wt[ky * KS + kx];
#pragma unroll
      for (int c0 = 0; c0 < D; c0 += 8) {
        float v[8];
        load8(px + c0, v);
        const float4 wa = *reinterpret_cast<const float4*>(wtap + c0), wb = *reinterpret_cast<const float4*>(wtap + c0 + 4);
        acc[c0 + 0] = fmaf(wa.x, v[0], acc[c0 + 0]);
        acc[c0 + 1] = fmaf(wa.y, v[1], acc[c0 + 1]);
        acc[c0 + 2] = fmaf(wa.z, v[2], acc[c0 + 2]);
        acc[c0 + 3] = fmaf(wa.w, v[3], acc[c0 + 3]);
        acc[c0 + 4] = fmaf(wb.x, v[4], acc[c0 + 4]);
        acc[c0 + 5] = fmaf(wb.y, v[5], acc[c0 + 5]);
        acc[c0 + 6] = fmaf(wb.z, v[6], acc[c0 + 6]);
        acc[c0 + 7] = fmaf(wb.w, v[7], acc[c0 + 7]);
      }
    }
  }
#pragma unroll
  for (int c = 0; c < D; ++c) acc[c] = ldf(stf<T>(acc[c]));  // t in the op's dtype, as v2 stores it
  T* out = agg + (row * W + x) * ld + g * D;
#pragma unroll
  for (int o0 = 0; o0 < D; o0 += 8) {
    float r[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const float* wrow = wg[o0 + j];
      float s = 0.0f;
#pragma unroll
      for (int i = 0; i < D; i += 4) {
        const float4 w4 = *reinterpret_cast<const float4*>(wrow + i);
        s = fmaf(w4.x, acc[i], s);
        s = fmaf(w4.y, acc[i + 1], s);
        s = fmaf(w4.z, acc[i + 2], s);
        s = fmaf(w4.w, acc[i + 3], s);
      }
      r[j] = s;
    }
    store8(out + o0, r);
  }
}

template <typename T, int KS>
Status launch_dw_group_v3(const char* op, const LiteMlaArgs& a, T* m, int64_t B, int64_t H, int64_t W, int64_t I) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "dw_group_v3", plan::lite_mla_dw_group_v3(B, H, W, 3 * I / kGroupD), &grid, &block));
  SANA_CUDA_CHECK(op, launch_dependent("dw_group_v3<T, KS>", dw_group_v3<T, KS>, grid, block, 0, m, 6 * I, a.w_dw.as<T>(), a.w_group.as<T>(),
                                       m + 3 * I, H, W));
  SANA_CUDA_LAUNCHED(op, "dw_group_v3");
  return Status::Ok();
}

// Quadratic ReLU attention for tiny maps (N ≤ d): one thread per (batch, head, position n, channel i):
// out[n][i] = Σ_m v[m][i]·s(m, n) / (Σ_m s(m, n) + eps), s(m, n) = φ(k_m)·φ(q_n).
template <typename T>
__global__ void quad_attn_v1(const T* __restrict__ m, int64_t ld, T* __restrict__ att, int64_t ld_att, int64_t B, int64_t N, int64_t heads,
                             int64_t d, float eps) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int64_t total = B * heads * N * d;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t i = e % d, n = (e / d) % N, h = (e / (d * N)) % heads, b = e / (d * N * heads);
    const T* base = m + b * N * ld + h * 3 * d;
    float num = 0.0f, den = 0.0f;
    for (int64_t mm = 0; mm < N; ++mm) {
      float s = 0.0f;
      for (int64_t c = 0; c < d; ++c) s = fmaf(relu_f(ldf(base[mm * ld + d + c])), relu_f(ldf(base[n * ld + c])), s);
      num = fmaf(ldf(base[mm * ld + 2 * d + i]), s, num);
      den += s;
    }
    att[(b * N + n) * ld_att + h * d + i] = stf<T>(num / (den + eps));
  }
}

template <typename T>
Status run_steps23_quad(const char* op, int version, const LiteMlaArgs& a, T* m, T* t, T* att, int64_t B, int64_t H, int64_t W, int64_t I,
                        int64_t d, int ks, bool quad) {
  const int64_t M = B * H * W, I3 = 3 * I, I6 = 6 * I;
  dim3 grid, block;
  if (version == 3) {  // d == 32, ks ∈ {1, 3, 5, 7}, aligned m: checked by lite_mla
    switch (ks) {
      case 1: SANA_RETURN_IF_ERROR((launch_dw_group_v3<T, 1>(op, a, m, B, H, W, I))); break;
      case 3: SANA_RETURN_IF_ERROR((launch_dw_group_v3<T, 3>(op, a, m, B, H, W, I))); break;
      case 5: SANA_RETURN_IF_ERROR((launch_dw_group_v3<T, 5>(op, a, m, B, H, W, I))); break;
      case 7: SANA_RETURN_IF_ERROR((launch_dw_group_v3<T, 7>(op, a, m, B, H, W, I))); break;
      default: return bad_version(op, 3, "supports depthwise kernels 1, 3, 5, 7, got " + std::to_string(ks));
    }
  } else {
    SANA_RETURN_IF_ERROR(to_dims(op, "dw_kxk_v1", plan::elementwise(M * I3), &grid, &block));
    SANA_CUDA_CHECK(op, launch_dependent("dw_kxk_v1<T>", dw_kxk_v1<T>, grid, block, 0, m, I6, a.w_dw.as<T>(), t, I3, B, H, W, I3, ks));
    SANA_CUDA_LAUNCHED(op, "dw_kxk_v1");
    SANA_CUDA_CHECK(op, launch_dependent("group1x1_v1<T>", group1x1_v1<T>, grid, block, 0, t, a.w_group.as<T>(), m + I3, I6, M, I3, d));
    SANA_CUDA_LAUNCHED(op, "group1x1_v1");
  }
  if (quad) {
    const int64_t N = H * W, heads2 = 2 * I / d;
    SANA_RETURN_IF_ERROR(to_dims(op, "quad_attn_v1", plan::elementwise(B * heads2 * N * d), &grid, &block));
    SANA_CUDA_CHECK(op, launch_dependent("quad_attn_v1<T>", quad_attn_v1<T>, grid, block, 0, m, I6, att, 2 * I, B, N, heads2, d, a.eps));
    SANA_CUDA_LAUNCHED(op, "quad_attn_v1");
  }
  return Status::Ok();
}

}  // namespace

Status lite_mla(const LiteMlaArgs& a, int version) {
  const char* op = "lite-mla";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  LiteMlaSizes sz;
  SANA_RETURN_IF_ERROR(check_lite_mla_args(Device::kCuda, a, &sz));
  const DType dt = a.x.dtype;
  const int64_t B = sz.B, H = sz.H, W = sz.W, C = sz.C, d = sz.d, I = sz.I, I3 = 3 * I;
  const int ks = sz.ks;
  if (version < 0 || version > 3) return unknown_version(op, version, 3);
  // v3's fused steps 2–3: groups of 32 channels, the taps unrolled up to 7×7 (16-byte alignment of m's
  // rows follows from d = 32: 6I is a multiple of 192 elements; the scratch base is checked below).
  if (version == 3 && (d != kGroupD || ks > 7)) {
    return bad_version(op, 3, "(fused depthwise + grouped 1×1) needs head_dim 32 and a depthwise kernel ≤ 7, got head_dim " + std::to_string(d) +
                                  ", kernel " + std::to_string(ks));
  }
  const int64_t M = B * H * W, N = H * W, I6 = 6 * I, heads2 = 2 * I / d;
  const bool quad = N <= d;
  if (!quad) SANA_RETURN_IF_ERROR(la_check_version(op, version == 1 ? 1 : 0, d, true));

  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s = [&]() -> Status {
    Scratch scratch(op);
    const int64_t es = dtype_bytes(dt);
    uint8_t *m = nullptr, *t = nullptr, *att = nullptr, *o = nullptr;
    SANA_RETURN_IF_ERROR(scratch.alloc_n(M * I6 * es, &m));
    if (version != 3) SANA_RETURN_IF_ERROR(scratch.alloc_n(M * I3 * es, &t));  // v3 never stores t
    if (version == 3 && !aligned16(m)) return bad_version(op, 3, "needs 16-byte aligned scratch");
    SANA_RETURN_IF_ERROR(scratch.alloc_n(M * 2 * I * es, &att));
    SANA_RETURN_IF_ERROR(scratch.alloc_n(M * C * es, &o));
    const TensorView* w[3] = {&a.wq, &a.wk, &a.wv};
    for (int i = 0; i < 3; ++i) {  // 1. q | k | v into m[:, 0:3I]
      GemmProblem p;
      p.dtype = dt;
      p.M = M;
      p.N = I;
      p.K = C;
      p.a = a.x.data;
      p.lda = C;
      p.b = w[i]->data;
      p.ldb = C;
      p.c = m + i * I * es;
      p.ldc = I6;
      SANA_RETURN_IF_ERROR(launch_gemm(op, p, 0));
    }
    if (dt == DType::kF32) {  // 2, 3 (and 4 for tiny maps)
      SANA_RETURN_IF_ERROR(run_steps23_quad<float>(op, version, a, reinterpret_cast<float*>(m), reinterpret_cast<float*>(t), reinterpret_cast<float*>(att), B, H,
                                                   W, I, d, ks, quad));
    } else {
      SANA_RETURN_IF_ERROR(run_steps23_quad<bf16>(op, version, a, reinterpret_cast<bf16*>(m), reinterpret_cast<bf16*>(t), reinterpret_cast<bf16*>(att), B, H, W,
                                                  I, d, ks, quad));
    }
    if (!quad) {  // 4. heads of 3d channels: q at +0, k at +d, v at +2d; out heads side by side
      SANA_RETURN_IF_ERROR(la_core(op, version == 1 ? 1 : 0, dt, m, I6, m + d * es, I6, m + 2 * d * es, I6, att, 2 * I, B, N, N, heads2, d, a.eps,
                                   scratch, 3 * d, d));
    }
    GemmProblem p;  // 5. projection, then the norm with the residual
    p.dtype = dt;
    p.M = M;
    p.N = C;
    p.K = 2 * I;
    p.a = att;
    p.lda = 2 * I;
    p.b = a.w_out.data;
    p.ldb = 2 * I;
    p.c = o;
    p.ldc = C;
    SANA_RETURN_IF_ERROR(launch_gemm(op, p, 0));
    return rms_rows(op, version == 1 ? 1 : 0, dt, o, M, C, a.norm_w.data, a.norm_b.data, a.norm_eps, a.x.data, a.out.data);
  }();
  return scope.finish(s);
}

}  // namespace sana::cuda
