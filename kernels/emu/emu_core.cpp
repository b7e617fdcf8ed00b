// The host emulator's scheduler: blocks one after another, a block's threads as ucontext fibers,
// collectives (barriers, warp and warpgroup instructions) completed by their last arriving thread,
// deferred cp.async and wgmma groups, deadlock detection. See emu_core.h for the model.
//
// Switching: a fiber is entered the first time with swapcontext (which gives it its own stack) and
// afterwards with _setjmp/_longjmp, which, unlike swapcontext, make no system call (the signal mask
// is left alone): a block switches threads at every warp instruction, so this halves the run time.
#undef _FORTIFY_SOURCE  // longjmp_chk would refuse the jumps between stacks
#include "emu_core.h"

#include <setjmp.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace sana_emu {

Thread* g_thread = nullptr;
uint3 g_block_idx{};
dim3 g_block_dim, g_grid_dim;

void record_launch_error(cudaError_t e);  // emu_runtime.cpp
bool dynamic_smem_allowed(const char* kernel, size_t bytes, std::string* why);

namespace {

constexpr size_t kStackBytes = 256 * 1024;
constexpr uint32_t kReserved = 1024;         // the sm_90 per-block reserved shared memory sits below the user's
constexpr uint32_t kArenaBytes = 256 * 1024;  // > the 227 KiB a block may use
constexpr unsigned kMaxCluster = 8;           // the portable cluster size
constexpr uint32_t kClusterRankShift = 24;    // shared::cluster addresses: bits 24–27 = rank + 1 (0: the own block)

// One shared-memory arena per rank in a cluster (rank 0's is static; the others are made on first use).
uint8_t* arena_for(unsigned rank) {
  alignas(4096) static uint8_t first[kArenaBytes];
  static std::vector<std::unique_ptr<uint8_t[]>> more;
  if (rank == 0) return first;
  while (more.size() < rank) more.emplace_back(new uint8_t[kArenaBytes]);
  return more[rank - 1].get();
}

enum class State { kRunnable, kBlocked, kSpinning, kDone };

struct Copy {
  uint32_t dst;
  const void* src;
  int bytes;
};

struct Fiber {
  ucontext_t ctx{};  // first entry
  jmp_buf jb;        // later switches
  bool started = false;
  uint8_t* stack = nullptr;  // kStackBytes + a guard page below
  Thread th;
  State state = State::kRunnable;
  int64_t spins = 0;
  std::vector<Copy> cp_open;
  std::deque<std::vector<Copy>> cp_groups;
  int64_t cluster_phase = -1;  // the cluster barrier phase this thread arrived in (−1: none pending)
  bool dep_waited = false;     // has executed griddepcontrol.wait
  bool at_dep_wait = false;    // blocked in it until the primary completes
};

struct Coll {
  const char* what = nullptr;
  int arrived = 0;
  void* payloads[128] = {};
  const std::function<void(void* const*)>* op = nullptr;
  std::vector<int> waiting;  // fiber indices
};

struct WgOp {
  int n;
  uint64_t da, db;
  bool scale_d;
  float* d[128];
};

struct Block {
  std::vector<Fiber> fibers;
  int nthreads = 0, live = 0, current = -1;
  std::vector<int> warp_live, wg_live;
  std::vector<Coll> warp_coll, wg_coll;
  Coll block_coll;
  std::map<int, Coll> named;
  std::vector<std::vector<WgOp>> wg_open;
  std::vector<std::deque<std::vector<WgOp>>> wg_groups;
  uint64_t epoch = 0;
  bool faulted = false;
  cudaError_t fault_code = cudaSuccess;
  std::string fault;
  ptx::SmemWindow window;
  uint32_t dyn_offset = 0;
  size_t dyn_bytes = 0;
  uint32_t static_low = kArenaBytes;  // static __shared__ variables live in [static_low, kArenaBytes)
  std::map<std::pair<const char*, int>, std::map<std::string, uint32_t>> statics;
  const std::function<void()>* body = nullptr;
  uint8_t* arena = nullptr;  // this block's shared memory (kArenaBytes)
  uint3 idx{};
  unsigned rank = 0;         // in its cluster
  bool exited = false;       // every thread has exited: its shared memory is gone
};

// The cluster being run (a launch without clusters runs clusters of one block).
struct Cluster {
  std::vector<Block>* blocks = nullptr;
  int64_t live = 0;      // non-exited threads of all its blocks
  int64_t arrived = 0;   // non-exited threads that arrived in the current barrier.cluster phase
  int64_t phase = 0;
};

Block* g_block = nullptr;
Cluster g_cluster;
ucontext_t g_sched_uc;
jmp_buf g_sched_jb;
std::vector<uint8_t*> g_stacks;  // reused across blocks and launches
const char* g_kernel_name = "";
// Programmatic dependent launch: the running launch is a dependent, and (per cluster) its primary has not
// completed yet (device memory poisoned in an AddressSanitizer build while so).
bool g_launch_pdl = false;
bool g_dep_pending = false;
bool g_poisoned = false;
std::atomic<int64_t> g_pdl_launches{0};

void set_poison(bool on) {
  if (g_poisoned == on) return;
  poison_device_memory(on);
  g_poisoned = on;
}

// The primary completes (the adversarial schedule: only once no thread of the cluster can progress
// without it): every thread blocked in griddepcontrol.wait continues. False when it already had.
bool complete_primary(std::vector<Block>& blocks) {
  if (!g_dep_pending) return false;
  g_dep_pending = false;
  set_poison(false);
  for (Block& b : blocks) {
    for (Fiber& f : b.fibers) {
      if (!f.at_dep_wait) continue;
      f.at_dep_wait = false;
      if (f.state == State::kBlocked) f.state = State::kRunnable;
    }
    ++b.epoch;
  }
  return true;
}

uint8_t* stack_for(size_t i) {
  while (g_stacks.size() <= i) {
    const size_t page = 4096;
    void* p = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    mprotect(p, page, PROT_NONE);  // a stack overflow faults instead of corrupting the neighbour
    g_stacks.push_back(static_cast<uint8_t*>(p) + page);
  }
  return g_stacks[i];
}

std::string where() {
  char buf[160];
  if (g_thread) {
    std::snprintf(buf, sizeof buf, "block (%u,%u,%u) thread (%u,%u,%u)", g_block_idx.x, g_block_idx.y, g_block_idx.z, g_thread->tid.x,
                  g_thread->tid.y, g_thread->tid.z);
  } else {
    std::snprintf(buf, sizeof buf, "block (%u,%u,%u)", g_block_idx.x, g_block_idx.y, g_block_idx.z);
  }
  return buf;
}

Fiber& me() { return g_block->fibers[static_cast<size_t>(g_block->current)]; }

void yield_to_scheduler() {
  Fiber& f = me();
  if (_setjmp(f.jb) == 0) _longjmp(g_sched_jb, 1);
  // resumed by the scheduler
  g_thread = &me().th;
  if (g_block->faulted) throw KernelFault(g_block->fault_code, "aborted after another thread's fault");
}

void fault(cudaError_t code, const std::string& msg) {
  if (!g_block->faulted) {
    g_block->faulted = true;
    g_block->fault_code = code;
    g_block->fault = msg;
  }
}

void flush_cp_async(Fiber& f, size_t keep);

// The cluster barrier completes its phase once every non-exited thread has arrived.
void cluster_barrier_check() {
  if (g_cluster.arrived > 0 && g_cluster.arrived >= g_cluster.live) {
    g_cluster.arrived = 0;
    ++g_cluster.phase;
    ++g_block->epoch;
  }
}

void fiber_main() {
  Block& b = *g_block;
  Fiber& f = b.fibers[static_cast<size_t>(b.current)];
  try {
    (*b.body)();
    flush_cp_async(f, 0);  // copies still in flight when a thread exits complete anyway
    if (g_launch_pdl && !f.dep_waited) {
      throw KernelFault(cudaErrorLaunchFailure, "exited without griddepcontrol.wait in a kernel launched as a programmatic dependent (PDL): "
                                                "nothing orders its memory accesses after the kernel ahead of it");
    }
  } catch (const KernelFault& e) {
    fault(e.code, where() + ": " + e.what());
  } catch (const ptx::PtxError& e) {
    fault(cudaErrorIllegalAddress, where() + ": " + e.what());
  } catch (const std::exception& e) {
    fault(cudaErrorLaunchFailure, where() + ": " + e.what());
  }
  f.state = State::kDone;
  ++b.epoch;
  _longjmp(g_sched_jb, 1);
}

int warp_of(const Fiber& f) { return f.th.linear / 32; }

void complete(Coll& c) {
  const std::function<void(void* const*)>* op = c.op;
  void* payloads[128];
  std::memcpy(payloads, c.payloads, sizeof payloads);
  std::vector<int> waiting;
  waiting.swap(c.waiting);
  c = Coll();
  ++g_block->epoch;
  for (int i : waiting) {
    Fiber& f = g_block->fibers[static_cast<size_t>(i)];
    if (f.state == State::kBlocked) f.state = State::kRunnable;
  }
  if (op) (*op)(payloads);
}

void arrive(Coll& c, int slot, int needed, const char* what, void* payload, const std::function<void(void* const*)>& op, const char* scope) {
  if (c.arrived == 0) {
    c.what = what;
  } else if (std::strcmp(c.what, what) != 0) {
    throw KernelFault(cudaErrorIllegalInstruction, std::string("divergent ") + scope + ": this thread reached " + what + " while others wait in " + c.what);
  }
  if (slot >= 0) {  // collectives with per-thread operands (warp, warpgroup); barriers pass -1
    if (c.payloads[slot] != nullptr) throw KernelFault(cudaErrorIllegalInstruction, std::string(scope) + " slot reused in " + what);
    c.payloads[slot] = payload;
  }
  c.op = &op;
  ++c.arrived;
  if (c.arrived >= needed) {
    complete(c);
    return;
  }
  c.waiting.push_back(g_block->current);
  me().state = State::kBlocked;
  yield_to_scheduler();
}

// Live threads leave their collectives: a collective whose remaining participants have all arrived completes.
void on_exit_check() {
  Block& b = *g_block;
  auto check = [&](Coll& c, int needed) {
    if (c.arrived > 0 && c.arrived >= needed) complete(c);
  };
  for (size_t w = 0; w < b.warp_coll.size(); ++w) check(b.warp_coll[w], b.warp_live[w]);
  for (size_t g = 0; g < b.wg_coll.size(); ++g) check(b.wg_coll[g], b.wg_live[g]);
  check(b.block_coll, b.live);
}

void flush_cp_async(Fiber& f, size_t keep) {
  const ptx::SmemWindow& w = g_block->window;
  while (f.cp_groups.size() > keep) {
    for (const Copy& c : f.cp_groups.front()) {
      uint8_t* dst = w.base + c.dst;
      std::memset(dst, 0, 16);
      if (c.bytes > 0) std::memcpy(dst, c.src, static_cast<size_t>(c.bytes));
    }
    f.cp_groups.pop_front();
  }
}

void run_wg_groups(int g, size_t keep) {
  Block& b = *g_block;
  auto& groups = b.wg_groups[static_cast<size_t>(g)];
  while (groups.size() > keep) {
    for (const WgOp& op : groups.front()) ptx::wgmma_m64nNk16_bf16_f32(op.n, b.window, op.da, op.db, op.scale_d, op.d);
    groups.pop_front();
  }
}

// The order in which a pass resumes the threads (SANA_EMU_ORDER): forward (default), reverse, or
// shuffle (a new pseudo-random order every pass, seeded by SANA_EMU_SEED). A race that the forward
// order happens to serialise (the writer running before the reader) may show in another order.
void order_pass(std::vector<int>& order) {
  static const int mode = [] {
    const char* s = std::getenv("SANA_EMU_ORDER");
    if (s == nullptr || std::strcmp(s, "forward") == 0) return 0;
    if (std::strcmp(s, "reverse") == 0) return 1;
    if (std::strcmp(s, "shuffle") == 0) return 2;
    std::fprintf(stderr, "[sana-emu] SANA_EMU_ORDER=%s is not forward, reverse or shuffle; using forward\n", s);
    return 0;
  }();
  static uint64_t state = [] {
    const char* s = std::getenv("SANA_EMU_SEED");
    return (s ? std::strtoull(s, nullptr, 10) : 1) * 0x9E3779B97F4A7C15ull + 1;
  }();
  const size_t n = order.size();
  if (mode == 1) {
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<int>(n - 1 - i);
  } else if (mode == 2) {
    for (size_t i = n; i > 1; --i) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      std::swap(order[i - 1], order[state % i]);
    }
  }
}

