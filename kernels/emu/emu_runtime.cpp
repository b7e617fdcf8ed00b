// The part of the CUDA runtime API the kernels and the self-test call, for the host emulator: one
// emulated device ("sana-emu", reported as sm_90 so that every kernel version runs), device memory =
// host memory with a capacity (SANA_EMU_MEM_GB, default 16) so that out-of-memory paths are
// exercised, synchronous streams, events on the host clock (meaningless as GPU timings; the emulator
// is for correctness only).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "emu_core.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace sana_emu {

namespace {
std::mutex g_mu;
thread_local cudaError_t g_last = cudaSuccess;  // per host thread, as the runtime's
std::map<void*, size_t> g_allocs;
size_t g_used = 0;
std::map<std::string, int> g_max_dyn_smem;  // per kernel spelling (translate.mjs)

size_t capacity() {
  static const size_t cap = [] {
    const char* s = std::getenv("SANA_EMU_MEM_GB");
    const double gb = s ? std::atof(s) : 16.0;
    return static_cast<size_t>((gb > 0 ? gb : 16.0) * 1073741824.0);
  }();
  return cap;
}

struct Event {
  std::chrono::steady_clock::time_point t;
};
}  // namespace

void record_launch_error(cudaError_t e) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (e != cudaSuccess) g_last = e;
}

bool dynamic_smem_allowed(const char* kernel, size_t bytes, std::string* why) {
  constexpr size_t kDefault = 48 * 1024, kOptin = 227 * 1024;
  if (bytes <= kDefault) return true;
  std::lock_guard<std::mutex> lock(g_mu);
  const auto it = g_max_dyn_smem.find(kernel);
  const size_t allowed = it == g_max_dyn_smem.end() ? kDefault : static_cast<size_t>(it->second);
  if (bytes <= allowed && bytes <= kOptin) return true;
  *why = std::to_string(bytes) + " bytes of dynamic shared memory, over " + std::to_string(std::min(allowed, kOptin)) +
         (it == g_max_dyn_smem.end() ? " (no cudaFuncAttributeMaxDynamicSharedMemorySize was set for this kernel)" : "");
  return false;
}

cudaError_t func_set_attribute(const char* name, cudaFuncAttribute attr, int value) {
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || value > 227 * 1024) return cudaErrorInvalidValue;
    std::lock_guard<std::mutex> lock(g_mu);
    g_max_dyn_smem[name] = value;
  }
  return cudaSuccess;
}

// ---- stream capture (CUDA graphs) ----
// A captured stream records its operations instead of running them; cudaStreamEndCapture hands them to
// a graph, and every cudaGraphLaunch runs them in order. Memory allocated with cudaMallocAsync on the
// capturing stream belongs to the graph (CUDA's allocation nodes): allocated here once, its
// cudaFreeAsync inside the capture deferred, released when the graph and its executables are gone.
// What a blocking capture cannot hold (the legacy stream, synchronising calls) invalidates it, as in CUDA.
struct GraphBody {
  std::vector<std::function<cudaError_t()>> ops;
  std::vector<void*> owned;  // graph-owned allocations
  ~GraphBody();
};

namespace {
struct Capture {
  cudaStream_t stream = nullptr;
  bool invalid = false;
  std::string why;
  std::shared_ptr<GraphBody> body;
};
Capture* g_capture = nullptr;  // guarded by g_mu
}  // namespace

bool capture_active() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_capture != nullptr;
}

bool capture_record(cudaStream_t stream, std::function<cudaError_t()> op) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_capture == nullptr || stream != g_capture->stream) return false;
  if (!g_capture->invalid) g_capture->body->ops.push_back(std::move(op));
  return true;
}

