// The CPU gemm engine (see sana/cpu/gemm.h): BLIS-style packing + register-blocked micro-kernels.
//
// Loop structure per M-chunk: pack all of B once (KC×NR panels, shared by every task), pack the
// chunk's A (MR-row panels), then parallel over MC×NC tiles of C; inside a tile, for each KC slice
// of K, the NR-wide B micro-panel stays in L1 while the MR×KC A micro-panels stream from L2. Partial
// sums live in a per-thread f32 tile buffer; the epilogue runs on the last KC slice. Shortcuts where a
// packed operand would be used by one task only: M ≤ 8 reads B in place (no pack); M ≤ 4·MC packs each
// B micro-panel inside its task, just before use (gemm_b_in_task; not the conv weights, see
// slices_k_cheaply); N ≤ NC, or many M tiles, pack each tile's A inside its task; N ≤ MR runs transposed
// so that the padding is on the short side (gemm_small_n).
//
// Micro-kernels (picked once at load time from CPUID): AVX-512 8×32 (16 zmm accumulators),
// AVX2+FMA 6×16 (12 ymm accumulators), generic 4×16 (plain loops). FLOPs 2·M·N·K; bytes
// (M·K + K·N + M·N)·sizeof(T) at minimum, plus the packed copies (f32).
// GCC 12 reports the _mm512_undefined_ps() inside its own AVX-512 shuffle and convert intrinsics as "(may be)
// used uninitialized" once they are inlined (the transposing pack below; -O3, and -O1 in the sanitizer build):
// silenced for that header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <atomic>
#include <vector>
#include <chrono>
#include <stdexcept>
#include <cstring>
#include <cstdlib>

#include "sana/cpu/gemm.h"
#include "sana/thread_pool.h"

