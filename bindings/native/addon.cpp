// Module entry of the sana-kernel-lab addon: thin glue only; the math lives in kernels/.
#include <napi.h>

#include "registry.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  sana::binding::RegisterInfo(env, exports);
  sana::binding::RegisterConvert(env, exports);
  sana::binding::RegisterTensor(env, exports);
  sana::binding::RegisterOps(env, exports);
  sana::binding::RegisterRuntime(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(sana_lab, Init)
