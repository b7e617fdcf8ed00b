// The gemm engines as building blocks for every op with a linear layer or a convolution (internal
// to kernels/cuda/). A problem is C (M×N) = A (M×K) · Bᵀ with B given as N×K rows (torch Linear
// weights), plus the fused epilogue. A is either dense or the implicit im2col of an NHWC 3×3
// convolution (zero padding 1, stride 1/2, nearest-upsampled input read in place).
#pragma once
#include <cstdint>

#include "sana/ops.h"

namespace sana::cuda {

struct GemmProblem {
  DType dtype = DType::kF32;  // storage of A, B, C, bias, gate, residual
  int64_t M = 0, N = 0, K = 0;
  // A
  const void* a = nullptr;
  int64_t lda = 0;  // dense A: row stride in elements
  bool a_conv = false;  // A = im2col(x): x (B, H, W, Cin) NHWC, row m = (b, oy, ox), col k = (ky·3 + kx)·Cin + ci
  int64_t conv_b = 0, conv_h = 0, conv_w = 0, conv_cin = 0, conv_ho = 0, conv_wo = 0;
  int conv_stride = 1, conv_upsample = 1;
  // conv_phase ≥ 0 (0–3; the wgmma engine only: the mma engine refuses it, the SIMT engine does not read
  // it, so never hand it one): one sub-pixel phase (a, b) =
  // (conv_phase / 2, conv_phase % 2) of a 3×3 conv over the nearest-2× upsampled x (conv_upsample 2,
  // conv_ho/wo = 2H/2W), dcae-upsample v3. Rows m = (b, y, x) are x's own B·H·W pixels; A's column
  // (jy·2 + jx)·Cin + ci = x[b, y + a − 1 + jy, x + b − 1 + jx, ci] (zero outside), K = 4·Cin; B is the
  // phase's combined weight (maps::phase_tap); C row m (and the residual's) is output pixel
  // (b, 2y + a, 2x + b) of the (B, 2H, 2W) image: element ((b·2H + 2y + a)·2W + 2x + b)·ldc + n.
  int conv_phase = -1;
  // B: N rows of K (row stride ldb), or with b_torch_conv a torch (Cout, Cin, 3, 3) weight read as
  // B[n][(ky·3 + kx)·Cin + ci] (the SIMT engine only; the tensor-core engine needs it reordered).
  const void* b = nullptr;
  int64_t ldb = 0;
  bool b_torch_conv = false;
  // C and the epilogue: C[m·ldc + n] = residual + gate[m / gate_rows] ⊙ act(acc + bias)
  void* c = nullptr;
  int64_t ldc = 0;
  const void* bias = nullptr;
  Activation act = Activation::kNone;
  const void* gate = nullptr;
  int64_t gate_ld = 0, gate_rows = 1;
  const void* residual = nullptr;
  int64_t res_ld = 0;
};

// gemm v1: SIMT tiles, f32 or bf16, any shapes (kernels/cuda/gemm.cu).
Status launch_gemm_simt(const char* op, const GemmProblem& p);
// gemm v2: mma.sync bf16 tensor cores (kernels/cuda/gemm_mma.cu). Needs bf16, K, lda, ldb multiples
// of 8, 16-byte aligned A and B, and for conv A Cin % 8 == 0 with B already reordered (N × 9·Cin).
Status launch_gemm_mma(const char* op, const GemmProblem& p);
// Why the tensor-core engine cannot run p ("" = it can).
const char* gemm_mma_unsupported(const GemmProblem& p);
// gemm v3: Hopper wgmma + TMA (kernels/cuda/gemm_wgmma.cu). Needs bf16, K, lda, ldb multiples of 8,
// 16-byte aligned A and B (TMA), M and N < 2³¹, and at run time an sm_90 device with this build's
// sm_90a code. A may be a conv's im2col (conv3x3 v4: stride 1, no upsampling, Cin % 64 == 0, width %
// 128 == 0, B reordered to (Cout, 9·Cin)). An op's default (version 0) picks it only where
// hopper_defaults() says so; a composite's default engine (launch_gemm's 0) never does.
const char* gemm_wgmma_unsupported(const GemmProblem& p);
// Whether engine 3 takes the dense gemm x (M × K, row stride lda) · wᵀ (w: N × K, row stride ldb) stored
// in dt: gemm_wgmma_unsupported's own rules, for a composite choosing its version before its scratch
// exists (pass nullptr for an operand that lives in op scratch: scratch is 256-byte aligned).
bool gemm_wgmma_dense_ok(DType dt, const void* x, int64_t lda, const void* w, int64_t ldb, int64_t M, int64_t N, int64_t K);
// Everything launch_gemm_wgmma checks before launching (the shapes, then the device), without
// launching: a composite calls it before its first kernel so that a refusal leaves out untouched.
Status gemm_wgmma_check(const char* op, const GemmProblem& p, int version = 3);
// Whether version 0 ("default") may pick an op's sm_90 version (wgmma / TMA): device 0 runs the wgmma
// engine (an sm_90 GPU and this build's sm_90a code; asked once per process) and no PortableDefaults
// scope is open on this thread. The sm_90 versions became defaults after their first GPU run had
// passed parity and timed them faster (reports/gpu-h200-2026-11-28).
bool hopper_defaults();
// While one is alive on this thread, version 0 means the portable default (no sm_90 version):
// dit-block v2 opens one so that its explicit version stays the mma.sync composition it names.
class PortableDefaults {
 public:
  PortableDefaults();
  ~PortableDefaults();
  PortableDefaults(const PortableDefaults&) = delete;
  PortableDefaults& operator=(const PortableDefaults&) = delete;
};
// Checks the shapes, then the device (kInvalidArgument "op: version N …" on a device that is not
// sm_90 or a build without sm_90a code), then launches; `version` is the calling op's, for messages.
Status launch_gemm_wgmma(const char* op, const GemmProblem& p, int version = 3);
// How many gemms engine 3 (wgmma) has launched in this process: tests observe with it which engine a
// default or a composite version ran (the engines' results can agree to the last bit).
int64_t gemm_wgmma_launch_count();
// For tests and benchmarks (not thread-safe): force v3's tile width, 128, 192 or 256; 0 = the plan's choice.
void set_gemm_wgmma_tile_n(int bn);
// The tile widths v3's plan chooses among (plan::kWgTile* bits): SANA_LAB_GEMM_TILES (a comma list of 128,
// 192 and 256, read once; unset = 128,256: the 192-wide tile is opt-in until a GPU has timed it).
int gemm_wgmma_tiles();
// v3's split-K on grids that leave SMs idle (kernels/cuda/gemm_wgmma.cu; plan::gemm_wgmma_split_k), process-
// wide, OFF by default (not yet timed on a GPU). Mode −1 = the plan's split count, 0 or 1 = off, 2 … 8 =
// that many splits (capped at ⌈K/64⌉; tests and benchmarks); any other value = off. Conv problems never
// split. The environment variable SANA_LAB_GEMM_SPLIT_K (auto, off or 2 … 8; read once, at the first
// gemm v3; an invalid value is ignored with a warning on stderr) sets the initial mode; this setter
// overrides it. Not thread-safe (like set_gemm_wgmma_tile_n).
void set_gemm_wgmma_split_k(int mode);
// The current mode (−1, 0 or 2 … 8), reading SANA_LAB_GEMM_SPLIT_K on first use: to report or restore it.
int gemm_wgmma_split_k_mode();
// How many gemms engine 3 has run split (S > 1) in this process: tests observe with it that a split ran.
int64_t gemm_wgmma_split_launch_count();
// v3's thread-block clusters with TMA multicast of the weight tile (kernels/cuda/gemm_wgmma.cu;
// plan::gemm_wgmma_cluster), process-wide, OFF by default (not yet timed on a GPU): mode 1 = none, 2 = pairs
// of blocks sharing one B tile; any other value = 1. Split-K launches and single-m-tile problems never
// cluster. SANA_LAB_GEMM_CLUSTER (1 or 2; read once, at the first gemm v3; an invalid value is ignored with
// a warning on stderr) sets the initial mode; this setter overrides it. Not thread-safe.
void set_gemm_wgmma_cluster(int mode);
// The current mode (1 or 2), reading SANA_LAB_GEMM_CLUSTER on first use.
int gemm_wgmma_cluster_mode();
// How many gemms engine 3 has run as clusters in this process: tests observe with it that one ran.
int64_t gemm_wgmma_cluster_launch_count();
// BENCH ONLY (not thread-safe): run v3's main loop as a probe, plan::kWgProbeFeed (the TMA loads and the
// pipeline's handshakes, no tensor-core work) or kWgProbeMath (the wgmma batches on stale shared memory, no
// loads); kWgProbeNone (or any other value) = the real kernel. A probe's output is NOT the product: the
// self-test bench times them beside the real kernel to see what bounds it, and never checks their numbers.
void set_gemm_wgmma_probe(int probe);
// Split-K's reduce (gemm_splitk_reduce.cu): C = epilogue(Σ_s partial[s]) for p's M × N output and epilogue
// (bf16), partial = `splits` f32 planes of M × N (row pitch N); vec: N % 8 == 0 and every epilogue operand
// 16-byte aligned (16-byte loads and stores).
Status launch_gemm_splitk_reduce(const char* op, const GemmProblem& p, const float* partial, int splits, bool vec);
// The default engine for p inside a composite: 2 (tensor cores) when supported, else 1 (never 3:
// a composite's explicit versions name their engine; its default resolves to its own sm_90 version).
int gemm_default_version(const GemmProblem& p);
// Runs p with engine 1, 2 or 3 (0 = default).
// `op_version`: the calling op's version, named in engine 3's refusals (a composite's version 4 whose
// gemms run on engine 3 must not be reported as "version 3"); 0 = the engine's number.
Status launch_gemm(const char* op, const GemmProblem& p, int engine, int op_version = 0);

// Linear attention's fused K/V projection: for x (M × C) bf16 and the torch weights wk, wv (C × C),
// accumulates state[b·heads + h][i][j] += Σ_m v[m][h·32 + i]·ReLU(k[m][h·32 + j]) and the ones row
// (i = 32) without writing k or v anywhere (tensor-core gemm with a reduction epilogue). tokens = N
// per batch item; needs C % 64 == 0, tokens % 128 == 0. state must be zeroed first.
Status launch_kv_state_mma(const char* op, const void* x, int64_t M, int64_t C, const void* wk, const void* wv, int64_t tokens, float* state);

// Reorders a torch (Cout, Cin, 3, 3) weight into (Cout, 9·Cin) rows, column (ky·3 + kx)·Cin + ci.
Status reorder_conv_weight(const char* op, DType dt, const void* w, int64_t cout, int64_t cin, void* dst);

}  // namespace sana::cuda