// Runs fiber f until it yields or ends. Kept apart (and not inlined) so that no local of the
// scheduler loop lives across the _setjmp.
__attribute__((noinline)) void switch_to(Fiber& f) {
  if (_setjmp(g_sched_jb) == 0) {
    if (!f.started) {
      f.started = true;
      swapcontext(&g_sched_uc, &f.ctx);
    } else {
      _longjmp(f.jb, 1);
    }
  }
}

// Resets `b` for a new block: poisoned shared memory, fibers with stacks stack_base … stack_base + n − 1.
void setup_block(Block& b, const Config& cfg, size_t stack_base) {
  const int n = b.nthreads;
  std::memset(b.arena, 0xFF, kArenaBytes);  // uninitialised shared memory reads as NaN
  b.window = ptx::SmemWindow{b.arena, kReserved, kReserved};
  b.exited = false;
  b.faulted = false;
  b.fault_code = cudaSuccess;
  b.fault.clear();
  b.dyn_offset = 0;
  b.dyn_bytes = cfg.smem;
  b.static_low = kArenaBytes;
  b.statics.clear();
  b.live = n;
  const int warps = (n + 31) / 32, wgs = (warps + 3) / 4;
  b.warp_live.assign(static_cast<size_t>(warps), 0);
  b.wg_live.assign(static_cast<size_t>(wgs), 0);
  b.warp_coll.assign(static_cast<size_t>(warps), Coll());
  b.wg_coll.assign(static_cast<size_t>(wgs), Coll());
  b.block_coll = Coll();
  b.named.clear();
  b.wg_open.assign(static_cast<size_t>(wgs), {});
  b.wg_groups.assign(static_cast<size_t>(wgs), {});
  b.fibers.assign(static_cast<size_t>(n), Fiber());
  for (int i = 0; i < n; ++i) {
    Fiber& f = b.fibers[static_cast<size_t>(i)];
    f.th.linear = i;
    f.th.tid = uint3{static_cast<unsigned>(i) % cfg.block.x, static_cast<unsigned>(i) / cfg.block.x % cfg.block.y,
                     static_cast<unsigned>(i) / (cfg.block.x * cfg.block.y)};
    f.stack = stack_for(stack_base + static_cast<size_t>(i));
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = f.stack;
    f.ctx.uc_stack.ss_size = kStackBytes;
    f.ctx.uc_link = nullptr;
    makecontext(&f.ctx, fiber_main, 0);
    ++b.warp_live[static_cast<size_t>(i / 32)];
    ++b.wg_live[static_cast<size_t>(i / 128)];
  }
}