namespace sana::cpu {
namespace {

using UKernel = void (*)(int64_t kc, const float* A, const float* B, float* C, bool accumulate);

// Switches for timing a path against its alternative in one process, read once per gemm_run (not per
// packed panel): SANA_LAB_GEMM_DIRECT=0 turns the small-M path off; SANA_LAB_GEMM_PACK=scalar packs torch
// Linear weights (and conv rows) with the scalar loops instead of the AVX-512 transpose;
// SANA_LAB_GEMM_BPACK=whole packs all of B first at M ≤ 4·MC too, SANA_LAB_GEMM_APACK=whole A by chunks at
// N ≤ NC too; SANA_LAB_GEMM_SMALL_N=0 runs N ≤ MR untransposed.
bool env_is(const char* name, const char* value) {
  const char* s = std::getenv(name);
  return s != nullptr && std::strcmp(s, value) == 0;
}
std::atomic<bool> g_pack_transpose{true};  // this gemm's SANA_LAB_GEMM_PACK, read by LinearWeightB::pack

struct KernelConfig {
  const char* name;
  int MR, NR;
  int64_t KC, MC, NC;
  UKernel fn;
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SANA_HAVE_X86_KERNELS 1

__attribute__((target("avx512f"))) void uk_avx512_8x32(int64_t kc, const float* A, const float* B, float* C,
                                                       bool accumulate) {
  __m512 c0[8], c1[8];
  if (accumulate) {
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      c0[i] = _mm512_load_ps(C + i * 32);
      c1[i] = _mm512_load_ps(C + i * 32 + 16);
    }
  } else {
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_load_ps(B);
    __m512 b1 = _mm512_load_ps(B + 16);
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) {
      __m512 a = _mm512_set1_ps(A[i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
    A += 8;
    B += 32;
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    _mm512_store_ps(C + i * 32, c0[i]);
    _mm512_store_ps(C + i * 32 + 16, c1[i]);
  }
}

__attribute__((target("avx2,fma"))) void uk_avx2_6x16(int64_t kc, const float* A, const float* B, float* C,
                                                      bool accumulate) {
  __m256 c0[6], c1[6];
  if (accumulate) {
#pragma GCC unroll 6
    for (int i = 0; i < 6; ++i) {
      c0[i] = _mm256_load_ps(C + i * 16);
      c1[i] = _mm256_load_ps(C + i * 16 + 8);
    }
  } else {
#pragma GCC unroll 6
    for (int i = 0; i < 6; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_load_ps(B);
    __m256 b1 = _mm256_load_ps(B + 8);
#pragma GCC unroll 6
    for (int i = 0; i < 6; ++i) {
      __m256 a = _mm256_broadcast_ss(A + i);
      c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
    }
    A += 6;
    B += 16;
  }
#pragma GCC unroll 6
  for (int i = 0; i < 6; ++i) {
    _mm256_store_ps(C + i * 16, c0[i]);
    _mm256_store_ps(C + i * 16 + 8, c1[i]);
  }
}

// The B pack of torch Linear weights is a transpose (w rows are B's columns): 16 rows × 16 k at a time
// through registers (unpack ps, unpack pd, two 128-bit lane shuffles), so a 16-float store per k instead
// of 16 scattered scalar stores. Bytes: K·16·sizeof(T) read, K·16·4 written per column group; no FLOPs.
// Small-M gemms (the 256²/512² DiT on the CPU: M = 128 … 512) spend about half their time in this pack.
__attribute__((target("avx512f"))) inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);  // per 128-bit lane L: r_i[4L], r_i+1[4L], r_i[4L+1], r_i+1[4L+1]
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // u[4q + s], lane L: column 4L + s of rows 4q … 4q+3
    u[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    u[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    u[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    u[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
  }
  for (int s = 0; s < 4; ++s) {  // gather lane L of u[s], u[4+s], u[8+s], u[12+s]: column 4L + s, all 16 rows
    const __m512 a = _mm512_shuffle_f32x4(u[s], u[4 + s], 0x88), b = _mm512_shuffle_f32x4(u[s], u[4 + s], 0xDD);
    const __m512 c = _mm512_shuffle_f32x4(u[8 + s], u[12 + s], 0x88), d = _mm512_shuffle_f32x4(u[8 + s], u[12 + s], 0xDD);
    r[s] = _mm512_shuffle_f32x4(a, c, 0x88);
    r[8 + s] = _mm512_shuffle_f32x4(a, c, 0xDD);
    r[4 + s] = _mm512_shuffle_f32x4(b, d, 0x88);
    r[12 + s] = _mm512_shuffle_f32x4(b, d, 0xDD);
  }
}
__attribute__((target("avx512f"))) inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
__attribute__((target("avx512f"))) inline __m512 load16(const bf16_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}
// dst[k·NR + c] = rows[c][k] for c < NR (a null row: zeros), all K; NR a multiple of 8. A group of 8 rows (the
// 8-row A panels) goes through the same 16 × 16 transpose with 8 zero rows, and stores the lower halves.
template <typename T> __attribute__((target("avx512f"))) void pack_rows_avx512(const T* const* rows, int NR, int64_t K, float* dst) {
  const int64_t K16 = K / 16 * 16;
  for (int g = 0; g < NR; g += 16) {
    const int n = std::min(16, NR - g);
    for (int64_t k0 = 0; k0 < K16; k0 += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i) r[i] = i < n && rows[g + i] ? load16(rows[g + i] + k0) : _mm512_setzero_ps();
      transpose16(r);
      if (n == 16) {
        for (int j = 0; j < 16; ++j) _mm512_storeu_ps(dst + (k0 + j) * NR + g, r[j]);
      } else {
        for (int j = 0; j < 16; ++j) _mm256_storeu_ps(dst + (k0 + j) * NR + g, _mm512_castps512_ps256(r[j]));
      }
    }
    for (int64_t k = K16; k < K; ++k) {
      for (int i = 0; i < n; ++i) dst[k * NR + g + i] = rows[g + i] ? load_f(rows[g + i][k]) : 0.0f;
    }
  }
}
bool has_avx512() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return yes;
}
#endif

void uk_generic_4x16(int64_t kc, const float* A, const float* B, float* C, bool accumulate) {
  float c[4][16];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 16; ++j) c[i][j] = accumulate ? C[i * 16 + j] : 0.0f;
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < 4; ++i) {
      float a = A[i];
      for (int j = 0; j < 16; ++j) c[i][j] += a * B[j];
    }
    A += 4;
    B += 16;
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 16; ++j) C[i * 16 + j] = c[i][j];
}

KernelConfig pick_kernel() {
  const char* force = std::getenv("SANA_LAB_GEMM_KERNEL");  // "generic" / "avx2": test the fallbacks
  std::string f = force ? force : "";
#ifdef SANA_HAVE_X86_KERNELS
  __builtin_cpu_init();
  if (f.empty() && __builtin_cpu_supports("avx512f")) return {"avx512 8x32", 8, 32, 256, 128, 256, uk_avx512_8x32};
  if ((f.empty() || f == "avx2") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return {"avx2 6x16", 6, 16, 256, 96, 256, uk_avx2_6x16};
  }
#endif
  return {"generic 4x16", 4, 16, 256, 64, 256, uk_generic_4x16};
}

const KernelConfig& kernel() {
  static const KernelConfig k = pick_kernel();
  return k;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The activation over one tile row, compiled for AVX-512/AVX2 as well (exp_f is branch-free, so the
// loops vectorize): a scalar SiLU over a 1024×5760 ffn-in output costs as much as a third of its gemm.
SANA_VECTORIZE void activate_row(float* __restrict row, int n, Activation act) {
  switch (act) {
    case Activation::kNone: break;
    case Activation::kRelu:
      for (int c = 0; c < n; ++c) row[c] = relu_f(row[c]);
      break;
    case Activation::kSilu:
      for (int c = 0; c < n; ++c) row[c] = silu_f(row[c]);
      break;
    case Activation::kGeluTanh:
      for (int c = 0; c < n; ++c) row[c] = gelu_tanh_f(row[c]);
      break;
  }
}

template <typename TIn, typename TOut>
void epilogue_tile(const float* tile, int NR, int64_t m0, int mr, int64_t n0, int nr, const Epilogue<TIn, TOut>& ep) {
  float row[64];
  for (int r = 0; r < mr; ++r) {
    const int64_t m = m0 + r;
    const float* t = tile + static_cast<int64_t>(r) * NR;
    for (int c = 0; c < nr; ++c) row[c] = t[c];
    if (ep.bias) {
      const TIn* b = ep.bias + n0;
      for (int c = 0; c < nr; ++c) row[c] += load_f(b[c]);
    }
    if (ep.act != Activation::kNone) activate_row(row, nr, ep.act);
    if (ep.gate) {
      const TIn* g = ep.gate + (m / ep.gate_rows) * ep.gate_ld + n0;
      for (int c = 0; c < nr; ++c) row[c] *= load_f(g[c]);
    }
    if (ep.residual) {
      const TIn* rs = ep.residual + m * ep.res_ld + n0;
      for (int c = 0; c < nr; ++c) row[c] += load_f(rs[c]);
    }
    TOut* o = ep.out + m * ep.ldo + n0;
    for (int c = 0; c < nr; ++c) o[c] = store_f<TOut>(row[c]);
  }
}

}  // namespace

// ---- sources ----

template <typename T> void DenseA<T>::pack(int64_t m0, int mr, int MR, float* dst) const {
  const int64_t KB = 64;  // k-block: the dst slice being written (KB×MR floats) stays in L1
  for (int64_t k0 = 0; k0 < K; k0 += KB) {
    const int64_t k1 = std::min(K, k0 + KB);
    for (int r = 0; r < MR; ++r) {
      if (r < mr) {
        const T* src = p + (m0 + r) * ld;
        for (int64_t k = k0; k < k1; ++k) dst[k * MR + r] = load_f(src[k]);
      } else {
        for (int64_t k = k0; k < k1; ++k) dst[k * MR + r] = 0.0f;
      }
    }
  }
}

// Σ_k a_m[k]·w[k] for up to 4 rows a_m (K apart) against one weight row w, each w element loaded once:
// 16 independent lanes per row, so the loops vectorize without reassociating one long reduction.
// FLOPs 2·M·K; bytes K·sizeof(T) of w (a stays in L1). One function per weight type: target_clones
// does not apply to templates.
template <typename T> inline __attribute__((always_inline)) void dot_rows_body(const float* a, int64_t M, int64_t K, const T* w, float* out) {
  constexpr int L = 16;
  float acc[4][L] = {};
  const int64_t K16 = K / L * L;
  for (int64_t k = 0; k < K16; k += L) {
    float wv[L];
    for (int l = 0; l < L; ++l) wv[l] = load_f(w[k + l]);
    for (int64_t m = 0; m < M; ++m) {
      const float* am = a + m * K + k;
      for (int l = 0; l < L; ++l) acc[m][l] += am[l] * wv[l];
    }
  }
  for (int64_t m = 0; m < M; ++m) {
    float s = 0.0f;
    for (int l = 0; l < L; ++l) s += acc[m][l];
    for (int64_t k = K16; k < K; ++k) s += a[m * K + k] * load_f(w[k]);
    out[m] = s;
  }
}
SANA_VECTORIZE void dot_rows(const float* a, int64_t M, int64_t K, const float* w, float* out) { dot_rows_body(a, M, K, w, out); }
SANA_VECTORIZE void dot_rows(const float* a, int64_t M, int64_t K, const bf16_t* w, float* out) { dot_rows_body(a, M, K, w, out); }

template <typename T> const T* LinearWeightB<T>::row(int64_t n) const {
  for (size_t p = 0; p < parts.size(); ++p) {
    if (n < rows[p]) return parts[p] + n * (ld > 0 ? ld : K);
    n -= rows[p];
  }
  return nullptr;
}

template <typename T> bool LinearWeightB<T>::direct_columns(const float* a, int64_t M, int64_t n0, int nr, float* out, int64_t ld_out) const {
  float col[4];
  for (int c = 0; c < nr; ++c) {
    const T* w = row(n0 + c);
    for (int64_t m0 = 0; m0 < M; m0 += 4) {  // ≤ 4 rows per pass; the weight row stays in L1 for the next pass
      const int64_t mr = std::min<int64_t>(4, M - m0);
      dot_rows(a + m0 * K, mr, K, w, col);
      for (int64_t r = 0; r < mr; ++r) out[(m0 + r) * ld_out + c] = col[r];
    }
  }
  return true;
}

template <typename T> void LinearWeightB<T>::pack(int64_t n0, int nr, int NR, int64_t k0, int64_t kc, float* dst) const {
  const int64_t KB = 64;
  const T* src_rows[64];
  for (int c = 0; c < NR; ++c) {
    const T* w = c < nr ? row(n0 + c) : nullptr;
    src_rows[c] = w ? w + k0 : nullptr;
  }
#ifdef SANA_HAVE_X86_KERNELS
  if (NR % 16 == 0 && has_avx512() && g_pack_transpose.load(std::memory_order_relaxed)) {
    pack_rows_avx512(src_rows, NR, kc, dst);
    return;
  }
#endif
  for (int64_t kb = 0; kb < kc; kb += KB) {
    const int64_t kb1 = std::min(kc, kb + KB);
    for (int c = 0; c < NR; ++c) {
      const T* src = src_rows[c];
      if (src) {
        for (int64_t k = kb; k < kb1; ++k) dst[k * NR + c] = load_f(src[k]);
      } else {
        for (int64_t k = kb; k < kb1; ++k) dst[k * NR + c] = 0.0f;
      }
    }
  }
}

template <typename T> void TransposedA<T>::pack(int64_t m0, int mr, int MR, float* dst) const {
  for (int64_t k = 0; k < K; ++k) {
    const T* src = p + k * ld + m0;
    float* d = dst + k * MR;
    for (int r = 0; r < MR; ++r) d[r] = r < mr ? load_f(src[r]) : 0.0f;
  }
}

template <typename T> void DenseB<T>::pack(int64_t n0, int nr, int NR, int64_t k0, int64_t kc, float* dst) const {
  for (int64_t k = 0; k < kc; ++k) {
    const T* src = p + (k0 + k) * ld + n0;
    float* d = dst + k * NR;
    for (int c = 0; c < NR; ++c) d[c] = c < nr ? load_f(src[c]) : 0.0f;
  }
}

template <typename T>
Conv3x3A<T>::Conv3x3A(const T* x_, int64_t B_, int64_t H_, int64_t W_, int64_t C_, int stride_)
    : x(x_), B(B_), H(H_), W(W_), C(C_), stride(stride_) {
  Ho = (H + 2 - 3) / stride + 1;
  Wo = (W + 2 - 3) / stride + 1;
  M = B * Ho * Wo;
  K = 9 * C;
}

template <typename T> const T* Conv3x3A<T>::tap_row(int64_t m, int tap) const {
  const int64_t b = m / (Ho * Wo), rem = m % (Ho * Wo), oy = rem / Wo, ox = rem % Wo;
  const int64_t iy = oy * stride - 1 + tap / 3, ix = ox * stride - 1 + tap % 3;
  return iy < 0 || iy >= H || ix < 0 || ix >= W ? nullptr : x + ((b * H + iy) * W + ix) * C;
}

template <typename T> void Conv3x3A<T>::pack(int64_t m0, int mr, int MR, float* dst) const {
#ifdef SANA_HAVE_X86_KERNELS
  // A panel is a transpose of MR pixels' C channels per tap: through registers, as the Linear weight pack (a
  // zero row for padding and for rows past mr). MR 8 (the AVX-512 kernel's A panels) and 32 (gemm_small_n).
  if (MR % 8 == 0 && MR <= 64 && has_avx512() && g_pack_transpose.load(std::memory_order_relaxed)) {
    const T* rows[64];
    for (int tap = 0; tap < 9; ++tap) {
      for (int r = 0; r < MR; ++r) rows[r] = r < mr ? tap_row(m0 + r, tap) : nullptr;
      pack_rows_avx512(rows, MR, C, dst + static_cast<int64_t>(tap) * C * MR);
    }
    return;
  }
#endif
  for (int r = 0; r < MR; ++r) {
    for (int tap = 0; tap < 9; ++tap) {
      const T* s = r < mr ? tap_row(m0 + r, tap) : nullptr;
      float* d = dst + static_cast<int64_t>(tap) * C * MR + r;
      if (s == nullptr) {
        for (int64_t ci = 0; ci < C; ++ci) d[ci * MR] = 0.0f;
      } else {
        for (int64_t ci = 0; ci < C; ++ci) d[ci * MR] = load_f(s[ci]);
      }
    }
  }
}

template <typename T> void Conv3x3WeightB<T>::pack(int64_t n0, int nr, int NR, int64_t k0, int64_t kc, float* dst) const {
  for (int c = 0; c < NR; ++c) {
    if (c >= nr) {
      for (int64_t k = 0; k < kc; ++k) dst[k * NR + c] = 0.0f;
      continue;
    }
    const T* wn = w + (n0 + c) * Cin * 9;
    for (int64_t tap = k0 / Cin; tap < 9 && tap * Cin < k0 + kc; ++tap) {  // k = tap·Cin + ci, within [k0, k0 + kc)
      const int64_t ci0 = std::max<int64_t>(0, k0 - tap * Cin), ci1 = std::min<int64_t>(Cin, k0 + kc - tap * Cin);
      float* d = dst + (tap * Cin - k0) * NR + c;
      for (int64_t ci = ci0; ci < ci1; ++ci) d[ci * NR] = load_f(wn[ci * 9 + tap]);  // torch weight: (ci, tap)-major
    }
  }
}

template struct TransposedA<float>;
template struct DenseB<float>;
template struct DenseA<float>;
template struct DenseA<bf16_t>;
template struct LinearWeightB<float>;
template struct LinearWeightB<bf16_t>;
template struct Conv3x3A<float>;
template struct Conv3x3A<bf16_t>;
template struct Conv3x3WeightB<float>;
template struct Conv3x3WeightB<bf16_t>;

// ---- driver ----

namespace {

// A thread's two f32 scratch buffers, grown on demand and kept for its later gemms (every path's task uses
// at most one of each; no task runs another gemm): the partial-sum tiles of C, and a packed operand (a B
// micro-panel, or a tile's or panel's A).
struct ThreadScratch {
  Buffer<float> buf;
  int64_t cap = 0;
  float* get(int64_t n) {
    if (cap < n) {
      buf = alloc_buffer<float>(n);
      cap = n;
    }
    return buf.get();
  }
};
float* thread_tiles(int64_t n) {
  thread_local ThreadScratch s;
  return s.get(n);
}
float* thread_operand(int64_t n) {
  thread_local ThreadScratch s;
  return s.get(n);
}

// Rows up to which each task runs all of M against its own B columns (gemm_b_in_task).
constexpr int64_t kBInTaskMaxTiles = 4;

// M ≤ 4·MC: each task owns a range of N and runs every row of A against it, so every element of B is used
// by one task only. The task packs B one NR × KC micro-panel at a time, right before the micro-kernel reads
// it from L1, instead of packing all of B first (K·N floats written to DRAM and read back: about a third of
// a 256² DiT gemm's time at M = 128). The N range is cut into at least 4 tasks per thread so that
// 1152-wide layers keep both threads busy.
template <typename TIn, typename TOut> void gemm_b_in_task(const ASource& a, const BSource& b, const Epilogue<TIn, TOut>& ep) {
  const KernelConfig& kc = kernel();
  const int MR = kc.MR, NR = kc.NR;
  const int64_t M = a.M, N = b.N, K = a.K, KC = kc.KC;
  const int64_t m_panels = ceil_div(M, MR);
  Buffer<float> ap = alloc_buffer<float>(m_panels * MR * K);
  parallel_for(m_panels, [&](int64_t i) {
    const int64_t m0 = i * MR;
    a.pack(m0, static_cast<int>(std::min<int64_t>(MR, M - m0)), MR, ap.get() + i * MR * K);
  });
  const int64_t per_task = std::clamp<int64_t>(ceil_div(ceil_div(N, 4 * int64_t{cpu_threads()}), NR) * NR, NR, kc.NC);
  parallel_for(ceil_div(N, per_task), [&](int64_t t) {
    float* tiles = thread_tiles(m_panels * MR * per_task);
    float* panel = thread_operand(KC * NR);
    const int64_t nb0 = t * per_task, nb1 = std::min(N, nb0 + per_task);
    const int64_t n_jr = ceil_div(nb1 - nb0, NR);
    for (int64_t pc = 0; pc < K; pc += KC) {
      const int64_t kcur = std::min(KC, K - pc);
      const bool last = pc + kcur == K;
      for (int64_t jr = 0; jr < n_jr; ++jr) {
        const int64_t n0 = nb0 + jr * NR;
        const int nr = static_cast<int>(std::min<int64_t>(NR, N - n0));
        b.pack(n0, nr, NR, pc, kcur, panel);
        for (int64_t ir = 0; ir < m_panels; ++ir) {
          float* tile = tiles + (jr * m_panels + ir) * MR * NR;
          kc.fn(kcur, ap.get() + ir * MR * K + pc * MR, panel, tile, pc > 0);
          if (last) epilogue_tile(tile, NR, ir * MR, static_cast<int>(std::min<int64_t>(MR, M - ir * MR)), n0, nr, ep);
        }
      }
    }
  });
}

// N ≤ MR (the DC-AE decoder's RGB output conv: N = 3) and many rows: the micro-kernel would spend 29 of its 32
// columns on padding, so the gemm runs transposed, Cᵀ = Bᵀ·Aᵀ. The weights fill the MR-row side (packed once,
// 3 of 8 rows used) and 32 rows of A the 32-column side, packed by the same source code with MR = NR (the
// two panel layouts are the same, dst[k·width + i]). Same products, same k order: bit-identical to the normal
// path. Each result tile is transposed back before the usual epilogue.
template <typename TIn, typename TOut> void gemm_small_n(const ASource& a, const BSource& b, const Epilogue<TIn, TOut>& ep) {
  const KernelConfig& kc = kernel();
  const int MR = kc.MR, NR = kc.NR;
  const int64_t M = a.M, N = b.N, K = a.K, KC = kc.KC;
  Buffer<float> wp = alloc_buffer<float>(MR * K);
  b.pack(0, static_cast<int>(N), MR, 0, K, wp.get());
  constexpr int64_t kPanelsPerTask = 8;
  const int64_t panels = ceil_div(M, NR);
  parallel_for(ceil_div(panels, kPanelsPerTask), [&](int64_t t) {
    float* ap = thread_operand(NR * K);
    alignas(64) float tile[8 * 32];  // MR × NR of the largest (AVX-512) kernel; its stores are aligned
    float back[32 * 8];
    for (int64_t p = t * kPanelsPerTask; p < std::min(panels, (t + 1) * kPanelsPerTask); ++p) {
      const int64_t m0 = p * NR;
      const int mr = static_cast<int>(std::min<int64_t>(NR, M - m0));
      a.pack(m0, mr, NR, ap);
      for (int64_t pc = 0; pc < K; pc += KC) kc.fn(std::min(KC, K - pc), wp.get() + pc * MR, ap + pc * NR, tile, pc > 0);
      for (int r = 0; r < mr; ++r)
        for (int c = 0; c < N; ++c) back[r * MR + c] = tile[c * NR + r];
      epilogue_tile(back, MR, m0, mr, 0, static_cast<int>(N), ep);
    }
  });
}

}  // namespace

template <typename TIn, typename TOut> void gemm_run(const ASource& a, const BSource& b, const Epilogue<TIn, TOut>& ep) {
  const KernelConfig& kc = kernel();
  const int MR = kc.MR, NR = kc.NR;
  const int64_t M = a.M, N = b.N, K = a.K;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) throw std::invalid_argument("gemm: K must be positive");
  g_pack_transpose.store(!env_is("SANA_LAB_GEMM_PACK", "scalar"), std::memory_order_relaxed);

  if (M <= kGemmDirectMaxM && !env_is("SANA_LAB_GEMM_DIRECT", "0")) {
    // Small M: A as f32 rows (M·K floats), B read in place 64 columns per task, the same epilogue.
    Buffer<float> ar = alloc_buffer<float>(M * K);
    for (int64_t m = 0; m < M; ++m) a.pack(m, 1, 1, ar.get() + m * K);  // MR = 1: row-major
    constexpr int kCols = 64;
    std::atomic<bool> direct{true};
    parallel_for(ceil_div(N, kCols), [&](int64_t j) {
      float tile[kGemmDirectMaxM * kCols];
      const int64_t n0 = j * kCols;
      const int nr = static_cast<int>(std::min<int64_t>(kCols, N - n0));
      if (!b.direct_columns(ar.get(), M, n0, nr, tile, kCols)) {
        direct.store(false);  // every task of a source answers alike
        return;
      }
      epilogue_tile(tile, kCols, 0, static_cast<int>(M), n0, nr, ep);
    });
    if (direct.load()) return;
  }

  const int64_t MC = kc.MC, NC = kc.NC, KC = kc.KC;
  if (N <= MR && M >= 4 * NR && !env_is("SANA_LAB_GEMM_SMALL_N", "0")) {
    gemm_small_n(a, b, ep);
    return;
  }
  if (M <= kBInTaskMaxTiles * MC && b.slices_k_cheaply() && !env_is("SANA_LAB_GEMM_BPACK", "whole")) {
    gemm_b_in_task(a, b, ep);
    return;
  }

  const int64_t n_panels = ceil_div(N, NR);
  Buffer<float> bp = alloc_buffer<float>(n_panels * NR * K);
  parallel_for(n_panels, [&](int64_t j) {
    const int64_t n0 = j * NR;
    b.pack(n0, static_cast<int>(std::min<int64_t>(NR, N - n0)), NR, 0, K, bp.get() + j * NR * K);
  });

  // Each task packs its own MC rows of A, which are then still in L2/L3 when used, instead of a chunk of A
  // going through DRAM first (at 256×256×128, 0.3 GB written and read back): when N ≤ NC (one tile column,
  // the DC-AE convs up to 256 channels: each A row is used by one task only), or when there are M tiles
  // enough to keep every thread busy with one task per M tile that runs all of N.
  const int64_t mt_all = ceil_div(M, MC), nt = ceil_div(N, NC);
  const bool a_in_task = (nt == 1 || mt_all >= 4 * int64_t{cpu_threads()}) && !env_is("SANA_LAB_GEMM_APACK", "whole");
  // Chunk M so that the packed A stays below ~32 Mi floats (a 4096² conv would otherwise pack GBs).
  int64_t chunk = std::max<int64_t>(MC, (int64_t{32} << 20) / K / MC * MC);
  chunk = a_in_task ? M : std::min(chunk, ceil_div(M, MR) * MR);
  Buffer<float> ap;  // the chunk's packed A (unused when each task packs its own)
  if (!a_in_task) ap = alloc_buffer<float>(ceil_div(chunk, MR) * MR * K);

  for (int64_t c0 = 0; c0 < M; c0 += chunk) {
    const int64_t rows = std::min(chunk, M - c0);
    const int64_t m_panels = ceil_div(rows, MR);
    if (!a_in_task) {
      parallel_for(m_panels, [&](int64_t i) {
        const int64_t m0 = c0 + i * MR;
        a.pack(m0, static_cast<int>(std::min<int64_t>(MR, M - m0)), MR, ap.get() + i * MR * K);
      });
    }
    const int64_t mt = ceil_div(rows, MC);
    // One MC × NC tile of C: for each KC slice, every NR-wide B micro-panel (L1) against the tile's A panels (L2).
    auto run_tile = [&](int64_t ti, int64_t tj, const float* a_tile, float* tiles) {
      const int64_t mb0 = ti * MC, mb1 = std::min(rows, mb0 + MC);  // rows within the chunk
      const int64_t nb0 = tj * NC, nb1 = std::min(N, nb0 + NC);
      const int64_t n_ir = ceil_div(mb1 - mb0, MR), n_jr = ceil_div(nb1 - nb0, NR);
      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kcur = std::min(KC, K - pc);
        const bool last = pc + kcur == K;
        for (int64_t jr = 0; jr < n_jr; ++jr) {
          const int64_t n0 = nb0 + jr * NR;
          const float* bpanel = bp.get() + (n0 / NR) * NR * K + pc * NR;
          for (int64_t ir = 0; ir < n_ir; ++ir) {
            const int64_t mrow = mb0 + ir * MR;  // within the chunk
            float* tile = tiles + (jr * n_ir + ir) * MR * NR;
            kc.fn(kcur, a_tile + ir * MR * K + pc * MR, bpanel, tile, pc > 0);
            if (last) {
              epilogue_tile(tile, NR, c0 + mrow, static_cast<int>(std::min<int64_t>(MR, rows - mrow)), n0,
                            static_cast<int>(std::min<int64_t>(NR, N - n0)), ep);
            }
          }
        }
      }
    };
    parallel_for(a_in_task ? mt : mt * nt, [&](int64_t t) {
      float* tiles = thread_tiles(MC * NC);
      if (!a_in_task) {
        const int64_t ti = t / nt;
        run_tile(ti, t % nt, ap.get() + ti * MC * K, tiles);  // MC is a multiple of MR
        return;
      }
      const int64_t mb0 = t * MC, n_ir = ceil_div(std::min(rows, mb0 + MC) - mb0, MR);
      float* a_tile = thread_operand(n_ir * MR * K);
      for (int64_t ir = 0; ir < n_ir; ++ir) {
        const int64_t m0 = c0 + mb0 + ir * MR;
        a.pack(m0, static_cast<int>(std::min<int64_t>(MR, M - m0)), MR, a_tile + ir * MR * K);
      }
      for (int64_t tj = 0; tj < nt; ++tj) run_tile(t, tj, a_tile, tiles);
    });
  }
}