cudaError_t capture_conflict(cudaStream_t stream, bool synchronizing, const char* what) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_capture == nullptr) return cudaSuccess;
  const bool legacy = stream == nullptr || stream == cudaStreamLegacy;
  if (!synchronizing && !legacy) return cudaSuccess;  // another created stream: no dependency on the capture
  const cudaError_t e = synchronizing ? cudaErrorStreamCaptureUnsupported : cudaErrorStreamCaptureImplicit;
  if (!g_capture->invalid) {
    g_capture->invalid = true;
    g_capture->why = what;
    std::fprintf(stderr, "[sana-emu] %s during a stream capture invalidates it\n", what);
  }
  g_last = e;
  return e;
}

cudaError_t stream_op(cudaStream_t stream, const char* what, std::function<cudaError_t()> op) {
  if (capture_active()) {
    if (capture_record(stream, op)) return cudaSuccess;
    const cudaError_t c = capture_conflict(stream, false, what);
    if (c != cudaSuccess) return c;
  }
  return op();
}

GraphBody::~GraphBody() {
  for (void* p : owned) cudaFree(p);
}

}  // namespace sana_emu

struct CUstream_st {
  unsigned flags = 0;
};
struct CUgraph_st {
  std::shared_ptr<sana_emu::GraphBody> body;
};
struct CUgraphExec_st {
  std::shared_ptr<sana_emu::GraphBody> body;
};

namespace sana_emu {
void poison_device_memory(bool poison) {
#if defined(__SANITIZE_ADDRESS__)
  std::lock_guard<std::mutex> lock(g_mu);
  for (const auto& [p, n] : g_allocs) {
    if (poison) {
      ASAN_POISON_MEMORY_REGION(p, n);
    } else {
      ASAN_UNPOISON_MEMORY_REGION(p, n);
    }
  }
#else
  (void)poison;
#endif
}
}  // namespace sana_emu

