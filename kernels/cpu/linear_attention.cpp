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

#include "sana/cpu/fused.h"
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

void accumulate(const float* kr, const float* vb, int64_t ld, int64_t tb, int64_t d, float* S, float* ksum) {
  if (d == 32) accumulate_state_32(kr, vb, ld, tb, S, ksum);
  else if (d == 16) accumulate_state_16(kr, vb, ld, tb, S, ksum);
  else accumulate_state(kr, vb, ld, tb, d, S, ksum);
}

void apply(const float* qr, int64_t ld, int64_t tb, int64_t d, const float* S, const float* ksum, float eps, float* o) {
  if (d == 32) apply_state_32(qr, ld, tb, S, ksum, eps, o);
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
    for (int64_t m0 = 0; m0 < M; m0 += kTokenBlock) {
      const int64_t tb = std::min(kTokenBlock, M - m0);
      load_block(kb + m0 * ldk, ldk, hs_in, gh, tb, d, true, blk0);
      load_block(vb + m0 * ldv, ldv, hs_in, gh, tb, d, false, blk1);
      for (int64_t g = 0; g < gh; ++g) accumulate(blk0 + g * d, blk1 + g * d, w, tb, d, S + g * d * d, ksum + g * d);
    }
    const TI* qb = q + b * N * ldq + h0 * hs_in;
    TO* ob = out + b * N * ldo + h0 * hs_out;
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
  const DType dt = a.q.dtype;
  if (dt != DType::kF32 && dt != DType::kBF16) return InvalidArgument("linear-attention: q must be f32 or bf16");
  SANA_RETURN_IF_ERROR(check_float(op, "q", a.q, dt));
  SANA_RETURN_IF_ERROR(check_float(op, "k", a.k, dt));
  SANA_RETURN_IF_ERROR(check_float(op, "v", a.v, dt));
  SANA_RETURN_IF_ERROR(check_float(op, "out", a.out, dt));
  if (a.q.ndim != 3 || a.k.ndim != 3 || a.v.ndim != 3) {
    return InvalidArgument("linear-attention: want q, k, v (B, N, C), got " + shp(a.q) + ", " + shp(a.k) + ", " + shp(a.v));
  }
  const int64_t B = a.q.shape[0], N = a.q.shape[1], C = a.q.shape[2], M = a.k.shape[1];
  if (!is_shape(a.k, {B, M, C}) || !is_shape(a.v, {B, M, C}) || !is_shape(a.out, {B, N, C})) {
    return InvalidArgument("linear-attention: q " + shp(a.q) + ", k " + shp(a.k) + ", v " + shp(a.v) + ", out " + shp(a.out) +
                           " do not agree");
  }
  if (a.head_dim < 1 || C % a.head_dim != 0) {
    return InvalidArgument("linear-attention: " + std::to_string(C) + " channels are not a multiple of head_dim " + std::to_string(a.head_dim));
  }
  const int64_t H = C / a.head_dim;
  return guarded(op, [&] {
    if (dt == DType::kF32) {
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