// A block whose threads have all exited: whatever is still in flight lands before anyone looks, and its
// shared memory is gone (later cluster accesses to it fault).
void finish_block(Block& b) {
  if (!b.faulted) {
    for (size_t g = 0; g < b.wg_groups.size(); ++g) {
      try {
        run_wg_groups(static_cast<int>(g), 0);
      } catch (const std::exception& e) {
        fault(cudaErrorIllegalAddress, where() + ": " + e.what());
      }
    }
  }
  b.exited = true;
}

// Runs one cluster's blocks (one block without clusters) to the end, their threads interleaved.
cudaError_t run_cluster(const Config& cfg, std::vector<Block>& blocks) {
  const int n = blocks[0].nthreads;
  const int nb = static_cast<int>(blocks.size());
  for (int r = 0; r < nb; ++r) {
    g_block = &blocks[static_cast<size_t>(r)];
    setup_block(blocks[static_cast<size_t>(r)], cfg, static_cast<size_t>(r) * static_cast<size_t>(n));
  }
  g_cluster.blocks = &blocks;
  g_cluster.live = int64_t{n} * nb;
  g_cluster.arrived = 0;
  g_cluster.phase = 0;
  g_dep_pending = g_launch_pdl;  // each block (cluster) of a dependent starts before its primary completes
  set_poison(g_dep_pending);
  auto any_fault = [&]() -> Block* {
    for (Block& b : blocks) {
      if (b.faulted) return &b;
    }
    return nullptr;
  };
  auto epochs = [&] {
    uint64_t e = 0;
    for (const Block& b : blocks) e += b.epoch;
    return e;
  };
  auto enter = [&](Block& b) {
    g_block = &b;
    g_block_idx = b.idx;
  };
  std::vector<int> order(static_cast<size_t>(n) * static_cast<size_t>(nb));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  int64_t idle_passes = 0;
  while (g_cluster.live > 0 && any_fault() == nullptr) {
    const uint64_t epoch0 = epochs();
    bool ran = false, all_spun = true;
    order_pass(order);
    auto run_one = [&](int slot) {
      Block& b = blocks[static_cast<size_t>(slot / n)];
      const int i = slot % n;
      Fiber& f = b.fibers[static_cast<size_t>(i)];
      if (f.state != State::kRunnable && f.state != State::kSpinning) return;
      const bool was_spinning = f.state == State::kSpinning;
      f.state = State::kRunnable;
      enter(b);
      b.current = i;
      g_thread = &f.th;
      switch_to(f);
      g_thread = nullptr;
      ran = true;
      if (f.state == State::kDone) {
        --b.live;
        --b.warp_live[static_cast<size_t>(i / 32)];
        --b.wg_live[static_cast<size_t>(i / 128)];
        --g_cluster.live;
        if (f.cluster_phase == g_cluster.phase) --g_cluster.arrived;  // arrived, then exited without waiting
        try {
          on_exit_check();
          cluster_barrier_check();
        } catch (const KernelFault& e) {
          fault(e.code, where() + ": " + e.what());
        } catch (const std::exception& e) {
          fault(cudaErrorIllegalAddress, where() + ": " + e.what());
        }
        if (b.live == 0) finish_block(b);
      }
      if (!(f.state == State::kSpinning && was_spinning)) all_spun = false;
    };
    // The blocks of a cluster run ahead of one another: in the order their first thread comes in `order`,
    // each runs its threads round after round until it makes no more progress on its own (at most
    // kRunAhead rounds), so a block gets as far as its own threads allow while the others lag. A protocol
    // that relies on the blocks keeping pace (a block exiting while another may still reach its shared
    // memory) fails here. One block: one round, the plain pass.
    constexpr int kRunAhead = 4096;
    std::vector<int> block_order;
    for (int slot : order) {
      const int bi = slot / n;
      if (std::find(block_order.begin(), block_order.end(), bi) == block_order.end()) block_order.push_back(bi);
    }
    for (int bi : block_order) {
      for (int round = 0; round < (nb > 1 ? kRunAhead : 1) && any_fault() == nullptr; ++round) {
        const uint64_t before = epochs();
        for (size_t k = 0; k < order.size() && any_fault() == nullptr; ++k) {
          if (order[k] / n == bi) run_one(order[k]);
        }
        if (epochs() == before) break;
      }
    }
    if (any_fault() != nullptr) break;
    if (epochs() != epoch0) {
      idle_passes = 0;
      continue;
    }
    if (!ran || all_spun) {
      // Nothing changed in a whole pass. A dependent's primary completes now, at the latest (its threads
      // blocked in griddepcontrol.wait continue); else every live thread waits for something no thread will do.
      if (complete_primary(blocks)) {
        idle_passes = 0;
        continue;
      }
      if (++idle_passes < 2) continue;
      std::string who;
      int shown = 0;
      Block* first = nullptr;
      for (Block& b : blocks) {
        for (int i = 0; i < n; ++i) {
          const Fiber& f = b.fibers[static_cast<size_t>(i)];
          if (f.state == State::kDone) continue;
          if (first == nullptr) first = &b;
          std::string name = std::to_string(i);
          if (nb > 1) name = "rank " + std::to_string(b.rank) + " thread " + name;
          if (shown++ < 4) who += (who.empty() ? "" : ", ") + name + (f.state == State::kSpinning ? " (spinning)" : " (blocked)");
        }
      }
      enter(*first);
      fault(cudaErrorLaunchTimeout, where() + ": deadlock: " + std::to_string(g_cluster.live) + " live threads all wait (" + who +
                                        (g_cluster.live > 4 ? ", …" : "") + ")");
    }
  }
  g_dep_pending = false;
  set_poison(false);
  Block* bad = any_fault();
  if (bad != nullptr) {
    enter(*bad);
    return bad->fault_code;
  }
  return cudaSuccess;
}

}  // namespace

