// Glue shared by the op bindings: reads an op's argument object ({x, w, bias, ..., out}) into
// TensorViews, keeps every tensor's storage alive for the op's duration, checks that all tensors live
// on one backend, and runs the kernel either synchronously or on a libuv worker thread (a Promise).
// A non-OK Status becomes a JS error naming the op: kInvalidArgument and kOutOfMemory → RangeError
// (out of memory also lists the op's tensors), others → Error.
//
// Device timing (runtime.timeOp, bindings/native/runtime.cpp): the op function is called with a
// TimingRequest installed for the current thread; the OpCall takes it and, instead of running the op
// once, times its body with cuda::time_launches on a worker thread (a Promise of the timing).
#pragma once
#include <napi.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor_handle.h"

namespace sana::binding {

struct OpState {
  std::deque<TensorView> views;                  // stable addresses for optional-tensor pointers
  std::vector<std::string> names;                // the argument key of each view (for error messages)
  std::vector<std::shared_ptr<Storage>> keep;    // storages alive until the op finishes
  const OpTable* backend = nullptr;
};

// What runtime.timeOp asks of the next op call on this thread (warm-up, repetitions, L2 flush).
struct TimingRequest {
  int warmup = 3, min_reps = 5, max_reps = 100;
  double budget_ms = 2000;
  bool flush_l2 = true;
  bool taken = false;  // set by the OpCall that takes it (else the function was no op)
};

// Installs `r` as this thread's pending timing request for the lifetime of the guard.
class TimingRequestScope {
 public:
  explicit TimingRequestScope(TimingRequest* r);
  ~TimingRequestScope();
  TimingRequestScope(const TimingRequestScope&) = delete;
  TimingRequestScope& operator=(const TimingRequestScope&) = delete;
};

class OpCall {
 public:
  // info[0]: the argument object; info[1]: true for async (returns a Promise).
  OpCall(const Napi::CallbackInfo& info, std::string op);

  TensorView& tensor(const char* key);           // required
  const TensorView* optional(const char* key);   // absent, undefined or null → nullptr
  double number(const char* key, double fallback);
  int64_t integer(const char* key, int64_t fallback);
  Activation activation(const char* key);
  // The kernel version option `version` (integer ≥ 0; 0 = the backend's default), read once.
  int version();

  // Runs body(backend) now or on a worker thread (or, under a timing request, times it on the device).
  Napi::Value run(std::function<Status(const OpTable&)> body);

  const std::string& op() const { return op_; }
  Napi::Env env() const { return env_; }
  // The backend of the tensors read so far (null before the first).
  const OpTable* backend() const { return st_->backend; }

 private:
  TensorView& add(const Napi::Value& v, const char* key);
  Napi::Env env_;
  std::string op_;
  Napi::Object args_;
  bool async_ = false;
  int version_ = -1;
  TimingRequest* timing_ = nullptr;
  std::shared_ptr<OpState> st_;
};

Napi::Error status_error(Napi::Env env, const Status& s);

// status_error for an op's Status; out-of-memory messages also list the op's tensors and shapes.
Napi::Error op_error(Napi::Env env, const Status& s, const OpState& st);

}  // namespace sana::binding
