// Tensor allocation, host copies and disposal for the native backends:
//   tensorEmpty(backend, dtype, shape) / tensorFromArray(backend, dtype, shape, typedArray)
//   tensorArena(backend, dtype, shapes) → one tensor per shape, sharing one allocation
//   tensorWrite(t, typedArray) / tensorToArray(t) / tensorDispose(t) / tensorIsAlive(t) / tensorInfo(t)
// dtype is 'f32' (Float32Array) or 'bf16' (Uint16Array of bit patterns). Sizes are checked for
// overflow before anything is allocated; allocation failure is a JS Error naming the size.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "registry.h"
#include "tensor_handle.h"

#ifdef SANA_LAB_WITH_CUDA
#include "sana/cuda/ops_cuda.h"  // cuda_op_table(), cuda::device_available()
#endif

namespace sana::binding {
namespace {

const napi_type_tag kTensorTag = {0x5a4a1ab5c0ffee01ULL, 0x7e45a0b0d1e2f3a4ULL};

DType parse_dtype(const Napi::Value& v, const std::string& op) {
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s == "f32") return DType::kF32;
    if (s == "bf16") return DType::kBF16;
    throw Napi::TypeError::New(v.Env(), op + ": dtype '" + s + "' is not supported by native tensors (use 'f32' or 'bf16')");
  }
  throw Napi::TypeError::New(v.Env(), op + ": dtype must be the string 'f32' or 'bf16'");
}

// Reads a JS shape array into h, checking every dimension and the total byte count for overflow.
void parse_shape(const Napi::Value& v, TensorHandle& h, const std::string& op) {
  Napi::Env env = v.Env();
  if (!v.IsArray()) throw Napi::TypeError::New(env, op + ": shape must be an array of non-negative integers");
  auto arr = v.As<Napi::Array>();
  if (arr.Length() > static_cast<uint32_t>(kMaxDims)) {
    throw Napi::RangeError::New(env, op + ": " + std::to_string(arr.Length()) + " dimensions, at most " + std::to_string(kMaxDims));
  }
  h.ndim = static_cast<int32_t>(arr.Length());
  const double kMax = 9007199254740991.0;  // 2^53 − 1
  double total = 1;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value d = arr.Get(i);
    if (!d.IsNumber()) throw Napi::TypeError::New(env, op + ": shape[" + std::to_string(i) + "] is not a number");
    double x = d.As<Napi::Number>().DoubleValue();
    if (!(x >= 0) || x != std::floor(x) || x > kMax) {
      throw Napi::RangeError::New(env, op + ": shape[" + std::to_string(i) + "] = " + d.ToString().Utf8Value() + " is not a non-negative integer");
    }
    h.shape[i] = static_cast<int64_t>(x);
    total *= x;
  }
  const double bytes = total * static_cast<double>(dtype_bytes(h.dtype));
  if (bytes > static_cast<double>(int64_t{1} << 52)) {
    char n[64];
    std::snprintf(n, sizeof n, "%.4g", bytes);
    throw Napi::RangeError::New(env, op + ": " + dtype_name(h.dtype) + h.view().shape_str() + " is too large (" + n + " bytes; at most 2^52)");
  }
  h.bytes = static_cast<int64_t>(bytes);
}

void finalize(Napi::Env env, TensorHandle* h) {
  if (h->accounted) Napi::MemoryManagement::AdjustExternalMemory(env, -h->bytes);
  delete h;
}

Napi::Value wrap(Napi::Env env, TensorHandle* h) {
  auto ext = Napi::External<TensorHandle>::New(env, h, finalize);
  ext.TypeTag(&kTensorTag);
  if (h->bytes > 0) {
    Napi::MemoryManagement::AdjustExternalMemory(env, h->bytes);
    h->accounted = true;
  }
  return ext;
}