cudaError_t run_grid(const Config& cfg, const char* name, const std::function<void()>& body) {
  const uint64_t threads = uint64_t{cfg.block.x} * cfg.block.y * cfg.block.z;
  auto refuse = [&](cudaError_t e, const std::string& why) {
    std::fprintf(stderr, "[sana-emu] launch of %s refused: %s\n", name, why.c_str());
    record_launch_error(e);
    return e;
  };
  if (threads == 0 || threads > 1024 || cfg.block.z > 64) return refuse(cudaErrorInvalidConfiguration, "block " + std::to_string(threads) + " threads");
  if (cfg.grid.x == 0 || cfg.grid.y == 0 || cfg.grid.z == 0 || cfg.grid.y > 65535 || cfg.grid.z > 65535 || cfg.grid.x > 2147483647u) {
    return refuse(cudaErrorInvalidConfiguration, "grid (" + std::to_string(cfg.grid.x) + "," + std::to_string(cfg.grid.y) + "," + std::to_string(cfg.grid.z) + ")");
  }
  const dim3 cl = cfg.cluster;
  const uint64_t cluster_size = uint64_t{cl.x} * cl.y * cl.z;
  if (cluster_size == 0 || cluster_size > kMaxCluster || cfg.grid.x % cl.x != 0 || cfg.grid.y % cl.y != 0 || cfg.grid.z % cl.z != 0) {
    return refuse(cudaErrorInvalidClusterSize, "cluster (" + std::to_string(cl.x) + "," + std::to_string(cl.y) + "," + std::to_string(cl.z) +
                                                   ") for grid (" + std::to_string(cfg.grid.x) + "," + std::to_string(cfg.grid.y) + "," +
                                                   std::to_string(cfg.grid.z) + "): at most 8 blocks, dividing the grid");
  }
  std::string why;
  if (!dynamic_smem_allowed(name, cfg.smem, &why)) return refuse(cudaErrorInvalidValue, why);
  // One launch at a time in the process (the addon launches from worker threads): the scheduler's
  // state is global, and a real device would serialise launches on one stream too.
  static std::recursive_mutex launch_mu;
  std::lock_guard<std::recursive_mutex> lock(launch_mu);
  if (g_block != nullptr) return refuse(cudaErrorNotSupported, "a launch from inside a kernel");
  std::vector<Block> blocks(static_cast<size_t>(cluster_size));
  for (unsigned r = 0; r < cluster_size; ++r) {
    Block& b = blocks[r];
    b.nthreads = static_cast<int>(threads);
    b.body = &body;
    b.rank = r;
    b.arena = arena_for(r);
  }
  g_kernel_name = name;
  g_launch_pdl = cfg.pdl;
  if (cfg.pdl) g_pdl_launches.fetch_add(1, std::memory_order_relaxed);
  g_grid_dim = cfg.grid;
  g_block_dim = cfg.block;
  cudaError_t err = cudaSuccess;
  std::string failure;
  // Clusters in grid order; a cluster's blocks ranked x fastest (%cluster_ctarank).
  for (unsigned z = 0; z < cfg.grid.z && err == cudaSuccess; z += cl.z) {
    for (unsigned y = 0; y < cfg.grid.y && err == cudaSuccess; y += cl.y) {
      for (unsigned x = 0; x < cfg.grid.x && err == cudaSuccess; x += cl.x) {
        for (unsigned r = 0; r < cluster_size; ++r) blocks[r].idx = uint3{x + r % cl.x, y + r / cl.x % cl.y, z + r / (cl.x * cl.y)};
        err = run_cluster(cfg, blocks);
        if (err != cudaSuccess) failure = g_block->fault;
      }
    }
  }
  g_block = nullptr;
  g_cluster = Cluster();
  g_launch_pdl = false;
  if (err != cudaSuccess) std::fprintf(stderr, "[sana-emu] kernel %s failed: %s\n", name, failure.c_str());
  record_launch_error(err);
  return err;
}

