// The parity run: every op × version × dtype in order, the engine each version must use, and the error paths.
#include "cases.h"
#include "harness.h"

namespace sana_selftest {

// Error paths: shapes and dtypes refused like the CPU entries, out-of-memory, CPU tensors.
void parity_errors(Rng& rng) {
  Dev x = randn(DType::kF32, {4, 8}, rng, 1.0), w = randn(DType::kF32, {5, 7}, rng, 1.0), out = poisoned(DType::kF32, {4, 5});
  GemmArgs a;
  a.x = x.v;
  a.w = w.v;
  a.out = out.v;
  record_status("gemm", 0, DType::kF32, "refuses w (5, 7) for x (4, 8)", cuda::gemm(a, 0), true);
  Dev w2 = randn(DType::kF32, {5, 8}, rng, 1.0);
  a.w = w2.v;
  a.x.device = Device::kCpu;
  record_status("gemm", 0, DType::kF32, "refuses a tensor marked as CPU", cuda::gemm(a, 0), true);
  a.x.device = Device::kCuda;
  record_status("gemm", 9, DType::kF32, "refuses an unknown version", cuda::gemm(a, 9), true);
  record_status("gemm", 0, DType::kF32, "runs the fixed arguments", cuda::gemm(a, 0), false);
  {
    Dev sq = randn(DType::kF32, {8, 8}, rng, 1.0), xs = randn(DType::kF32, {4, 8}, rng, 1.0);
    GemmArgs g;
    g.x = xs.v;
    g.w = sq.v;
    g.out = xs.v;
    record_status("gemm", 0, DType::kF32, "refuses out aliasing x", cuda::gemm(g, 0), true);
  }
  Check c;
  c.op = "runtime";
  c.dtype = "-";
  c.name = "alloc of 2^50 bytes returns null";
  void* p = be()->alloc(int64_t{1} << 50);
  c.pass = p == nullptr;
  if (p) be()->free(p);
  g_checks.push_back(c);
}

// Which engine a version ran, seen through the wgmma launch counter: on an sm_90 device an op's default
// (version 0) must use its Hopper version wherever the cases allow (each op's parity cases include
// shapes it accepts), its Hopper version must run there, and its other versions never touch wgmma
// (dit-block v2 is the mma.sync composition); f32 never does. `wgmma` = the op's versions that run on
// the wgmma engine.
void check_engine(const std::string& op, const std::set<int>& wgmma, int v, DType dt, int64_t launched) {
  const bool want = dt == DType::kBF16 && (v == 0 || wgmma.count(v) > 0) && device_is_sm90();
  Check c;
  c.op = op;
  c.version = v;
  c.dtype = dname(dt);
  c.name = std::string("engine: ") + (want ? "wgmma gemms expected" : "no wgmma gemm expected");
  c.pass = want ? launched > 0 : launched == 0;
  c.detail = std::to_string(launched) + " wgmma launches";
  g_checks.push_back(c);
}

void run_parity(const std::set<std::string>& only, uint64_t seed) {
  using Fn = void (*)(int, DType, Rng&);
  const std::vector<std::pair<std::string, Fn>> tests = {
      {"gemm", parity_gemm},
      {"linear-attention", parity_linear_attention},
      {"linear-attention-block", parity_linear_attention_block},
      {"mix-ffn", parity_mix_ffn},
      {"cross-attention", parity_cross_attention},
      {"layernorm-modulate", parity_layernorm_modulate},
      {"rmsnorm", parity_rmsnorm},
      {"conv3x3", parity_conv3x3},
      {"dcae-resblock", parity_dcae_resblock},
      {"dit-block", parity_dit_block},
      {"lite-mla", parity_lite_mla},
      {"dcae-upsample", parity_dcae_upsample},
      {"dcae-head", parity_dcae_head},
      {"dcae-evit-block", parity_dcae_evit_block},
      {"sampler-update", parity_sampler_update},
  };
  // The ops whose default picks an sm_90 version, and their versions that run on the wgmma engine
  // (kernels/cuda/*.cu headers; cross-attention v4 = core v3 behind v3's wgmma projections).
  const std::map<std::string, std::set<int>> kWgmmaVersions = {{"gemm", {3}},    {"linear-attention-block", {4, 5}}, {"mix-ffn", {3, 4}},
                                                               {"cross-attention", {3, 4}}, {"conv3x3", {4}}, {"dcae-resblock", {4}},
                                                               {"dit-block", {3}}};
  Rng rng(seed);
  // `--only op` runs every version of op, `--only op@N` version N alone (kernels/emu/mutants.mjs: a broken
  // kernel's one version fails in seconds instead of after every other version has passed).
  auto wanted = [&](const std::string& op, int v) { return only.empty() || only.count(op) || only.count(op + "@" + std::to_string(v)); };
  for (const auto& [op, fn] : tests) {
    bool any = only.empty() || only.count(op);
    for (const auto& o : only) any = any || o.rfind(op + "@", 0) == 0;
    if (!any) continue;
    int nv = 0;
    for (const auto& ov : cuda::op_versions()) {
      if (op == ov.op) nv = static_cast<int>(ov.versions.size());
    }
    for (int v = 0; v <= nv; ++v) {
      if (!wanted(op, v)) continue;
      for (DType dt : {DType::kF32, DType::kBF16}) {
        try {
          const int64_t before = cuda::gemm_wgmma_launch_count();
          fn(v, dt, rng);
          const auto h = kWgmmaVersions.find(op);
          // (gemm's v3 cases run last, in parity_gemm_v3, checked there)
          if (h != kWgmmaVersions.end() && !(op == "gemm" && v == 3)) check_engine(op, h->second, v, dt, cuda::gemm_wgmma_launch_count() - before);
        } catch (const Failure& f) {
          Check c;
          c.op = op;
          c.version = v;
          c.dtype = dname(dt);
          c.name = "setup";
          c.detail = f.st.message();
          g_checks.push_back(c);
        }
      }
    }
  }
  // gemm v3 (the Hopper wgmma kernel, new) last: a fault in it cannot take the other ops' checks with it.
  // `--only gemm-v3` (or gemm@3) runs just these (a quick first check on a fresh GPU machine).
  if (wanted("gemm", 3) || only.count("gemm-v3")) {
    for (DType dt : {DType::kF32, DType::kBF16}) {
      try {
        const int64_t before = cuda::gemm_wgmma_launch_count();
        parity_gemm_v3(dt, rng);
        parity_gemm_v3_split(dt, rng);
        check_engine("gemm", {3}, 3, dt, cuda::gemm_wgmma_launch_count() - before);
      } catch (const Failure& f) {
        Check c;
        c.op = "gemm";
        c.version = 3;
        c.dtype = dname(dt);
        c.name = "setup";
        c.detail = f.st.message();
        g_checks.push_back(c);
      }
    }
  }
  if (only.empty() || only.count("errors")) parity_errors(rng);
}

}  // namespace sana_selftest
