// Float64 host references for the CUDA self-test (cuda_selftest.cu). Each follows the op's math in
// kernels/include/sana/ops.h. `rnd` rounds an intermediate to the storage dtype at exactly the points
// where the CUDA composition stores one (gemm outputs, the attention output, …), so the comparison
// measures the kernels' arithmetic, not the dtype of the scratch buffers.
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

namespace selftest {

using Vec = std::vector<double>;
using Round = std::function<double(double)>;

inline double act_d(double v, int act) {
  switch (act) {
    case 1: return v < 0 ? 0 : v;
    case 2: return v / (1.0 + std::exp(-v));
    case 3: return 0.5 * v * (1.0 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
    default: return v;
  }
}

// out[m][n] = residual + gate[m / gate_rows] ⊙ act(Σ_k x[m][k]·w[n][k] + bias[n])
inline Vec gemm(const Vec& x, const Vec& w, int64_t M, int64_t N, int64_t K, const Vec* bias, int act, const Vec* gate, int64_t gate_rows,
                const Vec* residual) {
  Vec out(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += x[m * K + k] * w[n * K + k];
      if (bias) acc += (*bias)[n];
      acc = act_d(acc, act);
      if (gate) acc *= (*gate)[(m / gate_rows) * N + n];
      if (residual) acc += (*residual)[m * N + n];
      out[m * N + n] = acc;
    }
  return out;
}

// ReLU linear attention, token-major with row strides (elements) for q/k/v inside packed buffers.
inline Vec linear_attention(const Vec& q, int64_t ldq, const Vec& k, int64_t ldk, const Vec& v, int64_t ldv, int64_t qoff, int64_t koff,
                            int64_t voff, int64_t B, int64_t N, int64_t M, int64_t C, int64_t d, double eps) {
  const int64_t H = C / d;
  Vec out(B * N * C);
  std::vector<double> S((d + 1) * d);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      std::fill(S.begin(), S.end(), 0.0);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t j = 0; j < d; ++j) {
          const double kj = std::max(0.0, k[(b * M + m) * ldk + koff + h * d + j]);
          for (int64_t i = 0; i < d; ++i) S[i * d + j] += v[(b * M + m) * ldv + voff + h * d + i] * kj;
          S[d * d + j] += kj;
        }
      for (int64_t n = 0; n < N; ++n) {
        double den = eps;
        std::vector<double> qr(d);
        for (int64_t j = 0; j < d; ++j) {
          qr[j] = std::max(0.0, q[(b * N + n) * ldq + qoff + h * d + j]);
          den += qr[j] * S[d * d + j];
        }
        for (int64_t i = 0; i < d; ++i) {
          double num = 0;
          for (int64_t j = 0; j < d; ++j) num += qr[j] * S[i * d + j];
          out[(b * N + n) * C + h * d + i] = num / den;
        }
      }
    }
  return out;
}

// softmax(q·kᵀ/√d + mask) v per head; q (B, N, C), k/v (B, L, C), mask (B, L) or null.
// The masked logit is rounded to f32, as every kernel forms it (in f32 for bf16 storage too): next to
// a mask of −10⁴ f32's spacing is 2⁻¹⁰, so that rounding (and a kernel's logit landing one step away)
// dominates the error of a fully masked batch item (softmax then runs over the unmasked scores shifted
// by −10⁴), in PyTorch's f32 as much as in the kernels.
inline Vec cross_core(const Vec& q, const Vec& k, const Vec& v, const Vec* mask, int64_t B, int64_t N, int64_t L, int64_t C, int64_t H) {
  const int64_t d = C / H;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  Vec out(B * N * C);
  std::vector<double> s(L);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t n = 0; n < N; ++n) {
        double mx = -INFINITY;
        for (int64_t m = 0; m < L; ++m) {
          double acc = 0;
          for (int64_t c = 0; c < d; ++c) acc += q[(b * N + n) * C + h * d + c] * k[(b * L + m) * C + h * d + c];
          s[m] = acc * scale;
          if (mask) s[m] = static_cast<float>(s[m] + (*mask)[b * L + m]);
          mx = std::max(mx, s[m]);
        }
        double sum = 0;
        for (int64_t m = 0; m < L; ++m) {
          s[m] = std::exp(s[m] - mx);
          sum += s[m];
        }
        for (int64_t c = 0; c < d; ++c) {
          double acc = 0;
          for (int64_t m = 0; m < L; ++m) acc += s[m] * v[(b * L + m) * C + h * d + c];
          out[(b * N + n) * C + h * d + c] = acc / sum;
        }
      }
  return out;
}

inline Vec rmsnorm(const Vec& x, int64_t rows, int64_t C, const Vec* w, const Vec* b, double eps, const Vec* residual) {
  Vec out(rows * C);
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (int64_t c = 0; c < C; ++c) ss += x[r * C + c] * x[r * C + c];
    const double rinv = 1.0 / std::sqrt(ss / C + eps);
    for (int64_t c = 0; c < C; ++c) {
      double y = x[r * C + c] * rinv;
      if (w) y *= (*w)[c];
      if (b) y += (*b)[c];
      if (residual) y += (*residual)[r * C + c];
      out[r * C + c] = y;
    }
  }
  return out;
}

inline Vec layernorm_modulate(const Vec& x, int64_t rows, int64_t C, const Vec& shift, const Vec& scale, int64_t rows_per_mod, double eps) {
  Vec out(rows * C);
  for (int64_t r = 0; r < rows; ++r) {
    double mu = 0;
    for (int64_t c = 0; c < C; ++c) mu += x[r * C + c];
    mu /= C;
    double var = 0;
    for (int64_t c = 0; c < C; ++c) var += (x[r * C + c] - mu) * (x[r * C + c] - mu);
    const double rstd = 1.0 / std::sqrt(var / C + eps);
    const int64_t g = r / rows_per_mod;
    for (int64_t c = 0; c < C; ++c) out[r * C + c] = (x[r * C + c] - mu) * rstd * (1.0 + scale[g * C + c]) + shift[g * C + c];
  }
  return out;
}

// NHWC 3×3 conv, zero padding 1, stride s, input nearest-upsampled by `up`; w torch (Cout, Cin, 3, 3).
inline Vec conv3x3(const Vec& x, const Vec& w, int64_t B, int64_t H, int64_t W, int64_t Cin, int64_t Cout, int stride, int up, const Vec* bias,
                   int act, const Vec* residual) {
  const int64_t Ho = (H * up - 1) / stride + 1, Wo = (W * up - 1) / stride + 1;
  Vec out(B * Ho * Wo * Cout);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t oy = 0; oy < Ho; ++oy)
      for (int64_t ox = 0; ox < Wo; ++ox)
        for (int64_t co = 0; co < Cout; ++co) {
          double acc = bias ? (*bias)[co] : 0.0;
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              const int64_t iy = oy * stride + ky - 1, ix = ox * stride + kx - 1;
              if (iy < 0 || iy >= H * up || ix < 0 || ix >= W * up) continue;
              for (int64_t ci = 0; ci < Cin; ++ci) {
                acc += x[((b * H + iy / up) * W + ix / up) * Cin + ci] * w[((co * Cin + ci) * 3 + ky) * 3 + kx];
              }
            }
          acc = act_d(acc, act);
          const int64_t o = ((b * Ho + oy) * Wo + ox) * Cout + co;
          if (residual) acc += (*residual)[o];
          out[o] = acc;
        }
  return out;
}

inline Vec round_all(Vec v, const Round& rnd) {
  for (double& e : v) e = rnd(e);
  return v;
}

}  // namespace selftest