const ptx::SmemWindow& smem_window() { return g_block->window; }

void* dynamic_smem(size_t align) {
  Block& b = *g_block;
  if (b.dyn_offset == 0) {
    // Honour the declared alignment but no more: a kernel that needs 1 KiB alignment must make it.
    const uint32_t a = static_cast<uint32_t>(std::max<size_t>(align, 16));
    b.dyn_offset = (kReserved + 16 + a - 1) / a * a;
    if (b.dyn_offset + b.dyn_bytes > b.static_low) throw KernelFault(cudaErrorInvalidValue, "dynamic + static shared memory over the emulated 256 KiB");
    b.window.size = b.dyn_offset + static_cast<uint32_t>(b.dyn_bytes);
  }
  return b.arena + b.dyn_offset;
}

void* static_smem(size_t bytes, size_t align, size_t type_align, const char* file, int line, const char* name) {
  Block& b = *g_block;
  auto& at_line = b.statics[{file, line}];
  const auto it = at_line.find(name);
  if (it != at_line.end()) return b.arena + it->second;
  const size_t a = std::max<size_t>({align, type_align, 4});
  if (bytes + a > b.static_low) throw KernelFault(cudaErrorInvalidValue, std::string("static __shared__ ") + name + " does not fit");
  const uint32_t off = static_cast<uint32_t>((b.static_low - bytes) / a * a);
  if (off < b.dyn_offset + b.dyn_bytes || off < kReserved) throw KernelFault(cudaErrorInvalidValue, std::string("static __shared__ ") + name + " does not fit beside the dynamic shared memory");
  b.static_low = off;
  b.window.static_lo = off;  // the emulated PTX may address static variables too (an mbarrier, a staging tile)
  b.window.static_hi = kArenaBytes;
  at_line[name] = off;
  return b.arena + off;
}

