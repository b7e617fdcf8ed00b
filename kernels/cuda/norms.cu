// Ops `layernorm-modulate` and `rmsnorm` (also DC-AE's `rmsnorm2d` on NHWC), row-wise over the last dim C:
//   layernorm-modulate: y = (x − μ) / √(σ² + eps) · (1 + scale[b]) + shift[b]     (LN without affine)
//   rmsnorm:            y = residual + x / √(mean(x²) + eps) · w + b                (each optional)
// Statistics in f32, two-pass (mean, then Σ(x − μ)²: no cancellation when |μ| ≫ σ, which SANA's
// large activations make real). FLOPs ≈ 5–8 per element; minimal bytes 2·numel·sizeof(T)
// (+ residual, + the small modulation/weight vectors): bandwidth-bound.
//
// Versions:
//   v1  one 256-thread block per row, strided scalar loads, block reductions through shared memory;
//       the row is re-read from L1/L2 for each pass. Any C.
//   v2  a group of tpr = min(32, 2^⌈log2(C/8)⌉) lanes per row (several rows per block), 16-byte
//       loads, the row held in registers (≤ 12 vectors of 8 per lane: C ≤ 3072 at tpr = 32), group
//       reductions with xor shuffles: one read and one write of each element. Needs C % 8 == 0.
//       Register budgets of 2, 5, 9 or 12 vectors per lane (plan::row_vectors: the smallest that holds
//       the row). Until 2026-11-29 there were two, 2 and 12, so SANA's rows (C 1152: 5 vectors per
//       lane) ran with 12: bf16 layernorm-modulate 127 registers (ptxas sm_90a), 2 blocks = 16 warps per
//       SM, rmsnorm 177, one block of 8 warps — the H200 run's layernorm-modulate v2 took 0.098 ms at
//       Sana-0.6B 4096², batch 2 (151 MB: 37% of the copy bandwidth), and DC-AE's C = 1024 rows (4
//       vectors) ran the same way. With 5: 64 registers for both, 4 blocks = 32 warps per SM (Sana-1.6B's
//       C 2240 takes 9: 128 / 119, 2 blocks). Same instructions per element, same results bit for bit;
//       not yet timed on a GPU.
#include <cmath>
#include <type_traits>

#include "sana/cuda/common.cuh"
#include "sana/cuda/internal.h"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

// The row lives in MV vectors of 8 per lane. Registers are allocated for MV whatever C is, so each row
// width gets the smallest instantiation that holds it (plan::row_vectors), which keeps occupancy (and
// the bytes in flight) high.
// Calls launch(std::integral_constant<int, MV>{}) with the budget row_vectors(C) names.
template <typename Launch> void with_row_budget(int64_t C, Launch&& launch) {
  switch (plan::row_vectors(C)) {
    case 2: launch(std::integral_constant<int, 2>{}); break;
    case 5: launch(std::integral_constant<int, 5>{}); break;
    case 9: launch(std::integral_constant<int, 9>{}); break;
    default: launch(std::integral_constant<int, plan::kRowMaxVec>{}); break;
  }
}

// Sum over the 256 threads of the block (all must call; `red` holds 8 floats).
__device__ __forceinline__ float block_sum(float v, float* red) {
#pragma unroll
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();  // red is free (an earlier call may still be reading it)
  if (lane == 0) red[warp] = v;
  __syncthreads();
  float t = 0.0f;
#pragma unroll
  for (int w = 0; w < 8; ++w) t += red[w];
  return t;
}

