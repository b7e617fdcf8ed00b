// Op `cross-attention`: SANA's text cross-attention module (diffusers attn2), heads of d = C / heads:
//   q = x·Wqᵀ + bq (B·N × C), k = y·Wkᵀ + bk, v = y·Wvᵀ + bv (B·L × C)            three gemms → f32
//   o_n = Σ_m softmax_m(q_n·k_m / √d + mask_bias[b, m]) v_m   per head           fused core → f32
//   out = residual + o·Woᵀ + bo                                                   gemm, residual fused
// The core works per (batch, head, 64-query block): the head's Kᵀ (d × L) and V (L × d) are copied once,
// zero-padded to 16-lane multiples, and 4 queries at a time run register-tiled (logits 4 × 16 keys, then
// outputs 4 × 16 channels, partial sums in registers); softmax with the branch-free exp_f.
// Precomputed k, v (B, L, C) in the op's dtype replace the two text gemms (a sampler's runner projects
// the text once per prompt); the core reads them as f32 (bf16 widened once).
// FLOPs 2·B·(N·C·C·2 + L·Cy·C·2) + 4·B·N·L·C (without the L·Cy·C term when k, v are given);
// minimal bytes (B·N·C·2 + B·L·Cy)·sizeof(T) + weights (B·L·C·2 instead of B·L·Cy with k, v).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "sana/cpu/gemm.h"
#include "sana/cross_attention_checks.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/thread_pool.h"

namespace sana::cpu {
namespace {

constexpr int64_t kQueryBlock = 64;
constexpr int kLanes = 16;  // register tile width: one AVX-512 vector of f32 (two AVX2 vectors)
constexpr int kRows = 4;    // queries per register tile

inline int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// R queries at once, register-tiled (R × kLanes partial sums in registers; every K or V element loaded
// feeds R FMAs — one query at a time was load/store-bound on its logits row):
//   s = q·Kᵀ·scale + bias;  p = softmax(s);  o = Σ_m p_m v_m
// kt: the head's Kᵀ (d × Lp, keys zero-padded to Lp = L rounded up to kLanes); vp: the head's V
// (L × dp, channels zero-padded to dp); s: R × Lp scratch. Query r at q + r·ldq, its output at o + r·ldo.
// 16 floats as a GCC/Clang vector-extension value: one zmm register in the AVX-512 clone, two ymm in the
// AVX2 clone, four xmm in the baseline (locals only: never passed by value, so no ABI change).
typedef float vf16 __attribute__((vector_size(kLanes * sizeof(float))));

template <int R>
inline __attribute__((always_inline)) void attend_rows(const float* __restrict q, int64_t ldq, const float* __restrict kt, int64_t L, int64_t Lp,
                                                       int64_t d, const float* __restrict vp, int64_t dp, const float* __restrict bias, float scale,
                                                       float* __restrict s, float* __restrict o, int64_t ldo) {
  for (int64_t m0 = 0; m0 < Lp; m0 += kLanes) {
    vf16 acc[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r] = vf16{};
    for (int64_t j = 0; j < d; ++j) {
      vf16 kv;
      __builtin_memcpy(&kv, kt + j * Lp + m0, sizeof kv);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r] += q[r * ldq + j] * kv;
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) __builtin_memcpy(s + r * Lp + m0, &acc[r], sizeof(vf16));
  }
  for (int r = 0; r < R; ++r) {
    float* __restrict sr = s + r * Lp;
    float mx = -INFINITY;
    for (int64_t m = 0; m < L; ++m) {
      sr[m] = sr[m] * scale + (bias ? bias[m] : 0.0f);
      mx = std::max(mx, sr[m]);
    }
    float sum = 0.0f;
    for (int64_t m = 0; m < L; ++m) {
      sr[m] = exp_f(sr[m] - mx);
      sum += sr[m];
    }
    const float inv = 1.0f / sum;
    for (int64_t m = 0; m < L; ++m) sr[m] *= inv;
  }
  for (int64_t i0 = 0; i0 < dp; i0 += kLanes) {
    vf16 acc[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) acc[r] = vf16{};
    for (int64_t m = 0; m < L; ++m) {
      vf16 vv;
      __builtin_memcpy(&vv, vp + m * dp + i0, sizeof vv);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r] += s[r * Lp + m] * vv;
    }
    const int64_t w = std::min<int64_t>(kLanes, d - i0);
    for (int r = 0; r < R; ++r) __builtin_memcpy(o + r * ldo + i0, &acc[r], w * sizeof(float));
  }
}

SANA_VECTORIZE void attend_tile(const float* q, int64_t ldq, const float* kt, int64_t L, int64_t Lp, int64_t d, const float* vp, int64_t dp,
                                const float* bias, float scale, float* s, float* o, int64_t ldo) {
  attend_rows<kRows>(q, ldq, kt, L, Lp, d, vp, dp, bias, scale, s, o, ldo);
}
SANA_VECTORIZE void attend_one(const float* q, const float* kt, int64_t L, int64_t Lp, int64_t d, const float* vp, int64_t dp, const float* bias,
                               float scale, float* s, float* o) {
  attend_rows<1>(q, 0, kt, L, Lp, d, vp, dp, bias, scale, s, o, 0);
}