uint32_t shared_address(const void* p) {
  const uint8_t* q = static_cast<const uint8_t*>(p);
  const uint8_t* arena = g_block->arena;
  if (q < arena || q >= arena + kArenaBytes) {
    throw KernelFault(cudaErrorInvalidAddressSpace, "__cvta_generic_to_shared of a pointer that is not in the block's shared memory");
  }
  return static_cast<uint32_t>(q - arena);
}

void syncthreads() {
  static const std::function<void(void* const*)> none = [](void* const*) {};
  arrive(g_block->block_coll, -1, g_block->live, "__syncthreads", nullptr, none, "block barrier");
}

void syncwarp(unsigned mask) {
  if (mask != 0xffffffffu) throw KernelFault(cudaErrorNotSupported, "__syncwarp with a partial mask is not emulated");
  static const std::function<void(void* const*)> none = [](void* const*) {};
  const int w = warp_of(me());
  arrive(g_block->warp_coll[static_cast<size_t>(w)], -1, g_block->warp_live[static_cast<size_t>(w)], "__syncwarp", nullptr, none, "warp");
}

void named_barrier(int id, int count) {
  if (id < 0 || id > 15 || count <= 0 || count % 32 != 0) throw KernelFault(cudaErrorIllegalInstruction, "bar.sync with id " + std::to_string(id) + ", count " + std::to_string(count));
  static const std::function<void(void* const*)> none = [](void* const*) {};
  Coll& c = g_block->named[id];
  arrive(c, -1, count, "bar.sync", nullptr, none, "named barrier");
}

void trap() { throw KernelFault(cudaErrorLaunchFailure, "__trap()"); }

void spin_yield() {
  Fiber& f = me();
  if (++f.spins > (int64_t{1} << 24)) throw KernelFault(cudaErrorLaunchTimeout, "spun 2^24 times");
  f.state = State::kSpinning;
  yield_to_scheduler();
}

void progress() { ++g_block->epoch; }

