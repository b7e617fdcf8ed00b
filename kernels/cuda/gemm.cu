// Op `gemm`: out = residual + gate ⊙ act(x · wᵀ + bias), x (…, K), w (N, K), M = numel(x) / K rows.
// FLOPs 2·M·N·K (+ ≤ 4·M·N epilogue); minimal bytes (M·K + N·K + M·N)·sizeof(T) (+ M·N residual,
// G·N gate, N bias). At the DiT shapes (K ≥ 1152) the arithmetic intensity is ≥ 300 FLOP/B in bf16:
// compute-bound, so the target is the tensor-core rate (H100 bf16 dense ≈ 989 TFLOP/s datasheet,
// ≈ 800 measured for cuBLAS).
//
// Versions:
//   v1  SIMT tiles (this file): a 64×64 output tile per 256-thread block, K in slices of 16 staged
//       through shared memory as f32, each thread 4×4 outputs (strided by 16 so that the shared-memory
//       reads are broadcast / conflict-free), the epilogue fused at the store. f32 or bf16, any shape.
//       Obviously right; ≈ 2 smem loads per 2 FMAs, so it runs far under the FMA peak.
//   v2  tensor cores (gemm_mma.cu): mma.sync m16n8k16 bf16 → f32, 128×128×32 tiles, 8 warps of
//       64×32, a 4-stage cp.async pipeline with zero-filled edges, ldmatrix from XOR-swizzled shared
//       memory (conflict-free), the same fused epilogue. bf16 only; K a multiple of 8.
//   v3  Hopper (gemm_wgmma.cu): wgmma m64n256k16 / m64n128k16 from shared memory filled by TMA
//       (128-byte swizzle, zero-filled edges), a producer warp and two consumer warpgroups on an
//       mbarrier ring, the epilogue staged through shared memory with 16-byte stores. bf16; K a
//       multiple of 8; 16-byte aligned x and w; sm_90 devices with an sm_90a build. The default
//       wherever it can run (H200, 2026-11-28: 0.456 ms vs v2's 0.990 ms at M 32768, N 3456, K 1152;
//       torch.matmul 0.386 ms); else v2, else v1.
// The same two engines run the implicit-gemm conv3x3 (conv3x3.cu) and every linear layer inside the
// fused ops.
#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

// ---- operand readers for the SIMT engine (one element at a time, f32 out) ----
template <typename T> struct DenseA {
  const T* p;
  int64_t ld;
  __device__ __forceinline__ float operator()(int64_t m, int64_t k) const { return ldf(p[m * ld + k]); }
};

// im2col of an NHWC image for a 3×3 conv, zero padding 1, stride s, input upsampled (nearest) by `up`.
template <typename T> struct ConvA {
  const T* x;
  int64_t H, W, Cin, Ho, Wo;
  int stride, up;
  __device__ __forceinline__ float operator()(int64_t m, int64_t k) const {
    const int64_t ox = m % Wo, t = m / Wo, oy = t % Ho, b = t / Ho;
    const int64_t tap = k / Cin, ci = k - tap * Cin;
    const int64_t iy = oy * stride + tap / 3 - 1, ix = ox * stride + tap % 3 - 1;
    if (iy < 0 || iy >= H * up || ix < 0 || ix >= W * up) return 0.0f;
    return ldf(x[((b * H + iy / up) * W + ix / up) * Cin + ci]);
  }
};

template <typename T> struct DenseB {
  const T* p;
  int64_t ld;
  __device__ __forceinline__ float operator()(int64_t n, int64_t k) const { return ldf(p[n * ld + k]); }
};

// A torch (Cout, Cin, 3, 3) weight read as B[n][(ky·3 + kx)·Cin + ci].
template <typename T> struct TorchConvB {
  const T* w;
  int64_t Cin;
  __device__ __forceinline__ float operator()(int64_t n, int64_t k) const {
    const int64_t tap = k / Cin, ci = k - tap * Cin;
    return ldf(w[(n * Cin + ci) * 9 + tap]);
  }
};

constexpr int BM = plan::kSimtBM, BN = plan::kSimtBN, BK = plan::kSimtBK, THREADS = plan::kSimtThreads;
static_assert(BM * BK == 4 * THREADS && BN * BK == 4 * THREADS, "each thread loads 4 elements of each tile");

template <typename T, typename AF, typename BF>
__global__ void __launch_bounds__(THREADS) gemm_simt_kernel(AF A, BF B, int64_t M, int64_t N, int64_t K, Epilogue<T> ep) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  __shared__ float As[BK][BM + 4];  // [k][m]
  __shared__ float Bs[BK][BN + 4];  // [k][n]
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int64_t m0 = blockIdx.x * int64_t{BM}, n0 = blockIdx.y * int64_t{BN};
  float acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;

  for (int64_t k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int e = threadIdx.x + THREADS * i, r = e / BK, kk = e % BK;  // consecutive threads: consecutive k
      const int64_t k = k0 + kk;
      As[kk][r] = (m0 + r < M && k < K) ? A(m0 + r, k) : 0.0f;
      Bs[kk][r] = (n0 + r < N && k < K) ? B(n0 + r, k) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = As[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int64_t m = m0 + ty + 16 * i;
    if (m >= M) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int64_t n = n0 + tx + 16 * j;
      if (n < N) ep.store(m, n, acc[i][j]);
    }
  }
}


