// The CPU gemm engine behind the `gemm` op and every fused op that contains a linear layer or a
// convolution: C (M×N) = A (M×K) · B (K×N), then a fused epilogue (bias, activation, gate multiply,
// residual add) applied while the output tile is still in L1.
//
// A and B are "sources" that pack themselves into the micro-kernel's panel layout, so the same
// driver runs dense activations (x), torch Linear weights (w, read as wᵀ), row-concatenated weights
// (to_q|to_k|to_v) and the implicit im2col of a 3×3 convolution (no im2col buffer). Packing converts
// bf16 to f32, so the micro-kernel only ever sees f32.
#pragma once
#include <cstdint>
#include <vector>

#include "sana/cpu/common.h"

namespace sana::cpu {

// A (M×K). pack() writes rows [m0, m0 + mr) of A, all K columns, as dst[k * MR + r]; rows r >= mr are 0.
struct ASource {
  int64_t M = 0, K = 0;
  virtual ~ASource() = default;
  virtual void pack(int64_t m0, int mr, int MR, float* dst) const = 0;
};

// B (K×N). pack() writes columns [n0, n0 + nr) of B, rows [k0, k0 + kc), as dst[(k - k0) * NR + c]; columns
// c >= nr are 0. The driver packs either all K of every panel once (large M) or, at M ≤ 4·MC, one KC slice
// of one panel at a time inside the task that uses it, so that the packed copy is read while still in L1.
struct BSource {
  int64_t K = 0, N = 0;
  virtual ~BSource() = default;
  virtual void pack(int64_t n0, int nr, int NR, int64_t k0, int64_t kc, float* dst) const = 0;
  // Whether packing one KC slice costs about what it writes. False for the conv weights: their torch layout
  // interleaves k as (ci, tap), so a slice of one tap reads whole cache lines for 1 value in 9, and the
  // driver packs all K at once instead of slice by slice inside the tasks.
  virtual bool slices_k_cheaply() const { return true; }
  // The small-M path (gemm_run, M ≤ kGemmDirectMaxM): out[m·ld_out + c] = Σ_k a[m·K + k]·B[k][n0 + c] for
  // m < M, c < nr, read from the source in place (no packed copy of B). False: no such path (then B is packed).
  virtual bool direct_columns(const float* a, int64_t M, int64_t n0, int nr, float* out, int64_t ld_out) const { return false; }
};

// Rows of A up to which gemm_run reads B in place when B offers it (the timestep MLP and adaLN at batch 1–2,
// whose weights are the whole cost): packing B would copy and transpose all of it for a handful of rows.
constexpr int64_t kGemmDirectMaxM = 8;

// A = a dense row-major matrix (row stride ld, in elements).
template <typename T> struct DenseA : ASource {
  const T* p;
  int64_t ld;
  DenseA(const T* p_, int64_t M_, int64_t K_, int64_t ld_) : p(p_), ld(ld_) { M = M_; K = K_; }
  void pack(int64_t m0, int mr, int MR, float* dst) const override;
};

// A given transposed: a row-major K×M matrix (row stride ld), A[m][k] = p[k·ld + m].
template <typename T> struct TransposedA : ASource {
  const T* p;
  int64_t ld;
  TransposedA(const T* p_, int64_t M_, int64_t K_, int64_t ld_) : p(p_), ld(ld_) { M = M_; K = K_; }
  void pack(int64_t m0, int mr, int MR, float* dst) const override;
};

// B given as a row-major K×N matrix (row stride ld): B[k][n] = p[k·ld + n].
template <typename T> struct DenseB : BSource {
  const T* p;
  int64_t ld;
  DenseB(const T* p_, int64_t K_, int64_t N_, int64_t ld_) : p(p_), ld(ld_) { K = K_; N = N_; }
  void pack(int64_t n0, int nr, int NR, int64_t k0, int64_t kc, float* dst) const override;
};

// B = wᵀ for one or more torch Linear weights stacked along N: parts {w_i (N_i × K)}, rows ld apart
// (ld = 0: K, contiguous).
template <typename T> struct LinearWeightB : BSource {
  std::vector<const T*> parts;
  std::vector<int64_t> rows;
  int64_t ld = 0;
  LinearWeightB(const T* w, int64_t N_, int64_t K_, int64_t ld_ = 0) : ld(ld_) { add(w, N_); K = K_; }
  LinearWeightB() = default;
  void add(const T* w, int64_t n) { parts.push_back(w); rows.push_back(n); N += n; }
  void pack(int64_t n0, int nr, int NR, int64_t k0, int64_t kc, float* dst) const override;
  bool direct_columns(const float* a, int64_t M, int64_t n0, int nr, float* out, int64_t ld_out) const override;
  const T* row(int64_t n) const;  // w row n (B's column n), across the stacked parts
};

// A = im2col of an NHWC image for a 3×3 convolution, zero padding 1, stride s (never materialised):
// row m = (b, oy, ox), column k = (ky·3 + kx)·Cin + ci.
template <typename T> struct Conv3x3A : ASource {
  const T* x;
  int64_t B, H, W, C, Ho, Wo;
  int stride;
  Conv3x3A(const T* x_, int64_t B_, int64_t H_, int64_t W_, int64_t C_, int stride_);
  void pack(int64_t m0, int mr, int MR, float* dst) const override;
  const T* tap_row(int64_t m, int tap) const;  // x's C channels that row m reads at tap; null in the padding
};

// B for a 3×3 convolution from a torch (Cout, Cin, 3, 3) weight, rows ordered like Conv3x3A's columns.
template <typename T> struct Conv3x3WeightB : BSource {
  const T* w;
  int64_t Cin;
  Conv3x3WeightB(const T* w_, int64_t Cout, int64_t Cin_) : w(w_), Cin(Cin_) { K = 9 * Cin_; N = Cout; }
  void pack(int64_t n0, int nr, int NR, int64_t k0, int64_t kc, float* dst) const override;
  bool slices_k_cheaply() const override { return false; }
};

// The fused epilogue: out[m, n] = residual[m, n] + gate[m / gate_rows, n] · act(acc + bias[n]).
// bias/gate/residual are the op's storage type TIn; out is TOut (f32 for scratch inside fused ops).
template <typename TIn, typename TOut> struct Epilogue {
  TOut* out = nullptr;
  int64_t ldo = 0;
  const TIn* bias = nullptr;
  Activation act = Activation::kNone;
  const TIn* gate = nullptr;
  int64_t gate_ld = 0, gate_rows = 1;
  const TIn* residual = nullptr;
  int64_t res_ld = 0;
};

// Runs C = A·B with the epilogue, parallel over the CPU pool. Throws std::bad_alloc on OOM.
template <typename TIn, typename TOut> void gemm_run(const ASource& a, const BSource& b, const Epilogue<TIn, TOut>& ep);

// The micro-kernel the running machine uses: "avx512 8x32", "avx2 6x16" or "generic 4x16".
const char* gemm_kernel_name();

// Measures this machine's FP32 FMA peak (GFLOP/s), with the ISA the gemm uses: independent FMA
// chains over registers, no memory traffic. One thread, or (all_threads) every thread of the CPU pool
// at once, started together, the sum of their rates — the peak a multi-threaded gemm can approach
// (on SMT siblings or a throttled package it is less than threads × one thread). Used by the roofline.
double measure_fma_peak_gflops(double seconds, bool all_threads = false);

}  // namespace sana::cpu
