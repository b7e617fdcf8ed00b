// The process-wide CPU thread pool (see sana/thread_pool.h). Workers sleep on a condition variable
// between regions; tasks are claimed from an atomic counter, so uneven task costs balance themselves.
#include "sana/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "sana/device_info.h"

namespace sana::cpu {
namespace {

thread_local bool t_inside_region = false;

int threads_from_env() {
  const char* s = std::getenv("SANA_LAB_THREADS");
  if (s != nullptr && *s != '\0') {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    if (end != s && *end == '\0' && v >= 1) return static_cast<int>(std::min(v, 1024L));
    // said once, when the pool starts: an ignored setting would otherwise look like a slow machine
    std::fprintf(stderr, "[sana-lab] SANA_LAB_THREADS=\"%s\" is not an integer >= 1: using %d threads (the hardware's)\n", s, cpu_default_threads());
  }
  return cpu_default_threads();
}

class Pool {
 public:
  explicit Pool(int n) { start(n); }
  ~Pool() { stop(); }

  int size() const { return n_threads_; }

  void resize(int n) {
    std::lock_guard<std::mutex> region(region_mu_);
    stop();
    start(n);
  }

  void run(int64_t n, const std::function<void(int64_t)>& fn) {
    if (n <= 0) return;
    if (n == 1 || n_threads_ == 1 || t_inside_region) {
      for (int64_t i = 0; i < n; ++i) fn(i);
      return;
    }
    std::lock_guard<std::mutex> region(region_mu_);
    {
      std::lock_guard<std::mutex> lk(mu_);
      fn_ = &fn;
      n_tasks_ = n;
      next_.store(0);
      busy_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    cv_.notify_all();
    work();
    std::exception_ptr error;
    {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, [&] { return busy_ == 0; });
      fn_ = nullptr;
      error = error_;
      error_ = nullptr;
    }
    if (error) std::rethrow_exception(error);  // e.g. std::bad_alloc in a task: the op reports it
  }

 private:
  void work() {
    t_inside_region = true;
    for (;;) {
      int64_t i = next_.fetch_add(1);
      if (i >= n_tasks_) break;
      try {
        (*fn_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu_);
        if (!error_) error_ = std::current_exception();
        next_.store(n_tasks_);  // stop handing out tasks
      }
    }
    t_inside_region = false;
  }

  void worker_loop(uint64_t seen) {
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return quit_ || generation_ != seen; });
        if (quit_) return;
        seen = generation_;
      }
      work();
      std::lock_guard<std::mutex> lk(mu_);
      if (--busy_ == 0) done_cv_.notify_one();
    }
  }

  void start(int n) {
    n_threads_ = std::max(1, std::min(n, 1024));
    quit_ = false;
    uint64_t gen = generation_;
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, gen] { worker_loop(gen); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  int n_threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex region_mu_;  // one parallel region (or resize) at a time
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t n_tasks_ = 0;
  std::atomic<int64_t> next_{0};
  int busy_ = 0;
  uint64_t generation_ = 0;
  bool quit_ = false;
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool* p = new Pool(threads_from_env());  // leaked on purpose: no join at process exit
  return *p;
}

}  // namespace

void parallel_for(int64_t n, const std::function<void(int64_t)>& fn) { pool().run(n, fn); }

int cpu_threads() { return pool().size(); }

void set_cpu_threads(int n) { pool().resize(n); }

}  // namespace sana::cpu
