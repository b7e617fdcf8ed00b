// Device timing and device ceilings for the benchmarks.
//
// time_launches: CUDA events around each run of a launch callback, after warm-up runs; before every
// timed run a kernel writes a buffer of max(2 × L2, 64 MiB) with values that change per run (so the
// next run starts with a cold L2, and the writes cannot be elided), outside the events. Runs stop at
// max_reps or once budget_ms of wall time is spent (after min_reps). Ops skip their end-of-op sync
// inside the loop (NoSyncScope); the event sync reports asynchronous faults.
// Statistics as the PyTorch baseline script computes them (bench/gpu/pytorch_baselines.py): sorted
// times, median, p20/p80 at index round(p·(n − 1)).
//
// timeline_mark / timeline_read: events on the op stream between op calls of a queued run, read once
// at the end: each op's device time and the device's idle time between ops, with no synchronize between.
//
// measure_ceilings: device-to-device copy bandwidth counting bytes read + written (cudaMemcpyAsync
// and this file's 16-byte vector copy kernel), the L2's read bandwidth as all SMs see it (a buffer of a
// quarter of the L2 read 64 times through ld.global.cg: the first pass comes from HBM after
// time_launches' flush, ≈ 2–3% of the time, so the figure is a slight underestimate), and a large bf16
// gemm through this library's gemm on random data (never zeros: they run faster than real data). Why the
// L2 figure: gemm v3's blocks refill 48 KiB of shared memory per 128 × 256 × 64 k-slice from L2; at
// the H200's 572 TFLOP/s (Sana-0.6B QKV, 4096²) that is ≈ 6.8 TB/s of L2 → SM traffic, ≈ 7.9 TB/s at
// 1.6B's (657 TFLOP/s) — if that is near the L2's ceiling, the kernel is L2-bound and TMA multicast across
// a cluster (one B tile for two blocks: 1/3 less traffic) is next (bench/gpu/compare.py prints both).
#include <atomic>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "sana/cuda/common.cuh"

namespace sana::cuda {
namespace {

__global__ void l2_flush_kernel(uint4* p, int64_t n, uint32_t salt) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const uint32_t v = static_cast<uint32_t>(i) * 2654435761u + salt;
    p[i] = make_uint4(v, v ^ 0x9e3779b9u, v + salt, ~v);
  }
}

__global__ void copy_kernel(const uint4* __restrict__ src, uint4* __restrict__ dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) dst[i] = src[i];
}

// `passes` reads of n 16-byte words that fit in L2, cached in L2 only (ld.global.cg: the same thread
// re-reads the same words, which L1 would otherwise serve); each thread's XOR of sums is stored so that
// the loads cannot be elided. Bytes read: passes · n · 16.
__global__ void l2_read_kernel(const uint4* __restrict__ src, int64_t n, int passes, uint32_t* __restrict__ sink) {
  uint32_t acc = 0;
  for (int p = 0; p < passes; ++p) {
    for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
      const uint4 v = __ldcg(src + i);
      acc ^= v.x + v.y + v.z + v.w;
    }
  }
  sink[blockIdx.x * int64_t{blockDim.x} + threadIdx.x] = acc;
}

// Device memory freed on scope exit (timing buffers are plain cudaMalloc, not op scratch).
struct DeviceBuffer {
  void* p = nullptr;
  ~DeviceBuffer() {
    if (p) cudaFree(p);
  }
  Status alloc(const char* what, int64_t bytes) {
    cudaError_t e = cudaMalloc(&p, static_cast<size_t>(bytes));
    if (e != cudaSuccess) {
      p = nullptr;
      cudaGetLastError();
      if (e == cudaErrorMemoryAllocation) return OutOfMemory(std::string(what) + ": device out of memory allocating " + std::to_string(bytes) + " bytes");
      return cuda_error(what, "cudaMalloc", e);
    }
    return Status::Ok();
  }
};

struct Events {
  cudaEvent_t a = nullptr, b = nullptr;
  ~Events() {
    if (a) cudaEventDestroy(a);
    if (b) cudaEventDestroy(b);
  }
};

int64_t l2_bytes() {
  int v = 0;
  if (cudaDeviceGetAttribute(&v, cudaDevAttrL2CacheSize, 0) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return v;
}

}  // namespace

