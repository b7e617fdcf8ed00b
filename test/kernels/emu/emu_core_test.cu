// Checks of the host emulator's execution model (kernels/emu/emu_core.cpp) with small kernels written
// for it: translated by kernels/emu/translate.mjs and compiled with the prelude, as the real kernels
// are (test/kernels/emu/emu-core.test.ts builds and runs this). Each check names what a GPU would do.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sana/cuda/ptx.cuh"

namespace {

int g_checks = 0;
void check(bool ok, const std::string& what) {
  ++g_checks;
  if (!ok) {
    std::printf("FAIL: %s\n", what.c_str());
    std::exit(1);
  }
}

// Block-wide reverse through shared memory: correct only if the barrier orders writes before reads.
__global__ void reverse_kernel(const int* in, int* out, int n) {
  __shared__ int s[256];
  const int t = static_cast<int>(threadIdx.x);
  s[t] = in[blockIdx.x * n + t];
  __syncthreads();
  out[blockIdx.x * n + t] = s[n - 1 - t];
}

// Warp reduction with shuffles, and a broadcast from lane 5.
__global__ void shuffle_kernel(float* out) {
  float v = static_cast<float>(threadIdx.x % 32 + 1);
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  const float b = __shfl_sync(0xffffffffu, static_cast<float>(threadIdx.x), 5);
  out[threadIdx.x] = v + 1000.0f * b;
}

// Each half of the block waits at a named barrier that counts the whole block: a deadlock.
__global__ void deadlock_kernel(int* out) {
  if (threadIdx.x < 32) sana::cuda::ptx::bar_sync<1, 64>();
  else sana::cuda::ptx::bar_sync<2, 64>();
  out[0] = 1;
}

// Lanes of one warp at different warp instructions.
__global__ void divergent_kernel(float* out) {
  if (threadIdx.x % 2 == 0) out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
  else __syncwarp();
}

// Dynamic shared memory that nobody wrote reads as NaN (0xFF bytes).
__global__ void uninit_kernel(float* out) {
  extern __shared__ float dyn[];
  out[threadIdx.x] = dyn[threadIdx.x];
}

// cp.async: the destination is not valid before the wait.
__global__ void cp_async_kernel(const float* in, float* before, float* after) {
  extern __shared__ __align__(16) float buf[];
  using namespace sana::cuda::ptx;
  if (threadIdx.x < 8) cp_async16(smem_u32(buf + 4 * threadIdx.x), in + 4 * threadIdx.x, true);
  cp_async_commit();
  if (threadIdx.x < 8) before[threadIdx.x] = buf[4 * threadIdx.x];
  cp_async_wait<0>();
  __syncthreads();
  after[threadIdx.x] = buf[threadIdx.x];
}

__global__ void trap_kernel(int* out) {
  if (blockIdx.x == 1 && threadIdx.x == 3) __trap();
  out[blockIdx.x] = 1;
}

__global__ void atomic_kernel(float* sum) { atomicAdd(sum, 1.0f); }

// The cluster kernels' prologue: an mbarrier expecting `count` arrivals in the block's dynamic shared memory,
// initialised in every block of the cluster before any block goes on; returns its shared address.
__device__ uint32_t cluster_mbarrier(uint32_t count) {
  using namespace sana::cuda::ptx;
  using namespace sana::cuda::ptx::sm90;
  extern __shared__ __align__(8) uint64_t bar[];
  const uint32_t b = smem_u32(bar);
  if (threadIdx.x == 0) mbar_init(b, count);
  cluster_arrive();
  cluster_wait();
  return b;
}

// Thread-block clusters (launched with cudaLaunchKernelEx and a cluster dimension): each block of a pair
// arrives on its own and on the other block's mbarrier (mapa), so each barrier's phase completes only
// with both blocks' arrivals; the cluster barrier keeps a block alive until the other is done with it.
__global__ void cluster_pair_kernel(int* out) {
  using namespace sana::cuda::ptx::sm90;
  const uint32_t rank = cluster_ctarank(), b = cluster_mbarrier(2);
  if (threadIdx.x == 0) {
    mbar_arrive_cluster(b, rank);
    mbar_arrive_cluster(b, rank ^ 1u);
  }
  while (!mbar_try_wait(b, 0)) {
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = static_cast<int>(rank) + 1;
  cluster_arrive();
  cluster_wait();
}

// Rank 0 wakes rank 1 (a remote arrive), rank 1 answers on rank 0's barrier. Without the final cluster
// barrier rank 0 may have exited by then: its shared memory is gone (a GPU's behaviour is undefined).
template <bool kWaitBeforeExit> __global__ void cluster_handshake_kernel(int* out) {
  using namespace sana::cuda::ptx::sm90;
  const uint32_t rank = cluster_ctarank(), b = cluster_mbarrier(1);
  if (rank == 0) {
    if (threadIdx.x == 0) mbar_arrive_cluster(b, 1);
  } else {
    while (!mbar_try_wait(b, 0)) {
    }
    if (threadIdx.x == 0) mbar_arrive_cluster(b, 0);
  }
  out[blockIdx.x] = static_cast<int>(rank) + 1;
  if (kWaitBeforeExit) {
    cluster_arrive();
    cluster_wait();
  }
}

__global__ void cluster_double_arrive_kernel() {
  sana::cuda::ptx::sm90::cluster_arrive();
  sana::cuda::ptx::sm90::cluster_arrive();
  sana::cuda::ptx::sm90::cluster_wait();
}

// An mbarrier in a static __shared__ variable (the emulated PTX addresses static shared memory too):
// every thread arrives, then all wait for the phase.
__global__ void static_mbarrier_kernel(int* out) {
  using namespace sana::cuda::ptx;
  using namespace sana::cuda::ptx::sm90;
  __shared__ __align__(8) uint64_t bar;
  const uint32_t b = smem_u32(&bar);
  if (threadIdx.x == 0) mbar_init(b, blockDim.x);
  __syncthreads();
  mbar_arrive(b);
  while (!mbar_try_wait(b, 0)) {
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = 1;
}

// Programmatic dependent launch: the wait first, then the work (the project's convention).
__global__ void pdl_scale_kernel(const float* in, float* out) {
  sana::cuda::ptx::dependent_prologue();
  out[blockIdx.x * blockDim.x + threadIdx.x] = 2.0f * in[blockIdx.x * blockDim.x + threadIdx.x];
}
// No wait at all: fine as a plain launch, a fault as a dependent.
__global__ void pdl_no_wait_kernel(float* out) { out[threadIdx.x] = 1.0f; }
// A global read through cp.async before the wait.
__global__ void pdl_early_copy_kernel(const float* in, float* out) {
  extern __shared__ __align__(16) float buf[];
  using namespace sana::cuda::ptx;
  if (threadIdx.x == 0) cp_async16(smem_u32(buf), in, true);
  cp_async_commit();
  grid_dependency_wait();
  cp_async_wait<0>();
  __syncthreads();
  out[threadIdx.x] = buf[threadIdx.x % 4];
}
// Thread 0 waits for the primary before a barrier, the others reach the barrier first and wait after it:
// no thread progresses until the primary completes, which it then does (no deadlock).
__global__ void pdl_barrier_kernel(float* out) {
  using namespace sana::cuda::ptx;
  __shared__ float s;
  if (threadIdx.x == 0) {
    grid_dependency_wait();
    s = 3.0f;
  }
  __syncthreads();
  if (threadIdx.x != 0) grid_dependency_wait();
  out[threadIdx.x] = s;
}

cudaLaunchConfig_t pdl_config(unsigned grid, unsigned block, size_t smem, cudaLaunchAttribute* attr) {
  attr->id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr->val.programmaticStreamSerializationAllowed = 1;
  return cudaLaunchConfig_t{dim3(grid), dim3(block), smem, nullptr, attr, 1};
}

cudaLaunchConfig_t cluster_config(unsigned grid, unsigned block, unsigned cluster, cudaLaunchAttribute* attr) {
  attr->id = cudaLaunchAttributeClusterDimension;
  attr->val.clusterDim.x = cluster;
  attr->val.clusterDim.y = 1;
  attr->val.clusterDim.z = 1;
  return cudaLaunchConfig_t{dim3(grid), dim3(block), 8, nullptr, attr, 1};  // 8 bytes: one mbarrier
}

template <typename T> T* device_alloc(size_t n) {
  void* p = nullptr;
  if (cudaMalloc(&p, n * sizeof(T)) != cudaSuccess) {
    std::printf("FAIL: cudaMalloc\n");
    std::exit(1);
  }
  return static_cast<T*>(p);
}

}  // namespace

int main() {
  {
    const int n = 256, blocks = 3;
    std::vector<int> in(n * blocks), out(n * blocks, -1);
    for (int i = 0; i < n * blocks; ++i) in[i] = i * 7 + 1;
    int* din = device_alloc<int>(in.size());
    int* dout = device_alloc<int>(out.size());
    cudaMemcpy(din, in.data(), in.size() * sizeof(int), cudaMemcpyHostToDevice);
    reverse_kernel<<<blocks, n>>>(din, dout, n);
    check(cudaGetLastError() == cudaSuccess, "reverse_kernel launches");
    cudaMemcpy(out.data(), dout, out.size() * sizeof(int), cudaMemcpyDeviceToHost);
    bool ok = true;
    for (int b = 0; b < blocks; ++b)
      for (int t = 0; t < n; ++t) ok = ok && out[b * n + t] == in[b * n + n - 1 - t];
    check(ok, "__syncthreads orders shared-memory writes before reads (block-wide reverse)");
  }
  {
    float* d = device_alloc<float>(64);
    shuffle_kernel<<<1, 64>>>(d);
    std::vector<float> h(64);
    cudaMemcpy(h.data(), d, 64 * sizeof(float), cudaMemcpyDeviceToHost);
    bool ok = true;
    for (int t = 0; t < 64; ++t) ok = ok && h[t] == 528.0f + 1000.0f * static_cast<float>((t / 32) * 32 + 5);
    check(ok, "__shfl_xor_sync butterfly sums 1..32 in every lane and __shfl_sync broadcasts lane 5, per warp");
  }
  {
    int* d = device_alloc<int>(1);
    deadlock_kernel<<<1, 64>>>(d);
    check(cudaGetLastError() == cudaErrorLaunchTimeout, "a barrier half the block can never reach is reported as a deadlock");
    float* f = device_alloc<float>(32);
    divergent_kernel<<<1, 32>>>(f);
    check(cudaGetLastError() == cudaErrorIllegalInstruction, "lanes of one warp at different warp instructions are an error");
  }
  {
    float* d = device_alloc<float>(32);
    uninit_kernel<<<1, 32, 32 * sizeof(float)>>>(d);
    std::vector<float> h(32);
    cudaMemcpy(h.data(), d, sizeof(float) * 32, cudaMemcpyDeviceToHost);
    bool nan = true;
    for (float v : h) nan = nan && std::isnan(v);
    check(nan, "unwritten dynamic shared memory reads as NaN");
    uninit_kernel<<<1, 32, 64 * 1024>>>(d);
    check(cudaGetLastError() == cudaErrorInvalidValue, "64 KiB of dynamic shared memory without the function attribute is refused");
  }
  {
    std::vector<float> in(32);
    for (int i = 0; i < 32; ++i) in[i] = static_cast<float>(i) + 0.5f;
    float* din = device_alloc<float>(32);
    float* before = device_alloc<float>(8);
    float* after = device_alloc<float>(32);
    cudaMemcpy(din, in.data(), sizeof(float) * 32, cudaMemcpyHostToDevice);
    cp_async_kernel<<<1, 32, 32 * sizeof(float)>>>(din, before, after);
    std::vector<float> hb(8), ha(32);
    cudaMemcpy(hb.data(), before, sizeof(float) * 8, cudaMemcpyDeviceToHost);
    cudaMemcpy(ha.data(), after, sizeof(float) * 32, cudaMemcpyDeviceToHost);
    bool nan = true, ok = true;
    for (float v : hb) nan = nan && std::isnan(v);
    for (int i = 0; i < 32; ++i) ok = ok && ha[i] == in[i];
    check(nan, "a cp.async destination read before cp.async.wait_group is NaN");
    check(ok, "after cp.async.wait_group 0 and a barrier the copied data is there");
  }
  {
    int* d = device_alloc<int>(4);
    trap_kernel<<<4, 32>>>(d);
    check(cudaGetLastError() == cudaErrorLaunchFailure, "__trap fails the launch");
    check(cudaGetLastError() == cudaSuccess, "cudaGetLastError clears the error");
  }
  {
    float* d = device_alloc<float>(1);
    cudaMemsetAsync(d, 0, sizeof(float), nullptr);
    atomic_kernel<<<5, 96>>>(d);
    float h = 0;
    cudaMemcpy(&h, d, sizeof(float), cudaMemcpyDeviceToHost);
    check(h == 480.0f, "atomicAdd from every thread of every block");
  }
  {
    reverse_kernel<<<1, 2048>>>(nullptr, nullptr, 0);
    check(cudaGetLastError() == cudaErrorInvalidConfiguration, "a block of 2048 threads is refused");
    void* p = nullptr;
    check(cudaMalloc(&p, size_t{1} << 62) == cudaErrorMemoryAllocation, "an allocation over the emulated device memory fails as out of memory");
    cudaGetLastError();
  }
  {
    int* d = device_alloc<int>(2 * 64);
    cudaMemsetAsync(d, 0, 2 * 64 * sizeof(int), nullptr);
    static_mbarrier_kernel<<<2, 64>>>(d);
    check(cudaGetLastError() == cudaSuccess, "an mbarrier in a static __shared__ variable works");
    std::vector<int> h(2 * 64);
    cudaMemcpy(h.data(), d, h.size() * sizeof(int), cudaMemcpyDeviceToHost);
    bool all = true;
    for (int v : h) all = all && v == 1;
    check(all, "… every thread passed its phase");
  }
  {
    cudaLaunchAttribute attr;
    const cudaLaunchConfig_t cfg = cluster_config(4, 64, 2, &attr);
    int* d = device_alloc<int>(4 * 64);
    check(cudaLaunchKernelEx(&cfg, cluster_pair_kernel, d) == cudaSuccess, "a pair kernel in clusters of 2 launches");
    std::vector<int> h(4 * 64);
    cudaMemcpy(h.data(), d, h.size() * sizeof(int), cudaMemcpyDeviceToHost);
    bool ranks = true;
    for (int i = 0; i < 4 * 64; ++i) ranks = ranks && h[i] == i / 64 % 2 + 1;
    check(ranks, "%cluster_ctarank is blockIdx.x % 2, and each block's barrier completes with both blocks' arrivals (mapa)");
    check(cudaLaunchKernelEx(&cfg, cluster_handshake_kernel<true>, d) == cudaSuccess, "a handshake that waits on the cluster barrier before exiting");
    check(cudaLaunchKernelEx(&cfg, cluster_handshake_kernel<false>, d) == cudaErrorIllegalAddress,
          "an arrive on the barrier of a block that has exited is an error");
    check(cudaGetLastError() == cudaErrorIllegalAddress, "… recorded as the launch error");
    check(cudaLaunchKernelEx(&cfg, cluster_double_arrive_kernel) == cudaErrorIllegalInstruction, "barrier.cluster.arrive twice without a wait is an error");
    cudaGetLastError();
    const cudaLaunchConfig_t odd = cluster_config(3, 64, 2, &attr);
    check(cudaLaunchKernelEx(&odd, cluster_pair_kernel, d) == cudaErrorInvalidClusterSize, "a grid that clusters do not divide is refused");
    cudaGetLastError();
  }
  {
    cudaLaunchAttribute attr;
    const int n = 2 * 64;
    std::vector<float> in(n), h(n);
    for (int i = 0; i < n; ++i) in[i] = static_cast<float>(i) + 0.25f;
    float* din = device_alloc<float>(n);
    float* dout = device_alloc<float>(n);
    cudaMemcpy(din, in.data(), n * sizeof(float), cudaMemcpyHostToDevice);
    const int64_t before = sana_emu::pdl_launch_count();
    const cudaLaunchConfig_t cfg = pdl_config(2, 64, 0, &attr);
    check(cudaLaunchKernelEx(&cfg, pdl_scale_kernel, din, dout) == cudaSuccess, "a dependent (PDL) whose threads wait first runs");
    check(sana_emu::pdl_launch_count() == before + 1, "… as a programmatic dependent");
    cudaMemcpy(h.data(), dout, n * sizeof(float), cudaMemcpyDeviceToHost);
    bool ok = true;
    for (int i = 0; i < n; ++i) ok = ok && h[i] == 2.0f * in[i];
    check(ok, "… and computes after its wait");
    pdl_scale_kernel<<<2, 64>>>(din, dout);
    check(cudaGetLastError() == cudaSuccess, "griddepcontrol.wait in a plain launch returns at once");
    pdl_no_wait_kernel<<<1, 32>>>(dout);
    check(cudaGetLastError() == cudaSuccess, "a kernel without the wait runs as a plain launch");
    const cudaLaunchConfig_t one = pdl_config(1, 32, 0, &attr);
    check(cudaLaunchKernelEx(&one, pdl_no_wait_kernel, dout) == cudaErrorLaunchFailure,
          "a dependent whose threads exit without griddepcontrol.wait is an error (nothing orders its accesses)");
    cudaGetLastError();
    const cudaLaunchConfig_t copy = pdl_config(1, 32, 16, &attr);
    check(cudaLaunchKernelEx(&copy, pdl_early_copy_kernel, din, dout) == cudaErrorIllegalAddress,
          "a dependent's cp.async from global memory before its wait is an error");
    cudaGetLastError();
    pdl_early_copy_kernel<<<1, 32, 16>>>(din, dout);
    check(cudaGetLastError() == cudaSuccess, "… and the same kernel runs as a plain launch");
    const cudaLaunchConfig_t bar = pdl_config(1, 64, 0, &attr);
    check(cudaLaunchKernelEx(&bar, pdl_barrier_kernel, dout) == cudaSuccess,
          "a dependent whose threads block in the wait and at a barrier: the primary completes, no deadlock");
    cudaMemcpy(h.data(), dout, 64 * sizeof(float), cudaMemcpyDeviceToHost);
    bool three = true;
    for (int i = 0; i < 64; ++i) three = three && h[i] == 3.0f;
    check(three, "… and every thread sees the value written after thread 0's wait");
  }
  std::printf("all emulator-core checks passed (%d)\n", g_checks);
  return 0;
}
