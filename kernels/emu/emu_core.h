// The host emulator's execution model: a kernel launch runs its blocks one after another on the
// calling thread; a block's threads are fibers (ucontext) switched only at synchronisation points
// (__syncthreads, warp collectives, named barriers, mbarrier spins), so between two such points a
// thread runs alone, and one block's shared memory (static and dynamic) is live at a time. A launch
// with thread-block clusters (cudaLaunchKernelEx with a cluster dimension) runs one cluster at a time
// instead: the threads of all its blocks interleaved, each block with its own shared memory, which the
// others reach through the cluster instructions (mapa addresses, remote mbarrier arrives, multicast TMA)
// until the block exits.
//
// What it checks beyond the numbers: shared-memory accesses of the emulated PTX (bounds, alignment),
// warp collectives reached by every lane with the same instruction, deadlocks (every live thread
// blocked or spinning without progress), cp.async / wgmma results used before their wait (the
// emulator completes them as late as the ISA allows: at the wait, with the destination poisoned at
// issue), dynamic shared memory poisoned (0xFF bytes = NaN) before each block, and the launch limits
// (block size, grid size, dynamic shared memory over 48 KiB without the function attribute).
// It does not model timing, memory-model reorderings, or races between threads of one block.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>

#include "ptx_semantics.h"