extern "C" {

cudaError_t cudaGetLastError(void) {
  std::lock_guard<std::mutex> lock(sana_emu::g_mu);
  const cudaError_t e = sana_emu::g_last;
  sana_emu::g_last = cudaSuccess;
  return e;
}

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorMisalignedAddress: return "cudaErrorMisalignedAddress";
    case cudaErrorInvalidAddressSpace: return "cudaErrorInvalidAddressSpace";
    case cudaErrorIllegalInstruction: return "cudaErrorIllegalInstruction";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorLaunchTimeout: return "cudaErrorLaunchTimeout";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureImplicit: return "cudaErrorStreamCaptureImplicit";
    case cudaErrorIllegalState: return "cudaErrorIllegalState";
    default: return "cudaError(emulated)";
  }
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorMisalignedAddress: return "misaligned address";
    case cudaErrorInvalidAddressSpace: return "operation not supported on global/shared address space";
    case cudaErrorIllegalInstruction: return "an illegal instruction was encountered";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorLaunchTimeout: return "the launch timed out and was terminated (emulator: deadlock)";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureImplicit: return "operation would make the legacy stream depend on a capturing blocking stream";
    case cudaErrorIllegalState: return "the operation is not permitted in the current state (emulator: one capture at a time)";
    default: return "emulated CUDA error";
  }
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "sana-emu (host emulation of an sm_90a GPU)");
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = 132;
  p->totalGlobalMem = sana_emu::capacity();
  p->sharedMemPerBlock = 48 * 1024;
  p->sharedMemPerBlockOptin = 227 * 1024;
  p->sharedMemPerMultiprocessor = 228 * 1024;
  p->regsPerBlock = 65536;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->maxThreadsPerMultiProcessor = 2048;
  p->maxThreadsDim[0] = p->maxThreadsDim[1] = 1024;
  p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 2147483647;
  p->maxGridSize[1] = p->maxGridSize[2] = 65535;
  p->l2CacheSize = 50 * 1024 * 1024;
  p->memoryBusWidth = 5120;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (device != 0) return cudaErrorInvalidDevice;
  switch (attr) {
    case cudaDevAttrClockRate: *value = 1980000; break;        // kHz
    case cudaDevAttrMemoryClockRate: *value = 2619000; break;  // kHz
    case cudaDevAttrGlobalMemoryBusWidth: *value = 5120; break;
    case cudaDevAttrL2CacheSize: *value = 50 * 1024 * 1024; break;
    case cudaDevAttrMemoryPoolsSupported: *value = 1; break;
    case cudaDevAttrMultiProcessorCount: *value = 132; break;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
    default: *value = 0; break;
  }
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* v) {
  *v = 13000;
  return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int* v) {
  *v = 13000;
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, size_t size) {
  std::lock_guard<std::mutex> lock(sana_emu::g_mu);
  *ptr = nullptr;
  if (size > sana_emu::capacity() - sana_emu::g_used) {
    sana_emu::g_last = cudaErrorMemoryAllocation;
    return cudaErrorMemoryAllocation;
  }
  // Exactly `size` bytes (256-byte aligned, as cudaMalloc): in an AddressSanitizer build of the
  // emulator, a kernel reading or writing past the end of a buffer is reported, like memcheck would.
  void* p = nullptr;
  if (posix_memalign(&p, 256, std::max<size_t>(size, 1)) != 0) p = nullptr;
  if (p == nullptr) {
    sana_emu::g_last = cudaErrorMemoryAllocation;
    return cudaErrorMemoryAllocation;
  }
  std::memset(p, 0xA5, std::min<size_t>(size, 4096));  // not zero: device memory is not cleared
  sana_emu::g_allocs[p] = size;
  sana_emu::g_used += size;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (ptr == nullptr) return cudaSuccess;
  const cudaError_t c = sana_emu::capture_conflict(nullptr, true, "cudaFree (it synchronizes)");
  if (c != cudaSuccess) return c;
  std::lock_guard<std::mutex> lock(sana_emu::g_mu);
  const auto it = sana_emu::g_allocs.find(ptr);
  if (it == sana_emu::g_allocs.end()) return cudaErrorInvalidDevicePointer;
  sana_emu::g_used -= it->second;
  sana_emu::g_allocs.erase(it);
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMallocAsync(void** ptr, size_t size, cudaStream_t stream) {
  const cudaError_t e = cudaMalloc(ptr, size);
  if (e == cudaSuccess && sana_emu::capture_record(stream, [] { return cudaSuccess; })) {
    std::lock_guard<std::mutex> lock(sana_emu::g_mu);
    if (sana_emu::g_capture != nullptr) sana_emu::g_capture->body->owned.push_back(*ptr);  // the graph's allocation
  }
  return e;
}
cudaError_t cudaFreeAsync(void* ptr, cudaStream_t stream) {
  if (sana_emu::capture_record(stream, [] { return cudaSuccess; })) return cudaSuccess;  // freed with the graph
  return cudaFree(ptr);
}
cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int) {
  *pool = reinterpret_cast<cudaMemPool_t>(uintptr_t{1});
  return cudaSuccess;
}
cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, cudaMemPoolAttr, void*) { return cudaSuccess; }
cudaError_t cudaMemPoolTrimTo(cudaMemPool_t, size_t) { return cudaSuccess; }

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind) {
  const cudaError_t c = sana_emu::capture_conflict(nullptr, true, "cudaMemcpy (legacy stream, synchronous)");
  if (c != cudaSuccess) return c;
  if (count > 0) std::memmove(dst, src, count);
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind, cudaStream_t stream) {
  return sana_emu::stream_op(stream, "cudaMemcpyAsync on the legacy stream", [dst, src, count] {
    if (count > 0) std::memmove(dst, src, count);
    return cudaSuccess;
  });
}
cudaError_t cudaMemcpyFromSymbol(void* dst, const void* symbol, size_t count, size_t offset, cudaMemcpyKind) {
  const cudaError_t c = sana_emu::capture_conflict(nullptr, true, "cudaMemcpyFromSymbol (legacy stream, synchronous)");
  if (c != cudaSuccess) return c;
  std::memcpy(dst, static_cast<const char*>(symbol) + offset, count);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t count, cudaStream_t stream) {
  return sana_emu::stream_op(stream, "cudaMemsetAsync on the legacy stream", [ptr, value, count] {
    std::memset(ptr, value, count);
    return cudaSuccess;
  });
}

