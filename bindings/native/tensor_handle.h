// Backend tensors as seen from JavaScript: an External wrapping a TensorHandle (dtype, shape and a
// shared reference to the device storage; the parts of an arena share one storage at disjoint offsets). dispose() drops the handle's reference; an op in flight
// holds its own reference, so memory is freed only when both are gone. The External's finalizer does
// the same when JS garbage-collects an undisposed tensor.
#pragma once
#include <napi.h>

#include <memory>

#include "sana/ops.h"
#include "sana/tensor_view.h"

namespace sana::binding {

struct Storage {
  const OpTable* backend = nullptr;
  void* data = nullptr;
  int64_t bytes = 0;
  Storage(const OpTable* b, void* d, int64_t n) : backend(b), data(d), bytes(n) {}
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (data) backend->free(data);
  }
};

struct TensorHandle {
  std::shared_ptr<Storage> storage;  // null once disposed
  int64_t offset = 0;                // bytes into the storage (a part of an arena; 0 otherwise)
  DType dtype = DType::kF32;
  int32_t ndim = 0;
  int64_t shape[kMaxDims] = {0};
  int64_t bytes = 0;
  bool accounted = false;  // counted in V8's external memory

  TensorView view() const {
    TensorView v;
    v.data = storage ? static_cast<uint8_t*>(storage->data) + offset : nullptr;
    v.dtype = dtype;
    v.device = storage ? storage->backend->device : Device::kCpu;
    v.ndim = ndim;
    for (int i = 0; i < ndim; ++i) v.shape[i] = shape[i];
    return v;
  }
};

// The handle behind a JS value, or throws a TypeError "<op>: <what> is not a backend tensor / is disposed".
TensorHandle* unwrap_tensor(const Napi::Value& v, const std::string& op, const std::string& what, bool allow_disposed = false);

// The backend by name ("cpu"; later "cuda"), or throws an Error naming what is missing.
const OpTable* backend_by_name(Napi::Env env, const std::string& name, const std::string& op);

}  // namespace sana::binding
