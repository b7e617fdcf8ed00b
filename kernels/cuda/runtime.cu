// The CUDA backend's runtime: device discovery (cached, never at load time), device memory
// (cudaMalloc/cudaFree; stream-ordered pool for op scratch), host copies, CUDA error → Status,
// the op scope (process-wide lock + end-of-op sync), the fill helpers (poison, random), and the
// backend's OpTable with the registry of kernel versions (at the end).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "sana/cuda/common.cuh"

namespace sana::cuda {
namespace {

struct DeviceState {
  bool available = false;
  bool pools = false;  // stream-ordered allocator supported
  std::string reason;
};

const DeviceState& device_state() {
  static DeviceState st;
  static std::once_flag once;
  std::call_once(once, [] {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      st.reason = std::string("cudaGetDeviceCount failed: ") + cudaGetErrorName(e) + " (" + std::to_string(static_cast<int>(e)) +
                  "): " + cudaGetErrorString(e);
      cudaGetLastError();
      return;
    }
    if (count == 0) {
      st.reason = "no CUDA device found";
      return;
    }
    int pools = 0;
    if (cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, 0) == cudaSuccess && pools) {
      st.pools = true;
      // Keep freed scratch in the pool (no release back to the driver between ops).
      cudaMemPool_t pool;
      if (cudaDeviceGetDefaultMemPool(&pool, 0) == cudaSuccess) {
        uint64_t threshold = UINT64_MAX;
        cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
      }
    }
    cudaGetLastError();
    st.available = true;
  });
  return st;
}

thread_local int g_no_sync_depth = 0;
// Queued dispatch (set_sync_each_op(false)): ops return once their kernels are queued, as in PyTorch
// eager; a runner synchronizes once per step (a whole-model step = hundreds of launches, so a
// per-op host round trip would leave the GPU idle between them).
std::atomic<bool> g_sync_each_op{true};

bool is_sticky(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout:
      return true;
    default:
      return false;
  }
}

void trim_pool() {
  if (!device_state().pools) return;
  cudaMemPool_t pool;
  if (cudaDeviceGetDefaultMemPool(&pool, 0) != cudaSuccess) return;
  cudaDeviceSynchronize();
  cudaMemPoolTrimTo(pool, 0);
  cudaGetLastError();
}

}  // namespace

Status cuda_error(const char* op, const std::string& what, cudaError_t e) {
  std::string m = std::string(op) + ": " + what + ": " + cudaGetErrorName(e) + " (" + std::to_string(static_cast<int>(e)) + "): " +
                  cudaGetErrorString(e);
  if (is_sticky(e)) m += " [the CUDA context is now unusable: restart the process]";
  else cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  if (e == cudaErrorMemoryAllocation) return OutOfMemory(m);
  return Internal(m);
}

Status to_dims(const char* op, const char* kernel, const plan::Launch& l, dim3* grid, dim3* block) {
  if (!plan::fits(l)) {
    return InvalidArgument(std::string(op) + ": " + kernel + " grid (" + std::to_string(l.grid.x) + ", " + std::to_string(l.grid.y) + ", " +
                           std::to_string(l.grid.z) + ") is outside CUDA's limits for these shapes");
  }
  *grid = dim3(static_cast<unsigned>(l.grid.x), static_cast<unsigned>(l.grid.y), static_cast<unsigned>(l.grid.z));
  *block = dim3(static_cast<unsigned>(l.block.x), static_cast<unsigned>(l.block.y), static_cast<unsigned>(l.block.z));
  return Status::Ok();
}

namespace {
// While this thread captures a CUDA graph (graph_begin … graph_end): the capturing stream, else null.
thread_local cudaStream_t g_capture_stream = nullptr;
}  // namespace