cudaError_t cudaDeviceSynchronize(void) { return sana_emu::capture_conflict(nullptr, true, "cudaDeviceSynchronize"); }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return sana_emu::capture_conflict(nullptr, true, "cudaStreamSynchronize"); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int flags) {
  *s = new CUstream_st{flags};
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  {
    std::lock_guard<std::mutex> lock(sana_emu::g_mu);
    if (sana_emu::g_capture != nullptr && sana_emu::g_capture->stream == s) return cudaErrorStreamCaptureUnsupported;
  }
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode) {
  if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread) return cudaErrorStreamCaptureUnsupported;  // as CUDA: not the default streams
  std::lock_guard<std::mutex> lock(sana_emu::g_mu);
  if (sana_emu::g_capture != nullptr) return cudaErrorIllegalState;  // the emulator captures one stream at a time
  sana_emu::g_capture = new sana_emu::Capture{s, false, "", std::make_shared<sana_emu::GraphBody>()};
  return cudaSuccess;
}
cudaError_t cudaStreamIsCapturing(cudaStream_t s, cudaStreamCaptureStatus* status) {
  std::lock_guard<std::mutex> lock(sana_emu::g_mu);
  const sana_emu::Capture* c = sana_emu::g_capture;
  *status = c == nullptr || c->stream != s ? cudaStreamCaptureStatusNone : c->invalid ? cudaStreamCaptureStatusInvalidated : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph) {
  *graph = nullptr;
  std::unique_ptr<sana_emu::Capture> c;
  {
    std::lock_guard<std::mutex> lock(sana_emu::g_mu);
    if (sana_emu::g_capture == nullptr || sana_emu::g_capture->stream != s) return cudaErrorIllegalState;
    c.reset(sana_emu::g_capture);
    sana_emu::g_capture = nullptr;
  }
  if (c->invalid) return cudaErrorStreamCaptureInvalidated;  // (the body, and any graph-owned memory, go with c)
  *graph = new CUgraph_st{c->body};
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (graph == nullptr) return cudaErrorInvalidValue;
  *exec = new CUgraphExec_st{graph->body};
  return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (exec == nullptr) return cudaErrorInvalidValue;
  if (sana_emu::capture_active()) return sana_emu::capture_conflict(stream, true, "cudaGraphLaunch");
  for (const auto& op : exec->body->ops) {
    const cudaError_t e = op();
    if (e != cudaSuccess) return e;  // (a failed kernel also recorded its error for cudaGetLastError)
  }
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) {
  *e = reinterpret_cast<cudaEvent_t>(new sana_emu::Event());
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete reinterpret_cast<sana_emu::Event*>(e);
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
  reinterpret_cast<sana_emu::Event*>(e)->t = std::chrono::steady_clock::now();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  *ms = std::chrono::duration<float, std::milli>(reinterpret_cast<sana_emu::Event*>(b)->t - reinterpret_cast<sana_emu::Event*>(a)->t).count();
  return cudaSuccess;
}

cudaError_t cudaGetDriverEntryPointByVersion(const char* symbol, void** fn, unsigned int, unsigned long long, cudaDriverEntryPointQueryResult* status) {
  *fn = nullptr;
  if (std::strcmp(symbol, "cuTensorMapEncodeTiled") == 0) *fn = reinterpret_cast<void*>(&sana_emu::ptx::encode_tensor_map_tiled);
  if (status) *status = *fn ? cudaDriverEntryPointSuccess : cudaDriverEntryPointSymbolNotFound;
  return cudaSuccess;
}

}  // extern "C"