template <typename T> Status run_simt(const char* op, const GemmProblem& p) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "gemm_simt_kernel", plan::gemm_simt(p.M, p.N), &grid, &block));
  const Epilogue<T> ep = make_epilogue<T>(p);
  if (!p.a_conv && !p.b_torch_conv) {
    DenseA<T> A{static_cast<const T*>(p.a), p.lda};
    DenseB<T> B{static_cast<const T*>(p.b), p.ldb};
    SANA_CUDA_CHECK(op, launch_dependent("gemm_simt_kernel<T>", gemm_simt_kernel<T, decltype(A), decltype(B)>, grid, block, 0, A, B, p.M, p.N, p.K, ep));
  } else if (p.a_conv && p.b_torch_conv) {
    ConvA<T> A{static_cast<const T*>(p.a), p.conv_h, p.conv_w, p.conv_cin, p.conv_ho, p.conv_wo, p.conv_stride, p.conv_upsample};
    TorchConvB<T> B{static_cast<const T*>(p.b), p.conv_cin};
    SANA_CUDA_CHECK(op, launch_dependent("gemm_simt_kernel<T>", gemm_simt_kernel<T, decltype(A), decltype(B)>, grid, block, 0, A, B, p.M, p.N, p.K, ep));
  } else {
    return Internal(std::string(op) + ": gemm v1 supports dense×dense or conv×torch-weight operands");
  }
  SANA_CUDA_LAUNCHED(op, "gemm_simt_kernel");
  return Status::Ok();
}

// conv weight reorder: dst[n][tap·Cin + ci] = w[n][ci][tap]
template <typename T> __global__ void reorder_conv_weight_kernel(const T* w, int64_t cout, int64_t cin, T* dst) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int64_t n_total = cout * cin * 9;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n_total; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t n = i / (9 * cin), r = i - n * 9 * cin, tap = r / cin, ci = r - tap * cin;
    dst[i] = w[(n * cin + ci) * 9 + tap];
  }
}

}  // namespace

Status launch_gemm_simt(const char* op, const GemmProblem& p) {
  if (p.M == 0 || p.N == 0) return Status::Ok();
  if (p.dtype == DType::kF32) return run_simt<float>(op, p);
  if (p.dtype == DType::kBF16) return run_simt<bf16>(op, p);
  return InvalidArgument(std::string(op) + ": gemm storage must be f32 or bf16");
}

int gemm_default_version(const GemmProblem& p) { return gemm_mma_unsupported(p)[0] == '\0' ? 2 : 1; }

Status launch_gemm(const char* op, const GemmProblem& p, int engine, int op_version) {
  if (engine == 0) engine = gemm_default_version(p);
  if (engine == 1) return launch_gemm_simt(op, p);
  if (engine == 2) {
    const char* why = gemm_mma_unsupported(p);
    if (why[0] != '\0') return bad_version(op, 2, std::string("(tensor-core gemm) cannot run this: ") + why);
    return launch_gemm_mma(op, p);
  }
  if (engine == 3) return launch_gemm_wgmma(op, p, op_version != 0 ? op_version : 3);  // checks shapes and device itself
  return unknown_version(op, engine, 3);
}

Status reorder_conv_weight(const char* op, DType dt, const void* w, int64_t cout, int64_t cin, void* dst) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "reorder_conv_weight_kernel", plan::elementwise(cout * cin * 9), &grid, &block));
  if (dt == DType::kF32) {
    SANA_CUDA_CHECK(op, launch_dependent("reorder_conv_weight_kernel<float>", reorder_conv_weight_kernel<float>, grid, block, 0,
                                         static_cast<const float*>(w), cout, cin, static_cast<float*>(dst)));
  } else {
    SANA_CUDA_CHECK(op, launch_dependent("reorder_conv_weight_kernel<bf16>", reorder_conv_weight_kernel<bf16>, grid, block, 0,
                                         static_cast<const bf16*>(w), cout, cin, static_cast<bf16*>(dst)));
  }
  SANA_CUDA_LAUNCHED(op, "reorder_conv_weight_kernel");
  return Status::Ok();
}

// ---- the op entry ----
Status gemm(const GemmArgs& a, int version) {
  const char* op = "gemm";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  GemmSizes z;
  SANA_RETURN_IF_ERROR(check_gemm_args(Device::kCuda, a, &z));
  const DType dt = a.x.dtype;
  const int64_t M = z.M, N = z.N, K = z.K;
  // (the CPU entry allows it; here blocks of other n-tiles would still be reading x's rows)
  if (a.out.data == a.x.data) return InvalidArgument("gemm: out must not be x (x's rows are read while out is written)");
  if (version < 0 || version > 3) return unknown_version(op, version, 3);

  GemmProblem p;
  p.dtype = dt;
  p.M = M;
  p.N = N;
  p.K = K;
  p.a = a.x.data;
  p.lda = K;
  p.b = a.w.data;
  p.ldb = K;
  p.c = a.out.data;
  p.ldc = N;
  p.bias = a.bias ? a.bias->data : nullptr;
  p.act = a.act;
  p.gate = a.gate ? a.gate->data : nullptr;
  p.gate_ld = N;
  p.gate_rows = z.gate_rows;
  p.residual = a.residual ? a.residual->data : nullptr;
  p.res_ld = N;
  // The default on an sm_90 GPU is v3 wherever it can run (2.2× v2 at the DiT's widths on an H200).
  if (version == 0 && hopper_defaults() && gemm_wgmma_unsupported(p)[0] == '\0') version = 3;
  if (version == 2) {
    const char* why = gemm_mma_unsupported(p);
    if (why[0] != '\0') return bad_version(op, 2, std::string("(tensor-core gemm) cannot run this: ") + why);
  }
  if (version == 3) {  // (the device check follows in launch_gemm_wgmma, once a device is known to be there)
    const char* why = gemm_wgmma_unsupported(p);
    if (why[0] != '\0') return bad_version(op, 3, std::string("(wgmma gemm) cannot run this: ") + why);
  }
  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  return scope.finish(launch_gemm(op, p, version));
}

}  // namespace sana::cuda
