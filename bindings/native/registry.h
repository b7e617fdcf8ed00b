// Each binding file exposes one Register* function that adds its exports; addon.cpp calls them all.
#pragma once
#include <napi.h>

#include <string>

namespace sana::binding {
void RegisterInfo(Napi::Env env, Napi::Object exports);
void RegisterConvert(Napi::Env env, Napi::Object exports);
void RegisterTensor(Napi::Env env, Napi::Object exports);
void RegisterOps(Napi::Env env, Napi::Object exports);
void RegisterRuntime(Napi::Env env, Napi::Object exports);

// The op function exported as `name` (e.g. "gemm", "linearAttention"), or nullptr (ops.cpp).
using OpFunction = Napi::Value (*)(const Napi::CallbackInfo&);
OpFunction op_function(const std::string& name);
// The export names of every op function, comma-separated (for error messages).
std::string op_function_names();
}  // namespace sana::binding