template void gemm_run<float, float>(const ASource&, const BSource&, const Epilogue<float, float>&);
template void gemm_run<bf16_t, bf16_t>(const ASource&, const BSource&, const Epilogue<bf16_t, bf16_t>&);
template void gemm_run<bf16_t, float>(const ASource&, const BSource&, const Epilogue<bf16_t, float>&);
template void gemm_run<float, bf16_t>(const ASource&, const BSource&, const Epilogue<float, bf16_t>&);

const char* gemm_kernel_name() { return kernel().name; }

// ---- FMA peak ----
namespace {
#ifdef SANA_HAVE_X86_KERNELS
__attribute__((target("avx512f"))) int64_t fma_loop_avx512(int64_t iters, float* sink) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, acc[i]);
  _mm512_storeu_ps(sink, s);
  return iters * 16 * 16 * 2;
}
__attribute__((target("avx2,fma"))) int64_t fma_loop_avx2(int64_t iters, float* sink) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  _mm256_storeu_ps(sink, s);
  return iters * 12 * 8 * 2;
}
#endif
int64_t fma_loop_generic(int64_t iters, float* sink) {
  float acc[8][4];
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.001f * (i + j);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 4; ++j) acc[i][j] = acc[i][j] * 0.999999f + 1e-7f;
  float s = 0;
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 4; ++j) s += acc[i][j];
  sink[0] = s;
  return iters * 32 * 2;
}
}  // namespace

