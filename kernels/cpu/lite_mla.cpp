// Op `lite-mla`: DC-AE's LiteMLA (EfficientViT multi-scale ReLU linear attention) with its RMSNorm2d
// and residual, on NHWC activations (B, H, W, C), M = B·H·W pixels, head dim d, I = h·d (h = C / d):
//   1. m[:, 0:3I]  = x·[Wq; Wk; Wv]ᵀ                   gemm → f32 scratch m (M × 6I)
//   2. t           = dw_k×k(m[:, 0:3I])                depthwise k×k, zero pad k/2 → f32 (M × 3I)
//   3. m[:, 3I:6I] = grouped 1×1(t), 3h groups of d    per pixel, lane-parallel over the group's outputs
//   4. a           = ReLU attention on 2h heads of 3d consecutive channels of m (q | k | v):
//                    the fused linear core (H·W > d) or, for tiny maps, the quadratic form → f32 (M × 2I)
//   5. out         = x + RMSNorm2d(a·W_outᵀ)            gemm → f32, then the norm with the residual fused
// FLOPs 2·M·(3I·C + 3I·k² + 3I·d + 2I·C) + 4·M·2I·(d+1) (linear form) + ~5·M·C; minimal bytes
// 2·M·C·sizeof(T) + weights; f32 scratch 4·M·(6I + 3I + 2I + C) bytes.
#include <algorithm>
#include <cmath>
#include <vector>

#include "sana/cpu/fused.h"
#include "sana/cpu/gemm.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/thread_pool.h"

