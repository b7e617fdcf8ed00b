// Op `mix-ffn`: SANA's GLUMBConv on token-major (B, H·W, C) (= NHWC) activations, h = hidden width:
//   1. u = SiLU(x·W_invᵀ + b_inv)                      gemm, bias + SiLU in the epilogue → f32 (M × 2h)
//   2. z = (dw3×3(u)[:h] + b) ⊙ SiLU(dw3×3(u)[h:] + b)  one fused pass: each pixel reads its 3×3 neighbours'
//                                                       2h channels once, writes h channels (f32, M × h)
//   3. out = residual + gate ⊙ (z·W_pointᵀ)             gemm, gate/residual in the epilogue
// FLOPs 2·M·(C·2h + 9·2h + h·C) (+ SiLUs); minimal bytes 2·M·C·sizeof(T) + weights; the two
// intermediates (u, z) are f32 scratch: 4·M·(2h + h) bytes written and read once each.
#include <algorithm>

#include "sana/cpu/gemm.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/thread_pool.h"

namespace sana::cpu {
namespace {

constexpr int64_t kChanBlock = 256;

// One pixel, channels [c0, c0 + n) of the a-half and the gate-half: nb[tap] is the neighbour's row of
// 2h channels or null outside the image; wt[tap·2h + c] the depthwise taps; z gets a ⊙ SiLU(g).
SANA_VECTORIZE void dw_glu_pixel(const float* const* nb, const float* __restrict wt, const float* __restrict bias, int64_t h,
                                 int64_t c0, int64_t n, float* __restrict z) {
  float acc_a[kChanBlock], acc_g[kChanBlock];
  for (int64_t c = 0; c < n; ++c) {
    acc_a[c] = bias[c0 + c];
    acc_g[c] = bias[h + c0 + c];
  }
  for (int tap = 0; tap < 9; ++tap) {
    const float* __restrict u = nb[tap];
    if (u == nullptr) continue;
    const float* __restrict wa = wt + tap * 2 * h + c0;
    const float* __restrict wg = wa + h;
    const float* __restrict ua = u + c0;
    const float* __restrict ug = u + h + c0;
    for (int64_t c = 0; c < n; ++c) {
      acc_a[c] += wa[c] * ua[c];
      acc_g[c] += wg[c] * ug[c];
    }
  }
  for (int64_t c = 0; c < n; ++c) z[c] = acc_a[c] * silu_f(acc_g[c]);
}

template <typename T> void run(const MixFfnArgs& a, int64_t B, int64_t Hh, int64_t Ww, int64_t C, int64_t h, int64_t Cout, int64_t gate_rows) {
  const int64_t M = B * Hh * Ww, two = 2 * h;
  Buffer<float> u = alloc_buffer<float>(M * two);
  Buffer<float> z = alloc_buffer<float>(M * h);
  Buffer<float> wt = alloc_buffer<float>(9 * two);
  Buffer<float> bdw = alloc_buffer<float>(two);
  const T* wdw = a.w_dw.as<T>();
  for (int64_t c = 0; c < two; ++c) {
    bdw[c] = load_f(a.b_dw.as<T>()[c]);
    for (int tap = 0; tap < 9; ++tap) wt[tap * two + c] = load_f(wdw[c * 9 + tap]);
  }
  {  // 1. inverted conv + bias + SiLU
    DenseA<T> A(a.x.as<T>(), M, C, C);
    LinearWeightB<T> Bw(a.w_inv.as<T>(), two, C);
    Epilogue<T, float> ep;
    ep.out = u.get();
    ep.ldo = two;
    ep.bias = a.b_inv.as<T>();
    ep.act = Activation::kSilu;
    gemm_run<T, float>(A, Bw, ep);
  }
  // 2. depthwise 3×3 + bias + GLU, one task per image row
  parallel_for(B * Hh, [&](int64_t task) {
    const int64_t b = task / Hh, y = task % Hh;
    const float* nb[9];
    for (int64_t x = 0; x < Ww; ++x) {
      for (int tap = 0; tap < 9; ++tap) {
        const int64_t iy = y - 1 + tap / 3, ix = x - 1 + tap % 3;
        nb[tap] = (iy < 0 || iy >= Hh || ix < 0 || ix >= Ww) ? nullptr : u.get() + ((b * Hh + iy) * Ww + ix) * two;
      }
      float* zp = z.get() + ((b * Hh + y) * Ww + x) * h;
      for (int64_t c0 = 0; c0 < h; c0 += kChanBlock) dw_glu_pixel(nb, wt.get(), bdw.get(), h, c0, std::min(kChanBlock, h - c0), zp + c0);
    }
  });
  // 3. point conv + gate + residual
  DenseA<float> A(z.get(), M, h, h);
  LinearWeightB<T> Bw(a.w_point.as<T>(), Cout, h);
  Epilogue<T, T> ep;
  ep.out = a.out.as<T>();
  ep.ldo = Cout;
  if (a.gate) {
    ep.gate = a.gate->as<T>();
    ep.gate_ld = Cout;
    ep.gate_rows = gate_rows;
  }
  if (a.residual) {
    ep.residual = a.residual->as<T>();
    ep.res_ld = Cout;
  }
  gemm_run<T, T>(A, Bw, ep);
}

}  // namespace

Status mix_ffn(const MixFfnArgs& a) {
  const char* op = "mix-ffn";
  MixFfnSizes z;
  SANA_RETURN_IF_ERROR(check_mix_ffn_args(Device::kCpu, a, &z));
  return guarded(op, [&] {
    if (a.x.dtype == DType::kF32) run<float>(a, z.B, a.height, a.width, z.C, z.h, z.Cout, z.gate_rows);
    else run<bf16_t>(a, z.B, a.height, a.width, z.C, z.h, z.Cout, z.gate_rows);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