namespace {
// Best rate of one thread over `seconds`, ending no later than `t_end`.
double fma_rate_until(std::chrono::steady_clock::time_point t_end) {
  alignas(64) float sink[16];
  auto run = [&](int64_t iters) -> int64_t {
    const std::string name = kernel().name;
#ifdef SANA_HAVE_X86_KERNELS
    if (name.rfind("avx512", 0) == 0) return fma_loop_avx512(iters, sink);
    if (name.rfind("avx2", 0) == 0) return fma_loop_avx2(iters, sink);
#endif
    return fma_loop_generic(iters, sink);
  };
  run(100000);  // warm up (clock ramp)
  double best = 0;
  do {
    auto t0 = std::chrono::steady_clock::now();
    int64_t flops = run(2000000);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops / dt / 1e9);
  } while (std::chrono::steady_clock::now() < t_end);
  return best;
}
}  // namespace

double measure_fma_peak_gflops(double seconds, bool all_threads) {
  using clock = std::chrono::steady_clock;
  if (!all_threads) return fma_rate_until(clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds)));
  // Every pool thread at once: each task waits (bounded) until all have started, so the rates are
  // measured concurrently, then runs to a shared deadline; the sum of the best rates is the peak.
  const int n = cpu_threads();
  std::atomic<int> started{0};
  std::vector<double> rate(static_cast<size_t>(n), 0.0);
  parallel_for(n, [&](int64_t i) {
    started.fetch_add(1);
    const auto give_up = clock::now() + std::chrono::seconds(1);
    while (started.load() < n && clock::now() < give_up) {
    }
    const auto t_end = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
    rate[static_cast<size_t>(i)] = fma_rate_until(t_end);
  });
  double sum = 0;
  for (double r : rate) sum += r;
  return sum;
}

}  // namespace sana::cpu
