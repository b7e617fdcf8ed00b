// Op `linear-attention`: SANA's fused ReLU linear-attention core on token-major (B, N, C) tensors,
// heads of d channels (d = 32 in SANA). Per (batch, head), one pass over K and V builds the f32 state
//   S = φ(K)ᵀ·V (d×d, stored S[j][i])  and  ksum = Σ_m φ(k_m) (the "ones row" of [V;1]ᵀφ(K)),
// with the ReLU fused into the load; one pass over Q then writes
//   out_n[i] = Σ_j φ(q_n)[j]·S[j][i] / (Σ_j φ(q_n)[j]·ksum[j] + eps).
// Nothing of size N×N or (d+1)×N is materialised. Tokens go in blocks of 64, converted to f32.
// FLOPs 2·B·H·(M + N)·d·(d+1) ≈ 4·B·N·C·(d+1) for M = N; minimal bytes (2·B·M·C + 2·B·N·C)·sizeof(T)
// (read q, k, v, write out) — at SANA shapes this op is bandwidth-bound (≈ 33 FLOP/element).
#include <algorithm>
#include <cstring>
#include <type_traits>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "sana/cpu/fused.h"
#include "sana/cpu/gemm.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/thread_pool.h"

namespace sana::cpu {
namespace {

constexpr int64_t kTokenBlock = 64;

// S[j][:] += Σ_t kr[t][j]·v[t][:],  ksum[j] += Σ_t kr[t][j]   (kr already ReLU'd)
SANA_VECTORIZE void accumulate_state(const float* __restrict kr, const float* __restrict vb, int64_t ld, int64_t tb, int64_t d,
                                     float* __restrict S, float* __restrict ksum) {
  for (int64_t j = 0; j < d; ++j) {
    float* __restrict row = S + j * d;
    float ks = 0.0f;
    for (int64_t t = 0; t < tb; ++t) {
      const float kj = kr[t * ld + j];
      const float* __restrict vt = vb + t * ld;
      for (int64_t i = 0; i < d; ++i) row[i] += kj * vt[i];
      ks += kj;
    }
    ksum[j] += ks;
  }
}

// o[t][:] = Σ_j qr[t][j]·S[j][:] / (Σ_j qr[t][j]·ksum[j] + eps)
SANA_VECTORIZE void apply_state(const float* __restrict qr, int64_t ld, int64_t tb, int64_t d, const float* __restrict S,
                                const float* __restrict ksum, float eps, float* __restrict o) {
  for (int64_t t = 0; t < tb; ++t) {
    const float* __restrict qt = qr + t * ld;
    float* __restrict ot = o + t * ld;
    for (int64_t i = 0; i < d; ++i) ot[i] = 0.0f;
    float den = 0.0f;
    for (int64_t j = 0; j < d; ++j) {
      const float qj = qt[j];
      const float* __restrict row = S + j * d;
      for (int64_t i = 0; i < d; ++i) ot[i] += qj * row[i];
      den += qj * ksum[j];
    }
    den += eps;
    for (int64_t i = 0; i < d; ++i) ot[i] /= den;
  }
}

// The same two loops for a compile-time head dim D (SANA's 32, the golden models' 16), register-
// blocked: 4 rows of S (4·D accumulators) per pass over the token block, 4 tokens per pass over S.
#define SANA_LA_FIXED(D)                                                                                                        \
  SANA_VECTORIZE void accumulate_state_##D(const float* __restrict kr, const float* __restrict vb, int64_t ld, int64_t tb,       \
                                           float* __restrict S, float* __restrict ksum) {                                       \
    for (int64_t j0 = 0; j0 < D; j0 += 4) {                                                                                     \
      float acc[4][D], ks[4] = {0, 0, 0, 0};                                                                                    \
      for (int r = 0; r < 4; ++r)                                                                                               \
        for (int i = 0; i < D; ++i) acc[r][i] = S[(j0 + r) * D + i];                                                           \
      for (int64_t t = 0; t < tb; ++t) {                                                                                        \
        const float* __restrict vt = vb + t * ld;                                                                               \
        for (int r = 0; r < 4; ++r) {                                                                                           \
          const float kj = kr[t * ld + j0 + r];                                                                                 \
          for (int i = 0; i < D; ++i) acc[r][i] += kj * vt[i];                                                                  \
          ks[r] += kj;                                                                                                          \
        }                                                                                                                       \
      }                                                                                                                         \
      for (int r = 0; r < 4; ++r) {                                                                                             \
        for (int i = 0; i < D; ++i) S[(j0 + r) * D + i] = acc[r][i];                                                           \
        ksum[j0 + r] += ks[r];                                                                                                  \
      }                                                                                                                         \
    }                                                                                                                           \
  }                                                                                                                             \
  SANA_VECTORIZE void apply_state_##D(const float* __restrict qr, int64_t ld, int64_t tb, const float* __restrict S,            \
                                      const float* __restrict ksum, float eps, float* __restrict o) {                           \
    int64_t t0 = 0;                                                                                                             \
    for (; t0 + 4 <= tb; t0 += 4) {                                                                                             \
      float acc[4][D], den[4] = {0, 0, 0, 0};                                                                                   \
      for (int r = 0; r < 4; ++r)                                                                                               \
        for (int i = 0; i < D; ++i) acc[r][i] = 0.0f;                                                                           \
      for (int j = 0; j < D; ++j) {                                                                                             \
        const float* __restrict row = S + j * D;                                                                                \
        for (int r = 0; r < 4; ++r) {                                                                                           \
          const float qj = qr[(t0 + r) * ld + j];                                                                               \
          for (int i = 0; i < D; ++i) acc[r][i] += qj * row[i];                                                                 \
          den[r] += qj * ksum[j];                                                                                               \
        }                                                                                                                       \
      }                                                                                                                         \
      for (int r = 0; r < 4; ++r) {                                                                                             \
        const float dn = den[r] + eps;                                                                                          \
        for (int i = 0; i < D; ++i) o[(t0 + r) * ld + i] = acc[r][i] / dn;                                                     \
      }                                                                                                                         \
    }                                                                                                                           \
    if (t0 < tb) apply_state(qr + t0 * ld, ld, tb - t0, D, S, ksum, eps, o + t0 * ld);                                         \
  }