// `bytes` of device or host memory from `be`, or a JS error: "op: the cuda backend is unavailable (…)"
// without a device, else a RangeError "op: out of memory allocating N bytes for <what> on <backend>".
void* alloc_or_throw(Napi::Env env, const OpTable* be, int64_t bytes, const std::string& op, const std::string& what) {
  void* p = be->alloc(bytes);
#ifdef SANA_LAB_WITH_CUDA
  std::string reason;
  if (p == nullptr && be->device == Device::kCuda && !cuda::device_available(&reason)) {
    // No device or driver: say so, instead of blaming the size.
    throw Napi::Error::New(env, op + ": the cuda backend is unavailable (" + reason + ")");
  }
#endif
  if (p == nullptr) {
    // A RangeError, like V8's own "Array buffer allocation failed": the size asked for cannot be had.
    throw Napi::RangeError::New(env, op + ": out of memory allocating " + std::to_string(bytes) + " bytes for " + what + " on " + be->name);
  }
  return p;
}

TensorHandle* allocate(Napi::Env env, const Napi::CallbackInfo& info, const std::string& op) {
  const OpTable* be = backend_by_name(env, info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "", op);
  auto h = std::make_unique<TensorHandle>();
  h->dtype = parse_dtype(info[1], op);
  parse_shape(info[2], *h, op);
  void* p = alloc_or_throw(env, be, h->bytes, op, dtype_name(h->dtype) + h->view().shape_str());
  h->storage = std::make_shared<Storage>(be, p, h->bytes);
  return h.release();
}

// tensorArena(backend, dtype, shapes): one allocation holding a tensor per shape, in order, each part
// starting on a 256-byte boundary (no gap between parts whose sizes are multiples of 256 bytes: a model's
// q, k, v projection weights then sit back to back, and an op can multiply by them as one matrix). The
// parts are ordinary tensors that never overlap; the memory is freed when the last of them is disposed.
Napi::Value TensorArena(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "tensorArena";
  if (info.Length() != 3 || !info[2].IsArray()) throw Napi::TypeError::New(env, op + ": expected (backend, dtype, shapes[])");
  const OpTable* be = backend_by_name(env, info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "", op);
  const DType dt = parse_dtype(info[1], op);
  auto shapes = info[2].As<Napi::Array>();
  if (shapes.Length() == 0) throw Napi::RangeError::New(env, op + ": no shapes");
  constexpr int64_t kAlign = 256;
  std::vector<std::unique_ptr<TensorHandle>> parts;
  int64_t total = 0;
  for (uint32_t i = 0; i < shapes.Length(); ++i) {
    auto h = std::make_unique<TensorHandle>();
    h->dtype = dt;
    parse_shape(shapes.Get(i), *h, op + " shapes[" + std::to_string(i) + "]");
    h->offset = total;
    if (h->bytes > (int64_t{1} << 52) - total) throw Napi::RangeError::New(env, op + ": the parts are too large together (at most 2^52 bytes)");
    total += (h->bytes + kAlign - 1) / kAlign * kAlign;
    parts.push_back(std::move(h));
  }
  void* p = alloc_or_throw(env, be, total, op, std::to_string(parts.size()) + " " + dtype_name(dt) + " tensors");
  auto storage = std::make_shared<Storage>(be, p, total);
  Napi::Array out = Napi::Array::New(env, parts.size());
  for (uint32_t i = 0; i < parts.size(); ++i) {
    parts[i]->storage = storage;
    out.Set(i, wrap(env, parts[i].release()));
  }
  return out;
}

Napi::Value TensorEmpty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3) throw Napi::TypeError::New(env, "tensorEmpty: expected (backend, dtype, shape)");
  return wrap(env, allocate(env, info, "tensorEmpty"));
}

// The host array dtype dt takes — a Float32Array (f32) or a Uint16Array of bf16 bits (bf16) — and not
// detached; `who` names the dtype's owner in the error ("dtype bf16", "a bf16 tensor").
void check_host_array(Napi::Env env, const std::string& op, DType dt, const Napi::TypedArray& ta, const std::string& who) {
  const napi_typedarray_type want = dt == DType::kF32 ? napi_float32_array : napi_uint16_array;
  if (ta.TypedArrayType() != want) {
    throw Napi::TypeError::New(env, op + ": " + who + " needs a " + (dt == DType::kF32 ? "Float32Array" : "Uint16Array of bf16 bits"));
  }
  if (ta.ElementLength() > 0 && ta.ArrayBuffer().ByteLength() == 0) throw Napi::TypeError::New(env, op + ": the array's ArrayBuffer is detached");
}