// The stream every op, fill and timing event is ordered on: the legacy default stream, or with
// SANA_LAB_STREAM=own one blocking stream the library creates (ordered both ways with the legacy stream's
// copies and syncs, so nothing else changes). For timing programmatic dependent launch, which CUDA describes
// for kernels in one stream; whether the legacy stream honours it is what the comparison shows. Read once.
cudaStream_t base_stream() {
  static const cudaStream_t s = [] {
    const char* e = std::getenv("SANA_LAB_STREAM");
    if (e == nullptr || e[0] == '\0' || std::strcmp(e, "legacy") == 0) return cudaStreamLegacy;
    if (std::strcmp(e, "own") != 0) {
      std::fprintf(stderr, "sana-lab: SANA_LAB_STREAM=\"%s\" is not legacy or own: ignored (the legacy default stream)\n", e);
      return cudaStreamLegacy;
    }
    cudaStream_t own = nullptr;
    const cudaError_t err = cudaStreamCreateWithFlags(&own, cudaStreamDefault);
    if (err != cudaSuccess) {
      cudaGetLastError();
      std::fprintf(stderr, "sana-lab: SANA_LAB_STREAM=own: cudaStreamCreateWithFlags failed (%s): the legacy default stream\n", cudaGetErrorName(err));
      return cudaStreamLegacy;
    }
    return own;  // never destroyed: it lives as long as the process's CUDA context
  }();
  return s;
}

// The base stream, or the capture stream while this thread captures a graph.
cudaStream_t op_stream() { return g_capture_stream != nullptr ? g_capture_stream : base_stream(); }

std::recursive_mutex& op_mutex() {
  static std::recursive_mutex m;
  return m;
}

NoSyncScope::NoSyncScope() { ++g_no_sync_depth; }
NoSyncScope::~NoSyncScope() { --g_no_sync_depth; }

bool device_available(std::string* reason) {
  const DeviceState& st = device_state();
  if (reason) *reason = st.reason;
  return st.available;
}

namespace {
// Whether an op (or a graph launch) waits for its work before it returns: not inside time_launches (a
// NoSyncScope), not while capturing a graph (nothing ran), not with queued dispatch.
bool sync_after_op() { return g_no_sync_depth == 0 && g_capture_stream == nullptr && g_sync_each_op.load(std::memory_order_relaxed); }
}  // namespace

OpScope::OpScope(const char* op) : op_(op) {}
OpScope::~OpScope() {
  if (locked_) op_mutex().unlock();
}

Status OpScope::begin() {
  std::string reason;
  if (!device_available(&reason)) return Unavailable(std::string(op_) + ": no usable CUDA device (" + reason + ")");
  op_mutex().lock();
  locked_ = true;
  // An error left by an earlier asynchronous call would otherwise be blamed on this op.
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return cuda_error(op_, "an earlier CUDA call left an error", e);
  kernel_timeline_note(op_, "");  // the op's start (kernel timeline: its first launch is timed from here)
  return Status::Ok();
}

Status OpScope::finish(Status s) {
  if (!s.ok()) return s;
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return cuda_error(op_, "kernel launch", e);
  if (sync_after_op()) {
    e = cudaStreamSynchronize(op_stream());
    if (e != cudaSuccess) return cuda_error(op_, "kernel execution", e);
  }
  return Status::Ok();
}

Scratch::~Scratch() {
  for (void* p : ptrs_) {
    if (device_state().pools) cudaFreeAsync(p, op_stream());
    else cudaFree(p);
  }
}

Status Scratch::alloc(int64_t bytes, void** p) {
  *p = nullptr;
  if (bytes < 0) return InvalidArgument(std::string(op_) + ": negative scratch size");
  const size_t n = bytes == 0 ? 256 : static_cast<size_t>(bytes);
  cudaError_t e = device_state().pools ? cudaMallocAsync(p, n, op_stream()) : cudaMalloc(p, n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    *p = nullptr;
    if (e == cudaErrorMemoryAllocation) {
      return OutOfMemory(std::string(op_) + ": device out of memory allocating " + std::to_string(bytes) + " bytes of scratch");
    }
    return cuda_error(op_, "allocating " + std::to_string(bytes) + " bytes of scratch", e);
  }
  ptrs_.push_back(*p);
  return Status::Ok();
}

// ---- CUDA graphs ----
struct Graph {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
};

bool graph_capturing() { return g_capture_stream != nullptr; }

