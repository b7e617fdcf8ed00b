// Prelude of the host emulator, force-included (g++ -include) before every translated .cu file:
// the CUDA keywords become plain C++ (a kernel is an ordinary function run by every thread's fiber;
// `__shared__` variables are statics, which is right because one block is live at a time), the
// built-in variables read the running fiber's indices, and the intrinsics the kernels use are
// defined here on top of the scheduler (emu_core.h). kernels/emu/README.md explains the model.
#pragma once

#define SANA_CUDA_EMU 1

// Before the CUDA headers, which leave these alone when they are already defined.
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __constant__ static
#define __grid_constant__
#define __launch_bounds__(...)

#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>  // before __noinline__ becomes a macro: libstdc++ spells the attribute __noinline__

#define __noinline__ __attribute__((noinline))

#include "emu_core.h"

#define threadIdx (::sana_emu::g_thread->tid)
#define blockIdx (::sana_emu::g_block_idx)
#define blockDim (::sana_emu::g_block_dim)
#define gridDim (::sana_emu::g_grid_dim)
#define warpSize 32

// The runtime's C++ conveniences nvcc provides (cuda_runtime.h declares them for nvcc only).
template <typename T> cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, size_t count, size_t offset = 0, cudaMemcpyKind kind = cudaMemcpyDeviceToHost) {
  return ::cudaMemcpyFromSymbol(dst, reinterpret_cast<const void*>(&symbol), count, offset, kind);
}

inline void __syncthreads() { ::sana_emu::syncthreads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { ::sana_emu::syncwarp(mask); }
[[noreturn]] inline void __trap() { ::sana_emu::trap(); }
// A cycle counter that advances by one per read: spin loops bounded by clock64 never time out
// before the scheduler's deadlock detection sees them.
inline long long clock64() { return ++::sana_emu::g_thread->clock; }
inline size_t __cvta_generic_to_shared(const void* p) { return ::sana_emu::shared_address(p); }

namespace sana_emu {
template <typename T> T shfl(unsigned mask, T v, int src, int width, const char* what) {
  if (mask != 0xffffffffu) throw KernelFault(cudaErrorNotSupported, std::string(what) + " with a partial mask is not emulated");
  if (width <= 0 || width > 32 || (width & (width - 1)) != 0) throw KernelFault(cudaErrorIllegalInstruction, std::string(what) + " width " + std::to_string(width));
  struct P {
    T in;
    int src;
    T out;
  } p{v, src, T{}};
  const int lane = g_thread->linear % 32;
  p.src = (lane & ~(width - 1)) | (src & (width - 1));
  static const std::function<void(void* const*)> op = [](void* const* ps) {
    for (int l = 0; l < 32; ++l) {
      if (ps[l] == nullptr) continue;
      P* me = static_cast<P*>(ps[l]);
      const P* from = static_cast<const P*>(ps[me->src]);
      if (from == nullptr) throw KernelFault(cudaErrorIllegalInstruction, "a shuffle reads lane " + std::to_string(me->src) + ", which has exited");
      me->out = from->in;
    }
  };
  warp_collective(what, &p, op);
  return p.out;
}
}  // namespace sana_emu

template <typename T> T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  return ::sana_emu::shfl(mask, v, (::sana_emu::g_thread->linear % 32) ^ lane_mask, width, "__shfl_xor_sync");
}
template <typename T> T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32) { return ::sana_emu::shfl(mask, v, src_lane, width, "__shfl_sync"); }
template <typename T> T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  const int lane = ::sana_emu::g_thread->linear % 32, w = lane & (width - 1);
  return ::sana_emu::shfl(mask, v, w + static_cast<int>(delta) < width ? lane + static_cast<int>(delta) : lane, width, "__shfl_down_sync");
}

// Threads run one at a time between synchronisation points, so a read-modify-write is atomic.
template <typename T> T atomicAdd(T* p, T v) {
  const T old = *p;
  *p = old + v;
  return old;
}
template <typename T> T atomicMax(T* p, T v) {
  const T old = *p;
  if (v > old) *p = v;
  return old;
}

inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
// Explicitly rounded float ops (never contracted into an FMA on the device): plain float arithmetic on a
// host built without FMA contraction of separate statements (x86-64 baseline), one rounding each.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
template <typename T> inline T __ldg(const T* p) { return *p; }
template <typename T> inline T __ldcg(const T* p) { return *p; }  // a cache hint only (L2, not L1)

// CUDA's integer min/max overloads (device code calls them unqualified).
template <typename T> inline T min(T a, T b) { return b < a ? b : a; }
template <typename T> inline T max(T a, T b) { return a < b ? b : a; }
