// Op `sampler-update` (kernels/include/sana/ops.h): one sampling step's elementwise tail on the device —
// classifier-free guidance, the Flow-DPM-Solver++ (1st / 2nd order) or Flow-Euler update, and the next
// model input — so that a denoising loop (and a CUDA graph of a whole iteration) keeps its latents on
// the device. The coefficients are read from device memory: a captured graph replays the op with the
// values the host writes before each launch.
//
// Every float operation is an explicitly rounded intrinsic (__fadd_rn, __fsub_rn, __fmul_rn): nvcc
// never fuses those into an FMA, so each element is the reference schedulers' float32 result bit for
// bit (reference/schedulers/flow-update.ts; the CPU entry is compiled with -ffp-contract=off for the
// same reason).
//
// FLOPs per element: 3 (guidance) + ≤ 7 (update). Bytes per element: halves·s (v) + 4 (x read) + 4 (x
// written) + 8 (m read and written, dpm) + copies·s (tokens), s = the model dtype's size. At 4096² with
// CFG (n = 32·128² = 524 288, bf16): ≈ 14 MB, ≈ 4 µs at the H200's 4.2 TB/s: the loop's tail is
// launch-bound, which is why it belongs in the step's graph rather than on the host.
//
// Versions:
//   v1  grid-stride, one element per thread per iteration, 64-bit indices. A coefficient kind outside
//       0…2, or a dpm kind without m_state, writes NaN into x (the host wrapper checks the kind before
//       it writes the coefficients; this keeps a bad replay from passing silently).
#include "sana/cuda/checks.h"
#include "sana/cuda/common.cuh"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

template <typename T>
__global__ void __launch_bounds__(256) sampler_update_v1(const T* __restrict__ v, int64_t halves, const float* __restrict__ coeffs,
                                                         float* __restrict__ x, float* __restrict__ m_state, T* __restrict__ tokens,
                                                         int64_t copies, int64_t n) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const float kind = coeffs[0], guidance = coeffs[1], sigma = coeffs[2], cX = coeffs[3], cD0 = coeffs[4], cD1 = coeffs[5],
              invR0 = coeffs[6], dt = coeffs[7];
  const bool bad = !(kind == 0.0f || kind == 1.0f || kind == 2.0f) || (kind != 2.0f && m_state == nullptr);
  for (int64_t k = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; k < n; k += int64_t{gridDim.x} * blockDim.x) {
    float g = ldf(v[k]);
    if (halves == 2) g = __fadd_rn(g, __fmul_rn(guidance, __fsub_rn(ldf(v[n + k]), g)));
    const float xk = x[k];
    float xn;
    if (bad) {
      xn = __int_as_float(0x7fc00000);
    } else if (kind == 2.0f) {
      xn = __fadd_rn(xk, __fmul_rn(dt, g));
    } else {
      const float m = __fsub_rn(xk, __fmul_rn(sigma, g));
      xn = __fsub_rn(__fmul_rn(cX, xk), __fmul_rn(cD0, m));
      if (kind == 1.0f) xn = __fsub_rn(xn, __fmul_rn(cD1, __fmul_rn(invR0, __fsub_rn(m, m_state[k]))));
      m_state[k] = m;
    }
    x[k] = xn;
    for (int64_t j = 0; j < copies; ++j) tokens[j * n + k] = stf<T>(xn);
  }
}

template <typename T>
Status run_v1(const char* op, const SamplerUpdateArgs& a, const SamplerUpdateSizes& s) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "sampler_update_v1", plan::elementwise(s.n), &grid, &block));
  SANA_CUDA_CHECK(op, launch_dependent("sampler_update_v1", sampler_update_v1<T>, grid, block, 0, a.v.as<T>(), s.halves, a.coeffs.as<float>(),
                                       a.x.as<float>(), a.m_state ? a.m_state->as<float>() : nullptr, a.tokens ? a.tokens->as<T>() : nullptr,
                                       s.copies, s.n));
  SANA_CUDA_LAUNCHED(op, "sampler_update_v1");
  return Status::Ok();
}

}  // namespace

Status sampler_update(const SamplerUpdateArgs& a, int version) {
  const char* op = "sampler-update";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  SamplerUpdateSizes s;
  SANA_RETURN_IF_ERROR(check_sampler_update_args(Device::kCuda, a, &s));
  if (version < 0 || version > 1) return unknown_version(op, version, 1);
  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  return scope.finish(a.v.dtype == DType::kF32 ? run_v1<float>(op, a, s) : run_v1<bf16>(op, a, s));
}

}  // namespace sana::cuda