Status graph_begin(const char* what) {
  std::string reason;
  if (!device_available(&reason)) return Unavailable(std::string(what) + ": no usable CUDA device (" + reason + ")");
  if (g_capture_stream != nullptr) return InvalidArgument(std::string(what) + ": a CUDA graph capture is already in progress on this thread");
  // Op scratch is cudaMallocAsync/cudaFreeAsync on the op stream: captured as the graph's allocation
  // nodes. Without pools it is cudaMalloc/cudaFree, and cudaFree cannot be captured.
  if (!device_state().pools) return Unavailable(std::string(what) + ": CUDA graphs need the stream-ordered memory pool (cudaMallocAsync), which this device does not support");
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return cuda_error(what, "an earlier CUDA call left an error", e);
  // A blocking stream: launched later on the base stream (base_stream()), the graph is ordered like every op.
  cudaStream_t s = nullptr;
  SANA_CUDA_CHECK(what, cudaStreamCreateWithFlags(&s, cudaStreamDefault));
  e = cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed);
  if (e != cudaSuccess) {
    cudaStreamDestroy(s);
    return cuda_error(what, "cudaStreamBeginCapture", e);
  }
  g_capture_stream = s;
  return Status::Ok();
}

Status graph_end(const char* what, Graph** out) {
  *out = nullptr;
  if (g_capture_stream == nullptr) return InvalidArgument(std::string(what) + ": no CUDA graph capture is in progress on this thread");
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  cudaStream_t s = g_capture_stream;
  g_capture_stream = nullptr;
  cudaGraph_t graph = nullptr;
  cudaError_t e = cudaStreamEndCapture(s, &graph);
  cudaStreamDestroy(s);
  if (e != cudaSuccess) {
    if (graph != nullptr) cudaGraphDestroy(graph);
    cudaGetLastError();
    return Internal(std::string(what) + ": the CUDA graph capture failed: " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e) +
                    " (an operation a graph cannot hold ran while capturing: a synchronize, a copy on the legacy stream or a cudaFree)");
  }
  cudaGraphExec_t exec = nullptr;
  e = cudaGraphInstantiate(&exec, graph, 0);
  if (e != cudaSuccess) {
    cudaGraphDestroy(graph);
    return cuda_error(what, "cudaGraphInstantiate", e);
  }
  *out = new Graph{graph, exec};
  return Status::Ok();
}

Status graph_launch(const char* what, Graph* g) {
  if (g == nullptr || g->exec == nullptr) return InvalidArgument(std::string(what) + ": the CUDA graph has been disposed");
  if (g_capture_stream != nullptr) return InvalidArgument(std::string(what) + ": cannot launch a CUDA graph while capturing one");
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return cuda_error(what, "an earlier CUDA call left an error", e);
  SANA_CUDA_CHECK(what, cudaGraphLaunch(g->exec, base_stream()));
  if (sync_after_op()) {
    e = cudaStreamSynchronize(base_stream());
    if (e != cudaSuccess) return cuda_error(what, "graph execution", e);
  }
  return Status::Ok();
}

void graph_destroy(Graph* g) {
  if (g == nullptr) return;
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  if (g->exec != nullptr) cudaGraphExecDestroy(g->exec);
  if (g->graph != nullptr) cudaGraphDestroy(g->graph);
  cudaGetLastError();
  delete g;
}

bool set_sync_each_op(bool on) { return g_sync_each_op.exchange(on); }
bool sync_each_op() { return g_sync_each_op.load(); }

Status synchronize(const char* what) {
  if (!device_available()) return Status::Ok();
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  cudaError_t e = cudaDeviceSynchronize();
  if (e != cudaSuccess) return cuda_error(what, "cudaDeviceSynchronize", e);
  return Status::Ok();
}

// ---- programmatic dependent launch ----
namespace {
std::atomic<int> g_pdl_mode{kModeUnread};
std::atomic<int64_t> g_pdl_launches{0};

// SANA_LAB_PDL: unset, "" or "0" = off, "1" = on; anything else is ignored (off) with one warning.
int pdl_mode_from_env() {
  const char* e = std::getenv("SANA_LAB_PDL");
  if (e == nullptr || e[0] == '\0' || std::strcmp(e, "0") == 0) return 0;
  if (std::strcmp(e, "1") == 0) return 1;
  std::fprintf(stderr, "sana-lab: SANA_LAB_PDL=\"%s\" is not 1 or 0: ignored (programmatic dependent launch off)\n", e);
  return 0;
}
}  // namespace

void set_pdl_mode(int mode) { g_pdl_mode.store(mode == 1 ? 1 : 0, std::memory_order_relaxed); }

int pdl_mode() { return mode_or_env<pdl_mode_from_env>(g_pdl_mode); }