Status time_launches(const char* what, const std::function<Status()>& launch, const TimingOptions& opts, Timing* out) {
  *out = Timing();
  std::string reason;
  if (!device_available(&reason)) return Unavailable(std::string(what) + ": no usable CUDA device (" + reason + ")");
  if (opts.min_reps < 1 || opts.max_reps < opts.min_reps || opts.warmup < 0) {
    return InvalidArgument(std::string(what) + ": timing wants 1 ≤ min_reps ≤ max_reps and warmup ≥ 0");
  }
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  NoSyncScope no_sync;

  DeviceBuffer flush;
  int64_t flush_vec = 0;
  dim3 fgrid, fblock;
  if (opts.flush_l2) {
    const int64_t bytes = std::max<int64_t>(2 * l2_bytes(), int64_t{64} << 20);
    SANA_RETURN_IF_ERROR(flush.alloc(what, bytes));
    flush_vec = bytes / 16;
    out->flush_bytes = flush_vec * 16;
    SANA_RETURN_IF_ERROR(to_dims(what, "l2_flush_kernel", plan::elementwise(flush_vec, 65536), &fgrid, &fblock));
  }
  Events ev;
  SANA_CUDA_CHECK(what, cudaEventCreate(&ev.a));
  SANA_CUDA_CHECK(what, cudaEventCreate(&ev.b));

  for (int i = 0; i < opts.warmup; ++i) SANA_RETURN_IF_ERROR(launch());
  SANA_CUDA_CHECK(what, cudaStreamSynchronize(op_stream()));

  std::vector<double> times;
  const auto t0 = std::chrono::steady_clock::now();
  for (int rep = 0; rep < opts.max_reps; ++rep) {
    if (opts.flush_l2) {
      l2_flush_kernel<<<fgrid, fblock, 0, op_stream()>>>(static_cast<uint4*>(flush.p), flush_vec, static_cast<uint32_t>(rep * 7919 + 1));
      SANA_CUDA_LAUNCHED(what, "l2_flush_kernel");
    }
    SANA_CUDA_CHECK(what, cudaEventRecord(ev.a, op_stream()));
    SANA_RETURN_IF_ERROR(launch());
    SANA_CUDA_CHECK(what, cudaEventRecord(ev.b, op_stream()));
    cudaError_t e = cudaEventSynchronize(ev.b);
    if (e != cudaSuccess) return cuda_error(what, "timed run", e);
    float ms = 0.0f;
    SANA_CUDA_CHECK(what, cudaEventElapsedTime(&ms, ev.a, ev.b));
    times.push_back(ms);
    const double spent = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (static_cast<int>(times.size()) >= opts.min_reps && spent > opts.budget_ms) break;
  }
  out->samples_ms = times;
  std::sort(times.begin(), times.end());
  const size_t n = times.size();
  auto q = [&](double p) { return times[std::min(n - 1, static_cast<size_t>(std::llround(p * static_cast<double>(n - 1))))]; };
  double sum = 0.0;
  for (double t : times) sum += t;
  const double mean = sum / static_cast<double>(n);
  double var = 0.0;
  for (double t : times) var += (t - mean) * (t - mean);
  out->reps = static_cast<int>(n);
  out->warmup = opts.warmup;
  out->median_ms = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
  out->p20_ms = q(0.2);
  out->p80_ms = q(0.8);
  out->mean_ms = mean;
  out->min_ms = times.front();
  out->max_ms = times.back();
  out->stderr_ms = n > 1 ? std::sqrt(var / static_cast<double>(n - 1)) / std::sqrt(static_cast<double>(n)) : 0.0;
  return Status::Ok();
}