// Copies ta, which must hold exactly h's element count, into h's storage; `target` names h in the error.
void copy_host_array(Napi::Env env, const std::string& op, const TensorHandle& h, const Napi::TypedArray& ta, const std::string& target) {
  const int64_t n = h.view().numel();
  if (static_cast<int64_t>(ta.ElementLength()) != n) {
    throw Napi::RangeError::New(env, op + ": " + std::to_string(ta.ElementLength()) + " values for " + target + " (" + std::to_string(n) + " elements)");
  }
  const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  Status s = h.storage->backend->copy_from_host(h.view().data, src, h.bytes);
  if (!s.ok()) throw Napi::Error::New(env, op + ": " + s.message());
}

Napi::Value TensorFromArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "tensorFromArray";
  if (info.Length() != 4 || !info[3].IsTypedArray()) throw Napi::TypeError::New(env, op + ": expected (backend, dtype, shape, typedArray)");
  auto ta = info[3].As<Napi::TypedArray>();
  DType dt = parse_dtype(info[1], op);
  check_host_array(env, op, dt, ta, std::string("dtype ") + dtype_name(dt));
  std::unique_ptr<TensorHandle> h(allocate(env, info, op));
  copy_host_array(env, op, *h, ta, "shape " + h->view().shape_str());
  return wrap(env, h.release());
}

// All of h's bytes into dst (host memory of h->bytes); a failed copy is an Error naming fn.
void copy_to_host(Napi::Env env, const TensorHandle& h, void* dst, const char* fn) {
  Status s = h.storage->backend->copy_to_host(dst, h.view().data, h.bytes);
  if (!s.ok()) throw Napi::Error::New(env, std::string(fn) + ": " + s.message());
}

// Overwrites an existing tensor's values from the host (its storage, and so its address, stays: a
// captured CUDA graph that reads the tensor sees the new values at its next launch).
Napi::Value TensorWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string op = "tensorWrite";
  if (info.Length() != 2 || !info[1].IsTypedArray()) throw Napi::TypeError::New(env, op + ": expected (tensor, typedArray)");
  TensorHandle* h = unwrap_tensor(info[0], op, "tensor");
  auto ta = info[1].As<Napi::TypedArray>();
  check_host_array(env, op, h->dtype, ta, std::string("a ") + dtype_name(h->dtype) + " tensor");
  copy_host_array(env, op, *h, ta, dtype_name(h->dtype) + h->view().shape_str());
  return env.Undefined();
}

Napi::Value TensorToArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1) throw Napi::TypeError::New(env, "tensorToArray: expected (tensor)");
  TensorHandle* h = unwrap_tensor(info[0], "tensorToArray", "tensor");
  const size_t n = static_cast<size_t>(h->view().numel());
  Napi::Value out;
  void* dst;
  if (h->dtype == DType::kF32) {
    auto a = Napi::Float32Array::New(env, n);
    dst = a.Data();
    out = a;
  } else {
    auto a = Napi::Uint16Array::New(env, n);
    dst = a.Data();
    out = a;
  }
  copy_to_host(env, *h, dst, "tensorToArray");
  return out;
}

// The values as a Float32Array, bf16 widened here rather than in JS: a decoded 4096² image is 50 M
// values, which a JS loop over a fresh Uint16Array took ~1/3 s to widen (H200 run, host.readback).
// The bf16 bits are copied into the upper half of the Float32Array's own buffer and widened in place
// from the front: out[i] (bytes 4i..4i+3) never overwrites a bit pattern still to be read (bytes
// 2n + 2j, j > i), so no second buffer is needed.
Napi::Value TensorToFloat32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1) throw Napi::TypeError::New(env, "tensorToFloat32: expected (tensor)");
  TensorHandle* h = unwrap_tensor(info[0], "tensorToFloat32", "tensor");
  const size_t n = static_cast<size_t>(h->view().numel());
  auto a = Napi::Float32Array::New(env, n);
  float* out = a.Data();
  void* dst = h->dtype == DType::kF32 ? static_cast<void*>(out) : static_cast<void*>(reinterpret_cast<uint16_t*>(out) + n);
  copy_to_host(env, *h, dst, "tensorToFloat32");
  if (h->dtype == DType::kBF16) {
    const uint16_t* bits = reinterpret_cast<const uint16_t*>(out) + n;
    uint32_t* words = reinterpret_cast<uint32_t*>(out);
    for (size_t i = 0; i < n; ++i) words[i] = static_cast<uint32_t>(bits[i]) << 16;
  }
  return a;
}