bool pdl_active() {
  if (pdl_mode() != 1) return false;
  // The attribute and griddepcontrol exist from sm_90 on; asked once (a failed query: plain launches).
  static const bool sm90 = [] {
    int major = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0) != cudaSuccess) {
      cudaGetLastError();
      return false;
    }
    return major >= 9;
  }();
  return sm90;
}

void note_pdl_launch() { g_pdl_launches.fetch_add(1, std::memory_order_relaxed); }

void pdl_refused(const char* kernel, cudaError_t e) {
  if (g_pdl_mode.exchange(0, std::memory_order_relaxed) == 1) {
    std::fprintf(stderr, "sana-lab: the driver refused %s as a programmatic dependent (SANA_LAB_PDL=1: %s) and ran it plainly: "
                 "programmatic dependent launch is off for this process\n", kernel, cudaGetErrorName(e));
  }
}
int64_t pdl_launch_count() { return g_pdl_launches.load(std::memory_order_relaxed); }

Status release_cached_memory() {
  if (!device_available()) return Status::Ok();
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  trim_pool();
  return Status::Ok();
}

// ---- fills ----
namespace {

__global__ void fill_bytes_kernel(uint8_t* p, uint8_t v, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) p[i] = v;
}

__device__ __forceinline__ uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

template <typename T> __global__ void fill_random_kernel(T* p, int64_t n, uint64_t seed, float lo, float hi) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const uint64_t r = splitmix64(seed * 0x2545f4914f6cdd1dULL + static_cast<uint64_t>(i));
    const float u = static_cast<float>(r >> 40) * (1.0f / 16777216.0f);  // [0, 1), 24 bits
    p[i] = stf<T>(lo + (hi - lo) * u);
  }
}

}  // namespace

Status fill_bytes(void* dst, int byte_value, int64_t bytes) {
  const char* op = "fill_bytes";
  if (bytes <= 0) return Status::Ok();
  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "fill_bytes_kernel", plan::elementwise(bytes), &grid, &block));
  fill_bytes_kernel<<<grid, block, 0, op_stream()>>>(static_cast<uint8_t*>(dst), static_cast<uint8_t>(byte_value), bytes);
  SANA_CUDA_LAUNCHED(op, "fill_bytes_kernel");
  return scope.finish(Status::Ok());
}

Status fill_random(void* dst, DType dtype, int64_t n, uint64_t seed, float lo, float hi) {
  const char* op = "fill_random";
  if (n <= 0) return Status::Ok();
  if (dtype != DType::kF32 && dtype != DType::kBF16) return InvalidArgument("fill_random: dtype must be f32 or bf16");
  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "fill_random_kernel", plan::elementwise(n), &grid, &block));
  if (dtype == DType::kF32) fill_random_kernel<float><<<grid, block, 0, op_stream()>>>(static_cast<float*>(dst), n, seed, lo, hi);
  else fill_random_kernel<bf16><<<grid, block, 0, op_stream()>>>(static_cast<bf16*>(dst), n, seed, lo, hi);
  SANA_CUDA_LAUNCHED(op, "fill_random_kernel");
  return scope.finish(Status::Ok());
}

// ---- the OpTable's memory entries ----
namespace {

void* dev_alloc(int64_t bytes) {
  if (bytes < 0 || !device_available()) return nullptr;
  const size_t n = bytes == 0 ? 256 : static_cast<size_t>(bytes);
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, n);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    trim_pool();  // cached op scratch may be what is in the way
    e = cudaMalloc(&p, n);
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  return p;
}

void dev_free(void* p) {
  if (p) cudaFree(p);
}

Status copy_h2d(void* dst, const void* src, int64_t bytes) {
  if (bytes <= 0) return Status::Ok();
  std::string reason;
  if (!device_available(&reason)) return Unavailable("copy to device: no usable CUDA device (" + reason + ")");
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  SANA_CUDA_CHECK("copy to device", cudaMemcpy(dst, src, static_cast<size_t>(bytes), cudaMemcpyHostToDevice));
  return Status::Ok();
}

Status copy_d2h(void* dst, const void* src, int64_t bytes) {
  if (bytes <= 0) return Status::Ok();
  std::string reason;
  if (!device_available(&reason)) return Unavailable("copy to host: no usable CUDA device (" + reason + ")");
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  SANA_CUDA_CHECK("copy to host", cudaMemcpy(dst, src, static_cast<size_t>(bytes), cudaMemcpyDeviceToHost));
  return Status::Ok();
}

}  // namespace

