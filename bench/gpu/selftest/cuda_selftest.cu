// cuda-selftest: the CUDA backend checked and timed without Node (the GPU machine has no Node.js).
// Links kernels/cuda/*.cu directly (bench/gpu/build-selftest.sh builds it into build-gpu/).
//
//   cuda-selftest --parity [--big] [--bench] [--json FILE] [--budget-s S] [--res 1024,4096] [--batch 2]
//                 [--only op,op] [--seed N] [--ceilings-gemm-version V] [--fail-fast]
//
// --parity  every op × version × dtype (f32, bf16) on small odd shapes with fresh random inputs,
//           outputs poisoned (0xFF bytes = NaN) before each run, against float64 host references
//           (reference.h); pass = no non-finite value, ‖out − ref‖/‖ref‖ under 1e-4 (f32) or 1e-2
//           (bf16), and max|out − ref|/max|ref| under 1e-4 (f32) or 5e-2 (bf16); versions that cannot run a case (a bf16-only version given f32, …) must refuse it
//           with kInvalidArgument; in-place residuals (out == residual, as dit-block calls the ops),
//           misaligned views (v2 kernels refuse, defaults fall back), each kernel's block and tile edges;
//           plus error-path checks (bad shapes, out-of-memory). gemm v3 (the
//           Hopper wgmma kernel) runs after every other op; `--only gemm-v3` (or gemm@3) runs just it.
// --big     64-bit indexing: rmsnorm2d and an upsampling conv3x3 on tensors of 2³² elements (8 GiB
//           bf16 each), sampled rows compared with the host reference.
// --bench   the device ceilings, then each op × version at SANA shapes (bf16), CUDA-event medians with
//           an L2 flush before each run (sana::cuda::time_launches); records in the lab's record format
//           (backend "cuda"), comparable to bench/gpu/pytorch_baselines.py's "pytorch-eager" records.
//           On sm_90, gemm v3 also at each forced tile width (shape.tile_n), and first of all its split-K
//           off / auto / forced 2–4 at the 512² DiT gemms (shape.split_k, shape.splits). The ceilings' gemm is the
//           default version unless --ceilings-gemm-version V asks for another (e.g. 3).
// --fail-fast  end the parity run at the first failed check (kernels/emu/mutants.mjs: one failure kills a
//           mutant, and the rest of the op's cases would only cost time).
// Exit code: 0 all checks passed, 1 a check failed, 2 no usable device, 3 bad usage (an --only that matches
// no parity check included).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cases.h"
#include "harness.h"

using namespace sana_selftest;

