// The compositions' float64 references, built from reference.h's ops and rounded where the CUDA ops store
// their intermediates (the op's dtype): shared by each composite op's parity cases and by the larger
// compositions around it (dit-block, dcae-evit-block).
#pragma once
#include "harness.h"

namespace sana_selftest {

inline Vec ref_la_block(const Vec& x, const Vec& wq, const Vec& wk, const Vec& wv, const Vec& wo, const Vec* bo, const Vec* gate, int64_t gate_rows,
                 const Vec* res, int64_t B, int64_t N, int64_t C, int64_t Cout, int64_t d, const selftest::Round& rnd) {
  const int64_t M = B * N;
  Vec q = selftest::round_all(selftest::gemm(x, wq, M, C, C, nullptr, 0, nullptr, 1, nullptr), rnd);
  Vec k = selftest::round_all(selftest::gemm(x, wk, M, C, C, nullptr, 0, nullptr, 1, nullptr), rnd);
  Vec vv = selftest::round_all(selftest::gemm(x, wv, M, C, C, nullptr, 0, nullptr, 1, nullptr), rnd);
  Vec o = selftest::round_all(selftest::linear_attention(q, C, k, C, vv, C, 0, 0, 0, B, N, N, C, d, 1e-15), rnd);
  return selftest::gemm(o, wo, M, Cout, C, bo, 0, gate, gate_rows, res);
}

inline Vec dw_glu_ref(const Vec& u, const Vec& w, const Vec& b, int64_t B, int64_t H, int64_t W, int64_t h) {
  Vec z(B * H * W * h);
  for (int64_t bb = 0; bb < B; ++bb)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        for (int64_t c = 0; c < h; ++c) {
          double aa = b[c], gg = b[h + c];
          for (int tap = 0; tap < 9; ++tap) {
            const int64_t iy = y + tap / 3 - 1, ix = x + tap % 3 - 1;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const int64_t p = ((bb * H + iy) * W + ix) * 2 * h;
            aa += w[c * 9 + tap] * u[p + c];
            gg += w[(h + c) * 9 + tap] * u[p + h + c];
          }
          z[((bb * H + y) * W + x) * h + c] = aa * selftest::act_d(gg, 2);
        }
  return z;
}

inline Vec ref_mix_ffn(const Vec& x, const Vec& w_inv, const Vec& b_inv, const Vec& w_dw, const Vec& b_dw, const Vec& w_pt, const Vec* gate,
                const Vec* res, int64_t B, int64_t H, int64_t W, int64_t C, int64_t h, int64_t Cout, const selftest::Round& rnd) {
  const int64_t N = H * W, M = B * N;
  Vec u = selftest::round_all(selftest::gemm(x, w_inv, M, 2 * h, C, &b_inv, 2, nullptr, 1, nullptr), rnd);
  Vec z = selftest::round_all(dw_glu_ref(u, w_dw, b_dw, B, H, W, h), rnd);
  return selftest::gemm(z, w_pt, M, Cout, h, nullptr, 0, gate, N, res);
}

// cross-attention with precomputed text keys/values k, v (B, L, C): only q is projected.
inline Vec ref_cross_kv(const Vec& x, const Vec& k, const Vec& v, const Vec& wq, const Vec& wo, const Vec* bq, const Vec* bo, const Vec* mask,
                 const Vec* res, int64_t B, int64_t N, int64_t L, int64_t C, int64_t heads, const selftest::Round& rnd) {
  Vec q = selftest::round_all(selftest::gemm(x, wq, B * N, C, C, bq, 0, nullptr, 1, nullptr), rnd);
  Vec o = selftest::round_all(selftest::cross_core(q, k, v, mask, B, N, L, C, heads), rnd);
  return selftest::gemm(o, wo, B * N, C, C, bo, 0, nullptr, 1, res);
}

// biases = {bq, bk, bv, bo}, each may be null.
inline Vec ref_cross(const Vec& x, const Vec& y, const Vec& wq, const Vec& wk, const Vec& wv, const Vec& wo, const Vec* const* biases, const Vec* mask,
              const Vec* res, int64_t B, int64_t N, int64_t L, int64_t C, int64_t Cy, int64_t heads, const selftest::Round& rnd) {
  Vec k = selftest::round_all(selftest::gemm(y, wk, B * L, C, Cy, biases[1], 0, nullptr, 1, nullptr), rnd);
  Vec vv = selftest::round_all(selftest::gemm(y, wv, B * L, C, Cy, biases[2], 0, nullptr, 1, nullptr), rnd);
  return ref_cross_kv(x, k, vv, wq, wo, biases[0], biases[3], mask, res, B, N, L, C, heads, rnd);
}

inline Vec dwkxk_ref(const Vec& m, int64_t ld, const Vec& w, int64_t B, int64_t H, int64_t W, int64_t Cc, int ks) {
  Vec out(B * H * W * Cc);
  const int pad = ks / 2;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        for (int64_t c = 0; c < Cc; ++c) {
          double acc = 0;
          for (int ky = 0; ky < ks; ++ky)
            for (int kx = 0; kx < ks; ++kx) {
              const int64_t iy = y + ky - pad, ix = x + kx - pad;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              acc += w[c * ks * ks + ky * ks + kx] * m[((b * H + iy) * W + ix) * ld + c];
            }
          out[((b * H + y) * W + x) * Cc + c] = acc;
        }
  return out;
}

// lite-mla's composition (lite_mla.cu), rounding where it stores: q/k/v, the aggregation, the attention, the projection.
inline Vec ref_lite_mla(const Vec& x, const Vec& wq, const Vec& wk, const Vec& wv, const Vec& wdw, const Vec& wg, const Vec& wout, const Vec& nw,
                 const Vec& nb, int64_t B, int64_t H, int64_t W, int64_t C, int64_t I, int64_t d, int ks, const selftest::Round& rnd) {
  const int64_t M = B * H * W, N = H * W, I3 = 3 * I, I6 = 6 * I;
  Vec m(M * I6);
  const Vec* w3[3] = {&wq, &wk, &wv};
  for (int i = 0; i < 3; ++i) {
    Vec p = selftest::round_all(selftest::gemm(x, *w3[i], M, I, C, nullptr, 0, nullptr, 1, nullptr), rnd);
    for (int64_t r = 0; r < M; ++r)
      for (int64_t j = 0; j < I; ++j) m[r * I6 + i * I + j] = p[r * I + j];
  }
  Vec t = selftest::round_all(dwkxk_ref(m, I6, wdw, B, H, W, I3, ks), rnd);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t o = 0; o < I3; ++o) {
      const int64_t g0 = o - o % d;
      double acc = 0;
      for (int64_t i = 0; i < d; ++i) acc += wg[o * d + i] * t[r * I3 + g0 + i];
      m[r * I6 + I3 + o] = rnd(acc);
    }
  const int64_t heads2 = 2 * I / d;
  Vec att(M * 2 * I);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < heads2; ++h)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < d; ++i) {  // the quadratic and linear forms are the same function
          double num = 0, den = 0;
          for (int64_t mm = 0; mm < N; ++mm) {
            double sc = 0;
            for (int64_t cc = 0; cc < d; ++cc) {
              sc += std::max(0.0, m[(b * N + mm) * I6 + h * 3 * d + d + cc]) * std::max(0.0, m[(b * N + n) * I6 + h * 3 * d + cc]);
            }
            num += m[(b * N + mm) * I6 + h * 3 * d + 2 * d + i] * sc;
            den += sc;
          }
          att[(b * N + n) * 2 * I + h * d + i] = rnd(num / (den + 1e-15));
        }
  Vec o = selftest::round_all(selftest::gemm(att, wout, M, C, 2 * I, nullptr, 0, nullptr, 1, nullptr), rnd);
  return selftest::rmsnorm(o, M, C, &nw, &nb, 1e-5, &x);
}

}  // namespace sana_selftest
