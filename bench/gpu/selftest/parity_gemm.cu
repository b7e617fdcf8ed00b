// Parity of gemm: every version on odd shapes and every epilogue operand; gemm v3 (Hopper wgmma + TMA) at each tile
// width, in clusters, and split-K.
#include "cases.h"
#include "harness.h"

namespace sana_selftest {

// A gemm parity case (every version): x (xs, last dim K) · wᵀ (w: N × K) with the chosen epilogue operands; in_place:
// the residual is out itself.
struct GemmCase {
  const char* name;
  std::vector<int64_t> xs;
  int64_t N;
  bool bias;
  int act;
  bool gate, residual, in_place;
};

// A case's device inputs (fresh random values) and its float64 reference (empty when it must be refused).
struct GemmCaseInputs {
  const GemmCase& c;
  DType dt;
  int64_t M = 1, N, K;
  std::vector<int64_t> os;  // out's shape
  Dev x, w, bias, gate, res;
  Vec ref;
  GemmCaseInputs(const GemmCase& cs, DType d, Rng& rng, bool reject) : c(cs), dt(d), N(cs.N), K(cs.xs.back()), os(cs.xs) {
    for (int64_t s : c.xs) M *= s;
    M /= K;
    os.back() = N;
    const int64_t B = c.xs.size() == 3 ? c.xs[0] : 1;
    x = randn(dt, c.xs, rng, 1.0);
    w = randn(dt, {N, K}, rng, 1.0 / std::sqrt(double(K)));
    bias = randn(dt, {N}, rng, 0.1);
    gate = randn(dt, {B, 1, N}, rng, 0.5, 1.0);
    res = randn(dt, os, rng, 1.0);
    if (!reject) ref = selftest::gemm(x.h, w.h, M, N, K, c.bias ? &bias.h : nullptr, c.act, c.gate ? &gate.h : nullptr, M / B, c.residual ? &res.h : nullptr);
  }
  // A fresh output: poisoned, or (in place) a copy of the residual.
  Dev out() const { return c.in_place ? upload_values(dt, os, res.h) : poisoned(dt, os); }
  GemmArgs args(const Dev& out) const {
    GemmArgs a;
    a.x = x.v;
    a.w = w.v;
    a.out = out.v;
    a.bias = c.bias ? bias.ptr() : nullptr;
    a.act = static_cast<Activation>(c.act);
    a.gate = c.gate ? gate.ptr() : nullptr;
    a.residual = c.in_place ? out.ptr() : c.residual ? res.ptr() : nullptr;
    return a;
  }
};

void parity_gemm(int v, DType dt, Rng& rng) {
  if (v == 3) return;  // the Hopper version runs last, in parity_gemm_v3 (see run_parity)
  // in place: out == residual (dit-block's residual updates); N % 8 == 0 takes v2's 16-byte epilogue,
  // N = 77 its scalar one
  const GemmCase cases[] = {{"M133 N77 K96", {133, 96}, 77, false, 0, false, false, false},
                            {"B2 37×40→130 bias gelu gate residual", {2, 37, 40}, 130, true, 3, true, true, false},
                            {"M257 N136 K264 bias silu", {257, 264}, 136, true, 2, false, false, false},
                            {"K30 relu (K % 8 != 0)", {70, 30}, 50, true, 1, false, false, false},
                            {"B2 100×64→136 bias gelu gate, res in place", {2, 100, 64}, 136, true, 3, true, true, true},
                            {"M70 N77 K40 silu, residual in place", {70, 40}, 77, true, 2, false, true, true}};
  for (const GemmCase& c : cases) {
    const bool reject = (v == 2 && (dt != DType::kBF16 || c.xs.back() % 8 != 0));
    const GemmCaseInputs in(c, dt, rng, reject);
    Dev out = in.out();
    const GemmArgs a = in.args(out);
    check_case("gemm", v, dt, c.name, reject, [&] { return cuda::gemm(a, v); }, out.v, [&] { return in.ref; });
  }
}

// gemm v3 (wgmma + TMA, sm_90a): ragged M/N/K edges (partial 128-row, 128/256-column and 64-deep
// tiles), the scalar (N % 8 != 0) and 16-byte (N % 8 == 0) epilogues, every epilogue operand, an
// in-place residual, each case at the plan's tile width and at every forced width (128, 192, 256), and
// in clusters of two at each width (odd m-tile counts: a padding block), the output poisoned before each
// run. Refusals: f32, K % 8 != 0, and every case on a device that is not sm_90.
void parity_gemm_v3(DType dt, Rng& rng) {
  const GemmCase cases[] = {{"M133 N77 K96", {133, 96}, 77, false, 0, false, false, false},
                            {"B2 37×40→130 bias gelu gate residual", {2, 37, 40}, 130, true, 3, true, true, false},
                            {"M257 N136 K264 bias silu", {257, 264}, 136, true, 2, false, false, false},
                            {"K30 relu (K % 8 != 0)", {70, 30}, 50, true, 1, false, false, false},
                            {"M8 N8 K8", {8, 8}, 8, false, 0, false, false, false},
                            {"B3 100×1000→520 bias gelu gate residual", {3, 100, 1000}, 520, true, 3, true, true, false},
                            {"M515 N384 K1152 bias relu, residual in place", {515, 1152}, 384, true, 1, false, true, true},
                            {"M200 N300 K136 silu gate", {200, 136}, 300, false, 2, true, false, false}};
  const bool sm90 = device_is_sm90();
  for (const GemmCase& c : cases) {
    const bool reject = dt != DType::kBF16 || c.xs.back() % 8 != 0 || !sm90;
    const GemmCaseInputs in(c, dt, rng, reject);
    const Vec& ref = in.ref;
    const WgVariant variants[] = {{0, 1}, {128, 1}, {192, 1}, {256, 1}, {0, 2}, {128, 2}, {192, 2}, {256, 2}};
    for (const WgVariant& w : variants) {
      Dev out = in.out();
      const GemmArgs a = in.args(out);
      const std::string name = std::string(c.name) + (w.suffix().empty() ? " [planned tile]" : w.suffix());
      const int64_t before = cuda::gemm_wgmma_cluster_launch_count();
      {
        WgForce force(w);
        check_case("gemm", 3, dt, name, reject, [&] { return cuda::gemm(a, 3); }, out.v, [&] { return ref; });
      }
      if (reject) break;  // one refusal per case is enough
      check_launches("gemm", 3, dt, name, "cluster", cuda::gemm_wgmma_cluster_launch_count() - before,
                     cuda::plan::gemm_wgmma_cluster(w.cluster, in.M, 1) > 1 ? 1 : 0);
    }
    // The bench's main-loop probes (their output is not the product; only that they run to the end, without
    // a fault or a hang, at each width, the feed also in clusters). The feed's output is the epilogue of a
    // zero product, so it must at least be written (finite where the epilogue is).
    if (reject) continue;
    for (const WgVariant& w : {WgVariant{0, 1}, WgVariant{128, 1}, WgVariant{192, 2}, WgVariant{256, 2}}) {
      for (int probe : {cuda::plan::kWgProbeFeed, cuda::plan::kWgProbeMath}) {
        Dev out = in.out();
        const GemmArgs a = in.args(out);
        Check e;
        e.op = "gemm";
        e.version = 3;
        e.dtype = dname(dt);
        e.name = std::string(c.name) + w.suffix() + (probe == cuda::plan::kWgProbeFeed ? " [bench probe: feed]" : " [bench probe: math]");
        WgForce force(w, probe);
        const Status st = cuda::gemm(a, 3);
        const Status sync = st.ok() ? cuda::synchronize("probe") : st;
        e.pass = sync.ok();
        e.detail = sync.ok() ? "ran" : sync.message();
        if (sync.ok() && probe == cuda::plan::kWgProbeFeed) {
          const Vec o = download(out.v);
          int64_t nonfinite = 0;
          for (double x : o) nonfinite += std::isfinite(x) ? 0 : 1;
          e.pass = nonfinite == 0;
          e.detail = std::to_string(nonfinite) + " of " + std::to_string(o.size()) + " outputs not written (poison left)";
        }
        g_checks.push_back(e);
      }
    }
  }
}

// gemm v3 split-K (kernels/cuda/gemm_wgmma.cu, off by default): each case forced to S = 2 (tile 128), 3
// (tile 256), 4 (planned tile) and at the plan's count (auto), against the same float64 reference. Ragged
// M, N and K (K never a multiple of 64·S, so splits get unequal slice counts; K = 96 < 64·S: a forced S is
// capped at ⌈K/64⌉ = 2 so that no split is empty), the scalar (N % 8 != 0) and 16-byte paths of both the
// partial store and the reduce, every epilogue operand and activation, residuals in place. The split-launch
// counter must show that a split ran exactly where the plan resolves S > 1 (auto splits 4 of these cases
// on 132 SMs), so a path that silently stopped splitting fails. Outputs poisoned before each run.
void parity_gemm_v3_split(DType dt, Rng& rng) {
  if (dt != DType::kBF16) return;  // v3 refuses f32 before any split (parity_gemm_v3 checks the refusal)
  const GemmCase cases[] = {{"M133 N77 K200", {133, 200}, 77, false, 0, false, false, false},
                            {"B2 37×520→130 bias gelu gate res", {2, 37, 520}, 130, true, 3, true, true, false},
                            {"M257 N136 K712 bias silu", {257, 712}, 136, true, 2, false, false, false},
                            {"M70 N64 K96 bias relu", {70, 96}, 64, true, 1, false, false, false},
                            {"M200 N136 K1000 silu gate", {200, 1000}, 136, false, 2, true, false, false},
                            {"M515 N384 K1152 bias relu res=out", {515, 1152}, 384, true, 1, false, true, true},
                            {"B3 50×1000→520 bias gelu gate res=out", {3, 50, 1000}, 520, true, 3, true, true, true}};
  const struct { int mode, tile_n; } runs[] = {{2, 128}, {3, 256}, {2, 192}, {4, 0}, {-1, 0}};
  const bool sm90 = device_is_sm90();
  cudaDeviceProp prop;
  const int64_t sms = cudaGetDeviceProperties(&prop, 0) == cudaSuccess ? prop.multiProcessorCount : 0;
  cudaGetLastError();
  const int saved = cuda::gemm_wgmma_split_k_mode();
  for (const GemmCase& c : cases) {
    const bool reject = !sm90;
    const GemmCaseInputs in(c, dt, rng, reject);
    const int64_t M = in.M, N = in.N, K = in.K;
    const Vec& ref = in.ref;
    for (const auto& r : runs) {
      Dev out = in.out();
      const GemmArgs a = in.args(out);
      const int bn = r.tile_n ? r.tile_n : cuda::plan::gemm_wgmma_tile_n(M, N, sms);
      const int S = cuda::plan::gemm_wgmma_splits(r.mode, M, N, K, sms, bn, false);
      // "split 3→S2 t256: …" = mode 3 resolved to S = 2 splits of a 256-wide tile
      const std::string name = "split " + (r.mode < 0 ? std::string("auto") : std::to_string(r.mode)) + "→S" + std::to_string(S) + " t" +
                               std::to_string(bn) + ": " + c.name;
      cuda::set_gemm_wgmma_tile_n(r.tile_n);
      cuda::set_gemm_wgmma_split_k(r.mode);
      const int64_t before = cuda::gemm_wgmma_split_launch_count();
      check_case("gemm", 3, dt, name, reject, [&] { return cuda::gemm(a, 3); }, out.v, [&] { return ref; });
      const int64_t split_runs = cuda::gemm_wgmma_split_launch_count() - before;
      cuda::set_gemm_wgmma_split_k(saved);
      cuda::set_gemm_wgmma_tile_n(0);
      if (reject) break;  // one refusal per case is enough
      check_launches("gemm", 3, dt, name, "split", split_runs, S > 1 ? 1 : 0);
    }
  }
  {  // the mode setter: −1, 0 and 2 … 8 kept, 1 and anything else = off
    Check e;
    e.op = "gemm";
    e.version = 3;
    e.dtype = dname(dt);
    e.name = "split-K mode setter";
    std::string got;
    for (int m : {-1, 0, 1, 2, 8, 9, -2}) {
      cuda::set_gemm_wgmma_split_k(m);
      got += (got.empty() ? "" : " ") + std::to_string(cuda::gemm_wgmma_split_k_mode());
    }
    cuda::set_gemm_wgmma_split_k(saved);
    e.pass = got == "-1 0 0 2 8 0 0";
    e.detail = "modes " + got;
    g_checks.push_back(e);
  }
}

}  // namespace sana_selftest