Status measure_ceilings(const CeilingOptions& opts, Ceilings* out) {
  const char* what = "ceilings";
  *out = Ceilings();
  std::string reason;
  if (!device_available(&reason)) return Unavailable(std::string("ceilings: no usable CUDA device (") + reason + ")");
  if (opts.copy_bytes < (int64_t{1} << 20) || opts.gemm_size < 128) return InvalidArgument("ceilings: copy_bytes ≥ 1 MiB and gemm_size ≥ 128");
  cudaDeviceProp prop;
  SANA_CUDA_CHECK(what, cudaGetDeviceProperties(&prop, 0));
  out->device = prop.name;
  out->cc_major = prop.major;
  out->cc_minor = prop.minor;
  out->sm_count = prop.multiProcessorCount;
  out->l2_bytes = prop.l2CacheSize;
  out->memory_bytes = static_cast<int64_t>(prop.totalGlobalMem);
  cudaDeviceGetAttribute(&out->sm_clock_khz, cudaDevAttrClockRate, 0);
  cudaDeviceGetAttribute(&out->mem_clock_khz, cudaDevAttrMemoryClockRate, 0);
  cudaDeviceGetAttribute(&out->mem_bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0);
  cudaGetLastError();

  {  // copy bandwidth
    const int64_t n = opts.copy_bytes / 16 * 16;
    DeviceBuffer a, b;
    SANA_RETURN_IF_ERROR(a.alloc(what, n));
    SANA_RETURN_IF_ERROR(b.alloc(what, n));
    SANA_RETURN_IF_ERROR(fill_random(a.p, DType::kF32, n / 4, 1, -1.0f, 1.0f));
    Timing t;
    SANA_RETURN_IF_ERROR(time_launches(
        "ceilings: cudaMemcpyAsync",
        [&]() -> Status {
          SANA_CUDA_CHECK(what, cudaMemcpyAsync(b.p, a.p, static_cast<size_t>(n), cudaMemcpyDeviceToDevice, op_stream()));
          return Status::Ok();
        },
        opts.timing, &t));
    out->copy_GBps = 2.0 * static_cast<double>(n) / (t.median_ms * 1e-3) / 1e9;
    out->copy_bytes = n;
    dim3 grid, block;
    SANA_RETURN_IF_ERROR(to_dims(what, "copy_kernel", plan::elementwise(n / 16, int64_t{prop.multiProcessorCount} * 8), &grid, &block));
    SANA_RETURN_IF_ERROR(time_launches(
        "ceilings: copy kernel",
        [&]() -> Status {
          copy_kernel<<<grid, block, 0, op_stream()>>>(static_cast<const uint4*>(a.p), static_cast<uint4*>(b.p), n / 16);
          SANA_CUDA_LAUNCHED(what, "copy_kernel");
          return Status::Ok();
        },
        opts.timing, &t));
    out->copy_kernel_GBps = 2.0 * static_cast<double>(n) / (t.median_ms * 1e-3) / 1e9;
  }
  if (out->l2_bytes >= (int64_t{1} << 20)) {  // L2 read bandwidth (skipped when the device reports no L2 size)
    constexpr int kPasses = 64, kThreads = 256;
    const int64_t n = out->l2_bytes / 4 / 16;  // 16-byte words
    const int64_t blocks = int64_t{prop.multiProcessorCount} * 8;
    DeviceBuffer src, sink;
    SANA_RETURN_IF_ERROR(src.alloc(what, n * 16));
    SANA_RETURN_IF_ERROR(sink.alloc(what, blocks * kThreads * 4));
    SANA_RETURN_IF_ERROR(fill_random(src.p, DType::kF32, n * 4, 4, -1.0f, 1.0f));
    Timing t;
    SANA_RETURN_IF_ERROR(time_launches(
        "ceilings: L2 read",
        [&]() -> Status {
          l2_read_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, op_stream()>>>(static_cast<const uint4*>(src.p), n, kPasses,
                                                                                      static_cast<uint32_t*>(sink.p));
          SANA_CUDA_LAUNCHED(what, "l2_read_kernel");
          return Status::Ok();
        },
        opts.timing, &t));
    out->l2_read_GBps = static_cast<double>(kPasses) * static_cast<double>(n) * 16.0 / (t.median_ms * 1e-3) / 1e9;
    out->l2_read_bytes = n * 16;
  }
  {  // bf16 gemm
    const int64_t S = opts.gemm_size;
    DeviceBuffer x, w, o;
    SANA_RETURN_IF_ERROR(x.alloc(what, S * S * 2));
    SANA_RETURN_IF_ERROR(w.alloc(what, S * S * 2));
    SANA_RETURN_IF_ERROR(o.alloc(what, S * S * 2));
    SANA_RETURN_IF_ERROR(fill_random(x.p, DType::kBF16, S * S, 2, -1.0f, 1.0f));
    SANA_RETURN_IF_ERROR(fill_random(w.p, DType::kBF16, S * S, 3, -1.0f, 1.0f));
    auto view = [&](void* p) {
      TensorView v;
      v.data = p;
      v.dtype = DType::kBF16;
      v.device = Device::kCuda;
      v.ndim = 2;
      v.shape[0] = S;
      v.shape[1] = S;
      return v;
    };
    GemmArgs g;
    g.x = view(x.p);
    g.w = view(w.p);
    g.out = view(o.p);
    Timing t;
    SANA_RETURN_IF_ERROR(time_launches("ceilings: bf16 gemm", [&]() { return gemm(g, opts.gemm_version); }, opts.timing, &t));
    out->gemm_ms = t.median_ms;
    out->gemm_size = S;
    out->gemm_version = opts.gemm_version;
    out->gemm_bf16_TFLOPs = 2.0 * static_cast<double>(S) * S * S / (t.median_ms * 1e-3) / 1e12;
  }
  return Status::Ok();
}