// Sum over a group of tpr consecutive lanes (tpr a power of two ≤ 32; all lanes call).
__device__ __forceinline__ float group_sum(float v, int tpr) {
  for (int o = tpr / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// ---------------------------------------------------------------- layernorm-modulate
template <typename T>
__global__ void __launch_bounds__(256) ln_mod_v1(const T* __restrict__ x, int64_t C, const T* __restrict__ shift, const T* __restrict__ scale,
                                                 int64_t rows_per_mod, float eps, T* __restrict__ out) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  __shared__ float red[8];
  const int64_t r = blockIdx.x;
  const T* xr = x + r * C;
  float s = 0.0f;
  for (int64_t c = threadIdx.x; c < C; c += 256) s += ldf(xr[c]);
  const float mu = block_sum(s, red) / static_cast<float>(C);
  float s2 = 0.0f;
  for (int64_t c = threadIdx.x; c < C; c += 256) {
    const float dv = ldf(xr[c]) - mu;
    s2 += dv * dv;
  }
  const float rstd = 1.0f / sqrtf(block_sum(s2, red) / static_cast<float>(C) + eps);
  const T* sh = shift + (r / rows_per_mod) * C;
  const T* sc = scale + (r / rows_per_mod) * C;
  for (int64_t c = threadIdx.x; c < C; c += 256) out[r * C + c] = stf<T>((ldf(xr[c]) - mu) * rstd * (1.0f + ldf(sc[c])) + ldf(sh[c]));
}

template <typename T, int kV>
__global__ void __launch_bounds__(256) ln_mod_v2(const T* __restrict__ x, int64_t rows, int64_t C, int tpr, const T* __restrict__ shift,
                                                 const T* __restrict__ scale, int64_t rows_per_mod, float eps, T* __restrict__ out) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int g = threadIdx.x / tpr, lane = threadIdx.x % tpr;
  const int64_t r = blockIdx.x * int64_t{256 / tpr} + g;
  const bool active = r < rows;
  const int64_t nvec = C / 8;
  float xv[kV][8];
  float s = 0.0f;
#pragma unroll
  for (int i = 0; i < kV; ++i) {
    const int64_t vi = lane + int64_t{i} * tpr;
    if (active && vi < nvec) {
      load8(x + r * C + vi * 8, xv[i]);
#pragma unroll
      for (int e = 0; e < 8; ++e) s += xv[i][e];
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e) xv[i][e] = 0.0f;
    }
  }
  const float mu = group_sum(s, tpr) / static_cast<float>(C);
  float s2 = 0.0f;
#pragma unroll
  for (int i = 0; i < kV; ++i) {
    if (lane + int64_t{i} * tpr < nvec) {
#pragma unroll
      for (int e = 0; e < 8; ++e) s2 += (xv[i][e] - mu) * (xv[i][e] - mu);
    }
  }
  const float rstd = 1.0f / sqrtf(group_sum(s2, tpr) / static_cast<float>(C) + eps);
  if (!active) return;
  const T* sh = shift + (r / rows_per_mod) * C;
  const T* sc = scale + (r / rows_per_mod) * C;
#pragma unroll
  for (int i = 0; i < kV; ++i) {
    const int64_t vi = lane + int64_t{i} * tpr;
    if (vi >= nvec) continue;
    float shv[8], scv[8], o[8];
    load8(sh + vi * 8, shv);
    load8(sc + vi * 8, scv);
#pragma unroll
    for (int e = 0; e < 8; ++e) o[e] = (xv[i][e] - mu) * rstd * (1.0f + scv[e]) + shv[e];
    store8(out + r * C + vi * 8, o);
  }
}

// ---------------------------------------------------------------- rmsnorm
template <typename T>
__global__ void __launch_bounds__(256) rms_v1(const T* __restrict__ x, int64_t C, const T* __restrict__ w, const T* __restrict__ b, float eps,
                                              const T* __restrict__ residual, T* __restrict__ out) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  __shared__ float red[8];
  const int64_t r = blockIdx.x;
  const T* xr = x + r * C;
  float s = 0.0f;
  for (int64_t c = threadIdx.x; c < C; c += 256) {
    const float v = ldf(xr[c]);
    s += v * v;
  }
  const float rinv = 1.0f / sqrtf(block_sum(s, red) / static_cast<float>(C) + eps);
  for (int64_t c = threadIdx.x; c < C; c += 256) {
    float y = ldf(xr[c]) * rinv;
    if (w) y *= ldf(w[c]);
    if (b) y += ldf(b[c]);
    if (residual) y += ldf(residual[r * C + c]);
    out[r * C + c] = stf<T>(y);
  }
}

