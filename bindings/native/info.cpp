// Machine and build facts: cpuInfo(), cudaInfo(), buildInfo().
#include <napi.h>

#include "registry.h"
#include "sana/device_info.h"

namespace sana::binding {
namespace {

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("threads", cpu_default_threads());
  o.Set("model", cpu_model_name());
  return o;
}

Napi::Value CudaInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CudaInfo c = query_cuda();
  Napi::Object o = Napi::Object::New(env);
  o.Set("compiled", c.compiled);
  o.Set("available", c.available);
  if (!c.reason.empty()) o.Set("reason", c.reason);
  o.Set("errorCode", c.error_code);
  o.Set("runtimeVersion", c.runtime_version);
  o.Set("archs", c.archs);
  o.Set("driverVersion", c.driver_version);
  Napi::Array devices = Napi::Array::New(env, c.devices.size());
  for (size_t i = 0; i < c.devices.size(); ++i) {
    const CudaDevice& d = c.devices[i];
    Napi::Object dj = Napi::Object::New(env);
    dj.Set("index", d.index);
    dj.Set("name", d.name);
    dj.Set("computeCapability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor));
    dj.Set("totalMemoryBytes", static_cast<double>(d.total_memory));
    dj.Set("smCount", d.sm_count);
    devices.Set(static_cast<uint32_t>(i), dj);
  }
  o.Set("devices", devices);
  return o;
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#ifdef SANA_LAB_WITH_CUDA
  o.Set("cuda", true);
#else
  o.Set("cuda", false);
#endif
#if defined(__SANITIZE_ADDRESS__)
  o.Set("sanitize", true);
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  o.Set("sanitize", true);
#else
  o.Set("sanitize", false);
#endif
#else
  o.Set("sanitize", false);
#endif
#if defined(__clang__)
  o.Set("compiler", std::string("clang ") + __clang_version__);
#elif defined(__GNUC__)
  o.Set("compiler", std::string("gcc ") + __VERSION__);
#else
  o.Set("compiler", "unknown");
#endif
  o.Set("napiVersion", NAPI_VERSION);
  return o;
}

}  // namespace

void RegisterInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  exports.Set("cudaInfo", Napi::Function::New(env, CudaInfoJs, "cudaInfo"));
  exports.Set("buildInfo", Napi::Function::New(env, BuildInfo, "buildInfo"));
}

}  // namespace sana::binding