// ---- device timeline: CUDA events recorded on the op stream between op calls ----
namespace {
std::vector<cudaEvent_t> g_marks;  // pooled (created once, reused after every read); guarded by op_mutex
size_t g_marks_used = 0;
constexpr size_t kMaxMarks = size_t{1} << 16;

// Records pool[i] on the op stream, creating it first when the pool has only i events (pools grow by one).
cudaError_t record_pooled(std::vector<cudaEvent_t>& pool, size_t i) {
  if (i == pool.size()) {
    cudaEvent_t e = nullptr;
    const cudaError_t err = cudaEventCreate(&e);
    if (err != cudaSuccess) return err;
    pool.push_back(e);
  }
  return cudaEventRecord(pool[i], op_stream());
}
}  // namespace

Status timeline_mark(const char* what, int64_t* index) {
  std::string reason;
  if (!device_available(&reason)) return Unavailable(std::string(what) + ": no usable CUDA device (" + reason + ")");
  if (graph_capturing()) return InvalidArgument(std::string(what) + ": no timeline marks inside a CUDA graph capture (they would be recorded into the graph)");
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  if (g_marks_used == kMaxMarks) return InvalidArgument(std::string(what) + ": " + std::to_string(kMaxMarks) + " timeline marks without a read");
  SANA_CUDA_CHECK(what, record_pooled(g_marks, g_marks_used));
  *index = static_cast<int64_t>(g_marks_used++);
  return Status::Ok();
}

Status timeline_read(const char* what, std::vector<double>* ms) {
  ms->clear();
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  const size_t n = g_marks_used;
  g_marks_used = 0;  // the marks are read once, even when the read fails
  if (n == 0) return Status::Ok();
  SANA_CUDA_CHECK(what, cudaEventSynchronize(g_marks[n - 1]));  // the stream is in order: every earlier mark is done too
  ms->reserve(n);
  for (size_t i = 0; i < n; ++i) {
    float t = 0.0f;
    SANA_CUDA_CHECK(what, cudaEventElapsedTime(&t, g_marks[0], g_marks[i]));
    ms->push_back(static_cast<double>(t));
  }
  return Status::Ok();
}

// ---- kernel timeline: an event after every launch while recording ----
namespace {
std::atomic<bool> g_kt_on{false};
std::vector<cudaEvent_t> g_kt_events;  // pooled like g_marks; guarded by op_mutex
struct KtLabel {
  std::string op;
  std::string kernel;  // "" = an op's start
};
std::vector<KtLabel> g_kt_labels;
size_t g_kt_used = 0;
bool g_kt_truncated = false;
constexpr size_t kMaxKernelMarks = size_t{1} << 16;
}  // namespace

void kernel_timeline_note(const char* op, const char* kernel) {
  if (!g_kt_on.load(std::memory_order_relaxed) || graph_capturing()) return;
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  if (g_kt_used == kMaxKernelMarks) {
    g_kt_truncated = true;
    return;
  }
  if (record_pooled(g_kt_events, g_kt_used) != cudaSuccess) {
    cudaGetLastError();
    g_kt_truncated = true;
    return;
  }
  if (g_kt_labels.size() == g_kt_used) g_kt_labels.emplace_back();
  g_kt_labels[g_kt_used] = {op, kernel};
  ++g_kt_used;
}

Status kernel_timeline_begin(const char* what) {
  std::string reason;
  if (!device_available(&reason)) return Unavailable(std::string(what) + ": no usable CUDA device (" + reason + ")");
  if (graph_capturing()) return InvalidArgument(std::string(what) + ": no kernel timeline inside a CUDA graph capture");
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  if (g_kt_on.load()) return InvalidArgument(std::string(what) + ": a kernel timeline is already recording (end it first)");
  g_kt_used = 0;
  g_kt_truncated = false;
  g_kt_on.store(true);
  return Status::Ok();
}

Status kernel_timeline_end(const char* what, std::vector<KernelTime>* out, bool* truncated) {
  out->clear();
  std::lock_guard<std::recursive_mutex> lock(op_mutex());
  if (!g_kt_on.load()) return InvalidArgument(std::string(what) + ": no kernel timeline is recording (begin one first)");
  g_kt_on.store(false);
  *truncated = g_kt_truncated;
  const size_t n = g_kt_used;
  g_kt_used = 0;
  if (n == 0) return Status::Ok();
  SANA_CUDA_CHECK(what, cudaEventSynchronize(g_kt_events[n - 1]));
  for (size_t i = 1; i < n; ++i) {
    if (g_kt_labels[i].kernel.empty()) continue;  // an op's start: the next launch is timed from it
    float t = 0.0f;
    SANA_CUDA_CHECK(what, cudaEventElapsedTime(&t, g_kt_events[i - 1], g_kt_events[i]));
    out->push_back({g_kt_labels[i].op, g_kt_labels[i].kernel, static_cast<double>(t)});
  }
  return Status::Ok();
}

}  // namespace sana::cuda
