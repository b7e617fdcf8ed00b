// Shared by the CUDA kernels (kernels/cuda/*.cu only): element loads/stores with f32 math, the
// epilogue activations, error → Status conversion, the op scope (lock + end-of-op sync) and
// stream-ordered scratch memory.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "sana/cuda/checks.h"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/launch_plan.h"
#include "sana/cuda/ops_cuda.h"
#include "sana/ops.h"

namespace sana::cuda {

using bf16 = __nv_bfloat16;

// ---- element access: storage T (float or bf16), math in f32 ----
__device__ __forceinline__ float ldf(float x) { return x; }
__device__ __forceinline__ float ldf(bf16 x) { return __bfloat162float(x); }
template <typename T> __device__ __forceinline__ T stf(float v);
template <> __device__ __forceinline__ float stf<float>(float v) { return v; }
template <> __device__ __forceinline__ bf16 stf<bf16>(float v) { return __float2bfloat16_rn(v); }

// Eight consecutive elements as f32 (one 16-byte load for bf16, two for f32). p must be 16-byte aligned.
__device__ __forceinline__ void load8(const bf16* p, float* o) {
  uint4 u = *reinterpret_cast<const uint4*>(p);
  const bf16* h = reinterpret_cast<const bf16*>(&u);
#pragma unroll
  for (int i = 0; i < 8; ++i) o[i] = __bfloat162float(h[i]);
}
__device__ __forceinline__ void load8(const float* p, float* o) {
  float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
  o[0] = a.x; o[1] = a.y; o[2] = a.z; o[3] = a.w; o[4] = b.x; o[5] = b.y; o[6] = b.z; o[7] = b.w;
}
__device__ __forceinline__ void store8(bf16* p, const float* v) {
  uint4 u;
  bf16* h = reinterpret_cast<bf16*>(&u);
#pragma unroll
  for (int i = 0; i < 8; ++i) h[i] = __float2bfloat16_rn(v[i]);
  *reinterpret_cast<uint4*>(p) = u;
}
__device__ __forceinline__ void store8(float* p, const float* v) {
  reinterpret_cast<float4*>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
  reinterpret_cast<float4*>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
}

// ---- activations (same definitions as the CPU backend; NaN propagates through ReLU) ----
__device__ __forceinline__ float relu_f(float x) { return x < 0.0f ? 0.0f : x; }
__device__ __forceinline__ float silu_f(float x) { return x / (1.0f + expf(-x)); }
__device__ __forceinline__ float gelu_tanh_f(float x) {
  const float k = 0.7978845608028654f;
  return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}
__device__ __forceinline__ float activate(float v, int act) {
  switch (act) {
    case 1: return relu_f(v);
    case 2: return silu_f(v);
    case 3: return gelu_tanh_f(v);
    default: return v;
  }
}
// Out of line: a gemm epilogue has 64 store sites per thread, and inlining expf/tanhf at each one
// multiplies the code (and the ptxas time) for no gain; the call only happens when act != 0.
static __device__ __noinline__ float activate_call(float v, int act) { return activate(v, act); }

// ---- fused epilogue: out[m, n] = residual[m, n] + gate[m / gate_rows, n] · act(acc + bias[n]) ----
template <typename T> struct Epilogue {
  T* out = nullptr;
  int64_t ldo = 0;
  const T* bias = nullptr;
  int act = 0;
  const T* gate = nullptr;
  int64_t gate_ld = 0, gate_rows = 1;
  const T* residual = nullptr;  // may alias out (each element is read, then written, by one thread)
  int64_t res_ld = 0;

  // kInlineAct: the activation inlined instead of called (for a kernel with one epilogue site that
  // must contain no call, e.g. gemm v3: ptxas serializes wgmma in a function that makes calls).
  template <bool kInlineAct = false> __device__ __forceinline__ float apply(int64_t m, int64_t n, float acc) const {
    float v = acc;
    if (bias) v += ldf(bias[n]);
    if (act != 0) {
      if constexpr (kInlineAct) v = activate(v, act);
      else v = activate_call(v, act);
    }
    if (gate) v *= ldf(gate[(m / gate_rows) * gate_ld + n]);
    if (residual) v += ldf(residual[m * res_ld + n]);
    return v;
  }
  // The same on columns n … n + 7 of row m in place (activation inlined), with 16-byte operand loads:
  // every operand's row must be 16-byte aligned at column n (n % 8 == 0, row strides % 8 == 0).
  __device__ __forceinline__ void apply8(int64_t m, int64_t n, float* v) const {
    float t[8];
    if (bias) {
      load8(bias + n, t);
#pragma unroll
      for (int j = 0; j < 8; ++j) v[j] += t[j];
    }
    if (act != 0) {
#pragma unroll
      for (int j = 0; j < 8; ++j) v[j] = activate(v[j], act);
    }
    if (gate) {
      load8(gate + (m / gate_rows) * gate_ld + n, t);
#pragma unroll
      for (int j = 0; j < 8; ++j) v[j] *= t[j];
    }
    if (residual) {
      load8(residual + m * res_ld + n, t);
#pragma unroll
      for (int j = 0; j < 8; ++j) v[j] += t[j];
    }
  }
  __device__ __forceinline__ void store(int64_t m, int64_t n, float acc) const { out[m * ldo + n] = stf<T>(apply(m, n, acc)); }
};

// The epilogue of a gemm problem (kernels/include/sana/cuda/gemm_launch.h), in its storage type T.
template <typename T> Epilogue<T> make_epilogue(const GemmProblem& p) {
  Epilogue<T> ep;
  ep.out = static_cast<T*>(p.c);
  ep.ldo = p.ldc;
  ep.bias = static_cast<const T*>(p.bias);
  ep.act = static_cast<int>(p.act);
  ep.gate = static_cast<const T*>(p.gate);
  ep.gate_ld = p.gate_ld;
  ep.gate_rows = p.gate_rows < 1 ? 1 : p.gate_rows;
  ep.residual = static_cast<const T*>(p.residual);
  ep.res_ld = p.res_ld;
  return ep;
}

// ---- errors ----
// "op: what: cudaErrorX (code): text"; cudaErrorMemoryAllocation → kOutOfMemory, else kInternal.
Status cuda_error(const char* op, const std::string& what, cudaError_t e);

#define SANA_CUDA_CHECK(op, call)                                              \
  do {                                                                         \
    cudaError_t sana_e_ = (call);                                              \
    if (sana_e_ != cudaSuccess) return ::sana::cuda::cuda_error(op, #call, sana_e_); \
  } while (0)

// The kernel timeline (kernel_timeline_begin/end, ops_cuda.h): while one is recording, an event after
// every launch (and one as each op starts); a no-op otherwise (one relaxed atomic load).
void kernel_timeline_note(const char* op, const char* kernel);
inline void kernel_timeline_note(const char* op, const std::string& kernel) { kernel_timeline_note(op, kernel.c_str()); }

// After every <<<…>>>: a bad configuration shows up here, a fault during execution at the op's sync.
#define SANA_CUDA_LAUNCHED(op, kernel_name)                                                   \
  do {                                                                                        \
    cudaError_t sana_e_ = cudaGetLastError();                                                 \
    if (sana_e_ != cudaSuccess) return ::sana::cuda::cuda_error(op, std::string("launch of ") + kernel_name, sana_e_); \
    ::sana::cuda::kernel_timeline_note(op, kernel_name);                                      \
  } while (0)

// Converts a host-side plan to CUDA launch dims, refusing grids out of range.
Status to_dims(const char* op, const char* kernel, const plan::Launch& l, dim3* grid, dim3* block);

// The stream every op uses (the legacy default stream).
cudaStream_t op_stream();

// A process-wide mode that its setter overrides and the environment initialises (gemm v3's split-K and
// cluster modes, programmatic dependent launch): kModeUnread until the first use reads the variable
// (FromEnv parses it and warns about a bad value, once).
constexpr int kModeUnread = -1000;
template <int (*FromEnv)()> int mode_or_env(std::atomic<int>& slot) {
  int m = slot.load(std::memory_order_relaxed);
  if (m == kModeUnread) {
    static const int from_env = FromEnv();  // read (and warned about) once
    slot.compare_exchange_strong(m, from_env, std::memory_order_relaxed);  // unless a setter came first
    m = slot.load(std::memory_order_relaxed);
  }
  return m;
}

// A kernel launch that is a programmatic dependent when pdl_active() (ops_cuda.h: set_pdl_mode), else a
// plain launch on op_stream(). The kernel must call ptx::grid_dependency_wait() first in every thread
// (ptx::dependent_prologue()); the emulator faults a dependent thread that exits without it or reaches
// global memory through PTX before it. `name` names the kernel in the emulator's messages.
// If the driver refuses the launch with the attribute as not supported (cudaErrorNotSupported) and accepts
// it without, PDL is switched off for the process with one warning on stderr (pdl_refused) and the launch
// goes ahead plainly. Any other error is the launch's own (never retried: the emulator reports a kernel's
// fault as its launch error, and running a kernel twice could apply an in-place update twice).
void note_pdl_launch();
void pdl_refused(const char* kernel, cudaError_t e);
template <typename... P, typename... A>
cudaError_t launch_dependent(const char* name, void (*kernel)(P...), dim3 grid, dim3 block, size_t smem, A&&... args) {
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  const bool pdl = pdl_active();
  // {gridDim, blockDim, dynamicSmemBytes, stream, attrs, numAttrs} (positional: the emulator's prelude
  // defines gridDim and blockDim as macros)
  cudaLaunchConfig_t cfg = {grid, block, smem, op_stream(), attr, pdl ? 1u : 0u};
  auto launch = [&]() -> cudaError_t {
#ifdef SANA_CUDA_EMU
    return ::sana_emu::launch_ex(&cfg, name, kernel, static_cast<P>(args)...);
#else
    return cudaLaunchKernelEx(&cfg, kernel, static_cast<P>(args)...);
#endif
  };
  cudaError_t e = launch();
  if (e == cudaErrorNotSupported && pdl) {  // the attribute's fault? the same launch without it decides
    const cudaError_t with_attr = e;
    cudaGetLastError();
    cfg.numAttrs = 0;
    e = launch();
    if (e == cudaSuccess) pdl_refused(name, with_attr);
    return e;
  }
  if (e == cudaSuccess && pdl) note_pdl_launch();
  return e;
}

// The process-wide op lock (recursive): held by every op for its whole duration and by
// time_launches around its timed loop, so kernels of different calls never interleave.
std::recursive_mutex& op_mutex();

// While one is alive on this thread, ops skip their end-of-op synchronization (time_launches).
struct NoSyncScope {
  NoSyncScope();
  ~NoSyncScope();
};

// Lock + device check on entry; on finish: the last launch error, then (unless inside
// time_launches) a stream sync so that kernel faults are reported by the op that caused them.
class OpScope {
 public:
  explicit OpScope(const char* op);
  ~OpScope();
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;
  Status begin();
  Status finish(Status s);

 private:
  const char* op_;
  bool locked_ = false;
};

// The OpTable's memory entries (runtime.cu).
void* runtime_alloc(int64_t bytes);
void runtime_free(void* p);
Status runtime_copy_h2d(void* dst, const void* src, int64_t bytes);
Status runtime_copy_d2h(void* dst, const void* src, int64_t bytes);

// Stream-ordered scratch (cudaMallocAsync from the device's pool); freed when the Scratch dies.
class Scratch {
 public:
  explicit Scratch(const char* op) : op_(op) {}
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  Status alloc(int64_t bytes, void** p);
  template <typename T> Status alloc_n(int64_t n, T** p) {
    void* v = nullptr;
    Status s = alloc(n * static_cast<int64_t>(sizeof(T)), &v);
    *p = static_cast<T*>(v);
    return s;
  }

 private:
  const char* op_;
  std::vector<void*> ptrs_;
};

}  // namespace sana::cuda