SANA_LA_FIXED(16)
SANA_LA_FIXED(32)
#undef SANA_LA_FIXED

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// SANA's d = 32 with AVX-512 intrinsics: a row of S is two zmm registers, so 8 rows of S (16
// accumulators) stay in registers over the whole token block and each V row is loaded once per 8 rows
// (the auto-vectorised acc[4][D] above may live on the stack). Both apply the ReLU to k and q
// themselves (idempotent on blocks that are already ReLU'd), so f32 tensors are read in place, with
// no staging copy (linear_attention_core). Per token and head: 2·32·32 FLOPs each.
__attribute__((target("avx512f"))) void accumulate_state_32_avx512(const float* __restrict k, int64_t ldk, const float* __restrict v,
                                                                  int64_t ldv, int64_t tb, float* __restrict S, float* __restrict ksum) {
  const __m256 zero = _mm256_setzero_ps();
  for (int j0 = 0; j0 < 32; j0 += 8) {
    __m512 acc[8][2];
    for (int r = 0; r < 8; ++r) {
      acc[r][0] = _mm512_loadu_ps(S + (j0 + r) * 32);
      acc[r][1] = _mm512_loadu_ps(S + (j0 + r) * 32 + 16);
    }
    __m256 ks = _mm256_setzero_ps();
    for (int64_t t = 0; t < tb; ++t) {
      const float* vt = v + t * ldv;
      const __m512 v0 = _mm512_loadu_ps(vt), v1 = _mm512_loadu_ps(vt + 16);
      const __m256 k8 = _mm256_max_ps(zero, _mm256_loadu_ps(k + t * ldk + j0));  // φ(k) = ReLU(k); max(0, NaN) = NaN
      ks = _mm256_add_ps(ks, k8);
      alignas(32) float kk[8];
      _mm256_store_ps(kk, k8);
      for (int r = 0; r < 8; ++r) {
        const __m512 kb = _mm512_set1_ps(kk[r]);
        acc[r][0] = _mm512_fmadd_ps(kb, v0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(kb, v1, acc[r][1]);
      }
    }
    for (int r = 0; r < 8; ++r) {
      _mm512_storeu_ps(S + (j0 + r) * 32, acc[r][0]);
      _mm512_storeu_ps(S + (j0 + r) * 32 + 16, acc[r][1]);
    }
    _mm256_storeu_ps(ksum + j0, _mm256_add_ps(_mm256_loadu_ps(ksum + j0), ks));
  }
}

// R tokens: o[t] = φq[t]·S / (φq[t]·ksum + eps); 2R accumulators, each S row (two zmm) loaded once per R tokens.
template <int R>
__attribute__((target("avx512f"))) inline void apply_rows_32_avx512(const float* __restrict q, int64_t ldq, const float* __restrict S,
                                                                   __m512 k0, __m512 k1, float eps, float* __restrict o, int64_t ldo) {
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int j = 0; j < 32; ++j) {
    const __m512 s0 = _mm512_loadu_ps(S + j * 32), s1 = _mm512_loadu_ps(S + j * 32 + 16);
    for (int r = 0; r < R; ++r) {
      const float qj = q[r * ldq + j];
      const __m512 qb = _mm512_set1_ps(qj < 0.0f ? 0.0f : qj);  // NaN propagates, as relu_f
      acc[r][0] = _mm512_fmadd_ps(qb, s0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(qb, s1, acc[r][1]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int r = 0; r < R; ++r) {
    const float* qr = q + r * ldq;
    alignas(64) float d[16];  // (a plain sum: GCC 12 warns inside _mm512_reduce_add_ps)
    _mm512_store_ps(d, _mm512_fmadd_ps(_mm512_maskz_max_ps(0xFFFF, zero, _mm512_loadu_ps(qr)), k0,
                                       _mm512_mul_ps(_mm512_maskz_max_ps(0xFFFF, zero, _mm512_loadu_ps(qr + 16)), k1)));
    float den = 0.0f;
    for (int i = 0; i < 16; ++i) den += d[i];
    const __m512 inv = _mm512_set1_ps(1.0f / (den + eps));
    _mm512_storeu_ps(o + r * ldo, _mm512_mul_ps(acc[r][0], inv));
    _mm512_storeu_ps(o + r * ldo + 16, _mm512_mul_ps(acc[r][1], inv));
  }
}

__attribute__((target("avx512f"))) void apply_state_32_avx512(const float* __restrict q, int64_t ldq, int64_t tb, const float* __restrict S,
                                                             const float* __restrict ksum, float eps, float* __restrict o, int64_t ldo) {
  const __m512 k0 = _mm512_loadu_ps(ksum), k1 = _mm512_loadu_ps(ksum + 16);
  int64_t t = 0;
  for (; t + 8 <= tb; t += 8) apply_rows_32_avx512<8>(q + t * ldq, ldq, S, k0, k1, eps, o + t * ldo, ldo);
  for (; t < tb; ++t) apply_rows_32_avx512<1>(q + t * ldq, ldq, S, k0, k1, eps, o + t * ldo, ldo);
}

// The same ISA choice as the gemm (gemm_engine.cpp picks it once, honouring SANA_LAB_GEMM_KERNEL).
bool have_avx512() {
  static const bool yes = std::strncmp(gemm_kernel_name(), "avx512", 6) == 0;
  return yes;
}
#else
bool have_avx512() { return false; }
void accumulate_state_32_avx512(const float*, int64_t, const float*, int64_t, int64_t, float*, float*) {}
void apply_state_32_avx512(const float*, int64_t, int64_t, const float*, const float*, float, float*, int64_t) {}
#endif

void accumulate(const float* kr, const float* vb, int64_t ld, int64_t tb, int64_t d, float* S, float* ksum) {
  if (d == 32 && have_avx512()) accumulate_state_32_avx512(kr, ld, vb, ld, tb, S, ksum);
  else if (d == 32) accumulate_state_32(kr, vb, ld, tb, S, ksum);
  else if (d == 16) accumulate_state_16(kr, vb, ld, tb, S, ksum);
  else accumulate_state(kr, vb, ld, tb, d, S, ksum);
}

void apply(const float* qr, int64_t ld, int64_t tb, int64_t d, const float* S, const float* ksum, float eps, float* o) {
  if (d == 32 && have_avx512()) apply_state_32_avx512(qr, ld, tb, S, ksum, eps, o, ld);
  else if (d == 32) apply_state_32(qr, ld, tb, S, ksum, eps, o);
  else if (d == 16) apply_state_16(qr, ld, tb, S, ksum, eps, o);
  else apply_state(qr, ld, tb, d, S, ksum, eps, o);
}

SANA_VECTORIZE void copy_f32(const float* __restrict s, int64_t n, bool relu, float* __restrict o) {
  if (relu) {
    for (int64_t i = 0; i < n; ++i) o[i] = s[i] < 0.0f ? 0.0f : s[i];
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = s[i];
  }
}

SANA_VECTORIZE void copy_bf16(const bf16_t* __restrict s, int64_t n, bool relu, float* __restrict o) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u = static_cast<uint32_t>(s[i]) << 16;
    float x;
    std::memcpy(&x, &u, 4);
    o[i] = relu && x < 0.0f ? 0.0f : x;
  }
}

inline void to_f32(const float* s, int64_t n, bool relu, float* o) { copy_f32(s, n, relu, o); }
inline void to_f32(const bf16_t* s, int64_t n, bool relu, float* o) { copy_bf16(s, n, relu, o); }

// Copies tb rows of G heads (G·d values per row, heads hs apart in the source) into dst[t][g·d + i],
// applying the ReLU for q and k; one long vectorised copy per row when the heads are adjacent.
template <typename TI>
void load_block(const TI* src, int64_t ld, int64_t hs, int64_t G, int64_t tb, int64_t d, bool relu, float* dst) {
  const int64_t w = G * d;
  for (int64_t t = 0; t < tb; ++t) {
    if (hs == d) {
      to_f32(src + t * ld, w, relu, dst + t * w);
    } else {
      for (int64_t g = 0; g < G; ++g) to_f32(src + t * ld + g * hs, d, relu, dst + t * w + g * d);
    }
  }
}

SANA_VECTORIZE void store_f32(const float* __restrict s, int64_t n, float* __restrict o) {
  for (int64_t i = 0; i < n; ++i) o[i] = s[i];
}
SANA_VECTORIZE void store_bf16(const float* __restrict s, int64_t n, bf16_t* __restrict o) {
  for (int64_t i = 0; i < n; ++i) o[i] = f32_to_bf16_bits(s[i]);
}
inline void from_f32(const float* s, int64_t n, float* o) { store_f32(s, n, o); }
inline void from_f32(const float* s, int64_t n, bf16_t* o) { store_bf16(s, n, o); }

}  // namespace

