// Op `dcae-head`: the DC-AE decoder's output head, NHWC in, NCHW out (the image layout):
//   t   = act(RMSNorm2d(x; norm_w, norm_b, eps))          x (B, H, W, C); act ReLU in SANA (decoder_conv_act_fn)
//   out = conv3×3(t; w) + bias                            w (Cout, C, 3, 3), zero padding 1 → out (B, Cout, H, W)
// In bands of image rows: t is computed once per pixel (f32) for the band and its two halo rows, the
// 3×3 conv of the band is an implicit gemm over that scratch, and its (rows × Cout) result is written
// transposed into the NCHW output. FLOPs 2·M·9·C·Cout + ~6·M·C (the micro-kernel pads Cout = 3 to its
// panel width, so more arithmetic is executed than counted); scratch ≤ 4 MiB of f32 per band + 4·rows·Cout.
#include <algorithm>
#include <cmath>

#include "sana/cpu/gemm.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/thread_pool.h"

namespace sana::cpu {
namespace {

constexpr int64_t kScratchFloats = int64_t{1} << 20;  // 4 MiB of f32 per chunk / band

// A = im2col of the band scratch t (rows ty0 … ty1 − 1 of one image, W × C each) for output rows
// [y0, y1): row m = (oy − y0)·W + ox; rows outside [0, H) are zero padding (never outside the band).
struct BandConv3x3A : ASource {
  const float* t;
  int64_t H, W, C, ty0, y0;
  BandConv3x3A(const float* t_, int64_t H_, int64_t W_, int64_t C_, int64_t ty0_, int64_t y0_, int64_t y1)
      : t(t_), H(H_), W(W_), C(C_), ty0(ty0_), y0(y0_) {
    M = (y1 - y0) * W;
    K = 9 * C;
  }
  void pack(int64_t m0, int mr, int MR, float* dst) const override {
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) {
        for (int64_t k = 0; k < K; ++k) dst[k * MR + r] = 0.0f;
        continue;
      }
      const int64_t m = m0 + r, oy = y0 + m / W, ox = m % W;
      for (int tap = 0; tap < 9; ++tap) {
        const int64_t iy = oy - 1 + tap / 3, ix = ox - 1 + tap % 3;
        float* d = dst + static_cast<int64_t>(tap) * C * MR + r;
        if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
          for (int64_t ci = 0; ci < C; ++ci) d[ci * MR] = 0.0f;
        } else {
          const float* s = t + ((iy - ty0) * W + ix) * C;
          for (int64_t ci = 0; ci < C; ++ci) d[ci * MR] = s[ci];
        }
      }
    }
  }
};

// t = act(x / √(mean(x²) + eps) · w + b) for one pixel.
template <typename T> SANA_VECTORIZE void norm_act_pixel(const T* x, int64_t C, const float* nw, const float* nb, float eps, Activation act, float* t) {
  float p[16] = {0};
  int64_t c = 0;
  for (; c + 16 <= C; c += 16)
    for (int l = 0; l < 16; ++l) {
      const float v = load_f(x[c + l]);
      p[l] += v * v;
    }
  float ss = 0;
  for (int l = 0; l < 16; ++l) ss += p[l];
  for (; c < C; ++c) ss += load_f(x[c]) * load_f(x[c]);
  const float ri = 1.0f / std::sqrt(ss / static_cast<float>(C) + eps);
  for (int64_t k = 0; k < C; ++k) t[k] = load_f(x[k]) * ri * nw[k] + nb[k];
  if (act == Activation::kRelu) {
    for (int64_t k = 0; k < C; ++k) t[k] = relu_f(t[k]);
  } else if (act == Activation::kSilu) {
    for (int64_t k = 0; k < C; ++k) t[k] = silu_f(t[k]);
  } else if (act == Activation::kGeluTanh) {
    for (int64_t k = 0; k < C; ++k) t[k] = gelu_tanh_f(t[k]);
  }
}

template <typename T> void run(const DcaeHeadArgs& a, int64_t B, int64_t H, int64_t W, int64_t C, int64_t Cout) {
  const T* x = a.x.as<T>();
  T* out = a.out.as<T>();
  Buffer<float> nw = alloc_buffer<float>(C);
  Buffer<float> nb = alloc_buffer<float>(C);
  for (int64_t c = 0; c < C; ++c) {
    nw[c] = load_f(a.norm_w.as<T>()[c]);
    nb[c] = load_f(a.norm_b.as<T>()[c]);
  }
  const int64_t R = std::clamp<int64_t>(kScratchFloats / (W * C) - 2, 1, H);  // output rows per band
  Buffer<float> t = alloc_buffer<float>((R + 2) * W * C);
  Buffer<float> y = alloc_buffer<float>(R * W * Cout);
  Conv3x3WeightB<T> Wb(a.w.as<T>(), Cout, C);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t y0 = 0; y0 < H; y0 += R) {
      const int64_t y1 = std::min(H, y0 + R), ty0 = std::max<int64_t>(0, y0 - 1), ty1 = std::min(H, y1 + 1);
      parallel_for(ty1 - ty0, [&](int64_t r) {
        const T* xr = x + ((b * H + ty0 + r) * W) * C;
        float* tr = t.get() + r * W * C;
        for (int64_t px = 0; px < W; ++px) norm_act_pixel(xr + px * C, C, nw.get(), nb.get(), a.eps, a.act, tr + px * C);
      });
      BandConv3x3A A(t.get(), H, W, C, ty0, y0, y1);
      Epilogue<T, float> ep;
      ep.out = y.get();
      ep.ldo = Cout;
      ep.bias = a.bias ? a.bias->template as<T>() : nullptr;
      gemm_run<T, float>(A, Wb, ep);
      // (rows, W, Cout) → out[b, o, y0 + row, :]
      const int64_t n = (y1 - y0) * W;
      parallel_for(Cout, [&](int64_t o) {
        T* dst = out + (b * Cout + o) * H * W + y0 * W;
        for (int64_t p = 0; p < n; ++p) dst[p] = store_f<T>(y[p * Cout + o]);
      });
    }
  }
}

}  // namespace

Status dcae_head(const DcaeHeadArgs& a) {
  const char* op = "dcae-head";
  DcaeHeadSizes z;
  SANA_RETURN_IF_ERROR(check_dcae_head_args(Device::kCpu, a, &z));
  const DType dt = a.x.dtype;
  return guarded(op, [&] {
    if (dt == DType::kF32) run<float>(a, z.B, z.H, z.W, z.C, z.Cout);
    else run<bf16_t>(a, z.B, z.H, z.W, z.C, z.Cout);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