namespace sana::cpu {
namespace {

constexpr int64_t kChanBlock = 256;

// One output pixel of a depthwise k×k conv over channel block [c0, c0 + n): nb[tap] = the neighbour's
// row (or null outside the image), wt[tap·ld_w + c] the taps.
SANA_VECTORIZE void dw_pixel(const float* const* nb, int taps, const float* __restrict wt, int64_t ld_w, int64_t c0, int64_t n,
                             float* __restrict out) {
  float acc[kChanBlock];
  for (int64_t c = 0; c < n; ++c) acc[c] = 0.0f;
  for (int tap = 0; tap < taps; ++tap) {
    const float* __restrict u = nb[tap];
    if (u == nullptr) continue;
    const float* __restrict w = wt + tap * ld_w + c0;
    for (int64_t c = 0; c < n; ++c) acc[c] += w[c] * u[c0 + c];
  }
  for (int64_t c = 0; c < n; ++c) out[c] = acc[c];
}

// out[o] = Σ_i wT[i·d + o] · in[i] for one group of d channels.
SANA_VECTORIZE void group_matvec(const float* __restrict wT, const float* __restrict in, int64_t d, float* __restrict out) {
  for (int64_t o = 0; o < d; ++o) out[o] = 0.0f;
  for (int64_t i = 0; i < d; ++i) {
    const float xi = in[i];
    const float* __restrict w = wT + i * d;
    for (int64_t o = 0; o < d; ++o) out[o] += xi * w[o];
  }
}

// ReLU quadratic attention on one head (N ≤ d positions): S[m][n] = φk_m·φq_n normalised over keys m
// by (Σ_m S + eps); out_n = Σ_m v_m S[m][n]. Rows of q/k/v at stride ld.
void quadratic_head(const float* q, const float* k, const float* v, int64_t ld, int64_t N, int64_t d, float eps, float* out, int64_t ldo) {
  std::vector<float> S(static_cast<size_t>(N * N));
  for (int64_t n = 0; n < N; ++n) {
    float col = 0.0f;
    for (int64_t m = 0; m < N; ++m) {
      float s = 0.0f;
      for (int64_t c = 0; c < d; ++c) s += relu_f(k[m * ld + c]) * relu_f(q[n * ld + c]);
      S[m * N + n] = s;
      col += s;
    }
    const float den = col + eps;
    for (int64_t m = 0; m < N; ++m) S[m * N + n] /= den;
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < d; ++i) {
      float s = 0.0f;
      for (int64_t m = 0; m < N; ++m) s += v[m * ld + i] * S[m * N + n];
      out[n * ldo + i] = s;
    }
}

template <typename T> void run(const LiteMlaArgs& a, int64_t B, int64_t H, int64_t W, int64_t C, int64_t I, int64_t d, int ks) {
  const int64_t M = B * H * W, N = H * W, I3 = 3 * I, I6 = 6 * I, heads2 = 2 * I / d;
  Buffer<float> m = alloc_buffer<float>(M * I6);
  Buffer<float> t = alloc_buffer<float>(M * I3);
  Buffer<float> att = alloc_buffer<float>(M * 2 * I);
  Buffer<float> o = alloc_buffer<float>(M * C);
  {  // 1. qkv
    DenseA<T> A(a.x.as<T>(), M, C, C);
    LinearWeightB<T> Wb;
    Wb.K = C;
    Wb.add(a.wq.as<T>(), I);
    Wb.add(a.wk.as<T>(), I);
    Wb.add(a.wv.as<T>(), I);
    Epilogue<T, float> ep;
    ep.out = m.get();
    ep.ldo = I6;
    gemm_run<T, float>(A, Wb, ep);
  }
  const int taps = ks * ks, pad = ks / 2;
  Buffer<float> wdw = alloc_buffer<float>(taps * I3);  // [tap][channel]
  Buffer<float> wg = alloc_buffer<float>(I3 * d);      // [group][i][o]
  for (int64_t c = 0; c < I3; ++c)
    for (int tap = 0; tap < taps; ++tap) wdw[tap * I3 + c] = load_f(a.w_dw.as<T>()[c * taps + tap]);
  for (int64_t g = 0; g < I3 / d; ++g)
    for (int64_t o2 = 0; o2 < d; ++o2)
      for (int64_t i = 0; i < d; ++i) wg[(g * d + i) * d + o2] = load_f(a.w_group.as<T>()[(g * d + o2) * d + i]);
  // 2 + 3. depthwise k×k then grouped 1×1, one task per image row
  parallel_for(B * H, [&](int64_t task) {
    const int64_t b = task / H, y = task % H;
    std::vector<const float*> nb(static_cast<size_t>(taps));
    for (int64_t x = 0; x < W; ++x) {
      for (int tap = 0; tap < taps; ++tap) {
        const int64_t iy = y - pad + tap / ks, ix = x - pad + tap % ks;
        nb[tap] = (iy < 0 || iy >= H || ix < 0 || ix >= W) ? nullptr : m.get() + ((b * H + iy) * W + ix) * I6;
      }
      const int64_t p = (b * H + y) * W + x;
      float* tp = t.get() + p * I3;
      for (int64_t c0 = 0; c0 < I3; c0 += kChanBlock) dw_pixel(nb.data(), taps, wdw.get(), I3, c0, std::min(kChanBlock, I3 - c0), tp + c0);
      float* agg = m.get() + p * I6 + I3;
      for (int64_t g = 0; g < I3 / d; ++g) group_matvec(wg.get() + g * d * d, tp + g * d, d, agg + g * d);
    }
  });
  // 4. attention over 2h heads of 3d channels
  const float* mm = m.get();
  if (N > d) {
    linear_attention_core<float, float>(mm, I6, mm + d, I6, mm + 2 * d, I6, 3 * d, att.get(), 2 * I, d, B, N, N, heads2, d, a.eps);
  } else {
    parallel_for(B * heads2, [&](int64_t task) {
      const int64_t b = task / heads2, h = task % heads2;
      const float* base = mm + b * N * I6 + h * 3 * d;
      quadratic_head(base, base + d, base + 2 * d, I6, N, d, a.eps, att.get() + b * N * 2 * I + h * d, 2 * I);
    });
  }
  {  // 5. output projection, RMSNorm2d and the residual
    DenseA<float> A(att.get(), M, 2 * I, 2 * I);
    LinearWeightB<T> Wb(a.w_out.as<T>(), C, 2 * I);
    Epilogue<T, float> ep;
    ep.out = o.get();
    ep.ldo = C;
    gemm_run<T, float>(A, Wb, ep);
  }
  rmsnorm_rows<float, T, T>(o.get(), M, C, a.norm_w.as<T>(), a.norm_b.as<T>(), a.norm_eps, a.x.as<T>(), a.out.as<T>());
}

}  // namespace

Status lite_mla(const LiteMlaArgs& a) {
  const char* op = "lite-mla";
  LiteMlaSizes z;
  SANA_RETURN_IF_ERROR(check_lite_mla_args(Device::kCpu, a, &z));
  return guarded(op, [&] {
    if (a.x.dtype == DType::kF32) run<float>(a, z.B, z.H, z.W, z.C, z.I, z.d, z.ks);
    else run<bf16_t>(a, z.B, z.H, z.W, z.C, z.I, z.d, z.ks);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