Napi::Value TensorDispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1) throw Napi::TypeError::New(env, "tensorDispose: expected (tensor)");
  TensorHandle* h = unwrap_tensor(info[0], "tensorDispose", "tensor", true);
  if (h->storage) {
    h->storage.reset();
    if (h->accounted) {
      Napi::MemoryManagement::AdjustExternalMemory(env, -h->bytes);
      h->accounted = false;
    }
  }
  return env.Undefined();
}

Napi::Value TensorIsAlive(const Napi::CallbackInfo& info) {
  TensorHandle* h = unwrap_tensor(info[0], "tensorIsAlive", "tensor", true);
  return Napi::Boolean::New(info.Env(), h->storage != nullptr);
}

Napi::Value TensorInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  TensorHandle* h = unwrap_tensor(info[0], "tensorInfo", "tensor", true);
  Napi::Object o = Napi::Object::New(env);
  o.Set("dtype", dtype_name(h->dtype));
  Napi::Array shape = Napi::Array::New(env, h->ndim);
  for (int i = 0; i < h->ndim; ++i) shape.Set(static_cast<uint32_t>(i), static_cast<double>(h->shape[i]));
  o.Set("shape", shape);
  o.Set("bytes", static_cast<double>(h->bytes));
  o.Set("alive", h->storage != nullptr);
  o.Set("backend", h->storage ? h->storage->backend->name : "");
  return o;
}

}  // namespace

TensorHandle* unwrap_tensor(const Napi::Value& v, const std::string& op, const std::string& what, bool allow_disposed) {
  Napi::Env env = v.Env();
  if (!v.IsExternal() || !v.As<Napi::External<TensorHandle>>().CheckTypeTag(&kTensorTag)) {
    throw Napi::TypeError::New(env, op + ": " + what + " is not a native backend tensor");
  }
  TensorHandle* h = v.As<Napi::External<TensorHandle>>().Data();
  if (!allow_disposed && !h->storage) throw Napi::TypeError::New(env, op + ": " + what + " has been disposed");
  return h;
}

const OpTable* backend_by_name(Napi::Env env, const std::string& name, const std::string& op) {
  if (name == "cpu") return cpu_ops();
#ifdef SANA_LAB_WITH_CUDA
  if (name == "cuda") return cuda_op_table();
#endif
  if (name == "cuda") throw Napi::Error::New(env, op + ": this addon was built without CUDA");
  throw Napi::TypeError::New(env, op + ": unknown native backend '" + name + "' (have: cpu)");
}

void RegisterTensor(Napi::Env env, Napi::Object exports) {
  exports.Set("tensorEmpty", Napi::Function::New(env, TensorEmpty, "tensorEmpty"));
  exports.Set("tensorArena", Napi::Function::New(env, TensorArena, "tensorArena"));
  exports.Set("tensorFromArray", Napi::Function::New(env, TensorFromArray, "tensorFromArray"));
  exports.Set("tensorWrite", Napi::Function::New(env, TensorWrite, "tensorWrite"));
  exports.Set("tensorToArray", Napi::Function::New(env, TensorToArray, "tensorToArray"));
  exports.Set("tensorToFloat32", Napi::Function::New(env, TensorToFloat32, "tensorToFloat32"));
  exports.Set("tensorDispose", Napi::Function::New(env, TensorDispose, "tensorDispose"));
  exports.Set("tensorIsAlive", Napi::Function::New(env, TensorIsAlive, "tensorIsAlive"));
  exports.Set("tensorInfo", Napi::Function::New(env, TensorInfo, "tensorInfo"));
}

}  // namespace sana::binding
