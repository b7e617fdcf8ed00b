// OpCall (see op_call.h): argument parsing, backend checks and the async worker for every op binding.
#include "op_call.h"

#include <cmath>

#ifdef SANA_LAB_WITH_CUDA
#include "sana/cuda/ops_cuda.h"
#endif

namespace sana::binding {
namespace {

thread_local TimingRequest* t_timing_request = nullptr;

class OpWorker : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, std::string op, std::shared_ptr<OpState> st, std::function<Status(const OpTable&)> body)
      : Napi::AsyncWorker(env, op.c_str()), deferred_(Napi::Promise::Deferred::New(env)), st_(std::move(st)), body_(std::move(body)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override { status_ = body_(*st_->backend); }

  void OnOK() override {
    Napi::Value err = status_.ok() ? Env().Undefined() : op_error(Env(), status_, *st_).Value();
    st_.reset();  // release the storages before resolving, so a dispose() in .then() frees at once
    if (status_.ok()) deferred_.Resolve(Env().Undefined());
    else deferred_.Reject(err);
  }

  void OnError(const Napi::Error& e) override {
    st_.reset();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<OpState> st_;
  std::function<Status(const OpTable&)> body_;
  Status status_;
};

// Times an op's body on the device (cuda::time_launches) and resolves with the timing in ms.
class TimingWorker : public Napi::AsyncWorker {
 public:
  TimingWorker(Napi::Env env, std::string op, std::shared_ptr<OpState> st, std::function<Status(const OpTable&)> body, TimingRequest req)
      : Napi::AsyncWorker(env, op.c_str()), deferred_(Napi::Promise::Deferred::New(env)), op_(std::move(op)), st_(std::move(st)),
        body_(std::move(body)), req_(req) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
#ifdef SANA_LAB_WITH_CUDA
    cuda::TimingOptions o;
    o.warmup = req_.warmup;
    o.min_reps = req_.min_reps;
    o.max_reps = req_.max_reps;
    o.budget_ms = req_.budget_ms;
    o.flush_l2 = req_.flush_l2;
    const OpTable& be = *st_->backend;
    status_ = cuda::time_launches(op_.c_str(), [&]() { return body_(be); }, o, &t_);
#else
    status_ = Unavailable(op_ + ": device timing needs an addon built with CUDA");
#endif
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Value err = status_.ok() ? env.Undefined() : op_error(env, status_, *st_).Value();
    st_.reset();
    if (!status_.ok()) {
      deferred_.Reject(err);
      return;
    }
    Napi::Object o = Napi::Object::New(env);
#ifdef SANA_LAB_WITH_CUDA
    o.Set("medianMs", t_.median_ms);
    o.Set("p20Ms", t_.p20_ms);
    o.Set("p80Ms", t_.p80_ms);
    o.Set("meanMs", t_.mean_ms);
    o.Set("minMs", t_.min_ms);
    o.Set("maxMs", t_.max_ms);
    o.Set("stderrMs", t_.stderr_ms);
    o.Set("reps", t_.reps);
    o.Set("warmup", t_.warmup);
    o.Set("flushBytes", static_cast<double>(t_.flush_bytes));
    Napi::Array samples = Napi::Array::New(env, t_.samples_ms.size());
    for (size_t i = 0; i < t_.samples_ms.size(); ++i) samples.Set(static_cast<uint32_t>(i), t_.samples_ms[i]);
    o.Set("samplesMs", samples);
#endif
    deferred_.Resolve(o);
  }

  void OnError(const Napi::Error& e) override {
    st_.reset();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string op_;
  std::shared_ptr<OpState> st_;
  std::function<Status(const OpTable&)> body_;
  TimingRequest req_;
  Status status_;
#ifdef SANA_LAB_WITH_CUDA
  cuda::Timing t_;
#endif
};

}  // namespace

TimingRequestScope::TimingRequestScope(TimingRequest* r) { t_timing_request = r; }
TimingRequestScope::~TimingRequestScope() { t_timing_request = nullptr; }

Napi::Error status_error(Napi::Env env, const Status& s) {
  if (s.code() == Code::kInvalidArgument || s.code() == Code::kOutOfMemory) return Napi::RangeError::New(env, s.message());
  return Napi::Error::New(env, s.message());
}

Napi::Error op_error(Napi::Env env, const Status& s, const OpState& st) {
  if (s.code() != Code::kOutOfMemory) return status_error(env, s);
  std::string m = s.message() + " (tensors:";
  for (size_t i = 0; i < st.views.size() && i < st.names.size(); ++i) {
    m += (i ? ", " : " ") + st.names[i] + " " + dtype_name(st.views[i].dtype) + st.views[i].shape_str();
  }
  return Napi::RangeError::New(env, m + ")");
}

OpCall::OpCall(const Napi::CallbackInfo& info, std::string op) : env_(info.Env()), op_(std::move(op)), st_(std::make_shared<OpState>()) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env_, op_ + ": expected an argument object");
  args_ = info[0].As<Napi::Object>();
  async_ = info.Length() >= 2 && info[1].ToBoolean().Value();
  // A pending timing request belongs to the first op call made under it (runtime.timeOp).
  timing_ = t_timing_request;
  t_timing_request = nullptr;
}