template <typename T, int kV>
__global__ void __launch_bounds__(256) rms_v2(const T* __restrict__ x, int64_t rows, int64_t C, int tpr, const T* __restrict__ w,
                                              const T* __restrict__ b, float eps, const T* __restrict__ residual, T* __restrict__ out) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int g = threadIdx.x / tpr, lane = threadIdx.x % tpr;
  const int64_t r = blockIdx.x * int64_t{256 / tpr} + g;
  const bool active = r < rows;
  const int64_t nvec = C / 8;
  float xv[kV][8];
  float s = 0.0f;
#pragma unroll
  for (int i = 0; i < kV; ++i) {
    const int64_t vi = lane + int64_t{i} * tpr;
    if (active && vi < nvec) {
      load8(x + r * C + vi * 8, xv[i]);
#pragma unroll
      for (int e = 0; e < 8; ++e) s += xv[i][e] * xv[i][e];
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e) xv[i][e] = 0.0f;
    }
  }
  const float rinv = 1.0f / sqrtf(group_sum(s, tpr) / static_cast<float>(C) + eps);
  if (!active) return;
#pragma unroll
  for (int i = 0; i < kV; ++i) {
    const int64_t vi = lane + int64_t{i} * tpr;
    if (vi >= nvec) continue;
    float o[8], t[8];
#pragma unroll
    for (int e = 0; e < 8; ++e) o[e] = xv[i][e] * rinv;
    if (w) {
      load8(w + vi * 8, t);
#pragma unroll
      for (int e = 0; e < 8; ++e) o[e] *= t[e];
    }
    if (b) {
      load8(b + vi * 8, t);
#pragma unroll
      for (int e = 0; e < 8; ++e) o[e] += t[e];
    }
    if (residual) {
      load8(residual + r * C + vi * 8, t);
#pragma unroll
      for (int e = 0; e < 8; ++e) o[e] += t[e];
    }
    store8(out + r * C + vi * 8, o);
  }
}

bool all_aligned(std::initializer_list<const void*> ps) {
  for (const void* p : ps) {
    if (p && !aligned16(p)) return false;
  }
  return true;
}

Status rows_check_version(const char* op, int version, int64_t C, bool aligned) {
  if (version < 0 || version > 2) return unknown_version(op, version, 2);
  if (version == 2 && !plan::rows_v2_ok(C)) {
    return bad_version(op, 2, "needs C % 8 == 0 and C ≤ " + std::to_string(32 * 8 * plan::kRowMaxVec) + ", got C = " + std::to_string(C));
  }
  if (version == 2 && !aligned) return bad_version(op, 2, "needs 16-byte aligned tensors");
  return Status::Ok();
}

template <typename T>
Status run_rms(const char* op, int version, const T* x, int64_t rows, int64_t C, const T* w, const T* b, float eps, const T* residual, T* out) {
  dim3 grid, block;
  if (version == 1) {
    SANA_RETURN_IF_ERROR(to_dims(op, "rms_v1", plan::rows_v1(rows), &grid, &block));
    SANA_CUDA_CHECK(op, launch_dependent("rms_v1", rms_v1<T>, grid, block, 0, x, C, w, b, eps, residual, out));
    SANA_CUDA_LAUNCHED(op, "rms_v1");
  } else {
    SANA_RETURN_IF_ERROR(to_dims(op, "rms_v2", plan::rows_v2(rows, C), &grid, &block));
    const int tpr = plan::row_threads(C);
    cudaError_t e = cudaSuccess;
    with_row_budget(C, [&](auto mv) { e = launch_dependent("rms_v2", rms_v2<T, decltype(mv)::value>, grid, block, 0, x, rows, C, tpr, w, b, eps, residual, out); });
    SANA_CUDA_CHECK(op, e);
    SANA_CUDA_LAUNCHED(op, "rms_v2");
  }
  return Status::Ok();
}

