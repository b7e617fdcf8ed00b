// The CPU backend's thread pool: one process-wide pool of worker threads plus the calling thread.
// Size: SANA_LAB_THREADS if set (a positive integer), else the hardware threads; set_cpu_threads()
// overrides both at run time (sana-lab's `threads` option). One parallel region runs at a time (a
// second caller waits), and a parallel_for called from inside a task runs serially in that task.
#pragma once
#include <cstdint>
#include <functional>

namespace sana::cpu {

// Run fn(i) for i in [0, n), spread over the pool with dynamic scheduling.
void parallel_for(int64_t n, const std::function<void(int64_t)>& fn);

// Threads the pool uses now (>= 1).
int cpu_threads();

// Resize the pool (n >= 1; clamped to 1024). Waits for a running parallel region to finish.
void set_cpu_threads(int n);

}  // namespace sana::cpu
