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
// default (v2 for d = 32) with the same steps 2–3.
#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/internal.h"

namespace sana::cuda {
namespace {

// out[p][c] = Σ_taps w[c][tap]·in[neighbour][c], in rows of ld_in, out rows of ld_out.
template <typename T>
__global__ void dw_kxk_v1(const T* __restrict__ in, int64_t ld_in, const T* __restrict__ w, T* __restrict__ out, int64_t ld_out, int64_t B,
                          int64_t H, int64_t W, int64_t Cc, int ks) {
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
  const int64_t total = M * I3;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = e % I3, p = e / I3, g0 = c - c % d;
    float acc = 0.0f;
    for (int64_t i = 0; i < d; ++i) acc = fmaf(ldf(wg[c * d + i]), ldf(t[p * I3 + g0 + i]), acc);
    agg[p * ld_agg + c] = stf<T>(acc);
  }
}

// Quadratic ReLU attention for tiny maps (N ≤ d): one thread per (batch, head, position n, channel i):
// out[n][i] = Σ_m v[m][i]·s(m, n) / (Σ_m s(m, n) + eps), s(m, n) = φ(k_m)·φ(q_n).
template <typename T>
__global__ void quad_attn_v1(const T* __restrict__ m, int64_t ld, T* __restrict__ att, int64_t ld_att, int64_t B, int64_t N, int64_t heads,
                             int64_t d, float eps) {
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
Status run_steps23_quad(const char* op, const LiteMlaArgs& a, T* m, T* t, T* att, int64_t B, int64_t H, int64_t W, int64_t I, int64_t d, int ks,
                        bool quad) {
  const int64_t M = B * H * W, I3 = 3 * I, I6 = 6 * I;
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "dw_kxk_v1", plan::elementwise(M * I3), &grid, &block));
  dw_kxk_v1<T><<<grid, block, 0, op_stream()>>>(m, I6, a.w_dw.as<T>(), t, I3, B, H, W, I3, ks);
  SANA_CUDA_LAUNCHED(op, "dw_kxk_v1");
  group1x1_v1<T><<<grid, block, 0, op_stream()>>>(t, a.w_group.as<T>(), m + I3, I6, M, I3, d);
  SANA_CUDA_LAUNCHED(op, "group1x1_v1");
  if (quad) {
    const int64_t N = H * W, heads2 = 2 * I / d;
    SANA_RETURN_IF_ERROR(to_dims(op, "quad_attn_v1", plan::elementwise(B * heads2 * N * d), &grid, &block));
    quad_attn_v1<T><<<grid, block, 0, op_stream()>>>(m, I6, att, 2 * I, B, N, heads2, d, a.eps);
    SANA_CUDA_LAUNCHED(op, "quad_attn_v1");
  }
  return Status::Ok();
}

}  // namespace

Status lite_mla(const LiteMlaArgs& a, int version) {
  const char* op = "lite-mla";
  LiteMlaSizes sz;
  SANA_RETURN_IF_ERROR(check_lite_mla_args(Device::kCuda, a, &sz));
  const DType dt = a.x.dtype;
  const int64_t B = sz.B, H = sz.H, W = sz.W, C = sz.C, d = sz.d, I = sz.I, I3 = 3 * I;
  const int ks = sz.ks;
  if (version < 0 || version > 2) return unknown_version(op, version, 2);
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
    SANA_RETURN_IF_ERROR(scratch.alloc_n(M * I3 * es, &t));
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
      SANA_RETURN_IF_ERROR(run_steps23_quad<float>(op, a, reinterpret_cast<float*>(m), reinterpret_cast<float*>(t), reinterpret_cast<float*>(att), B, H,
                                                   W, I, d, ks, quad));
    } else {
      SANA_RETURN_IF_ERROR(run_steps23_quad<bf16>(op, a, reinterpret_cast<bf16*>(m), reinterpret_cast<bf16*>(t), reinterpret_cast<bf16*>(att), B, H, W,
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
