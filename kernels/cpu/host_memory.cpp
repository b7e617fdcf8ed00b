// Host allocations of the CPU backend (see sana/cpu/host_memory.h).
#include "sana/cpu/host_memory.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#define SANA_HAVE_MMAP 1
#endif
#if defined(__linux__)
#include <sys/sysinfo.h>
#endif

namespace sana::cpu {
namespace {

constexpr int64_t kMapThreshold = 256 << 10;
constexpr int64_t kScratchCacheLimit = int64_t{192} << 20;

bool mapped(int64_t bytes) {
#ifdef SANA_HAVE_MMAP
  return bytes >= kMapThreshold;
#else
  return false;
#endif
}

void* os_map(int64_t bytes) {
#ifdef SANA_HAVE_MMAP
  void* p = mmap(nullptr, static_cast<size_t>(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
#else
  return nullptr;
#endif
}

void os_unmap(void* p, int64_t bytes) {
#ifdef SANA_HAVE_MMAP
  munmap(p, static_cast<size_t>(bytes));
#endif
}

struct Block {
  void* p;
  int64_t bytes;
};

std::mutex g_cache_mu;
std::vector<Block> g_cache;  // freed scratch mappings, most recent last
int64_t g_cached = 0;

int64_t round_up(int64_t bytes) { return (bytes + 4095) / 4096 * 4096; }

// The most any allocation could ever be backed by: physical RAM plus swap. A larger request is refused
// up front (an "out of memory" error naming the op) whatever the kernel's overcommit policy: with
// overcommit on, the mapping would succeed and touching its pages would summon the OOM killer instead.
bool beyond_machine(int64_t bytes) {
#if defined(__linux__)
  static const int64_t limit = [] {
    struct sysinfo si {};
    if (sysinfo(&si) != 0) return INT64_MAX;
    return static_cast<int64_t>((static_cast<double>(si.totalram) + static_cast<double>(si.totalswap)) * si.mem_unit);
  }();
  return bytes > limit;
#else
  (void)bytes;
  return false;
#endif
}

std::mutex g_map_mu;
std::unordered_map<void*, int64_t> g_mapped_tensors;  // tensor storage mapped from the OS → its size

void* small_alloc(int64_t bytes) {
  size_t n = (static_cast<size_t>(bytes) + 63) / 64 * 64;
  return std::aligned_alloc(64, n == 0 ? 64 : n);
}

// Small tensor storage (below the mapping threshold) comes from malloc in power-of-two size classes,
// and a freed block is kept on its class's free list (up to 64 MiB in all) for the next tensor of that
// class instead of going back to malloc. Given back, it would be split by the next small long-lived
// allocation — a tensor handle or N-API finalizer record that lives until V8 collects its JS object —
// and could no longer hold the next tensor of its size: a loop of allocate / fill / dispose then grew
// the RSS by one tensor per iteration (625 MiB per 10,000 cycles of 64 KiB) until a GC happened to run.
constexpr int kSmallClasses = 24;
constexpr int64_t kSmallCacheLimit = int64_t{64} << 20;
std::mutex g_small_mu;
std::unordered_map<void*, int> g_small_class;  // small tensor blocks (live or cached) → size class
std::vector<void*> g_small_free[kSmallClasses];
int64_t g_small_cached = 0;

int size_class(int64_t bytes) {
  int c = 0;
  while ((int64_t{64} << c) < bytes) ++c;
  return c;
}

void* small_tensor_alloc(int64_t bytes) {
  const int c = size_class(bytes);
  {
    std::lock_guard<std::mutex> lk(g_small_mu);
    if (!g_small_free[c].empty()) {
      void* p = g_small_free[c].back();
      g_small_free[c].pop_back();
      g_small_cached -= int64_t{64} << c;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, static_cast<size_t>(int64_t{64} << c));
  if (p != nullptr) {
    std::lock_guard<std::mutex> lk(g_small_mu);
    g_small_class[p] = c;
  }
  return p;
}

// Returns false when p is not a small tensor block.
bool small_tensor_free(void* p) {
  std::unique_lock<std::mutex> lk(g_small_mu);
  auto it = g_small_class.find(p);
  if (it == g_small_class.end()) return false;
  const int c = it->second;
  const int64_t n = int64_t{64} << c;
  if (g_small_cached + n <= kSmallCacheLimit) {
    g_small_free[c].push_back(p);
    g_small_cached += n;
    return true;
  }
  g_small_class.erase(it);
  lk.unlock();
  std::free(p);
  return true;
}

}  // namespace

void* host_alloc(int64_t bytes) {
  if (bytes < 0 || beyond_machine(bytes)) return nullptr;
  if (!mapped(bytes)) return small_tensor_alloc(bytes);
  void* p = os_map(round_up(bytes));
  if (p != nullptr) {
    std::lock_guard<std::mutex> lk(g_map_mu);
    g_mapped_tensors[p] = round_up(bytes);
  }
  return p;
}

void host_free(void* p) {
  if (p == nullptr) return;
  int64_t size = 0;
  {
    std::lock_guard<std::mutex> lk(g_map_mu);
    auto it = g_mapped_tensors.find(p);
    if (it != g_mapped_tensors.end()) {
      size = it->second;
      g_mapped_tensors.erase(it);
    }
  }
  if (size > 0) os_unmap(p, size);
  else if (!small_tensor_free(p)) std::free(p);
}

// Scratch blocks handed out → their mapped size (a request may be served by a larger cached block).
std::unordered_map<void*, int64_t> g_scratch_live;

void* scratch_alloc(int64_t bytes) {
  if (bytes < 0 || beyond_machine(bytes)) throw std::bad_alloc();
  if (!mapped(bytes)) {
    void* p = small_alloc(bytes);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  const int64_t want = round_up(bytes);
  {
    // Best fit among cached blocks of [want, 2·want]: fused ops ask for many different sizes, and an
    // exact-size cache would keep refaulting fresh pages when a sequence of ops (a DiT block) runs.
    std::lock_guard<std::mutex> lk(g_cache_mu);
    size_t best = g_cache.size();
    for (size_t i = 0; i < g_cache.size(); ++i) {
      const int64_t b = g_cache[i].bytes;
      if (b >= want && b <= 2 * want && (best == g_cache.size() || b < g_cache[best].bytes)) best = i;
    }
    if (best != g_cache.size()) {
      Block blk = g_cache[best];
      g_cached -= blk.bytes;
      g_cache.erase(g_cache.begin() + static_cast<std::ptrdiff_t>(best));
      g_scratch_live[blk.p] = blk.bytes;
      return blk.p;
    }
  }
  void* p = os_map(want);
  if (p == nullptr) throw std::bad_alloc();
  std::lock_guard<std::mutex> lk(g_cache_mu);
  g_scratch_live[p] = want;
  return p;
}

void scratch_free(void* p, int64_t bytes) {
  if (p == nullptr) return;
  if (!mapped(bytes)) {
    std::free(p);
    return;
  }
  std::lock_guard<std::mutex> lk(g_cache_mu);
  auto it = g_scratch_live.find(p);
  const int64_t size = it != g_scratch_live.end() ? it->second : round_up(bytes);
  if (it != g_scratch_live.end()) g_scratch_live.erase(it);
  g_cache.push_back({p, size});
  g_cached += size;
  while (g_cached > kScratchCacheLimit && !g_cache.empty()) {  // evict the oldest
    os_unmap(g_cache.front().p, g_cache.front().bytes);
    g_cached -= g_cache.front().bytes;
    g_cache.erase(g_cache.begin());
  }
}

int64_t scratch_cached_bytes() {
  std::lock_guard<std::mutex> lk(g_cache_mu);
  return g_cached;
}

}  // namespace sana::cpu
