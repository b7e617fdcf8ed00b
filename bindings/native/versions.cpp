// Kernel version lists (see versions.h).
#include "versions.h"

#ifdef SANA_LAB_WITH_CUDA
#include "sana/cuda/ops_cuda.h"
#endif

namespace sana::binding {
namespace {

std::vector<OpVersionList> cpu_versions() {
  const OpTable* t = cpu_ops();
  const std::pair<const char*, bool> ops[] = {
      {"gemm", t->gemm != nullptr},
      {"linear-attention-block", t->linear_attention_block != nullptr},
      {"mix-ffn", t->mix_ffn != nullptr},
      {"cross-attention", t->cross_attention != nullptr},
      {"layernorm-modulate", t->layernorm_modulate != nullptr},
      {"rmsnorm", t->rmsnorm != nullptr},
      {"conv3x3", t->conv3x3 != nullptr},
      {"dcae-resblock", t->dcae_resblock != nullptr},
      {"lite-mla", t->lite_mla != nullptr},
      {"dit-block", t->dit_block != nullptr},
      {"dcae-upsample", t->dcae_upsample != nullptr},
      {"dcae-head", t->dcae_head != nullptr},
      {"dcae-evit-block", t->dcae_evit_block != nullptr},
      {"sampler-update", t->sampler_update != nullptr},
  };
  std::vector<OpVersionList> v;
  v.push_back({"linear-attention",
               {{1, "unfused composition: ReLU → pad → matmul → matmul → divide, intermediates materialised", ""},
                {2, "fused one-pass kernel ((d+1)×d state per head, f32)", ""}}});
  for (const auto& [name, has] : ops) {
    if (has) v.push_back({name, {{1, "the native kernel", ""}}});
  }
  return v;
}

}  // namespace

std::vector<OpVersionList> backend_versions(Napi::Env env, const std::string& backend, const std::string& fn) {
  if (backend == "cpu") return cpu_versions();
  if (backend == "cuda") {
#ifdef SANA_LAB_WITH_CUDA
    std::vector<OpVersionList> v;
    for (const cuda::OpVersions& o : cuda::op_versions()) {
      OpVersionList l{o.op, {}};
      for (const cuda::VersionInfo& i : o.versions) l.versions.push_back({i.version, i.summary, i.needs});
      v.push_back(std::move(l));
    }
    return v;
#else
    throw Napi::Error::New(env, fn + ": this addon was built without CUDA");
#endif
  }
  throw Napi::TypeError::New(env, fn + ": unknown native backend '" + backend + "' (have: cpu, cuda)");
}

void check_version(Napi::Env env, const std::string& op, const OpTable& be, int version) {
  if (version == 0) return;
  const std::vector<OpVersionList> all = backend_versions(env, be.name, op);
  std::string listed;
  for (const OpVersionList& l : all) {
    if (l.op != op) continue;
    for (const VersionEntry& e : l.versions) {
      if (e.version == version) return;
      listed += (listed.empty() ? "" : "; ") + std::to_string(e.version) + " = " + e.summary + (e.needs.empty() ? "" : " [needs " + e.needs + "]");
    }
  }
  throw Napi::RangeError::New(env, op + ": no version " + std::to_string(version) + " on the " + be.name + " backend (" +
                                       (listed.empty() ? std::string("it has no numbered versions") : "versions: " + listed) +
                                       "; 0 = the default)");
}

}  // namespace sana::binding