TensorView& OpCall::add(const Napi::Value& v, const char* key) {
  TensorHandle* h = unwrap_tensor(v, op_, key);
  const OpTable* be = h->storage->backend;
  if (st_->backend == nullptr) st_->backend = be;
  if (be != st_->backend) {
    throw Napi::TypeError::New(env_, op_ + ": " + key + " is on backend " + be->name + " but earlier tensors are on " + st_->backend->name);
  }
  st_->keep.push_back(h->storage);
  st_->views.push_back(h->view());
  st_->names.emplace_back(key);
  return st_->views.back();
}

TensorView& OpCall::tensor(const char* key) {
  Napi::Value v = args_.Get(key);
  if (v.IsUndefined() || v.IsNull()) throw Napi::TypeError::New(env_, op_ + ": missing tensor '" + key + "'");
  return add(v, key);
}

const TensorView* OpCall::optional(const char* key) {
  Napi::Value v = args_.Get(key);
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  return &add(v, key);
}

double OpCall::number(const char* key, double fallback) {
  Napi::Value v = args_.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw Napi::TypeError::New(env_, op_ + ": option '" + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

int64_t OpCall::integer(const char* key, int64_t fallback) {
  double d = number(key, static_cast<double>(fallback));
  if (d != std::floor(d) || std::fabs(d) > 9007199254740991.0) {
    throw Napi::RangeError::New(env_, op_ + ": option '" + key + "' must be an integer, got " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

Activation OpCall::activation(const char* key) {
  Napi::Value v = args_.Get(key);
  if (v.IsUndefined() || v.IsNull()) return Activation::kNone;
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "none") return Activation::kNone;
  if (s == "relu") return Activation::kRelu;
  if (s == "silu") return Activation::kSilu;
  if (s == "gelu-tanh") return Activation::kGeluTanh;
  throw Napi::TypeError::New(env_, op_ + ": activation must be 'none', 'relu', 'silu' or 'gelu-tanh'");
}

int OpCall::version() {
  if (version_ < 0) {
    const int64_t v = integer("version", 0);
    if (v < 0 || v > 1000) throw Napi::RangeError::New(env_, op_ + ": option 'version' must be an integer >= 0 (0 = the default), got " + std::to_string(v));
    version_ = static_cast<int>(v);
  }
  return version_;
}

Napi::Value OpCall::run(std::function<Status(const OpTable&)> body) {
  if (st_->backend == nullptr) throw Napi::TypeError::New(env_, op_ + ": no tensors given");
  if (timing_ != nullptr) {
    timing_->taken = true;
    if (st_->backend->device != Device::kCuda) {
      throw Napi::TypeError::New(env_, op_ + ": device timing needs tensors on the cuda backend, these are on " + st_->backend->name);
    }
    auto* w = new TimingWorker(env_, op_, st_, std::move(body), *timing_);
    st_.reset();
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }
  if (!async_) {
    Status s = body(*st_->backend);
    if (!s.ok()) {
      Napi::Error e = op_error(env_, s, *st_);
      st_.reset();
      throw e;
    }
    st_.reset();
    return env_.Undefined();
  }
  auto* w = new OpWorker(env_, op_, st_, std::move(body));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

}  // namespace sana::binding
