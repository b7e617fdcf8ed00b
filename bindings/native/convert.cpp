// f32ToBf16(Float32Array) -> Uint16Array and bf16ToF32(Uint16Array) -> Float32Array, with validation.
#include <napi.h>

#include "registry.h"
#include "sana/convert.h"

namespace sana::binding {
namespace {

Napi::Value F32ToBf16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "f32ToBf16: expected one Float32Array");
  }
  auto src = info[0].As<Napi::Float32Array>();
  if (src.ArrayBuffer().ByteLength() == 0 && src.ElementLength() != 0) {
    throw Napi::TypeError::New(env, "f32ToBf16: the input's ArrayBuffer is detached");
  }
  auto dst = Napi::Uint16Array::New(env, src.ElementLength());
  cpu::f32_to_bf16(src.Data(), dst.Data(), static_cast<int64_t>(src.ElementLength()));
  return dst;
}

Napi::Value Bf16ToF32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array) {
    throw Napi::TypeError::New(env, "bf16ToF32: expected one Uint16Array of bf16 bit patterns");
  }
  auto src = info[0].As<Napi::Uint16Array>();
  auto dst = Napi::Float32Array::New(env, src.ElementLength());
  cpu::bf16_to_f32(src.Data(), dst.Data(), static_cast<int64_t>(src.ElementLength()));
  return dst;
}

}  // namespace

void RegisterConvert(Napi::Env env, Napi::Object exports) {
  exports.Set("f32ToBf16", Napi::Function::New(env, F32ToBf16, "f32ToBf16"));
  exports.Set("bf16ToF32", Napi::Function::New(env, Bf16ToF32, "bf16ToF32"));
}

}  // namespace sana::binding
