// OpCall (see op_call.h): argument parsing, backend checks and the async worker for every op binding.
#include "op_call.h"

#include <cmath>

namespace sana::binding {
namespace {

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

}  // namespace

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

Napi::Value OpCall::run(std::function<Status(const OpTable&)> body) {
  if (st_->backend == nullptr) throw Napi::TypeError::New(env_, op_ + ": no tensors given");
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