void* runtime_alloc(int64_t bytes) { return dev_alloc(bytes); }
void runtime_free(void* p) { dev_free(p); }
Status runtime_copy_h2d(void* dst, const void* src, int64_t bytes) { return copy_h2d(dst, src, bytes); }
Status runtime_copy_d2h(void* dst, const void* src, int64_t bytes) { return copy_d2h(dst, src, bytes); }

// ---- versions and tables ----
const std::vector<OpVersions>& op_versions() {
  static const std::vector<OpVersions> v = {
      {"gemm",
       {{1, "SIMT tiles: 64×64 outputs per block, K slices of 16 in shared memory, 4×4 outputs per thread", ""},
        {2, "tensor cores: mma.sync m16n8k16 bf16→f32, 128×128×32 tiles, 4-stage cp.async, swizzled ldmatrix", "bf16; K % 8 == 0"},
        {3, "Hopper: wgmma m64n256k16/m64n128k16 from TMA-loaded 128B-swizzled tiles, producer warp + 2 consumer warpgroups, mbarrier ring",
         "bf16; sm_90; K % 8 == 0; 16-byte aligned x, w"}}},
      {"linear-attention",
       {{1, "state by token chunks staged in shared memory + atomics; apply one thread per (token, channel)", "head_dim ≤ 64"},
        {2, "4×4 register-blocked state (float4 smem), apply 4 threads per token with quad shuffles, 16-byte loads", "head_dim 32"},
        {3, "tensor cores (mma.sync) for state and apply (state split bf16 hi + lo), 4-stage cp.async tiles, 16-byte stores",
         "bf16; head_dim 32; 16-byte aligned rows"}}},
      {"linear-attention-block",
       {{1, "3 gemms → core v1 → gemm with bias/gate/residual epilogue", "head_dim ≤ 64"},
        {2, "3 gemms → core v2 → gemm with bias/gate/residual epilogue", "head_dim 32"},
        {3, "q gemm; k/v tensor-core gemm with the state reduction in its epilogue (K, V never in HBM); apply v2; out gemm",
         "bf16; head_dim 32; C % 64 == 0; N % 128 == 0"},
        {4, "v2 with its four gemms on the Hopper wgmma engine (gemm v3)", "bf16; sm_90; head_dim 32; C % 8 == 0"},
        {5, "v4 with core v3 (tensor-core state and apply) instead of core v2", "bf16; sm_90; head_dim 32; C % 8 == 0"}}},
      {"mix-ffn",
       {{1, "gemm+SiLU → depthwise 3×3+GLU one thread per (pixel, channel) → gemm", ""},
        {2, "gemm+SiLU → depthwise 3×3+GLU 8 channels × 4 pixels per thread, column reuse → gemm", "hidden % 8 == 0"},
        {3, "v2 with both gemms on the Hopper wgmma engine (gemm v3)", "bf16; sm_90; C % 8 == 0; hidden % 8 == 0"},
        {4, "v3 with depthwise step v3: 8 × 16-pixel tiles with their halo staged in shared memory by cp.async",
         "bf16; sm_90; C % 8 == 0; hidden % 8 == 0"}}},
      {"cross-attention",
       {{1, "projections → SIMT core: one warp per query, online softmax → projection", "head dim ≤ 128"},
        {2, "projections → flash-style core on tensor cores (mma.sync, P kept in registers) → projection", "bf16; head dim % 8 == 0, ≤ 128"},
        {3, "v2 with the projections on the Hopper wgmma engine (gemm v3)", "bf16; sm_90; C, Cy, head dim % 8 == 0, ≤ 128"},
        {4, "core v3 (128 queries per block, the head's K/V resident in shared memory, exp2 softmax) with the projections on the wgmma engine",
         "bf16; sm_90; C, Cy, head dim % 8 == 0, ≤ 128; K/V of a head within shared memory (L ≤ 640 at d = 72)"}}},
      {"layernorm-modulate",
       {{1, "one block per row, two passes re-read from L1/L2", ""},
        {2, "a lane group per row, the row in registers, 16-byte loads", "C % 8 == 0, C ≤ 3072"}}},
      {"rmsnorm",
       {{1, "one block per row", ""}, {2, "a lane group per row, the row in registers, 16-byte loads", "C % 8 == 0, C ≤ 3072"}}},
      {"conv3x3",
       {{1, "direct: one thread per output element", ""},
        {2, "implicit gemm on the SIMT engine (im2col on the fly)", ""},
        {3, "implicit gemm on tensor cores (weights reordered, 16-byte zero-filled tap chunks)", "bf16; Cin % 8 == 0"},
        {4, "Hopper: implicit gemm on the wgmma pipeline, im2col by 4-D TMA boxes (zero-filled padding)",
         "bf16; sm_90; stride 1, no upsampling; Cin % 64 == 0; W % 128 == 0"}}},
      {"dcae-resblock",
       {{1, "conv v1 → conv v1 → rmsnorm v1 (+ residual)", ""},
        {2, "conv v2 → conv v2 → rmsnorm (+ residual)", ""},
        {3, "conv v3 → conv v3 → rmsnorm (+ residual)", "bf16; C % 8 == 0"},
        {4, "conv v4 → conv v4 → rmsnorm (+ residual)", "bf16; sm_90; C % 64 == 0; W % 128 == 0"}}},
      {"dit-block",
       {{1, "LN-modulate → linear-attention-block → cross-attention → LN-modulate → mix-ffn, each at v1", "head_dim ≤ 64"},
        {2, "the same composition, each op at its portable default (no sm_90 version: the mma.sync composition)", ""},
        {3, "the composition with the wgmma versions: linear-attention-block v4, cross-attention v3, mix-ffn v3", "bf16; sm_90; head_dim 32; C, hidden % 8 == 0"}}},
      {"lite-mla",
       {{1, "3 gemms → depthwise k×k → grouped 1×1 → core v1 (or quadratic form) → gemm → rmsnorm v1 + residual", "head_dim ≤ 64"},
        {2, "the same with the core's and rmsnorm's default versions", ""},
        {3, "v2 with the depthwise k×k and grouped 1×1 fused in one kernel (t kept in registers, 16-byte loads, weights in shared memory)",
         "head_dim 32; depthwise kernel ≤ 7"}}},
      {"dcae-upsample",
       {{1, "shortcut copied into out → conv3x3 v1 (nearest-2× input read in place) with out as its residual; pixel-shuffle: conv → shuffle + shortcut", ""},
        {2, "the same with conv3x3's default version and the shortcut copied 8 channels per thread", ""},
        {3, "interpolate only, sub-pixel form: 4 phase convs of 4 taps (K = 4·C, combined weights summed in f32, rounded to bf16) on x itself, wgmma + TMA (conv3x3 v4's engine), each phase's rows stored 2 apart; the shortcut as v2", "bf16; sm_90; C % 64 == 0, W % 128 == 0"}}},
      {"dcae-head",
       {{1, "rmsnorm v1 → activation → conv3x3 v1 → NCHW store", ""},
        {2, "rmsnorm and conv3x3 at their default versions, the activation 8 elements per thread → NCHW store", ""},
        {3, "one fused kernel: act(RMSNorm2d) of a 18×18 halo tile into shared memory, narrow direct 3×3 conv, NCHW store", "C ≤ 128, Cout ≤ 4"},
        {4, "v3's fusion with the halo staged by cp.async, normalized in place in bf16, the conv on tensor cores (mma.sync, outputs padded to 8)",
         "bf16; C % 16 == 0, C ≤ 128, Cout ≤ 8"}}},
      {"dcae-evit-block",
       {{1, "lite-mla v1 → mix-ffn v1 → rmsnorm v1 + residual", "head_dim ≤ 64"},
        {2, "the same composition, each op at its default (fastest) version", ""}}},
      {"sampler-update",
       {{1, "grid-stride elementwise: guidance, the Flow-DPM-Solver++ / Euler update and the next model input in one pass, coefficients read from the device", ""}}},
  };
  return v;
}