namespace {

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) v.push_back(std::stoll(item));
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  bool parity = false, big = false, bench = false;
  std::string json_path;
  double budget_s = 90;
  std::vector<int64_t> res = {1024, 4096};
  int64_t batch = 2;
  uint64_t seed = static_cast<uint64_t>(std::time(nullptr));
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(3);
      }
      return argv[++i];
    };
    if (a == "--parity") parity = true;
    else if (a == "--big") big = true;
    else if (a == "--bench") bench = true;
    else if (a == "--json") json_path = next();
    else if (a == "--budget-s") budget_s = std::stod(next());
    else if (a == "--res") res = parse_list(next());
    else if (a == "--batch") batch = std::stoll(next());
    else if (a == "--seed") seed = std::stoull(next());
    else if (a == "--ceilings-gemm-version") g_ceilings_gemm_version = std::stoi(next());
    else if (a == "--fail-fast") g_fail_fast = true;
    else if (a == "--only") {
      std::stringstream ss(next());
      std::string item;
      while (std::getline(ss, item, ',')) only.insert(item);
    } else {
      std::fprintf(stderr, "usage: cuda-selftest [--parity] [--big] [--bench] [--json FILE] [--budget-s S] [--res 1024,4096] [--batch B] [--only op,op@version] [--seed N] [--ceilings-gemm-version V] [--fail-fast]\n");
      return 3;
    }
  }
  if (!parity && !big && !bench) parity = true;
  std::string reason;
  if (!cuda::device_available(&reason)) {
    std::fprintf(stderr, "cuda-selftest: no usable CUDA device: %s\n", reason.c_str());
    return 2;
  }
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  std::fprintf(stderr, "cuda-selftest on %s (cc %d.%d, %d SMs), seed %llu\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount,
               static_cast<unsigned long long>(seed));
  const auto t0 = std::chrono::steady_clock::now();
  bool stopped = false;
  try {
    if (parity) run_parity(only, seed);
  } catch (const FailFast&) {
    stopped = true;
  }
  if (parity && !only.empty() && g_checks.empty()) {  // a misspelt --only must not pass as "nothing failed"
    std::string names;
    for (const auto& o : only) names += (names.empty() ? "" : ",") + o;
    std::fprintf(stderr, "cuda-selftest: --only %s matched no parity checks (give an op as --parity lists it, op@N, gemm-v3 or errors)\n", names.c_str());
    return 3;
  }
  if (big && !stopped) {
    try {
      run_big(seed + 1);
    } catch (const Failure& f) {
      Check c;
      c.op = "big";
      c.dtype = "bf16";
      c.name = "setup";
      c.detail = f.st.message();
      g_checks.push_back(c);
    }
  }
  const double parity_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string bench_json = "[]", ceil_json = "null";
  if (bench && !stopped) {
    try {
      bench_json = run_bench(res, batch, budget_s, seed + 2, &ceil_json);
    } catch (const Failure& f) {
      std::fprintf(stderr, "bench failed: %s\n", f.st.message().c_str());
    }
  }

  int failed = 0;
  if (!g_checks.empty()) {
    std::printf("%-24s %-3s %-5s %-50s %10s %10s %10s %s\n", "op", "v", "dtype", "case", "rel err", "max abs", "max/|ref|", "result");
    for (const Check& c : g_checks) {
      const bool stats = c.detail.empty() && c.tol > 0;
      std::printf("%-24s %-3d %-5s %-50.50s %10s %10s %10s %s%s%s\n", c.op.c_str(), c.version, c.dtype.c_str(), c.name.c_str(),
                  stats ? num(c.stats.rel).c_str() : "-", stats ? num(c.stats.max_abs).c_str() : "-", stats ? num(c.stats.max_rel()).c_str() : "-",
                  c.pass ? "ok" : "FAIL",
                  c.expect_reject ? " (refused as expected)" : "", c.detail.empty() || (c.pass && c.expect_reject) ? "" : (": " + c.detail).c_str());
      if (c.stats.nonfinite) std::printf("    %lld non-finite outputs (unwritten or NaN)\n", static_cast<long long>(c.stats.nonfinite));
      if (c.where.bad > 0)
        std::printf("    %lld of %lld elements off by > %.3g·max|ref| or non-finite: flat index first %lld, last %lld, worst %lld (out %.6g, ref %.6g)\n",
                    static_cast<long long>(c.where.bad), static_cast<long long>(c.where.size), c.where.bound_rel,
                    static_cast<long long>(c.where.first), static_cast<long long>(c.where.last), static_cast<long long>(c.where.worst),
                    c.where.worst_out, c.where.worst_ref);
      if (!c.pass) ++failed;
    }
    // Which gemm v3 launch paths the checks reached (e.g. SANA_LAB_GEMM_CLUSTER=2 over the composites).
    std::printf("gemm v3 (wgmma) launches: %lld, %lld of them in clusters, %lld split\n", static_cast<long long>(cuda::gemm_wgmma_launch_count()),
                static_cast<long long>(cuda::gemm_wgmma_cluster_launch_count()), static_cast<long long>(cuda::gemm_wgmma_split_launch_count()));
    // Whether the kernels ran as programmatic dependents (SANA_LAB_PDL=1: each waits for the kernel ahead first).
    std::printf("programmatic dependent launches (PDL): %lld (mode %s)\n", static_cast<long long>(cuda::pdl_launch_count()),
                cuda::pdl_active() ? "on" : "off");
    std::printf("%zu checks, %d failed (%.1f s)%s\n", g_checks.size(), failed, parity_s, stopped ? " (--fail-fast: stopped at the first failure)" : "");
  }
  if (!json_path.empty()) {
    FILE* f = std::fopen(json_path.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
      return 1;
    }
    char date[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    std::fprintf(f, "{\"kind\":\"cuda-selftest\",\"environment\":{\"device\":%s,\"cc\":\"%d.%d\",\"sm_count\":%d,\"driver\":%d,\"runtime\":%d,\"date\":\"%s\",\"seed\":%llu},\n",
                 json_str(prop.name).c_str(), prop.major, prop.minor, prop.multiProcessorCount, driver, runtime, date, static_cast<unsigned long long>(seed));
    std::fprintf(f, " \"checks\":[");
    for (size_t i = 0; i < g_checks.size(); ++i) {
      const Check& c = g_checks[i];
      std::fprintf(f, "%s\n  {\"op\":%s,\"version\":%d,\"dtype\":%s,\"case\":%s,\"pass\":%s,\"expect_reject\":%s,\"rel\":%s,\"max_abs\":%s,\"max_rel\":%s,\"nonfinite\":%lld,\"tol\":%s,\"detail\":%s%s}",
                   i ? "," : "", json_str(c.op).c_str(), c.version, json_str(c.dtype).c_str(), json_str(c.name).c_str(), c.pass ? "true" : "false",
                   c.expect_reject ? "true" : "false", num(c.stats.rel).c_str(), num(c.stats.max_abs).c_str(), num(c.stats.max_rel()).c_str(), static_cast<long long>(c.stats.nonfinite),
                   num(c.tol).c_str(), json_str(c.detail).c_str(), where_json(c.where).c_str());
    }
    std::fprintf(f, "\n ],\n \"ceilings\":%s,\n \"records\":%s}\n", ceil_json.c_str(), bench_json.c_str());
    std::fclose(f);
  }
  return failed ? 1 : 0;
}