namespace sana_emu {

// A failure inside a kernel (trap, deadlock, bad shared access, divergent collective): ends the launch.
struct KernelFault : std::runtime_error {
  cudaError_t code;
  KernelFault(cudaError_t c, const std::string& what) : std::runtime_error(what), code(c) {}
};

struct Thread {
  uint3 tid{};
  int linear = 0;  // threadIdx.x + blockDim.x·(threadIdx.y + blockDim.y·threadIdx.z)
  int64_t clock = 0;
};

// The running fiber and the running block (valid inside a kernel only).
extern Thread* g_thread;
extern uint3 g_block_idx;
extern dim3 g_block_dim, g_grid_dim;

// Launch configuration as written between <<< >>> (kernels/emu/translate.mjs rewrites launches).
struct Config {
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
  dim3 cluster{1, 1, 1};  // blocks per cluster (cudaLaunchAttributeClusterDimension); 1 × 1 × 1 = none
  bool pdl = false;       // a programmatic dependent (cudaLaunchAttributeProgrammaticStreamSerialization)
  Config(dim3 g, dim3 b, size_t s = 0, cudaStream_t st = nullptr) : grid(g), block(b), smem(s), stream(st) {}
};

// Runs the grid; returns the launch's error (also recorded for cudaGetLastError).
// `name` is the kernel as spelled at the launch (see translate.mjs); it keys the function attributes.
cudaError_t run_grid(const Config& cfg, const char* name, const std::function<void()>& body);
cudaError_t func_set_attribute(const char* name, cudaFuncAttribute attr, int value);

// ---- stream capture (CUDA graphs; emu_runtime.cpp) ----
// Whether a stream capture is in progress (one at a time in the emulator).
bool capture_active();
// When `stream` is the capturing stream: `op` is appended to the capture (run by every cudaGraphLaunch
// of the graph made from it) and true is returned; false otherwise.
bool capture_record(cudaStream_t stream, std::function<cudaError_t()> op);
// An operation the capture cannot hold — on the legacy stream, or synchronising — while a capture is in
// progress: as in CUDA, the capture is invalidated (cudaStreamEndCapture then fails) and the error to
// return is given (cudaErrorStreamCaptureImplicit / Unsupported); cudaSuccess when there is no conflict.
cudaError_t capture_conflict(cudaStream_t stream, bool synchronizing, const char* what);
// A stream-ordered operation (a launch, an async copy or memset): recorded when `stream` is being
// captured, refused (capture_conflict) when it would depend on the capture, else run now.
cudaError_t stream_op(cudaStream_t stream, const char* what, std::function<cudaError_t()> op);

template <typename Call, typename... A>
cudaError_t launch(const Config& cfg, const char* name, Call call, A&&... args) {
  // The arguments are copied once at the launch; each thread calls the kernel with its own copies.
  // (Held by a shared_ptr: a captured launch runs again at every launch of its graph.)
  auto params = std::make_shared<std::tuple<std::decay_t<A>...>>(std::forward<A>(args)...);
  return stream_op(cfg.stream, name, [cfg, name, call, params] { return run_grid(cfg, name, [&] { std::apply(call, *params); }); });
}

bool refuse_pdl();  // SANA_EMU_REFUSE_PDL=1 (read once): launch_ex refuses the PDL attribute with cudaErrorNotSupported

// cudaLaunchKernelEx(config, kernel, args…) (translate.mjs rewrites the call): the launch with the
// config's grid, block, dynamic shared memory, stream, cluster dimension and programmatic stream
// serialization attributes (other attributes are refused). Returns the launch's error as
// cudaLaunchKernelEx does.
template <typename Call, typename... A>
cudaError_t launch_ex(const cudaLaunchConfig_t* c, const char* name, Call call, A&&... args) {
  Config cfg(c->gridDim, c->blockDim, c->dynamicSmemBytes, c->stream);
  for (unsigned i = 0; i < c->numAttrs; ++i) {
    if (c->attrs[i].id == cudaLaunchAttributeClusterDimension) {
      cfg.cluster = dim3(c->attrs[i].val.clusterDim.x, c->attrs[i].val.clusterDim.y, c->attrs[i].val.clusterDim.z);
    } else if (c->attrs[i].id == cudaLaunchAttributeProgrammaticStreamSerialization) {
      // SANA_EMU_REFUSE_PDL=1: a driver that refuses the attribute (tests the library's fallback)
      if (refuse_pdl()) return cudaErrorNotSupported;
      cfg.pdl = c->attrs[i].val.programmaticStreamSerializationAllowed != 0;
    } else {
      return cudaErrorNotSupported;
    }
  }
  return launch(cfg, name, call, std::forward<A>(args)...);
}

// ---- the block's shared window ----
const ptx::SmemWindow& smem_window();
void* dynamic_smem(size_t align);
// A static `__shared__` variable (translate.mjs): the same bytes for every thread of the block,
// allocated downwards from the top of the block's shared memory on first use, poisoned like the rest.
void* static_smem(size_t bytes, size_t align, size_t type_align, const char* file, int line, const char* name);
uint32_t shared_address(const void* p);  // __cvta_generic_to_shared

// ---- synchronisation ----
void syncthreads();
void syncwarp(unsigned mask);
void named_barrier(int id, int count);
[[noreturn]] void trap();
// A spinning thread gives way (mbarrier waits); a block whose every live thread spins or waits
// without anything changing is a deadlock.
void spin_yield();
void progress();  // something other threads may wait for changed

// A collective of the current thread's warp (32 lanes) or warpgroup (128 threads, 4 aligned warps):
// every participant calls it with the same `what`; the last to arrive runs `op` with all
// participants' payloads (index = lane or thread in warpgroup), then all continue.
void warp_collective(const char* what, void* payload, const std::function<void(void* const*)>& op);
void warpgroup_collective(const char* what, void* payload, const std::function<void(void* const*)>& op);

// ---- shuffles ----
template <typename T> T shfl(unsigned mask, T v, int src_lane_of_mine, const char* what);

// ---- per-thread async copies (cp.async) and per-warpgroup wgmma groups ----
void cp_async16(uint32_t dst, const void* src, int src_bytes);
void cp_async_commit();
void cp_async_wait(int n);
void wgmma_fence();
void wgmma_issue(int n, uint64_t desc_a, uint64_t desc_b, bool scale_d, float* d);
void wgmma_commit();
void wgmma_wait(int n);

// ---- lane-level PTX (emu_ptx.cpp): what kernels/include/sana/cuda/ptx.cuh calls in the emulator ----
void ldmatrix_x4(uint32_t* r, uint32_t addr, bool trans);
void mma_m16n8k16_bf16(float* c, const uint32_t* a, uint32_t b0, uint32_t b1);
void mbar_init(uint32_t bar, uint32_t count);
void mbar_arrive(uint32_t bar, uint32_t expect_tx_bytes);
bool mbar_try_wait(uint32_t bar, uint32_t parity);  // false: the thread has given way (spin_yield)
void tma_load_2d(uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1, uint32_t bar);
void tma_load_4d(uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1, int32_t c2, int32_t c3, uint32_t bar);
void prefetch_tensormap(const CUtensorMap* map);  // a cache hint: nothing to emulate (a null address faults)

// ---- thread-block clusters ----
// A shared::cluster address in the emulator: a block's own shared::cta addresses (below 2^24) name its
// own shared memory, as on the device; mapa of another block's rank r sets bits 24–27 to r + 1.
unsigned cluster_ctarank();  // %cluster_ctarank: the block's rank in its cluster (x fastest)
unsigned cluster_nctarank();  // %cluster_nctarank
uint32_t mapa(uint32_t addr, unsigned rank);  // mapa.shared::cluster.u32
void mbar_arrive_cluster(uint32_t cluster_addr);  // mbarrier.arrive.release.cluster.shared::cluster.b64
// barrier.cluster.arrive / .wait: the wait returns once every non-exited thread of the cluster has arrived.
void cluster_arrive();
void cluster_wait();
// cp.async.bulk.tensor.2d…multicast::cluster: the box lands at `dst` and completes its bytes on the
// mbarrier at `bar` in every block of the cluster whose rank is set in `cta_mask` (same offsets in each).
void tma_load_2d_multicast(uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1, uint32_t bar, uint16_t cta_mask);

// ---- programmatic dependent launch (PTX griddepcontrol; cudaLaunchAttributeProgrammaticStreamSerialization) ----
// A kernel launched as a programmatic dependent may start before the kernel ahead of it in the stream
// (its primary) has finished; griddepcontrol.wait blocks until the primary has completed and its writes
// are visible. The emulator runs the most adversarial legal schedule: in each block (each cluster) of such
// a launch the primary completes as late as possible, only once no thread can progress without it. Until a
// thread has waited, its global-memory accesses through emulated PTX (TMA loads, cp.async) fault, and in an
// AddressSanitizer build every device allocation is poisoned until the primary completes, so any plain
// load or store a thread makes before its wait is reported. A thread of such a launch that exits without
// having waited faults too (this project's convention: the wait comes first in every thread, so a kernel
// launched as a dependent without one is caught even where its accesses are not seen). In a launch without
// the attribute both instructions do nothing.
void grid_dependency_wait();   // griddepcontrol.wait
void launch_dependents();      // griddepcontrol.launch_dependents (only a scheduling hint: nothing to check)
void check_dependency(const char* what);  // a global-memory access by the emulated PTX
// Launches and waits that took the adversarial path, for tests (reset never).
int64_t pdl_launch_count();
// In an AddressSanitizer build: poisons (true) or unpoisons every device allocation (emu_runtime.cpp).
void poison_device_memory(bool poison);

}  // namespace sana_emu
