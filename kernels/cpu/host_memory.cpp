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

std::mutex g_map_mu;
std::unordered_map<void*, int64_t> g_mapped_tensors;  // tensor storage mapped from the OS → its size

void* small_alloc(int64_t bytes) {
  size_t n = (static_cast<size_t>(bytes) + 63) / 64 * 64;
  return std::aligned_alloc(64, n == 0 ? 64 : n);
}

}  // namespace

void* host_alloc(int64_t bytes) {
  if (bytes < 0) return nullptr;
  if (!mapped(bytes)) return small_alloc(bytes);
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
  else std::free(p);
}

// Scratch blocks handed out → their mapped size (a request may be served by a larger cached block).
std::unordered_map<void*, int64_t> g_scratch_live;

void* scratch_alloc(int64_t bytes) {
  if (bytes < 0) throw std::bad_alloc();
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