// Precomputed k or v in the op's dtype as the core's f32 operand: f32 as is, bf16 widened into `buf`.
template <typename T>
const float* as_f32(const TensorView& t, Buffer<float>& buf) {
  if constexpr (std::is_same_v<T, float>) {
    return t.as<float>();
  } else {
    const int64_t n = t.numel();
    buf = alloc_buffer<float>(n);
    const T* src = t.as<T>();
    parallel_for((n + 65535) / 65536, [&](int64_t c) {
      const int64_t e = std::min(n, (c + 1) * 65536);
      for (int64_t i = c * 65536; i < e; ++i) buf[i] = load_f(src[i]);
    });
    return buf.get();
  }
}

template <typename T>
void run(const CrossAttentionArgs& a, const CrossAttentionDims& dims) {
  const int64_t B = dims.B, N = dims.N, C = dims.C, L = dims.L, Cy = dims.Cy, Cout = dims.Cout, H = dims.H, d = dims.d;
  Buffer<float> q = alloc_buffer<float>(B * N * C);
  Buffer<float> kbuf, vbuf;
  Buffer<float> o = alloc_buffer<float>(B * N * C);
  auto project = [&](const T* src, int64_t rows, int64_t K, const TensorView& w, const TensorView* bias, float* dst) {
    DenseA<T> A(src, rows, K, K);
    LinearWeightB<T> Bw(w.as<T>(), C, K);
    Epilogue<T, float> ep;
    ep.out = dst;
    ep.ldo = C;
    ep.bias = bias ? bias->as<T>() : nullptr;
    gemm_run<T, float>(A, Bw, ep);
  };
  project(a.x.as<T>(), B * N, C, a.wq, a.bq, q.get());
  const float* k = nullptr;
  const float* v = nullptr;
  if (dims.precomputed_kv) {
    k = as_f32<T>(*a.k, kbuf);
    v = as_f32<T>(*a.v, vbuf);
  } else {
    kbuf = alloc_buffer<float>(B * L * C);
    vbuf = alloc_buffer<float>(B * L * C);
    project(a.y.as<T>(), B * L, Cy, a.wk, a.bk, kbuf.get());
    project(a.y.as<T>(), B * L, Cy, a.wv, a.bv, vbuf.get());
    k = kbuf.get();
    v = vbuf.get();
  }
  Buffer<float> mask;
  if (a.mask_bias) {
    mask = alloc_buffer<float>(B * L);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t m = 0; m < L; ++m) mask[b * L + m] = load_f(a.mask_bias->as<T>()[b * L + m]);
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const int64_t qblocks = (N + kQueryBlock - 1) / kQueryBlock;
  const int64_t Lp = round_up(L, kLanes), dp = round_up(d, kLanes);
  parallel_for(B * H * qblocks, [&](int64_t task) {
    const int64_t b = task / (H * qblocks), h = (task / qblocks) % H, qb = task % qblocks;
    Buffer<float> buf = alloc_buffer<float>(d * Lp + L * dp + kRows * Lp);
    float* kt = buf.get();
    float* vp = kt + d * Lp;
    float* s = vp + L * dp;
    for (int64_t j = 0; j < d; ++j)
      for (int64_t m = L; m < Lp; ++m) kt[j * Lp + m] = 0.0f;
    for (int64_t m = 0; m < L; ++m) {
      const float* kr = k + (b * L + m) * C + h * d;
      const float* vr = v + (b * L + m) * C + h * d;
      for (int64_t j = 0; j < d; ++j) kt[j * Lp + m] = kr[j];
      for (int64_t j = 0; j < d; ++j) vp[m * dp + j] = vr[j];
      for (int64_t j = d; j < dp; ++j) vp[m * dp + j] = 0.0f;
    }
    const float* bias = mask ? mask.get() + b * L : nullptr;
    const int64_t n0 = qb * kQueryBlock, n1 = std::min(N, n0 + kQueryBlock);
    int64_t n = n0;
    for (; n + kRows <= n1; n += kRows) {
      const int64_t row = (b * N + n) * C + h * d;
      attend_tile(q.get() + row, C, kt, L, Lp, d, vp, dp, bias, scale, s, o.get() + row, C);
    }
    for (; n < n1; ++n) {
      const int64_t row = (b * N + n) * C + h * d;
      attend_one(q.get() + row, kt, L, Lp, d, vp, dp, bias, scale, s, o.get() + row);
    }
  });
  DenseA<float> A(o.get(), B * N, C, C);
  LinearWeightB<T> Bw(a.wo.as<T>(), Cout, C);
  Epilogue<T, T> ep;
  ep.out = a.out.as<T>();
  ep.ldo = Cout;
  ep.bias = a.bo ? a.bo->as<T>() : nullptr;
  if (a.residual) {
    ep.residual = a.residual->as<T>();
    ep.res_ld = Cout;
  }
  gemm_run<T, T>(A, Bw, ep);
}

}  // namespace

Status cross_attention(const CrossAttentionArgs& a) {
  CrossAttentionDims dims;
  SANA_RETURN_IF_ERROR(check_cross_attention(Device::kCpu, a, &dims));
  return guarded("cross-attention", [&] {
    if (a.x.dtype == DType::kF32) run<float>(a, dims);
    else run<bf16_t>(a, dims);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