template <typename T>
Status run_ln(const char* op, int version, const T* x, int64_t rows, int64_t C, const T* shift, const T* scale, int64_t rows_per_mod, float eps,
              T* out) {
  dim3 grid, block;
  if (version == 1) {
    SANA_RETURN_IF_ERROR(to_dims(op, "ln_mod_v1", plan::rows_v1(rows), &grid, &block));
    SANA_CUDA_CHECK(op, launch_dependent("ln_mod_v1", ln_mod_v1<T>, grid, block, 0, x, C, shift, scale, rows_per_mod, eps, out));
    SANA_CUDA_LAUNCHED(op, "ln_mod_v1");
  } else {
    SANA_RETURN_IF_ERROR(to_dims(op, "ln_mod_v2", plan::rows_v2(rows, C), &grid, &block));
    const int tpr = plan::row_threads(C);
    cudaError_t e = cudaSuccess;
    with_row_budget(C, [&](auto mv) {
      e = launch_dependent("ln_mod_v2", ln_mod_v2<T, decltype(mv)::value>, grid, block, 0, x, rows, C, tpr, shift, scale, rows_per_mod, eps, out);
    });
    SANA_CUDA_CHECK(op, e);
    SANA_CUDA_LAUNCHED(op, "ln_mod_v2");
  }
  return Status::Ok();
}

}  // namespace

Status rms_rows(const char* op, int version, DType dt, const void* x, int64_t rows, int64_t C, const void* w, const void* b, float eps,
                const void* residual, void* out) {
  const bool aligned = all_aligned({x, w, b, residual, out});
  SANA_RETURN_IF_ERROR(rows_check_version(op, version, C, aligned));
  if (version == 0) version = plan::rows_v2_ok(C) && aligned ? 2 : 1;
  if (dt == DType::kF32) {
    return run_rms<float>(op, version, static_cast<const float*>(x), rows, C, static_cast<const float*>(w), static_cast<const float*>(b), eps,
                          static_cast<const float*>(residual), static_cast<float*>(out));
  }
  return run_rms<bf16>(op, version, static_cast<const bf16*>(x), rows, C, static_cast<const bf16*>(w), static_cast<const bf16*>(b), eps,
                       static_cast<const bf16*>(residual), static_cast<bf16*>(out));
}

Status rmsnorm(const RmsNormArgs& a, int version) {
  const char* op = "rmsnorm";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  RmsNormSizes sz;
  SANA_RETURN_IF_ERROR(check_rmsnorm_args(Device::kCuda, a, &sz));
  const int64_t C = sz.C, rows = sz.rows;
  const void* w = a.weight ? a.weight->data : nullptr;
  const void* b = a.bias ? a.bias->data : nullptr;
  const void* res = a.residual ? a.residual->data : nullptr;
  SANA_RETURN_IF_ERROR(rows_check_version(op, version, C, all_aligned({a.x.data, w, b, res, a.out.data})));
  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  return scope.finish(rms_rows(op, version, a.x.dtype, a.x.data, rows, C, w, b, a.eps, res, a.out.data));
}

Status layernorm_modulate(const LayerNormModulateArgs& a, int version) {
  const char* op = "layernorm-modulate";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  LayerNormModulateSizes sz;
  SANA_RETURN_IF_ERROR(check_layernorm_modulate_args(Device::kCuda, a, &sz));
  const DType dt = a.x.dtype;
  const int64_t C = sz.C, rows = sz.B * sz.N, rows_per_mod = sz.rows_per_mod;
  const bool aligned = all_aligned({a.x.data, a.shift.data, a.scale.data, a.out.data});
  SANA_RETURN_IF_ERROR(rows_check_version(op, version, C, aligned));
  if (version == 0) version = plan::rows_v2_ok(C) && aligned ? 2 : 1;
  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s;
  if (dt == DType::kF32) {
    s = run_ln<float>(op, version, a.x.as<float>(), rows, C, a.shift.as<float>(), a.scale.as<float>(), rows_per_mod, a.eps, a.out.as<float>());
  } else {
    s = run_ln<bf16>(op, version, a.x.as<bf16>(), rows, C, a.shift.as<bf16>(), a.scale.as<bf16>(), rows_per_mod, a.eps, a.out.as<bf16>());
  }
  return scope.finish(s);
}

}  // namespace sana::cuda