namespace {
// SANA_LAB_CUDA_DEFAULTS parsed once: op → version.
const std::map<std::string, int>& default_overrides() {
  static const std::map<std::string, int> m = [] {
    std::map<std::string, int> r;
    const char* e = std::getenv("SANA_LAB_CUDA_DEFAULTS");
    if (e == nullptr) return r;
    std::string s(e);
    size_t at = 0;
    while (at <= s.size()) {
      const size_t end = std::min(s.find(',', at), s.size());
      const std::string item = s.substr(at, end - at);
      at = end + 1;
      if (item.empty()) continue;
      const size_t eq = item.find('=');
      const std::string op = item.substr(0, eq);
      int v = 0;
      int max_v = 0;
      for (const OpVersions& o : op_versions()) {
        if (op == o.op) max_v = static_cast<int>(o.versions.size());
      }
      if (eq != std::string::npos) {
        try {
          size_t used = 0;
          v = std::stoi(item.substr(eq + 1), &used);
          if (used != item.size() - eq - 1) v = 0;
        } catch (...) {
          v = 0;
        }
      }
      if (max_v == 0 || v < 1 || v > max_v) {
        std::fprintf(stderr, "sana-lab: SANA_LAB_CUDA_DEFAULTS entry \"%s\" is not op=N with a cuda op and one of its versions: ignored\n", item.c_str());
        continue;
      }
      r[op] = v;
    }
    return r;
  }();
  return m;
}
}  // namespace