// Tasks are (batch, group of G heads): each token row is read as one contiguous chunk of G heads
// (per-head tasks read 128-byte pieces of 4.6 KB rows, which the hardware prefetchers stream poorly).
template <typename TI, typename TO>
void linear_attention_core(const TI* q, int64_t ldq, const TI* k, int64_t ldk, const TI* v, int64_t ldv, int64_t hs_in, TO* out,
                           int64_t ldo, int64_t hs_out, int64_t B, int64_t N, int64_t M, int64_t heads, int64_t d, float eps) {
  const int64_t groups = std::min<int64_t>(heads, 4 * cpu_threads());
  const int64_t G = (heads + groups - 1) / groups;
  const int64_t n_groups = (heads + G - 1) / G;
  parallel_for(B * n_groups, [&](int64_t task) {
    const int64_t b = task / n_groups, h0 = (task % n_groups) * G, gh = std::min(G, heads - h0);
    const int64_t w = gh * d;
    Buffer<float> buf = alloc_buffer<float>(gh * (d * d + d) + 2 * kTokenBlock * w);
    float* S = buf.get();
    float* ksum = S + gh * d * d;
    float* blk0 = ksum + gh * d;
    float* blk1 = blk0 + kTokenBlock * w;
    std::fill(S, S + gh * (d * d + d), 0.0f);
    const TI* kb = k + b * M * ldk + h0 * hs_in;
    const TI* vb = v + b * M * ldv + h0 * hs_in;
    const TI* qb = q + b * N * ldq + h0 * hs_in;
    TO* ob = out + b * N * ldo + h0 * hs_out;
    if constexpr (std::is_same_v<TI, float> && std::is_same_v<TO, float>) {
      // f32, d = 32, AVX-512: q, k, v are read and out written in place (the kernels apply the ReLU),
      // token blocks of 64 × the group's heads, so each token row's G·d values are used together.
      if (d == 32 && have_avx512()) {
        for (int64_t m0 = 0; m0 < M; m0 += kTokenBlock) {
          const int64_t tb = std::min(kTokenBlock, M - m0);
          for (int64_t g = 0; g < gh; ++g) {
            accumulate_state_32_avx512(kb + m0 * ldk + g * hs_in, ldk, vb + m0 * ldv + g * hs_in, ldv, tb, S + g * d * d, ksum + g * d);
          }
        }
        for (int64_t n0 = 0; n0 < N; n0 += kTokenBlock) {
          const int64_t tb = std::min(kTokenBlock, N - n0);
          for (int64_t g = 0; g < gh; ++g) {
            apply_state_32_avx512(qb + n0 * ldq + g * hs_in, ldq, tb, S + g * d * d, ksum + g * d, eps, ob + n0 * ldo + g * hs_out, ldo);
          }
        }
        return;
      }
    }
    for (int64_t m0 = 0; m0 < M; m0 += kTokenBlock) {
      const int64_t tb = std::min(kTokenBlock, M - m0);
      load_block(kb + m0 * ldk, ldk, hs_in, gh, tb, d, true, blk0);
      load_block(vb + m0 * ldv, ldv, hs_in, gh, tb, d, false, blk1);
      for (int64_t g = 0; g < gh; ++g) accumulate(blk0 + g * d, blk1 + g * d, w, tb, d, S + g * d * d, ksum + g * d);
    }
    for (int64_t n0 = 0; n0 < N; n0 += kTokenBlock) {
      const int64_t tb = std::min(kTokenBlock, N - n0);
      load_block(qb + n0 * ldq, ldq, hs_in, gh, tb, d, true, blk0);
      for (int64_t g = 0; g < gh; ++g) apply(blk0 + g * d, w, tb, d, S + g * d * d, ksum + g * d, eps, blk1 + g * d);
      for (int64_t t = 0; t < tb; ++t) {
        if (hs_out == d) {
          from_f32(blk1 + t * w, w, ob + (n0 + t) * ldo);
        } else {
          for (int64_t g = 0; g < gh; ++g) from_f32(blk1 + t * w + g * d, d, ob + (n0 + t) * ldo + g * hs_out);
        }
      }
    }
  });
}

