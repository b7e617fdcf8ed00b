// Each binding file exposes one Register* function that adds its exports; addon.cpp calls them all.
#pragma once
#include <napi.h>

namespace sana::binding {
void RegisterInfo(Napi::Env env, Napi::Object exports);
void RegisterConvert(Napi::Env env, Napi::Object exports);
void RegisterTensor(Napi::Env env, Napi::Object exports);
void RegisterOps(Napi::Env env, Napi::Object exports);
}  // namespace sana::binding
