// Ops `rmsnorm` (also DC-AE's `rmsnorm2d` on NHWC) and `layernorm-modulate`, row-wise over the last dim C.
//   rmsnorm:            y = residual + x / √(mean(x²) + eps) · w + b
//   layernorm-modulate: y = (x − μ) / √(σ² + eps) · (1 + scale[b]) + shift[b]     (LN without affine)
// Statistics in f32 with 16 partial sums (vectorised; the partials also shorten the rounding chain).
// FLOPs ≈ 4–6 per element; minimal bytes 2·numel·sizeof(T) (+ residual) — bandwidth-bound.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "sana/cpu/fused.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/thread_pool.h"

namespace sana::cpu {
namespace {

constexpr int64_t kRowsPerTask = 16;

SANA_VECTORIZE float sum_f(const float* __restrict x, int64_t n) {
  float p[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; ++l) p[l] += x[i + l];
  float s = 0;
  for (int l = 0; l < 16; ++l) s += p[l];
  for (; i < n; ++i) s += x[i];
  return s;
}

SANA_VECTORIZE float sum_sq_dev_f(const float* __restrict x, int64_t n, float mu) {
  float p[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; ++l) {
      const float d = x[i + l] - mu;
      p[l] += d * d;
    }
  float s = 0;
  for (int l = 0; l < 16; ++l) s += p[l];
  for (; i < n; ++i) s += (x[i] - mu) * (x[i] - mu);
  return s;
}

template <typename TX> void to_f32(const TX* x, int64_t n, float* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = load_f(x[i]);
}

template <typename TO> void from_f32(const float* y, int64_t n, TO* dst) {
  if constexpr (std::is_same_v<TO, float>) std::memcpy(dst, y, n * sizeof(float));
  else for (int64_t i = 0; i < n; ++i) dst[i] = store_f<TO>(y[i]);
}

}  // namespace

// y = x·rinv (·w) (+b) (+res), each pass over one L1-resident row; the same operation order as one scalar
// expression, so the values do not depend on which passes run.
SANA_VECTORIZE void rms_apply(const float* __restrict xr, float rinv, const float* __restrict w, const float* __restrict b,
                              const float* __restrict res, float* __restrict y, int64_t C) {
  for (int64_t c = 0; c < C; ++c) y[c] = xr[c] * rinv;
  if (w) for (int64_t c = 0; c < C; ++c) y[c] *= w[c];
  if (b) for (int64_t c = 0; c < C; ++c) y[c] += b[c];
  if (res) for (int64_t c = 0; c < C; ++c) y[c] += res[c];
}

template <typename TX, typename TP, typename TO>
void rmsnorm_rows(const TX* x, int64_t rows, int64_t C, const TP* w, const TP* b, float eps, const TP* residual, TO* out) {
  parallel_for((rows + kRowsPerTask - 1) / kRowsPerTask, [&](int64_t task) {
    // f32 rows: x (when bf16), the weight and bias (once per task), the residual (when bf16), the output
    Buffer<float> buf = alloc_buffer<float>(5 * C);
    float *xb = buf.get(), *wf = xb + C, *bf = wf + C, *rf = bf + C, *yb = rf + C;
    if (w) to_f32(w, C, wf);
    if (b) to_f32(b, C, bf);
    const int64_t r1 = std::min(rows, (task + 1) * kRowsPerTask);
    for (int64_t r = task * kRowsPerTask; r < r1; ++r) {
      const float* xr = xb;
      if constexpr (std::is_same_v<TX, float>) xr = x + r * C;
      else to_f32(x + r * C, C, xb);
      const float rinv = 1.0f / std::sqrt(sum_sq_dev_f(xr, C, 0.0f) / static_cast<float>(C) + eps);
      const float* res = nullptr;
      if (residual) {
        if constexpr (std::is_same_v<TP, float>) res = residual + r * C;
        else to_f32(residual + r * C, C, rf), res = rf;
      }
      // into yb first: out may be x or the residual (in-place updates)
      rms_apply(xr, rinv, w ? wf : nullptr, b ? bf : nullptr, res, yb, C);
      from_f32(yb, C, out + r * C);
    }
  });
}

template void rmsnorm_rows<float, float, float>(const float*, int64_t, int64_t, const float*, const float*, float, const float*, float*);
template void rmsnorm_rows<bf16_t, bf16_t, bf16_t>(const bf16_t*, int64_t, int64_t, const bf16_t*, const bf16_t*, float, const bf16_t*,
                                                   bf16_t*);
template void rmsnorm_rows<float, bf16_t, bf16_t>(const float*, int64_t, int64_t, const bf16_t*, const bf16_t*, float, const bf16_t*,
                                                  bf16_t*);

Status rmsnorm(const RmsNormArgs& a) {
  const char* op = "rmsnorm";
  RmsNormSizes z;
  SANA_RETURN_IF_ERROR(check_rmsnorm_args(Device::kCpu, a, &z));
  const int64_t C = z.C, rows = z.rows;
  return guarded(op, [&] {
    if (a.x.dtype == DType::kF32) {
      rmsnorm_rows<float, float, float>(a.x.as<float>(), rows, C, a.weight ? a.weight->as<float>() : nullptr,
                                        a.bias ? a.bias->as<float>() : nullptr, a.eps, a.residual ? a.residual->as<float>() : nullptr,
                                        a.out.as<float>());
    } else {
      rmsnorm_rows<bf16_t, bf16_t, bf16_t>(a.x.as<bf16_t>(), rows, C, a.weight ? a.weight->as<bf16_t>() : nullptr,
                                           a.bias ? a.bias->as<bf16_t>() : nullptr, a.eps,
                                           a.residual ? a.residual->as<bf16_t>() : nullptr, a.out.as<bf16_t>());
    }
    return Status::Ok();
  });
}

namespace {

// y = (x − μ)·rstd·(1 + scale) + shift, the scalar expression's operation order.
SANA_VECTORIZE void ln_apply(const float* __restrict xr, float mu, float rstd, const float* __restrict shift, const float* __restrict scale,
                             float* __restrict y, int64_t C) {
  for (int64_t c = 0; c < C; ++c) y[c] = (xr[c] - mu) * rstd * (1.0f + scale[c]) + shift[c];
}

template <typename T>
void layernorm_modulate_rows(const T* x, int64_t rows, int64_t C, const T* shift, const T* scale, int64_t rows_per_mod, float eps, T* out) {
  parallel_for((rows + kRowsPerTask - 1) / kRowsPerTask, [&](int64_t task) {
    Buffer<float> buf = alloc_buffer<float>(4 * C);  // f32 rows: x, shift, scale, the output
    float *xr = buf.get(), *shf = xr + C, *scf = shf + C, *yb = scf + C;
    int64_t mod_row = -1;
    const int64_t r1 = std::min(rows, (task + 1) * kRowsPerTask);
    for (int64_t r = task * kRowsPerTask; r < r1; ++r) {
      to_f32(x + r * C, C, xr);
      const float mu = sum_f(xr, C) / static_cast<float>(C);
      const float rstd = 1.0f / std::sqrt(sum_sq_dev_f(xr, C, mu) / static_cast<float>(C) + eps);
      const int64_t mod = r / rows_per_mod;
      if (mod != mod_row) {  // one (shift, scale) row serves rows_per_mod rows
        to_f32(shift + mod * C, C, shf);
        to_f32(scale + mod * C, C, scf);
        mod_row = mod;
      }
      ln_apply(xr, mu, rstd, shf, scf, yb, C);
      from_f32(yb, C, out + r * C);
    }
  });
}

}  // namespace

Status layernorm_modulate(const LayerNormModulateArgs& a) {
  const char* op = "layernorm-modulate";
  LayerNormModulateSizes z;
  SANA_RETURN_IF_ERROR(check_layernorm_modulate_args(Device::kCpu, a, &z));
  const int64_t rows = z.B * z.N, C = z.C;
  return guarded(op, [&] {
    if (a.x.dtype == DType::kF32) {
      layernorm_modulate_rows<float>(a.x.as<float>(), rows, C, a.shift.as<float>(), a.scale.as<float>(), z.rows_per_mod, a.eps, a.out.as<float>());
    } else {
      layernorm_modulate_rows<bf16_t>(a.x.as<bf16_t>(), rows, C, a.shift.as<bf16_t>(), a.scale.as<bf16_t>(), z.rows_per_mod, a.eps,
                                      a.out.as<bf16_t>());
    }
    return Status::Ok();
  });
}

}  // namespace sana::cpu