template void linear_attention_core<float, float>(const float*, int64_t, const float*, int64_t, const float*, int64_t, int64_t,
                                                  float*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float);
template void linear_attention_core<bf16_t, bf16_t>(const bf16_t*, int64_t, const bf16_t*, int64_t, const bf16_t*, int64_t, int64_t,
                                                    bf16_t*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, float);

Status linear_attention(const LinearAttentionArgs& a) {
  const char* op = "linear-attention";
  LinearAttentionSizes z;
  SANA_RETURN_IF_ERROR(check_linear_attention_args(Device::kCpu, a, &z));
  const int64_t B = z.B, N = z.N, C = z.C, M = z.M, H = z.H;
  return guarded(op, [&] {
    if (a.q.dtype == DType::kF32) {
      linear_attention_core<float, float>(a.q.as<float>(), C, a.k.as<float>(), C, a.v.as<float>(), C, a.head_dim, a.out.as<float>(), C,
                                          a.head_dim, B, N, M, H, a.head_dim, a.eps);
    } else {
      linear_attention_core<bf16_t, bf16_t>(a.q.as<bf16_t>(), C, a.k.as<bf16_t>(), C, a.v.as<bf16_t>(), C, a.head_dim, a.out.as<bf16_t>(),
                                            C, a.head_dim, B, N, M, H, a.head_dim, a.eps);
    }
    return Status::Ok();
  });
}

}  // namespace sana::cpu