void warp_collective(const char* what, void* payload, const std::function<void(void* const*)>& op) {
  const int w = warp_of(me());
  arrive(g_block->warp_coll[static_cast<size_t>(w)], me().th.linear % 32, g_block->warp_live[static_cast<size_t>(w)], what, payload, op, "warp collective");
}

void warpgroup_collective(const char* what, void* payload, const std::function<void(void* const*)>& op) {
  const int g = me().th.linear / 128;
  arrive(g_block->wg_coll[static_cast<size_t>(g)], me().th.linear % 128, g_block->wg_live[static_cast<size_t>(g)], what, payload, op, "warpgroup collective");
}

void cp_async16(uint32_t dst, const void* src, int src_bytes) {
  const ptx::SmemWindow& w = g_block->window;
  if (dst % 16 != 0 || !w.contains(dst, 16)) {
    throw KernelFault(cudaErrorIllegalAddress, "cp.async 16 bytes to shared address " + std::to_string(dst) + " outside [" + std::to_string(w.lo) + ", " +
                                                   std::to_string(w.size) + ") or not 16-byte aligned");
  }
  if (src_bytes < 0 || src_bytes > 16) throw KernelFault(cudaErrorIllegalInstruction, "cp.async src-size " + std::to_string(src_bytes));
  if (src_bytes > 0) check_dependency("cp.async");
  if (src_bytes > 0 && reinterpret_cast<uintptr_t>(src) % 16 != 0) throw KernelFault(cudaErrorMisalignedAddress, "cp.async 16 from a global address not 16-byte aligned");
  std::memset(w.base + dst, 0xFF, 16);  // read before cp.async.wait_group: NaN
  me().cp_open.push_back(Copy{dst, src, src_bytes});
}

void cp_async_commit() {
  Fiber& f = me();
  f.cp_groups.push_back(std::move(f.cp_open));
  f.cp_open.clear();
}

void cp_async_wait(int n) { flush_cp_async(me(), static_cast<size_t>(std::max(n, 0))); }

void wgmma_fence() {}

void wgmma_issue(int n, uint64_t desc_a, uint64_t desc_b, bool scale_d, float* d) {
  struct P {
    int n;
    uint64_t da, db;
    bool scale;
    float* d;
    int g;
  } p{n, desc_a, desc_b, scale_d, d, me().th.linear / 128};
  static const std::function<void(void* const*)> op = [](void* const* ps) {
    const P* p0 = static_cast<const P*>(ps[0]);
    WgOp o{};
    for (int t = 0; t < 128; ++t) {
      const P* pt = static_cast<const P*>(ps[t]);
      if (pt == nullptr) throw KernelFault(cudaErrorIllegalInstruction, "wgmma.mma_async without all 128 threads of the warpgroup");
      if (pt->n != p0->n || pt->da != p0->da || pt->db != p0->db || pt->scale != p0->scale) {
        throw KernelFault(cudaErrorIllegalInstruction, "wgmma.mma_async with operands that differ between threads of the warpgroup");
      }
      o.d[t] = pt->d;
    }
    o.n = p0->n;
    o.da = p0->da;
    o.db = p0->db;
    o.scale_d = p0->scale;
    g_block->wg_open[static_cast<size_t>(p0->g)].push_back(o);
  };
  warpgroup_collective("wgmma.mma_async", &p, op);
}

struct WgPayload {
  int g, n;
};
// Every thread of the warpgroup must take part in its wgmma instructions.
const WgPayload& wg_payload(void* const* ps, const char* what) {
  for (int t = 0; t < 128; ++t) {
    if (ps[t] == nullptr) throw KernelFault(cudaErrorIllegalInstruction, std::string(what) + " without all 128 threads of the warpgroup");
  }
  return *static_cast<const WgPayload*>(ps[0]);
}

void wgmma_commit() {
  WgPayload p{me().th.linear / 128, 0};
  static const std::function<void(void* const*)> op = [](void* const* ps) {
    const size_t g = static_cast<size_t>(wg_payload(ps, "wgmma.commit_group").g);
    g_block->wg_groups[g].push_back(std::move(g_block->wg_open[g]));
    g_block->wg_open[g].clear();
  };
  warpgroup_collective("wgmma.commit_group", &p, op);
}

void wgmma_wait(int n) {
  WgPayload p{me().th.linear / 128, n};
  static const std::function<void(void* const*)> op = [](void* const* ps) {
    const WgPayload& q = wg_payload(ps, "wgmma.wait_group");
    run_wg_groups(q.g, static_cast<size_t>(std::max(q.n, 0)));
  };
  warpgroup_collective("wgmma.wait_group", &p, op);
}

// ---- thread-block clusters ----

unsigned cluster_ctarank() { return g_block->rank; }
unsigned cluster_nctarank() { return static_cast<unsigned>(g_cluster.blocks->size()); }

