// Split-K's second pass for gemm v3 (gemm_wgmma.cu, "Split-K" in its header): the S partial f32 tiles
// the split blocks wrote, summed per element in the order s = 0 … S − 1 (deterministic whatever order the
// blocks ran in), through the gemm's fused epilogue. Bytes: S·M·N·4 read + M·N·2 written (+ the epilogue
// operands); FLOPs (S − 1)·M·N adds + the epilogue's. A file of its own so that the wgmma kernels' module
// (and NVVM's inlining decisions there) is what it was without split-K.
#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

// out[m, n] = Epilogue(Σ_{s = 0 … S−1} partial[s][m][n]), summed in that order.
// One thread per 8 columns of a row (plan::gemm_splitk_reduce), 64-bit indices, grid-stride. `vec`
// (N % 8 == 0 and every epilogue operand 16-byte aligned, as for the main kernel): 16-byte loads and
// stores. The residual may alias out: each element is read, then written, by one thread.
__global__ void __launch_bounds__(plan::kWgReduceThreads)
    gemm_splitk_reduce_kernel(const float* __restrict__ partial, int splits, int64_t M, int64_t N, bool vec, Epilogue<bf16> ep) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int64_t units_per_row = (N + 7) / 8, units = M * units_per_row, plane = M * N;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t u = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; u < units; u += stride) {
    const int64_t m = u / units_per_row, n = (u - m * units_per_row) * 8;
    const float* src = partial + m * N + n;
    float v[8], t[8];
    if (vec) {  // n + 8 ≤ N
      load8(src, v);
      for (int s = 1; s < splits; ++s) {
        load8(src + s * plane, t);
#pragma unroll
        for (int j = 0; j < 8; ++j) v[j] += t[j];
      }
      ep.apply8(m, n, v);
      store8(ep.out + m * ep.ldo + n, v);
    } else {  // the columns n + j < N only (unrolled with predicates: v stays in registers)
#pragma unroll
      for (int j = 0; j < 8; ++j) v[j] = n + j < N ? src[j] : 0.0f;
      for (int s = 1; s < splits; ++s) {
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          if (n + j < N) v[j] += src[s * plane + j];
        }
      }
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        if (n + j < N) ep.out[m * ep.ldo + n + j] = __float2bfloat16_rn(ep.apply(m, n + j, v[j]));
      }
    }
  }
}

}  // namespace

Status launch_gemm_splitk_reduce(const char* op, const GemmProblem& g, const float* partial, int splits, bool vec) {
  const plan::Launch l = plan::gemm_splitk_reduce(g.M, g.N);
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "gemm_splitk_reduce_kernel", l, &grid, &block));
  SANA_CUDA_CHECK(op, launch_dependent("gemm_splitk_reduce_kernel", gemm_splitk_reduce_kernel, grid, block, 0, partial, splits, g.M, g.N, vec,
                                       make_epilogue<bf16>(g)));
  SANA_CUDA_LAUNCHED(op, "gemm_splitk_reduce_kernel");
  return Status::Ok();
}

}  // namespace sana::cuda