int default_version_override(const char* op, int version) {
  if (version != 0) return version;
  const auto& m = default_overrides();
  const auto it = m.find(op);
  return it == m.end() ? 0 : it->second;
}

std::string default_version_overrides() {
  std::string s;
  for (const auto& [op, v] : default_overrides()) s += (s.empty() ? "" : ",") + op + "=" + std::to_string(v);
  return s;
}

const VersionedOps* versioned_ops() {
  static const VersionedOps t = {gemm, linear_attention, linear_attention_block, mix_ffn, cross_attention, layernorm_modulate,
                                 rmsnorm, conv3x3, dcae_resblock, dit_block, lite_mla, dcae_upsample, dcae_head,
                                 dcae_evit_block, sampler_update};
  return &t;
}

namespace {
Status t_gemm(const GemmArgs& a) { return gemm(a, 0); }
Status t_la(const LinearAttentionArgs& a) { return linear_attention(a, 0); }
Status t_lab(const LinearAttentionBlockArgs& a) { return linear_attention_block(a, 0); }
Status t_ffn(const MixFfnArgs& a) { return mix_ffn(a, 0); }
Status t_xattn(const CrossAttentionArgs& a) { return cross_attention(a, 0); }
Status t_ln(const LayerNormModulateArgs& a) { return layernorm_modulate(a, 0); }
Status t_rms(const RmsNormArgs& a) { return rmsnorm(a, 0); }
Status t_conv(const Conv3x3Args& a) { return conv3x3(a, 0); }
Status t_res(const DcaeResBlockArgs& a) { return dcae_resblock(a, 0); }
Status t_dit(const DitBlockArgs& a) { return dit_block(a, 0); }
Status t_mla(const LiteMlaArgs& a) { return lite_mla(a, 0); }
Status t_up(const DcaeUpsampleArgs& a) { return dcae_upsample(a, 0); }
Status t_head(const DcaeHeadArgs& a) { return dcae_head(a, 0); }
Status t_evit(const DcaeEvitBlockArgs& a) { return dcae_evit_block(a, 0); }
Status t_sampler(const SamplerUpdateArgs& a) { return sampler_update(a, 0); }

// Filled by name, so that ops added to OpTable later stay null (kUnavailable) until implemented here.
OpTable make_table() {
  OpTable t{};
  t.name = "cuda";
  t.device = Device::kCuda;
  t.alloc = runtime_alloc;
  t.free = runtime_free;
  t.copy_from_host = runtime_copy_h2d;
  t.copy_to_host = runtime_copy_d2h;
  t.gemm = t_gemm;
  t.linear_attention = t_la;
  t.linear_attention_block = t_lab;
  t.mix_ffn = t_ffn;
  t.cross_attention = t_xattn;
  t.layernorm_modulate = t_ln;
  t.rmsnorm = t_rms;
  t.conv3x3 = t_conv;
  t.dcae_resblock = t_res;
  t.dit_block = t_dit;
  t.lite_mla = t_mla;
  t.dcae_upsample = t_up;
  t.dcae_head = t_head;
  t.dcae_evit_block = t_evit;
  t.sampler_update = t_sampler;
  return t;
}
}  // namespace

}  // namespace sana::cuda

namespace sana {
const OpTable* cuda_op_table() {
  static const OpTable table = cuda::make_table();
  return &table;
}
}  // namespace sana