uint32_t mapa(uint32_t addr, unsigned rank) {
  if (rank >= cluster_nctarank()) {
    throw KernelFault(cudaErrorIllegalAddress, "mapa to rank " + std::to_string(rank) + " in a cluster of " + std::to_string(cluster_nctarank()));
  }
  if (addr >> kClusterRankShift != 0) throw KernelFault(cudaErrorIllegalAddress, "mapa of an address that is not a shared::cta address");
  return (rank + 1) << kClusterRankShift | addr;
}

namespace {
// The block a shared::cluster address names, and the address inside it; its shared memory must still exist.
Block& cluster_target(uint32_t addr, uint32_t* offset, const char* instr) {
  const uint32_t hi = addr >> kClusterRankShift;
  *offset = addr & ((1u << kClusterRankShift) - 1);
  if (hi == 0) return *g_block;
  if (hi > cluster_nctarank()) throw KernelFault(cudaErrorIllegalAddress, std::string(instr) + ": shared::cluster address of rank " + std::to_string(hi - 1) + " outside the cluster");
  Block& t = (*g_cluster.blocks)[hi - 1];
  if (t.exited) throw KernelFault(cudaErrorIllegalAddress, std::string(instr) + ": the shared memory of cluster rank " + std::to_string(hi - 1) + ", whose block has exited");
  return t;
}

// Every block of a multicast mask, checked.
std::vector<Block*> multicast_targets(uint16_t mask, const char* instr) {
  if (mask == 0) throw KernelFault(cudaErrorIllegalInstruction, std::string(instr) + " with an empty ctaMask");
  std::vector<Block*> out;
  for (unsigned r = 0; r < 16; ++r) {
    if ((mask >> r & 1) == 0) continue;
    if (r >= cluster_nctarank()) throw KernelFault(cudaErrorIllegalAddress, std::string(instr) + ": ctaMask names rank " + std::to_string(r) + " in a cluster of " + std::to_string(cluster_nctarank()));
    Block& t = (*g_cluster.blocks)[r];
    if (t.exited) throw KernelFault(cudaErrorIllegalAddress, std::string(instr) + ": into the shared memory of cluster rank " + std::to_string(r) + ", whose block has exited");
    out.push_back(&t);
  }
  return out;
}
}  // namespace

void mbar_arrive_cluster(uint32_t cluster_addr) {
  uint32_t off = 0;
  Block& t = cluster_target(cluster_addr, &off, "mbarrier.arrive.shared::cluster");
  ptx::mbarrier_arrive(t.window, off, 0);
  ++t.epoch;
  progress();
}

void cluster_arrive() {
  Fiber& f = me();
  if (f.cluster_phase >= 0) throw KernelFault(cudaErrorIllegalInstruction, "barrier.cluster.arrive twice without a barrier.cluster.wait between");
  f.cluster_phase = g_cluster.phase;
  ++g_cluster.arrived;
  progress();
  cluster_barrier_check();
}

void cluster_wait() {
  Fiber& f = me();
  if (f.cluster_phase < 0) throw KernelFault(cudaErrorIllegalInstruction, "barrier.cluster.wait without a barrier.cluster.arrive before it");
  while (g_cluster.phase == f.cluster_phase) spin_yield();
  f.cluster_phase = -1;
}

void tma_load_2d_multicast(uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1, uint32_t bar, uint16_t cta_mask) {
  constexpr const char* instr = "cp.async.bulk.tensor.2d multicast::cluster";
  if ((dst | bar) >> kClusterRankShift != 0) throw KernelFault(cudaErrorIllegalAddress, std::string(instr) + ": dst and mbar must be the executing block's offsets");
  check_dependency(instr);
  for (Block* t : multicast_targets(cta_mask, instr)) {
    const uint32_t bytes = ptx::tma_load_2d(t->window, dst, map, c0, c1);
    ptx::mbarrier_complete_tx(t->window, bar, bytes);
    ++t->epoch;
  }
  progress();
}

// ---- programmatic dependent launch ----

void grid_dependency_wait() {
  Fiber& f = me();
  f.dep_waited = true;
  if (!g_dep_pending) return;  // not a dependent, or its primary has completed
  f.at_dep_wait = true;
  f.state = State::kBlocked;
  yield_to_scheduler();
}

void launch_dependents() {}

void check_dependency(const char* what) {
  if (g_launch_pdl && g_block != nullptr && !me().dep_waited) {
    throw KernelFault(cudaErrorIllegalAddress, std::string(what) + " reads global memory before griddepcontrol.wait in a kernel launched as a programmatic "
                                                                   "dependent (PDL): the kernel ahead of it may still be writing it");
  }
}

int64_t pdl_launch_count() { return g_pdl_launches.load(std::memory_order_relaxed); }

bool refuse_pdl() {
  static const bool refuse = [] {
    const char* e = std::getenv("SANA_EMU_REFUSE_PDL");
    return e != nullptr && std::strcmp(e, "1") == 0;
  }();
  return refuse;
}

}  // namespace sana_emu
