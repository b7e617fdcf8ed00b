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

#include "reference.h"
#include "sana/bf16.h"
#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/internal.h"
#include "sana/cuda/ops_cuda.h"
#include "sana/dcae_evit_calls.h"

using namespace sana;
using selftest::Vec;

namespace {

const OpTable* be() { return cuda_op_table(); }

// ---------------------------------------------------------------- small utilities
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9e3779b97f4a7c15ULL + 1) {}
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  double normal() {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

double round_to(DType dt, double v) {
  if (dt == DType::kBF16) return bf16_bits_to_f32(f32_to_bf16_bits(static_cast<float>(v)));
  return static_cast<double>(static_cast<float>(v));
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if (c == '\n') o += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20) o += ' ';
    else o += c;
  }
  return o + "\"";
}
std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

struct Failure : std::runtime_error {
  Status st;
  explicit Failure(Status s) : std::runtime_error(s.message()), st(std::move(s)) {}
};
void ok(const Status& s) {
  if (!s.ok()) throw Failure(s);
}

// A device tensor and the exact values it holds (as doubles).
struct Dev {
  TensorView v;
  Vec h;
  Dev() = default;
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
  Dev(Dev&& o) noexcept : v(o.v), h(std::move(o.h)) { o.v.data = nullptr; }
  Dev& operator=(Dev&& o) noexcept {
    std::swap(v, o.v);
    std::swap(h, o.h);
    return *this;
  }
  ~Dev() {
    if (v.data) be()->free(v.data);
  }
  const TensorView* ptr() const { return &v; }
};

Dev alloc_dev(DType dt, const std::vector<int64_t>& shape) {
  Dev d;
  d.v.dtype = dt;
  d.v.device = Device::kCuda;
  d.v.ndim = static_cast<int32_t>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) d.v.shape[i] = shape[i];
  d.v.data = be()->alloc(d.v.bytes());
  if (!d.v.data) throw Failure(OutOfMemory("selftest: device out of memory for " + d.v.shape_str()));
  return d;
}

Dev upload_values(DType dt, const std::vector<int64_t>& shape, const std::vector<double>& vals) {
  Dev d = alloc_dev(dt, shape);
  const int64_t n = d.v.numel();
  d.h.resize(n);
  if (dt == DType::kBF16) {
    std::vector<uint16_t> bits(n);
    for (int64_t i = 0; i < n; ++i) {
      bits[i] = f32_to_bf16_bits(static_cast<float>(vals[i]));
      d.h[i] = bf16_bits_to_f32(bits[i]);
    }
    ok(be()->copy_from_host(d.v.data, bits.data(), n * 2));
  } else {
    std::vector<float> f(n);
    for (int64_t i = 0; i < n; ++i) {
      f[i] = static_cast<float>(vals[i]);
      d.h[i] = f[i];
    }
    ok(be()->copy_from_host(d.v.data, f.data(), n * 4));
  }
  return d;
}

Dev randn(DType dt, const std::vector<int64_t>& shape, Rng& rng, double std, double mean = 0.0) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::vector<double> vals(n);
  for (auto& x : vals) x = mean + std * rng.normal();
  return upload_values(dt, shape, vals);
}

Dev poisoned(DType dt, const std::vector<int64_t>& shape) {
  Dev d = alloc_dev(dt, shape);
  ok(cuda::fill_bytes(d.v.data, 0xFF, d.v.bytes()));  // NaN in f32 and bf16
  return d;
}

// A tensor starting `off` elements into a larger allocation `raw` (TensorViews are contiguous, so a
// misaligned view is the one non-default layout an entry can be given): with off·sizeof(T) % 16 != 0
// its rows are not 16-byte aligned, which the vectorised versions must refuse and the defaults avoid.
struct OffsetDev {
  Dev raw;
  TensorView v;
  Vec h;  // the view's values
  const TensorView* ptr() const { return &v; }
};
OffsetDev offset_view(Dev raw, const std::vector<int64_t>& shape, int64_t off) {
  OffsetDev o;
  o.v = raw.v;
  o.v.ndim = static_cast<int32_t>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) o.v.shape[i] = shape[i];
  if (off + o.v.numel() > raw.v.numel()) throw Failure(Internal("selftest: offset view " + o.v.shape_str() + " overruns its allocation"));
  o.v.data = static_cast<char*>(raw.v.data) + off * dtype_bytes(raw.v.dtype);
  if (!raw.h.empty()) o.h.assign(raw.h.begin() + off, raw.h.begin() + off + o.v.numel());
  o.raw = std::move(raw);
  return o;
}
int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}
// randn / poisoned, `off` elements into an allocation one element larger than needed (off 0 or 1).
OffsetDev randn_at(DType dt, const std::vector<int64_t>& shape, int64_t off, Rng& rng, double std) {
  return offset_view(randn(dt, {numel_of(shape) + 1}, rng, std), shape, off);
}
OffsetDev poisoned_at(DType dt, const std::vector<int64_t>& shape, int64_t off) { return offset_view(poisoned(dt, {numel_of(shape) + 1}), shape, off); }

// Copies [offset, offset + n) elements of a device tensor to the host as doubles.
Vec download(const TensorView& t, int64_t offset = 0, int64_t n = -1) {
  if (n < 0) n = t.numel() - offset;
  Vec out(n);
  if (t.dtype == DType::kBF16) {
    std::vector<uint16_t> bits(n);
    ok(be()->copy_to_host(bits.data(), static_cast<const uint16_t*>(t.data) + offset, n * 2));
    for (int64_t i = 0; i < n; ++i) out[i] = bf16_bits_to_f32(bits[i]);
  } else {
    std::vector<float> f(n);
    ok(be()->copy_to_host(f.data(), static_cast<const float*>(t.data) + offset, n * 4));
    for (int64_t i = 0; i < n; ++i) out[i] = f[i];
  }
  return out;
}

struct Stats {
  double rel = 0, max_abs = 0, max_ref = 0;
  int64_t nonfinite = 0;
  // max|out − ref| / max|ref|: a few badly wrong elements hide in the L2 error, not here.
  double max_rel() const { return max_ref > 0 ? max_abs / max_ref : max_abs; }
};
Stats compare(const Vec& out, const Vec& ref) {
  Stats s;
  double num = 0, den = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!std::isfinite(out[i])) {
      ++s.nonfinite;
      continue;
    }
    const double d = out[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
    s.max_abs = std::max(s.max_abs, std::fabs(d));
    s.max_ref = std::max(s.max_ref, std::fabs(ref[i]));
  }
  s.rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  return s;
}

// Where a failed comparison is wrong, so that one run on a lent GPU (minutes) says more than "FAIL":
// the elements off by more than the element-wise bound (or non-finite), their count and the first,
// last and worst flat (row-major) index. A wrong tile, a missed edge or an unwritten stripe shows as
// the span and the count; a uniformly small excess shows as a count near the whole output.
struct Where {
  int64_t size = 0, bad = 0, first = -1, last = -1, worst = -1;
  double bound_rel = 0, worst_out = 0, worst_ref = 0;  // bound_rel: the bound as a fraction of max|ref|
};
Where locate(const Vec& out, const Vec& ref, double bound_rel, double max_ref) {
  Where w;
  w.size = static_cast<int64_t>(out.size());
  w.bound_rel = bound_rel;
  const double bound = bound_rel * (max_ref > 0 ? max_ref : 1.0);
  double worst = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    const double d = std::isfinite(out[i]) ? std::fabs(out[i] - ref[i]) : HUGE_VAL;
    if (!(d > bound)) continue;
    const int64_t k = static_cast<int64_t>(i);
    if (w.bad++ == 0) w.first = k;
    w.last = k;
    if (d > worst) {
      worst = d;
      w.worst = k;
      w.worst_out = out[i];
      w.worst_ref = ref[i];
    }
  }
  return w;
}
std::string where_json(const Where& w) {
  if (w.bad == 0) return "";
  std::ostringstream o;
  o << ",\"where\":{\"bad\":" << w.bad << ",\"size\":" << w.size << ",\"bound_rel\":" << num(w.bound_rel) << ",\"first\":" << w.first
    << ",\"last\":" << w.last << ",\"worst\":" << w.worst << ",\"worst_out\":" << num(w.worst_out) << ",\"worst_ref\":" << num(w.worst_ref) << "}";
  return o.str();
}

const char* dname(DType dt) { return dt == DType::kBF16 ? "bf16" : "f32"; }

// ---------------------------------------------------------------- results
struct Check {
  std::string op, dtype, name;
  int version = 0;
  bool pass = false;
  std::string detail;
  Stats stats;
  Where where;  // filled for a failed comparison
  double tol = 0;
  bool expect_reject = false;
};
// Every check, in order. With --fail-fast the first failed one ends the parity run (FailFast, caught in main).
bool g_fail_fast = false;
struct FailFast {};
struct CheckList : std::vector<Check> {
  void push_back(const Check& c) {
    std::vector<Check>::push_back(c);
    if (g_fail_fast && !c.pass) throw FailFast{};
  }
};
CheckList g_checks;

// f32_tol: both f32 bounds, raised only where f32 itself cannot do better (say why at the call).
void record_compare(const std::string& op, int version, DType dt, const std::string& name, const Vec& out, const Vec& ref, double f32_tol = 1e-4) {
  Check c;
  c.op = op;
  c.version = version;
  c.dtype = dname(dt);
  c.name = name;
  c.stats = compare(out, ref);
  c.tol = dt == DType::kBF16 ? 1e-2 : f32_tol;
  // Element-wise bound beside the L2 one: bf16 rounding moves an element by ≤ 2^-8 of itself, and a
  // composition's errors stay within a few of those against the largest output.
  const double tol_max = dt == DType::kBF16 ? 5e-2 : f32_tol;
  c.pass = c.stats.nonfinite == 0 && c.stats.rel <= c.tol && c.stats.max_rel() <= tol_max;
  if (!c.pass) c.where = locate(out, ref, tol_max, c.stats.max_ref);
  g_checks.push_back(c);
}

// out against want element by element, bit for bit (NaN never equal): a passing Check says "bit-identical
// to <what>", a failing one how many elements differ and the first.
Check identical_check(const std::string& op, int version, DType dt, const std::string& name, const Vec& out, const Vec& want, const std::string& what) {
  Check c;
  c.op = op;
  c.version = version;
  c.dtype = dname(dt);
  c.name = name;
  int64_t differ = 0, first = -1;
  for (size_t i = 0; i < out.size() && i < want.size(); ++i) {
    if (!(out[i] == want[i])) {
      if (first < 0) first = static_cast<int64_t>(i);
      ++differ;
    }
  }
  c.pass = out.size() == want.size() && differ == 0;
  c.detail = c.pass ? "bit-identical to " + what
                    : std::to_string(differ) + " of " + std::to_string(out.size()) + " elements differ from " + what + " (first " + std::to_string(first) + ")";
  return c;
}

void record_status(const std::string& op, int version, DType dt, const std::string& name, const Status& s, bool expect_reject) {
  Check c;
  c.op = op;
  c.version = version;
  c.dtype = dname(dt);
  c.name = name;
  c.expect_reject = expect_reject;
  c.detail = s.message();
  c.pass = expect_reject ? s.code() == Code::kInvalidArgument : s.ok();
  if (expect_reject && s.ok()) c.detail = "accepted arguments it should refuse";
  g_checks.push_back(c);
}

// Runs `run` (which calls the op and returns its Status); on success compares the output.
template <typename Run, typename Ref>
void check_case(const std::string& op, int version, DType dt, const std::string& name, bool expect_reject, Run run, const TensorView& out,
                Ref ref, double f32_tol = 1e-4) {
  Status s;
  try {
    s = run();
  } catch (const Failure& f) {
    s = f.st;
  }
  if (!s.ok() || expect_reject) {
    record_status(op, version, dt, name, s, expect_reject);
    return;
  }
  record_compare(op, version, dt, name, download(out), ref(), f32_tol);
}

// ---------------------------------------------------------------- parity cases
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

// Whether device 0 is an sm_90 GPU (gemm v3 must run there and refuse elsewhere).
bool device_is_sm90() {
  static int cc = -1;
  if (cc < 0) {
    cudaDeviceProp prop;
    cc = cudaGetDeviceProperties(&prop, 0) == cudaSuccess ? prop.major * 10 + prop.minor : 0;
    cudaGetLastError();
  }
  return cc == 90;
}

// The launch variants of gemm v3 (and of the convs built on it) a case runs at: the plan's tile width, or a
// forced one (128, 192, 256), each without clusters or in clusters of two blocks sharing the B tile by TMA
// multicast (SANA_LAB_GEMM_CLUSTER=2). Forced for the scope of one run (with a bench probe, if any), then
// restored.
struct WgVariant {
  int tile_n, cluster;
  std::string suffix() const {
    if (tile_n == 0 && cluster == 1) return "";
    std::string s = tile_n ? "tile_n " + std::to_string(tile_n) : "";
    if (cluster > 1) s += (s.empty() ? "" : ", ") + std::string("cluster ") + std::to_string(cluster);
    return " [" + s + "]";
  }
};
struct WgForce {
  int saved_cluster;
  explicit WgForce(const WgVariant& w, int probe = cuda::plan::kWgProbeNone) : saved_cluster(cuda::gemm_wgmma_cluster_mode()) {
    cuda::set_gemm_wgmma_tile_n(w.tile_n);
    cuda::set_gemm_wgmma_cluster(w.cluster);
    cuda::set_gemm_wgmma_probe(probe);
  }
  ~WgForce() {
    cuda::set_gemm_wgmma_tile_n(0);
    cuda::set_gemm_wgmma_cluster(saved_cluster);
    cuda::set_gemm_wgmma_probe(cuda::plan::kWgProbeNone);
  }
};
// A failed check when a run made `launches` launches of a kind (split, cluster) where the plan resolves to
// `expected` (so a path that silently stopped splitting or clustering fails); nothing when they agree.
void check_launches(const char* op, int version, DType dt, const std::string& name, const char* kind, int64_t launches, int64_t expected) {
  if (launches == expected) return;
  Check e;
  e.op = op;
  e.version = version;
  e.dtype = dname(dt);
  e.name = name + ": " + kind + " launches";
  e.detail = std::to_string(launches) + " " + kind + " launches, expected " + std::to_string(expected);
  g_checks.push_back(e);
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

// Core v3 (tensor cores, the state split into bf16 hi + lo for the apply) against v2 (f32 CUDA cores)
// on the same inputs, two checks:
// - the project's bf16 rule: v3's error against the float64 reference within 2× of v2's (both printed);
// - v3 is v2's math with a ~16-bit state, so the two differ only where that moves an output across a
//   bf16 rounding boundary: ‖v3 − v2‖ within a quarter of v2's (rounding) error. (On the emulator:
//   0.01–0.1 of it; with S_lo dropped, i.e. a bf16 state, 1.2–1.4 — which the first rule alone lets
//   pass: v3's error then is 1.2× v2's.)
void la_v3_within_2x_of_v2(const LinearAttentionArgs& a3, const std::string& name, const Vec& ref) {
  const DType dt = a3.out.dtype;
  Dev out2 = poisoned(dt, {a3.out.shape[0], a3.out.shape[1], a3.out.shape[2]});
  LinearAttentionArgs a2 = a3;
  a2.out = out2.v;
  Check c;
  c.op = "linear-attention";
  c.version = 3;
  c.dtype = dname(dt);
  c.name = name + " [v3 err <= 2x v2]";
  Check agree = c;
  agree.name = name + " [|v3-v2| <= v2 err/4]";
  const Status s = cuda::linear_attention(a2, 2);
  if (!s.ok()) {
    c.detail = agree.detail = "v2 failed: " + s.message();
  } else {
    const Vec o3 = download(a3.out), o2 = download(out2.v);
    const Stats s3 = compare(o3, ref), s2 = compare(o2, ref), d = compare(o3, o2);
    const bool finite = s3.nonfinite == 0 && s2.nonfinite == 0;
    c.pass = finite && s3.rel <= 2 * s2.rel;
    c.detail = "rel err v3 " + num(s3.rel) + " (max/|ref| " + num(s3.max_rel()) + "), v2 " + num(s2.rel) + " (" + num(s2.max_rel()) + ")";
    agree.pass = finite && d.rel <= 0.25 * s2.rel;
    agree.detail = "|v3 - v2|/|v2| " + num(d.rel) + " = " + num(s2.rel > 0 ? d.rel / s2.rel : 0) + " × v2's rel err";
  }
  g_checks.push_back(c);
  g_checks.push_back(agree);
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

// v2 (head_dim 32, 16-byte rows) applies 4 × 64 tokens per block: N 300 and 517 run several apply blocks
// (517 with a ragged last one) and several state chunks; v1 up to head_dim 64, with 256 / d tokens per
// apply block (24 and 48 leave threads idle). Misaligned views (one element into an allocation): v2
// refuses them, the default falls back to v1. head_dim > 64 is refused by every version.
// v3 (bf16, head_dim 32, 16-byte rows; tensor cores) stages 64-token tiles 4 deep and applies 512 tokens
// per block: N 1100 runs 3 apply blocks (the last ragged) of up to 8 tiles (the stage ring wraps), M 700
// 11 state tiles in one chunk; N 5 / M 3 leave every warp's 16 rows mostly past the end. Its bf16
// error must stay within 2× of v2's on the same inputs (a separate check prints both).
void parity_linear_attention(int v, DType dt, Rng& rng) {
  enum { kQ = 1, kK = 2, kV = 4, kOut = 8 };  // which tensors start one element off their allocation
  struct Case {
    const char* name;
    int64_t B, N, M, C, d;
    int misaligned;
    float eps = 1e-15f;  // the op's default
  };
  const Case cases[] = {{"B2 N77 C64 d32", 2, 77, 77, 64, 32, 0},
                        {"B1 N130 M61 C96 d32", 1, 130, 61, 96, 32, 0},
                        {"B2 N20 C48 d16", 2, 20, 20, 48, 16, 0},
                        {"B1 N300 C32 d32 (2 apply blocks)", 1, 300, 300, 32, 32, 0},
                        {"B2 N517 M150 C32 d32 (3 apply blocks, ragged)", 2, 517, 150, 32, 32, 0},
                        {"B1 N70 M90 C64 d64 (v1's largest)", 1, 70, 90, 64, 64, 0},
                        {"B2 N45 M38 C72 d24 (24 does not divide 256)", 2, 45, 38, 72, 24, 0},
                        {"B1 N33 M50 C48 d48", 1, 33, 50, 48, 48, 0},
                        {"B1 N80 M70 C64 d32 q k v out misaligned", 1, 80, 70, 64, 32, kQ | kK | kV | kOut},
                        {"B2 N40 C64 d32 out misaligned", 2, 40, 40, 64, 32, kOut},
                        {"B1 N20 C256 d128 (head_dim > 64)", 1, 20, 20, 256, 128, 0},
                        {"B1 N1100 M700 C64 d32 (v3: 3 apply blocks)", 1, 1100, 700, 64, 32, 0},
                        {"B2 N5 M3 C64 d32 (< 16 tokens)", 2, 5, 3, 64, 32, 0},
                        {"B1 N70 M90 C64 d32 eps 100", 1, 70, 90, 64, 32, 0, 100.0f}};
  for (const Case& c : cases) {
    auto off = [&](int bit) -> int64_t { return (c.misaligned & bit) ? 1 : 0; };
    OffsetDev q = randn_at(dt, {c.B, c.N, c.C}, off(kQ), rng, 1.0), k = randn_at(dt, {c.B, c.M, c.C}, off(kK), rng, 1.0);
    OffsetDev vv = randn_at(dt, {c.B, c.M, c.C}, off(kV), rng, 1.0);
    OffsetDev out = poisoned_at(dt, {c.B, c.N, c.C}, off(kOut));
    LinearAttentionArgs a;
    a.q = q.v;
    a.k = k.v;
    a.v = vv.v;
    a.out = out.v;
    a.head_dim = c.d;
    a.eps = c.eps;
    const bool reject = c.d > 64 || ((v == 2 || v == 3) && (c.d != 32 || c.misaligned != 0)) || (v == 3 && dt != DType::kBF16);
    auto ref = [&] { return selftest::linear_attention(q.h, c.C, k.h, c.C, vv.h, c.C, 0, 0, 0, c.B, c.N, c.M, c.C, c.d, c.eps); };
    check_case("linear-attention", v, dt, c.name, reject, [&] { return cuda::linear_attention(a, v); }, out.v, ref);
    if (v == 3 && !reject) la_v3_within_2x_of_v2(a, c.name, ref());
    // At these sizes the plan gives every 64-token tile its own block; at SANA sizes a block reduces
    // many tiles (4096²: 9). One chunk per batch·head runs that loop (and its tile-reuse barriers).
    if (c.M > 64) {
      cuda::set_la_target_blocks(1);
      ok(cuda::fill_bytes(out.v.data, 0xFF, out.v.bytes()));  // poisoned again
      const std::string name = std::string(c.name) + " [1 chunk: " + std::to_string((c.M + 63) / 64) + " tiles per block]";
      check_case("linear-attention", v, dt, name.c_str(), reject, [&] { return cuda::linear_attention(a, v); }, out.v, ref);
      cuda::set_la_target_blocks(0);
    }
  }
}


// The compositions' references, rounding where the CUDA ops store intermediates.
Vec ref_la_block(const Vec& x, const Vec& wq, const Vec& wk, const Vec& wv, const Vec& wo, const Vec* bo, const Vec* gate, int64_t gate_rows,
                 const Vec* res, int64_t B, int64_t N, int64_t C, int64_t Cout, int64_t d, const selftest::Round& rnd) {
  const int64_t M = B * N;
  Vec q = selftest::round_all(selftest::gemm(x, wq, M, C, C, nullptr, 0, nullptr, 1, nullptr), rnd);
  Vec k = selftest::round_all(selftest::gemm(x, wk, M, C, C, nullptr, 0, nullptr, 1, nullptr), rnd);
  Vec vv = selftest::round_all(selftest::gemm(x, wv, M, C, C, nullptr, 0, nullptr, 1, nullptr), rnd);
  Vec o = selftest::round_all(selftest::linear_attention(q, C, k, C, vv, C, 0, 0, 0, B, N, N, C, d, 1e-15), rnd);
  return selftest::gemm(o, wo, M, Cout, C, bo, 0, gate, gate_rows, res);
}

Vec dw_glu_ref(const Vec& u, const Vec& w, const Vec& b, int64_t B, int64_t H, int64_t W, int64_t h);

Vec ref_mix_ffn(const Vec& x, const Vec& w_inv, const Vec& b_inv, const Vec& w_dw, const Vec& b_dw, const Vec& w_pt, const Vec* gate,
                const Vec* res, int64_t B, int64_t H, int64_t W, int64_t C, int64_t h, int64_t Cout, const selftest::Round& rnd) {
  const int64_t N = H * W, M = B * N;
  Vec u = selftest::round_all(selftest::gemm(x, w_inv, M, 2 * h, C, &b_inv, 2, nullptr, 1, nullptr), rnd);
  Vec z = selftest::round_all(dw_glu_ref(u, w_dw, b_dw, B, H, W, h), rnd);
  return selftest::gemm(z, w_pt, M, Cout, h, nullptr, 0, gate, N, res);
}

// cross-attention with precomputed text keys/values k, v (B, L, C): only q is projected.
Vec ref_cross_kv(const Vec& x, const Vec& k, const Vec& v, const Vec& wq, const Vec& wo, const Vec* bq, const Vec* bo, const Vec* mask,
                 const Vec* res, int64_t B, int64_t N, int64_t L, int64_t C, int64_t heads, const selftest::Round& rnd) {
  Vec q = selftest::round_all(selftest::gemm(x, wq, B * N, C, C, bq, 0, nullptr, 1, nullptr), rnd);
  Vec o = selftest::round_all(selftest::cross_core(q, k, v, mask, B, N, L, C, heads), rnd);
  return selftest::gemm(o, wo, B * N, C, C, bo, 0, nullptr, 1, res);
}

// biases = {bq, bk, bv, bo}, each may be null.
Vec ref_cross(const Vec& x, const Vec& y, const Vec& wq, const Vec& wk, const Vec& wv, const Vec& wo, const Vec* const* biases, const Vec* mask,
              const Vec* res, int64_t B, int64_t N, int64_t L, int64_t C, int64_t Cy, int64_t heads, const selftest::Round& rnd) {
  Vec k = selftest::round_all(selftest::gemm(y, wk, B * L, C, Cy, biases[1], 0, nullptr, 1, nullptr), rnd);
  Vec vv = selftest::round_all(selftest::gemm(y, wv, B * L, C, Cy, biases[2], 0, nullptr, 1, nullptr), rnd);
  return ref_cross_kv(x, k, vv, wq, wo, biases[0], biases[3], mask, res, B, N, L, C, heads, rnd);
}

void parity_linear_attention_block(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, N, C, Cout;
    bool in_place;  // out == residual
  };
  // v3 (fused k/v-state gemm) needs bf16, N % 128 == 0 and C % 64 == 0: the first case must be refused
  const Case cases[] = {{"B2 N50 C64 bo gate residual", 2, 50, 64, 64, false},
                        {"B2 N256 C128→96 bo gate residual", 2, 256, 128, 96, false},
                        {"B2 N128 C64 bo gate, residual in place", 2, 128, 64, 64, true}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  for (const Case& c : cases) {
    const int64_t B = c.B, N = c.N, C = c.C, Cout = c.Cout, d = 32;
    Dev x = randn(dt, {B, N, C}, rng, 1.0);
    const double s = 1.0 / std::sqrt(double(C));
    Dev wq = randn(dt, {C, C}, rng, s), wk = randn(dt, {C, C}, rng, s), wv = randn(dt, {C, C}, rng, s), wo = randn(dt, {Cout, C}, rng, s);
    Dev bo = randn(dt, {Cout}, rng, 0.1), gate = randn(dt, {B, 1, Cout}, rng, 0.5, 1.0), res = randn(dt, {B, N, Cout}, rng, 1.0);
    Dev out = c.in_place ? upload_values(dt, {B, N, Cout}, res.h) : poisoned(dt, {B, N, Cout});
    LinearAttentionBlockArgs a;
    a.x = x.v;
    a.wq = wq.v;
    a.wk = wk.v;
    a.wv = wv.v;
    a.wo = wo.v;
    a.bo = bo.ptr();
    a.gate = gate.ptr();
    a.residual = c.in_place ? out.ptr() : res.ptr();
    a.head_dim = d;
    a.out = out.v;
    // v4, v5 (wgmma gemms around core v2, v3): bf16 on an sm_90 device
    const bool reject = (v == 3 && (dt != DType::kBF16 || N % 128 != 0 || C % 64 != 0)) ||
                        ((v == 4 || v == 5) && (dt != DType::kBF16 || !device_is_sm90()));
    check_case("linear-attention-block", v, dt, c.name, reject, [&] { return cuda::linear_attention_block(a, v); }, out.v,
               [&] { return ref_la_block(x.h, wq.h, wk.h, wv.h, wo.h, &bo.h, &gate.h, N, &res.h, B, N, C, Cout, d, rnd); });
  }
  // wq, wk, wv back to back in one allocation (a runner's arena): versions other than 3 run q, k, v as one
  // gemm of N = 3C, which must give the three gemms' result bit for bit (and, on the wgmma engine, one
  // launch instead of three).
  const bool reject = (v == 3) || ((v == 4 || v == 5) && (dt != DType::kBF16 || !device_is_sm90()));
  if (reject) return;
  const int64_t B = 2, N = 96, C = 64, d = 32;
  const double s = 1.0 / std::sqrt(double(C));
  Dev x = randn(dt, {B, N, C}, rng, 1.0), w3 = randn(dt, {3 * C, C}, rng, s), wo = randn(dt, {C, C}, rng, s), bo = randn(dt, {C}, rng, 0.1);
  Vec part[3];
  for (int i = 0; i < 3; ++i) part[i].assign(w3.h.begin() + i * C * C, w3.h.begin() + (i + 1) * C * C);
  Dev wq = upload_values(dt, {C, C}, part[0]), wk = upload_values(dt, {C, C}, part[1]), wv = upload_values(dt, {C, C}, part[2]);
  Dev out_sep = poisoned(dt, {B, N, C}), out_packed = poisoned(dt, {B, N, C});
  LinearAttentionBlockArgs a;
  a.x = x.v;
  a.wo = wo.v;
  a.bo = bo.ptr();
  a.head_dim = d;
  a.wq = wq.v;
  a.wk = wk.v;
  a.wv = wv.v;
  a.out = out_sep.v;
  const int64_t l0 = cuda::gemm_wgmma_launch_count();
  ok(cuda::linear_attention_block(a, v));
  const int64_t l1 = cuda::gemm_wgmma_launch_count();
  for (int i = 0; i < 3; ++i) {
    TensorView* w = i == 0 ? &a.wq : i == 1 ? &a.wk : &a.wv;
    *w = wq.v;
    w->data = static_cast<uint8_t*>(w3.v.data) + i * C * C * dtype_bytes(dt);
  }
  a.out = out_packed.v;
  ok(cuda::linear_attention_block(a, v));
  const int64_t l2 = cuda::gemm_wgmma_launch_count();
  const std::string name = "B2 N96 C64 bo, q/k/v weights back to back";
  record_compare("linear-attention-block", v, dt, name, download(out_packed.v),
                 ref_la_block(x.h, part[0], part[1], part[2], wo.h, &bo.h, nullptr, N, nullptr, B, N, C, C, d, rnd));
  Check c = identical_check("linear-attention-block", v, dt, name + ": one gemm, the same result", download(out_packed.v), download(out_sep.v),
                            "the three-gemm run");
  if (l1 - l0 > 0) {  // the wgmma engine counts its launches
    c.pass = c.pass && l1 - l0 == 4 && l2 - l1 == 2;
    c.detail += "; wgmma launches " + std::to_string(l1 - l0) + " → " + std::to_string(l2 - l1) + " (want 4 → 2)";
  }
  g_checks.push_back(c);
}

Vec dw_glu_ref(const Vec& u, const Vec& w, const Vec& b, int64_t B, int64_t H, int64_t W, int64_t h) {
  Vec z(B * H * W * h);
  for (int64_t bb = 0; bb < B; ++bb)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        for (int64_t c = 0; c < h; ++c) {
          double aa = b[c], gg = b[h + c];
          for (int tap = 0; tap < 9; ++tap) {
            const int64_t iy = y + tap / 3 - 1, ix = x + tap % 3 - 1;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const int64_t p = ((bb * H + iy) * W + ix) * 2 * h;
            aa += w[c * 9 + tap] * u[p + c];
            gg += w[(h + c) * 9 + tap] * u[p + h + c];
          }
          z[((bb * H + y) * W + x) * h + c] = aa * selftest::act_d(gg, 2);
        }
  return z;
}

// The depthwise + GLU step alone (needs no sm_90, unlike mix-ffn v4 around it): v3 (tiles staged in shared
// memory) must equal v2 bit for bit, as both sum each output's bias and 9 taps in the same order with f32
// FMAs, and both must match the float64 reference. Poisoned outputs; shapes across v3's 8 × 16 tiles
// and 32-channel slices (partial last slice at h 40 and 72), W < 4, H = 1, a single pixel.
void parity_dw_glu_v3(Rng& rng) {
  struct Shape {
    int64_t B, H, W, h;
  };
  const Shape shapes[] = {{2, 19, 37, 40}, {1, 8, 16, 32}, {1, 9, 17, 72}, {2, 5, 3, 64}, {1, 1, 33, 8}, {1, 1, 1, 16}};
  const DType dt = DType::kBF16;
  for (const Shape& sh : shapes) {
    const std::string name = "depthwise v3 vs v2, B" + std::to_string(sh.B) + " " + std::to_string(sh.H) + "×" + std::to_string(sh.W) + " h" +
                             std::to_string(sh.h);
    Dev u = randn(dt, {sh.B, sh.H * sh.W, 2 * sh.h}, rng, 1.0);
    Dev w = randn(dt, {2 * sh.h, 1, 3, 3}, rng, 1.0 / 3), b = randn(dt, {2 * sh.h}, rng, 0.1);
    Dev z2 = poisoned(dt, {sh.B, sh.H * sh.W, sh.h}), z3 = poisoned(dt, {sh.B, sh.H * sh.W, sh.h});
    for (const auto& [ver, z] : {std::pair<int, Dev*>{2, &z2}, std::pair<int, Dev*>{3, &z3}}) {
      cuda::OpScope scope("mix-ffn dw");
      ok(scope.begin());
      ok(scope.finish(cuda::dw_glu("mix-ffn dw", ver, dt, u.v.data, w.v.data, b.v.data, z->v.data, sh.B, sh.H, sh.W, sh.h)));
    }
    const Vec o2 = download(z2.v), o3 = download(z3.v);
    record_compare("mix-ffn", 4, dt, name + ": v3 vs float64", o3, selftest::round_all(dw_glu_ref(u.h, w.h, b.h, sh.B, sh.H, sh.W, sh.h), [](double x) {
                     return round_to(DType::kBF16, x);
                   }));
    g_checks.push_back(identical_check("mix-ffn", 4, dt, name + ": bit-identical", o3, o2, "dw v2"));
  }
}

void parity_mix_ffn(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, H, W, C, h, Cout;
    bool gate;      // gate and residual
    bool in_place;  // out == residual (as dit-block calls it)
  };
  // v2 works on runs of 4 pixels along a row (W < 4: one partial run; W = 1: no horizontal neighbour)
  // and 8 channels per thread (h % 8 == 0, else refused)
  const Case cases[] = {{"B2 5×7 C32 h40 gate residual", 2, 5, 7, 32, 40, 32, true, false},
                        {"B1 4×4 C16 h20 Cout24", 1, 4, 4, 16, 20, 24, false, false},
                        {"B2 5×3 C32 h40 gate residual (W < 4)", 2, 5, 3, 32, 40, 32, true, false},
                        {"B1 6×1 C16 h16 (W = 1)", 1, 6, 1, 16, 16, 16, false, false},
                        {"B1 1×5 C16 h8 gate residual (H = 1)", 1, 1, 5, 16, 8, 16, true, false},
                        {"B1 4×6 C32 h24 Cout16", 1, 4, 6, 32, 24, 16, false, false},
                        {"B1 7×5 C64 h128 gate residual", 1, 7, 5, 64, 128, 64, true, false},
                        {"B2 3×9 C48 h72 gate, residual in place", 2, 3, 9, 48, 72, 48, true, true},
                        // dw v3's 8 × 16 tiles: several tiles each way with ragged edges, and a partial
                        // channel slice (h 48 = one slice of 32 + one of 16)
                        {"B1 19×37 C32 h48 gate residual (v3 tiles: 3 × 3, ragged)", 1, 19, 37, 32, 48, 32, true, false},
                        {"B2 9×17 C16 h32 (v3 tiles: 2 × 2, one row/column over)", 2, 9, 17, 16, 32, 16, false, false}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  for (const Case& c : cases) {
    const int64_t N = c.H * c.W, M = c.B * N;
    Dev x = randn(dt, {c.B, N, c.C}, rng, 1.0);
    Dev w_inv = randn(dt, {2 * c.h, c.C, 1, 1}, rng, 1.0 / std::sqrt(double(c.C))), b_inv = randn(dt, {2 * c.h}, rng, 0.1);
    Dev w_dw = randn(dt, {2 * c.h, 1, 3, 3}, rng, 1.0 / 3), b_dw = randn(dt, {2 * c.h}, rng, 0.1);
    Dev w_pt = randn(dt, {c.Cout, c.h, 1, 1}, rng, 1.0 / std::sqrt(double(c.h)));
    Dev gate = randn(dt, {c.B, 1, c.Cout}, rng, 0.5, 1.0), res = randn(dt, {c.B, N, c.Cout}, rng, 1.0);
    Dev out = c.in_place ? upload_values(dt, {c.B, N, c.Cout}, res.h) : poisoned(dt, {c.B, N, c.Cout});
    MixFfnArgs a;
    a.x = x.v;
    a.w_inv = w_inv.v;
    a.b_inv = b_inv.v;
    a.w_dw = w_dw.v;
    a.b_dw = b_dw.v;
    a.w_point = w_pt.v;
    a.height = c.H;
    a.width = c.W;
    a.gate = c.gate ? gate.ptr() : nullptr;
    a.residual = c.in_place ? out.ptr() : c.gate ? res.ptr() : nullptr;
    a.out = out.v;
    const bool reject = (v == 2 && c.h % 8 != 0) || (v >= 3 && (dt != DType::kBF16 || c.C % 8 != 0 || c.h % 8 != 0 || !device_is_sm90()));
    check_case("mix-ffn", v, dt, c.name, reject, [&] { return cuda::mix_ffn(a, v); }, out.v, [&] {
      return ref_mix_ffn(x.h, w_inv.h, b_inv.h, w_dw.h, b_dw.h, w_pt.h, c.gate ? &gate.h : nullptr, c.gate ? &res.h : nullptr, c.B, c.H, c.W, c.C,
                         c.h, c.Cout, rnd);
    });
    (void)M;
  }
  if (v == 4 && dt == DType::kBF16) parity_dw_glu_v3(rng);
}

// Head dims: 32, 72 (Sana-0.6B), 112 (Sana-1.6B), 128 (v1's and v2's largest; v2 then needs 52 KB of
// dynamic shared memory, over the 48 KB default), 8 (v2 pads it to 16), 20 (d % 8 != 0: v2 refuses,
// the bf16 default falls back to v1), 136 (refused by every version). Both text forms: y with wk, wv
// (bk, bv), and precomputed k, v (B, L, C) (what the runner passes). A batch item whose whole mask is
// −10⁴ (softmax over the unmasked scores, not 0/0), and out == x == residual (dit-block's call).
// The fully masked item's f32 bounds are 1e-3: its logits sit near −10⁴, where f32's spacing is 2⁻¹⁰,
// so a kernel's logit often rounds one step away from the reference's (reference.h models the rounding
// itself), moving a probability by 10⁻³ relative: the CPU backend's f32 reaches max-rel 1.5·10⁻⁴ here
// (worst of 300 seeds); a real fault (0/0, the wrong item's mask, unnormalised weights) is off by O(1).
void parity_cross_attention(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, N, L, C, heads, Cy;
    bool biases, mask3, residual;
    bool precomputed;  // k, v given instead of y, wk, wv, bk, bv
    bool masked_item;  // batch item 1 entirely masked
    bool in_place;     // out == x == residual
    bool kv_misaligned;  // precomputed k, v one element off their allocations (v2 refuses, the default falls back)
  };
  const Case cases[] = {
      {"B2 N70 L37 C64 d32 Cy48 biases mask residual", 2, 70, 37, 64, 2, 48, true, false, true, false, false, false, false},
      {"B1 N65 L77 C144 d72 Cy40 mask(B,1,L)", 1, 65, 77, 144, 2, 40, false, true, false, false, false, false, false},
      {"B2 N70 L37 C224 d112 Cy48 biases mask residual", 2, 70, 37, 224, 2, 48, true, false, true, false, false, false, false},
      {"B1 N66 L70 C256 d128 Cy64 biases mask", 1, 66, 70, 256, 2, 64, true, false, false, false, false, false, false},
      {"B2 N50 L33 C32 d8 Cy16 biases mask residual", 2, 50, 33, 32, 4, 16, true, false, true, false, false, false, false},
      {"B1 N40 L29 C60 d20 Cy24 mask (d % 8 != 0)", 1, 40, 29, 60, 3, 24, false, false, false, false, false, false, false},
      {"B2 N70 L45 d32 precomputed k v, bq bo mask res", 2, 70, 45, 64, 2, 0, true, false, true, true, false, false, false},
      {"B1 N65 L77 C224 d112 precomputed k v, mask(B,1,L)", 1, 65, 77, 224, 2, 0, false, true, false, true, false, false, false},
      {"B2 N70 L37 d32 item 1 fully masked (f32 tol 1e-3)", 2, 70, 37, 64, 2, 48, true, false, true, false, true, false, false},
      {"B2 N70 L37 d32 biases mask, out = x = residual", 2, 70, 37, 64, 2, 48, true, false, true, false, false, true, false},
      {"B2 N70 L45 d32 precomputed k v misaligned", 2, 70, 45, 64, 2, 0, false, false, false, true, false, false, true},
      {"B1 N10 L5 C272 d136 (head dim > 128)", 1, 10, 5, 272, 2, 16, false, false, false, false, false, false, false},
      // core v3 (op v4): SANA's L = 300 (4 steps of 64 keys + 44, two cp.async groups), ragged key counts
      // (1, 77, 129: padded to 16 with −∞ logits), N not a multiple of its 128 queries, per-item masks
      {"B2 N200 L300 C144 d72 Cy40 biases mask residual (SANA's L)", 2, 200, 300, 144, 2, 40, true, false, true, false, false, false, false},
      {"B2 N130 L1 C64 d32 Cy16 mask (one key)", 2, 130, 1, 64, 2, 16, false, false, false, false, false, false, false},
      {"B1 N129 L129 C256 d128 Cy32 biases mask(B,1,L)", 1, 129, 129, 256, 2, 32, true, true, false, false, false, false, false},
      {"B2 N150 L77 C144 d72 precomputed k v, bq bo mask, out = x = residual", 2, 150, 77, 144, 2, 0, true, false, true, true, false, true, false},
      {"B2 N100 L300 C64 d32 precomputed k v mask", 2, 100, 300, 64, 2, 0, false, false, false, true, false, false, false},
      {"B1 N20 L700 C256 d128 (core v3: K/V over shared memory)", 1, 20, 700, 256, 2, 32, false, false, false, false, false, false, false}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  for (const Case& c : cases) {
    const int64_t d = c.C / c.heads;
    const int64_t Cy = c.precomputed ? c.C : c.Cy;
    Dev x = randn(dt, {c.B, c.N, c.C}, rng, 1.0), y = randn(dt, {c.B, c.L, Cy}, rng, 1.0);
    const double sx = 1.0 / std::sqrt(double(c.C)), sy = 1.0 / std::sqrt(double(Cy));
    Dev wq = randn(dt, {c.C, c.C}, rng, 2 * sx), wk = randn(dt, {c.C, Cy}, rng, 2 * sy), wv = randn(dt, {c.C, Cy}, rng, sy);
    Dev wo = randn(dt, {c.C, c.C}, rng, sx);
    Dev bq = randn(dt, {c.C}, rng, 0.1), bk = randn(dt, {c.C}, rng, 0.1), bv = randn(dt, {c.C}, rng, 0.1), bo = randn(dt, {c.C}, rng, 0.1);
    // precomputed keys/values with the spread the projections above give (k ≈ 2, v ≈ 1)
    const int64_t kv_off = c.kv_misaligned ? 1 : 0;
    OffsetDev kp = randn_at(dt, {c.B, c.L, c.C}, kv_off, rng, 2.0), vp = randn_at(dt, {c.B, c.L, c.C}, kv_off, rng, 1.0);
    std::vector<double> mvals(c.B * c.L);
    for (int64_t i = 0; i < c.B * c.L; ++i) {
      const bool all_masked = c.masked_item && i / c.L == 1;
      mvals[i] = !all_masked && ((i % c.L) < 3 || rng.uniform() < 0.6) ? 0.0 : -10000.0;  // first keys kept unless all masked
    }
    Dev mask = c.mask3 ? upload_values(dt, {c.B, 1, c.L}, mvals) : upload_values(dt, {c.B, c.L}, mvals);
    Dev res = randn(dt, {c.B, c.N, c.C}, rng, 1.0);
    Dev out = c.in_place ? upload_values(dt, {c.B, c.N, c.C}, x.h) : poisoned(dt, {c.B, c.N, c.C});  // in place: out starts as x
    CrossAttentionArgs a;
    a.x = c.in_place ? out.v : x.v;
    a.wq = wq.v;
    a.wo = wo.v;
    if (c.precomputed) {
      a.k = kp.ptr();
      a.v = vp.ptr();
    } else {
      a.y = y.v;
      a.wk = wk.v;
      a.wv = wv.v;
    }
    if (c.biases) {
      a.bq = bq.ptr();
      a.bo = bo.ptr();
      if (!c.precomputed) {
        a.bk = bk.ptr();
        a.bv = bv.ptr();
      }
    }
    a.mask_bias = mask.ptr();
    a.heads = c.heads;
    a.residual = c.in_place ? out.ptr() : c.residual ? res.ptr() : nullptr;
    a.out = out.v;
    const bool core_refuses = dt != DType::kBF16 || c.C % 8 != 0 || d % 8 != 0 || c.kv_misaligned;
    // v4's core holds a head's K and V in shared memory: 700 keys of d = 128 need 385 KB, over any GPU's opt-in (227 KB on sm_90)
    const bool v4_too_long = cuda::plan::xattn_v3_smem(c.L, d) > 227 * 1024;
    const bool reject = d > 128 || (v == 2 && core_refuses) || ((v == 3 || v == 4) && (core_refuses || Cy % 8 != 0 || !device_is_sm90())) ||
                        (v == 4 && v4_too_long);
    check_case("cross-attention", v, dt, c.name, reject, [&] { return cuda::cross_attention(a, v); }, out.v, [&] {
      const Vec* bq_h = c.biases ? &bq.h : nullptr;
      const Vec* bo_h = c.biases ? &bo.h : nullptr;
      const Vec* res_h = c.in_place ? &x.h : c.residual ? &res.h : nullptr;
      if (c.precomputed) return ref_cross_kv(x.h, kp.h, vp.h, wq.h, wo.h, bq_h, bo_h, &mask.h, res_h, c.B, c.N, c.L, c.C, c.heads, rnd);
      const Vec* bb[4] = {bq_h, c.biases ? &bk.h : nullptr, c.biases ? &bv.h : nullptr, bo_h};
      return ref_cross(x.h, y.h, wq.h, wk.h, wv.h, wo.h, bb, &mask.h, res_h, c.B, c.N, c.L, c.C, Cy, c.heads, rnd);
    }, c.masked_item ? 1e-3 : 1e-4);
    if (v == 0 && dt == DType::kF32 && c.precomputed && c.B == 2 && !c.kv_misaligned) {  // refusals: both text forms, k without v
      a.y = y.v;
      a.wk = wk.v;
      a.wv = wv.v;
      record_status("cross-attention", 0, dt, "refuses y, wk, wv given beside precomputed k, v", cuda::cross_attention(a, 0), true);
      a.y = TensorView();
      a.wk = TensorView();
      a.wv = TensorView();
      a.v = nullptr;
      record_status("cross-attention", 0, dt, "refuses precomputed k without v", cuda::cross_attention(a, 0), true);
    }
  }
}

void parity_layernorm_modulate(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, N, C;
    bool per_batch;
  };
  // C 1152 (Sana-0.6B) and 2240 (1.6B) take v2's long-row variant (more than 2 vectors per lane), the
  // one the DiT runs; the coverage of the emulated self-test showed it was never run before.
  const Case cases[] = {{"B2 N33 C96 mean 3 per-batch", 2, 33, 96, true},
                        {"B2 N5 C100 shared", 2, 5, 100, false},
                        {"B2 N7 C1152 per-batch (long rows)", 2, 7, 1152, true},
                        {"B1 N3 C2240 shared (long rows)", 1, 3, 2240, false},
                        {"B1 N2 C3000 per-batch (v2's largest register budget)", 1, 2, 3000, true}};
  for (const Case& c : cases) {
    Dev x = randn(dt, {c.B, c.N, c.C}, rng, 1.0, 3.0);
    const int64_t G = c.per_batch ? c.B : 1;
    Dev shift = randn(dt, {G, 1, c.C}, rng, 0.3), scale = randn(dt, {G, 1, c.C}, rng, 0.3);
    Dev out = poisoned(dt, {c.B, c.N, c.C});
    LayerNormModulateArgs a;
    a.x = x.v;
    a.shift = shift.v;
    a.scale = scale.v;
    a.out = out.v;
    check_case("layernorm-modulate", v, dt, c.name, v == 2 && c.C % 8 != 0, [&] { return cuda::layernorm_modulate(a, v); }, out.v, [&] {
      return selftest::layernorm_modulate(x.h, c.B * c.N, c.C, shift.h, scale.h, c.B * c.N / G, 1e-6);
    });
  }
}

void parity_rmsnorm(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    std::vector<int64_t> shape;
    bool w, b, res;
  };
  const Case cases[] = {{"NHWC 3×5×7×128 w b residual", {3, 5, 7, 128}, true, true, true},
                        {"4×1000 w", {4, 1000}, true, false, false},
                        {"6×36 plain", {6, 36}, false, false, false},
                        {"3×1152 w b residual (long rows)", {3, 1152}, true, true, true},
                        {"2×2240 w b (register budget 9)", {2, 2240}, true, true, false},
                        {"2×3072 w residual (register budget 12)", {2, 3072}, true, false, true}};
  for (const Case& c : cases) {
    const int64_t C = c.shape.back();
    int64_t rows = 1;
    for (int64_t s : c.shape) rows *= s;
    rows /= C;
    Dev x = randn(dt, c.shape, rng, 2.0, 0.5), w = randn(dt, {C}, rng, 0.1, 1.0), b = randn(dt, {C}, rng, 0.1);
    Dev res = randn(dt, c.shape, rng, 1.0), out = poisoned(dt, c.shape);
    RmsNormArgs a;
    a.x = x.v;
    a.weight = c.w ? w.ptr() : nullptr;
    a.bias = c.b ? b.ptr() : nullptr;
    a.residual = c.res ? res.ptr() : nullptr;
    a.out = out.v;
    check_case("rmsnorm", v, dt, c.name, v == 2 && C % 8 != 0, [&] { return cuda::rmsnorm(a, v); }, out.v, [&] {
      return selftest::rmsnorm(x.h, rows, C, c.w ? &w.h : nullptr, c.b ? &b.h : nullptr, 1e-5, c.res ? &res.h : nullptr);
    });
  }
}

void parity_conv3x3(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, H, W, Cin, Cout;
    int stride, up, act;
    bool bias, res;
    bool in_place;  // out == residual
  };
  // The entry takes any stride (1, 2) with any upsample (1, 2). Odd Cout = an odd output row stride,
  // which v3's epilogue must store element-wise.
  const Case cases[] = {{"B2 9×7 16→24 s1 bias silu residual", 2, 9, 7, 16, 24, 1, 1, 2, true, true, false},
                        {"B1 10×9 8→16 s2 bias", 1, 10, 9, 8, 16, 2, 1, 0, true, false, false},
                        {"B1 5×4 16→8 upsample2 bias", 1, 5, 4, 16, 8, 1, 2, 0, true, false, false},
                        {"B1 6×5 12→8 s1 (Cin % 8 != 0)", 1, 6, 5, 12, 8, 1, 1, 1, false, false, false},
                        {"B1 5×6 16→8 upsample2 s2 bias", 1, 5, 6, 16, 8, 2, 2, 0, true, false, false},
                        {"B2 7×6 16→13 s1 bias relu (odd Cout)", 2, 7, 6, 16, 13, 1, 1, 1, true, false, false},
                        {"B1 9×7 8→7 s2 bias residual (odd Cout)", 1, 9, 7, 8, 7, 2, 1, 0, true, true, false},
                        {"B1 6×7 24→16 s1 bias gelu", 1, 6, 7, 24, 16, 1, 1, 3, true, false, false},
                        {"B1 4×5 16→24 upsample2 bias silu residual", 1, 4, 5, 16, 24, 1, 2, 2, true, true, false},
                        {"B1 8×6 16→16 s1 bias, residual in place", 1, 8, 6, 16, 16, 1, 1, 0, true, true, true},
                        {"B1 4×3 8→5 upsample2, res in place (odd Cout)", 1, 4, 3, 8, 5, 1, 2, 0, false, true, true},
                        // v4's shapes (Cin % 64 == 0, rows of 128 pixels), run by every version: two channel
                        // blocks per tap, two tiles per row, Cout past one 128-wide tile, the scalar epilogue
                        {"B2 4×128 64→72 s1 bias silu residual", 2, 4, 128, 64, 72, 1, 1, 2, true, true, false},
                        {"B1 3×256 128→136 s1 bias gelu", 1, 3, 256, 128, 136, 1, 1, 3, true, false, false},
                        {"B1 2×128 64→13 s1 (odd Cout)", 1, 2, 128, 64, 13, 1, 1, 0, false, false, false},
                        {"B1 3×128 64→64 s1 bias, residual in place", 1, 3, 128, 64, 64, 1, 1, 0, true, true, true},
                        // 3 tiles of 128 pixels: in clusters of two, the last pair's second block lies past the image
                        {"B1 3×128 64→40 s1 bias relu residual", 1, 3, 128, 64, 40, 1, 1, 1, true, true, false},
                        {"B1 2×128 32→16 s1 (Cin % 64 != 0)", 1, 2, 128, 32, 16, 1, 1, 0, true, false, false},
                        {"B1 4×128 64→16 s2 bias", 1, 4, 128, 64, 16, 2, 1, 0, true, false, false}};
  for (const Case& c : cases) {
    const int64_t Ho = (c.H * c.up - 1) / c.stride + 1, Wo = (c.W * c.up - 1) / c.stride + 1;
    Dev x = randn(dt, {c.B, c.H, c.W, c.Cin}, rng, 1.0), w = randn(dt, {c.Cout, c.Cin, 3, 3}, rng, 1.0 / std::sqrt(9.0 * c.Cin));
    Dev bias = randn(dt, {c.Cout}, rng, 0.1), res = randn(dt, {c.B, Ho, Wo, c.Cout}, rng, 1.0);
    Dev out = c.in_place ? upload_values(dt, {c.B, Ho, Wo, c.Cout}, res.h) : poisoned(dt, {c.B, Ho, Wo, c.Cout});
    Conv3x3Args a;
    a.x = x.v;
    a.w = w.v;
    a.bias = c.bias ? bias.ptr() : nullptr;
    a.stride = c.stride;
    a.act = static_cast<Activation>(c.act);
    a.residual = c.in_place ? out.ptr() : c.res ? res.ptr() : nullptr;
    a.out = out.v;
    const bool v4_ok = dt == DType::kBF16 && c.stride == 1 && c.up == 1 && c.Cin % 64 == 0 && c.W % 128 == 0 && device_is_sm90();
    const bool reject = (v == 3 && (dt != DType::kBF16 || c.Cin % 8 != 0)) || (v == 4 && !v4_ok);
    // v4 at the planned tile width and at every forced one (the wgmma pipeline's BN = 128, 192 and 256).
    // ... and in clusters of two at the planned width.
    for (const WgVariant& wv : v == 4 && v4_ok ? std::vector<WgVariant>{{0, 1}, {128, 1}, {192, 1}, {256, 1}, {0, 2}} : std::vector<WgVariant>{{0, 1}}) {
      const bool forced = wv.tile_n != 0 || wv.cluster != 1;
      if (forced && c.in_place) continue;  // in place: out already holds the result; once is enough
      WgForce force(wv);
      if (forced) {
        out = poisoned(dt, {c.B, Ho, Wo, c.Cout});
        a.out = out.v;
      }
      const std::string name = c.name + wv.suffix();
      const int64_t clustered = cuda::gemm_wgmma_cluster_launch_count();
      check_case("conv3x3", v, dt, name, reject, [&] { return cuda::conv3x3_upsampled(a, c.up, v); }, out.v, [&] {
        return selftest::conv3x3(x.h, w.h, c.B, c.H, c.W, c.Cin, c.Cout, c.stride, c.up, c.bias ? &bias.h : nullptr, c.act,
                                 c.res ? &res.h : nullptr);
      });
      if (v == 4 && !reject) {
        check_launches("conv3x3", v, dt, name, "cluster", cuda::gemm_wgmma_cluster_launch_count() - clustered,
                       cuda::plan::gemm_wgmma_cluster(wv.cluster, c.B * Ho * Wo, 1) > 1 ? 1 : 0);
      }
    }
  }
}

DcaeResBlockArgs resblock_args(const Dev& x, const Dev& w1, const Dev& b1, const Dev& w2, const Dev& nw, const Dev& nb, const Dev& out) {
  DcaeResBlockArgs a;
  a.x = x.v;
  a.w1 = w1.v;
  a.b1 = b1.v;
  a.w2 = w2.v;
  a.norm_w = nw.v;
  a.norm_b = nb.v;
  a.out = out.v;
  return a;
}

void parity_dcae_resblock_at(int v, DType dt, Rng& rng, int64_t B, int64_t H, int64_t W, int64_t C) {
  const int64_t M = B * H * W;
  auto rnd = [dt](double x) { return round_to(dt, x); };
  Dev x = randn(dt, {B, H, W, C}, rng, 1.0);
  Dev w1 = randn(dt, {C, C, 3, 3}, rng, 1.0 / std::sqrt(9.0 * C)), w2 = randn(dt, {C, C, 3, 3}, rng, 1.0 / std::sqrt(9.0 * C));
  Dev b1 = randn(dt, {C}, rng, 0.1), nw = randn(dt, {C}, rng, 0.1, 1.0), nb = randn(dt, {C}, rng, 0.1);
  Dev out = poisoned(dt, {B, H, W, C});
  const DcaeResBlockArgs a = resblock_args(x, w1, b1, w2, nw, nb, out);
  const bool v4_ok = dt == DType::kBF16 && C % 64 == 0 && W % 128 == 0 && device_is_sm90();
  const bool reject = (v == 3 && dt != DType::kBF16) || (v == 4 && !v4_ok);
  const std::string name = "B" + std::to_string(B) + " " + std::to_string(H) + "×" + std::to_string(W) + " C" + std::to_string(C);
  check_case("dcae-resblock", v, dt, name, reject, [&] { return cuda::dcae_resblock(a, v); }, out.v, [&] {
    Vec t1 = selftest::round_all(selftest::conv3x3(x.h, w1.h, B, H, W, C, C, 1, 1, &b1.h, 2, nullptr), rnd);
    Vec t2 = selftest::round_all(selftest::conv3x3(t1, w2.h, B, H, W, C, C, 1, 1, nullptr, 0, nullptr), rnd);
    return selftest::rmsnorm(t2, M, C, &nw.h, &nb.h, 1e-5, &x.h);
  });
}

void parity_dcae_resblock(int v, DType dt, Rng& rng) {
  parity_dcae_resblock_at(v, dt, rng, 1, 8, 6, 32);
  parity_dcae_resblock_at(v, dt, rng, 1, 3, 128, 64);  // v4's shape (C % 64 == 0, W % 128 == 0), every version
}

// dit-block's composition (dit_block_calls.h), rounding where it stores: the modulation, each op's output.
// The cross-attention's text side: y with attn2 wk, wv, bk, bv (kp == nullptr) or precomputed kp, vp.
struct DitRefWeights {
  const Vec *table, *t0, *mask;
  const Vec *a1q, *a1k, *a1v, *a1o, *a1bo;
  const Vec *a2q, *a2k, *a2v, *a2o, *a2bq, *a2bk, *a2bv, *a2bo;
  const Vec *kp, *vp;  // precomputed text keys/values (B, L, C), or null
  const Vec *winv, *binv, *wdw, *bdw, *wpt;
};
Vec ref_dit_block(const Vec& x, const Vec& y, const DitRefWeights& w, int64_t B, int64_t H, int64_t W, int64_t C, int64_t L, int64_t heads, int64_t h,
                  int64_t d, const selftest::Round& rnd) {
  const int64_t N = H * W;
  Vec mod(6 * B * C);
  for (int64_t j = 0; j < 6; ++j)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c) mod[(j * B + b) * C + c] = rnd((*w.table)[j * C + c] + (*w.t0)[b * 6 * C + j * C + c]);
  auto chunk = [&](int j) { return Vec(mod.begin() + j * B * C, mod.begin() + (j + 1) * B * C); };
  Vec h1 = selftest::round_all(selftest::layernorm_modulate(x, B * N, C, chunk(0), chunk(1), N, 1e-6), rnd);
  Vec g1 = chunk(2), g2 = chunk(5);
  Vec o1 = selftest::round_all(ref_la_block(h1, *w.a1q, *w.a1k, *w.a1v, *w.a1o, w.a1bo, &g1, N, &x, B, N, C, C, d, rnd), rnd);
  Vec o2;
  if (w.kp) {
    o2 = selftest::round_all(ref_cross_kv(o1, *w.kp, *w.vp, *w.a2q, *w.a2o, w.a2bq, w.a2bo, w.mask, &o1, B, N, L, C, heads, rnd), rnd);
  } else {
    const Vec* bb[4] = {w.a2bq, w.a2bk, w.a2bv, w.a2bo};
    o2 = selftest::round_all(ref_cross(o1, y, *w.a2q, *w.a2k, *w.a2v, *w.a2o, bb, w.mask, &o1, B, N, L, C, C, heads, rnd), rnd);
  }
  Vec h2 = selftest::round_all(selftest::layernorm_modulate(o2, B * N, C, chunk(3), chunk(4), N, 1e-6), rnd);
  return ref_mix_ffn(h2, *w.winv, *w.binv, *w.wdw, *w.bdw, *w.wpt, &g2, &o2, B, H, W, C, h, C, rnd);
}

// Both text forms: y with attn2 wk, wv, bk, bv, and precomputed a2_k, a2_v (what the runner passes).
void parity_dit_block(int v, DType dt, Rng& rng) {
  const int64_t B = 2, H = 4, W = 5, N = H * W, C = 64, L = 9, heads = 2, h = 40, d = 32;
  auto rnd = [dt](double x) { return round_to(dt, x); };
  const double s = 1.0 / std::sqrt(double(C));
  for (bool precomputed : {false, true}) {
    Dev x = randn(dt, {B, N, C}, rng, 1.0), y = randn(dt, {B, L, C}, rng, 1.0);
    Dev table = randn(dt, {6, C}, rng, 0.2), t0 = randn(dt, {B, 6 * C}, rng, 0.2);
    std::vector<double> mv(B * L);
    for (int64_t i = 0; i < B * L; ++i) mv[i] = (i % L) < 5 ? 0.0 : -10000.0;
    Dev mask = upload_values(dt, {B, L}, mv);
    Dev a1q = randn(dt, {C, C}, rng, s), a1k = randn(dt, {C, C}, rng, s), a1v = randn(dt, {C, C}, rng, s), a1o = randn(dt, {C, C}, rng, s);
    Dev a1bo = randn(dt, {C}, rng, 0.1);
    Dev a2q = randn(dt, {C, C}, rng, s), a2k = randn(dt, {C, C}, rng, s), a2v = randn(dt, {C, C}, rng, s), a2o = randn(dt, {C, C}, rng, s);
    Dev a2bq = randn(dt, {C}, rng, 0.1), a2bk = randn(dt, {C}, rng, 0.1), a2bv = randn(dt, {C}, rng, 0.1), a2bo = randn(dt, {C}, rng, 0.1);
    Dev kp = randn(dt, {B, L, C}, rng, 1.0), vp = randn(dt, {B, L, C}, rng, 1.0);  // (y·wkᵀ + bk has std ≈ 1)
    Dev winv = randn(dt, {2 * h, C}, rng, s), binv = randn(dt, {2 * h}, rng, 0.1), wdw = randn(dt, {2 * h, 1, 3, 3}, rng, 1.0 / 3);
    Dev bdw = randn(dt, {2 * h}, rng, 0.1), wpt = randn(dt, {C, h}, rng, 1.0 / std::sqrt(double(h)));
    Dev out = poisoned(dt, {B, N, C});
    DitBlockArgs a;
    a.x = x.v;
    a.t0 = t0.v;
    a.table = table.v;
    a.mask_bias = mask.ptr();
    a.a1_wq = a1q.v;
    a.a1_wk = a1k.v;
    a.a1_wv = a1v.v;
    a.a1_wo = a1o.v;
    a.a1_bo = a1bo.ptr();
    a.a2_wq = a2q.v;
    a.a2_wo = a2o.v;
    a.a2_bq = a2bq.ptr();
    a.a2_bo = a2bo.ptr();
    if (precomputed) {
      a.a2_k = kp.ptr();
      a.a2_v = vp.ptr();
    } else {
      a.y = y.v;
      a.a2_wk = a2k.v;
      a.a2_wv = a2v.v;
      a.a2_bk = a2bk.ptr();
      a.a2_bv = a2bv.ptr();
    }
    a.ff_w_inv = winv.v;
    a.ff_b_inv = binv.v;
    a.ff_w_dw = wdw.v;
    a.ff_b_dw = bdw.v;
    a.ff_w_point = wpt.v;
    a.height = H;
    a.width = W;
    a.head_dim = d;
    a.cross_heads = heads;
    a.out = out.v;
    const std::string name = precomputed ? "B2 4×5 C64 L9 h40 precomputed text k v" : "B2 4×5 C64 L9 h40";
    check_case("dit-block", v, dt, name, v == 3 && (dt != DType::kBF16 || !device_is_sm90()), [&] { return cuda::dit_block(a, v); }, out.v, [&] {
      DitRefWeights w{&table.h, &t0.h, &mask.h, &a1q.h, &a1k.h, &a1v.h, &a1o.h, &a1bo.h, &a2q.h, &a2k.h, &a2v.h, &a2o.h, &a2bq.h, &a2bk.h, &a2bv.h,
                      &a2bo.h, precomputed ? &kp.h : nullptr, precomputed ? &vp.h : nullptr, &winv.h, &binv.h, &wdw.h, &bdw.h, &wpt.h};
      return ref_dit_block(x.h, y.h, w, B, H, W, C, L, heads, h, d, rnd);
    });
    if (v == 0 && dt == DType::kF32 && precomputed) {  // refusal: both text forms at once
      a.y = y.v;
      a.a2_wk = a2k.v;
      a.a2_wv = a2v.v;
      record_status("dit-block", 0, dt, "refuses y, attn2 wk, wv given beside precomputed k, v", cuda::dit_block(a, 0), true);
    }
  }
}

Vec dwkxk_ref(const Vec& m, int64_t ld, const Vec& w, int64_t B, int64_t H, int64_t W, int64_t Cc, int ks) {
  Vec out(B * H * W * Cc);
  const int pad = ks / 2;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        for (int64_t c = 0; c < Cc; ++c) {
          double acc = 0;
          for (int ky = 0; ky < ks; ++ky)
            for (int kx = 0; kx < ks; ++kx) {
              const int64_t iy = y + ky - pad, ix = x + kx - pad;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              acc += w[c * ks * ks + ky * ks + kx] * m[((b * H + iy) * W + ix) * ld + c];
            }
          out[((b * H + y) * W + x) * Cc + c] = acc;
        }
  return out;
}

// lite-mla's composition (lite_mla.cu), rounding where it stores: q/k/v, the aggregation, the attention, the projection.
Vec ref_lite_mla(const Vec& x, const Vec& wq, const Vec& wk, const Vec& wv, const Vec& wdw, const Vec& wg, const Vec& wout, const Vec& nw,
                 const Vec& nb, int64_t B, int64_t H, int64_t W, int64_t C, int64_t I, int64_t d, int ks, const selftest::Round& rnd) {
  const int64_t M = B * H * W, N = H * W, I3 = 3 * I, I6 = 6 * I;
  Vec m(M * I6);
  const Vec* w3[3] = {&wq, &wk, &wv};
  for (int i = 0; i < 3; ++i) {
    Vec p = selftest::round_all(selftest::gemm(x, *w3[i], M, I, C, nullptr, 0, nullptr, 1, nullptr), rnd);
    for (int64_t r = 0; r < M; ++r)
      for (int64_t j = 0; j < I; ++j) m[r * I6 + i * I + j] = p[r * I + j];
  }
  Vec t = selftest::round_all(dwkxk_ref(m, I6, wdw, B, H, W, I3, ks), rnd);
  for (int64_t r = 0; r < M; ++r)
    for (int64_t o = 0; o < I3; ++o) {
      const int64_t g0 = o - o % d;
      double acc = 0;
      for (int64_t i = 0; i < d; ++i) acc += wg[o * d + i] * t[r * I3 + g0 + i];
      m[r * I6 + I3 + o] = rnd(acc);
    }
  const int64_t heads2 = 2 * I / d;
  Vec att(M * 2 * I);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < heads2; ++h)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < d; ++i) {  // the quadratic and linear forms are the same function
          double num = 0, den = 0;
          for (int64_t mm = 0; mm < N; ++mm) {
            double sc = 0;
            for (int64_t cc = 0; cc < d; ++cc) {
              sc += std::max(0.0, m[(b * N + mm) * I6 + h * 3 * d + d + cc]) * std::max(0.0, m[(b * N + n) * I6 + h * 3 * d + cc]);
            }
            num += m[(b * N + mm) * I6 + h * 3 * d + 2 * d + i] * sc;
            den += sc;
          }
          att[(b * N + n) * 2 * I + h * d + i] = rnd(num / (den + 1e-15));
        }
  Vec o = selftest::round_all(selftest::gemm(att, wout, M, C, 2 * I, nullptr, 0, nullptr, 1, nullptr), rnd);
  return selftest::rmsnorm(o, M, C, &nw, &nb, 1e-5, &x);
}

// Linear form (H·W > d: the linear-attention core with a head stride of 3d; v2 uses the core's v2 at
// d = 32, v1 otherwise) and quadratic form (H·W ≤ d); head dims 8…64, I ≠ C, aggregation kernels 1…9.
// The linear form refuses head_dim > 64 (the core's limit) in every version. v3 (depthwise + grouped 1×1
// fused, a block per run of ≤ 128 pixels of a row) refuses head_dim ≠ 32 and kernels > 7; rows of 130
// and 131 pixels end in a partial second run, narrow rows in a run rounded up to a warp.
void parity_lite_mla(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, H, W, C, I, d;
    int ks;
  };
  const Case cases[] = {{"B1 6×5 (quadratic form) C64 d32 k5", 1, 6, 5, 64, 64, 32, 5},
                        {"B2 8×7 (linear form) C64 d32 k5", 2, 8, 7, 64, 64, 32, 5},
                        {"B1 6×7 (linear) C40 I48 d16 k3", 1, 6, 7, 40, 48, 16, 3},
                        {"B2 4×3 (quadratic) C48 I48 d16 k5", 2, 4, 3, 48, 48, 16, 5},
                        {"B1 9×8 (linear) C48 I96 d32 k3", 1, 9, 8, 48, 96, 32, 3},
                        {"B1 8×9 (linear) C80 I64 d64 k5", 1, 8, 9, 80, 64, 64, 5},
                        {"B1 5×5 (linear) C24 I16 d8 k3", 1, 5, 5, 24, 16, 8, 3},
                        {"B1 12×11 (linear) C64 d128 k3 (head_dim > 64)", 1, 12, 11, 64, 128, 128, 3},
                        {"B2 3×130 C32 I64 d32 k5 (run past the row end)", 2, 3, 130, 32, 64, 32, 5},
                        {"B2 2×131 C48 I32 d32 k3 (run past the row end)", 2, 2, 131, 48, 32, 32, 3},
                        {"B1 9×10 (linear) C32 I32 d32 k7", 1, 9, 10, 32, 32, 32, 7},
                        {"B1 5×7 (linear) C32 I32 d32 k1", 1, 5, 7, 32, 32, 32, 1},
                        {"B1 10×9 (linear) C32 I32 d32 k9 (v3: kernel > 7)", 1, 10, 9, 32, 32, 32, 9}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  for (const Case& c : cases) {
    const int64_t C = c.C, I = c.I, d = c.d, I3 = 3 * I;
    const int ks = c.ks;
    const double s = 1.0 / std::sqrt(double(C));
    Dev x = randn(dt, {c.B, c.H, c.W, C}, rng, 1.0);
    Dev wq = randn(dt, {I, C}, rng, s), wk = randn(dt, {I, C}, rng, s), wv = randn(dt, {I, C}, rng, s);
    Dev wdw = randn(dt, {I3, 1, ks, ks}, rng, 1.0 / ks), wg = randn(dt, {I3, d, 1, 1}, rng, 1.0 / std::sqrt(double(d)));
    Dev wout = randn(dt, {C, 2 * I}, rng, 1.0 / std::sqrt(2.0 * I)), nw = randn(dt, {C}, rng, 0.1, 1.0), nb = randn(dt, {C}, rng, 0.1);
    Dev out = poisoned(dt, {c.B, c.H, c.W, C});
    LiteMlaArgs a;
    a.x = x.v;
    a.wq = wq.v;
    a.wk = wk.v;
    a.wv = wv.v;
    a.w_dw = wdw.v;
    a.w_group = wg.v;
    a.w_out = wout.v;
    a.norm_w = nw.v;
    a.norm_b = nb.v;
    a.head_dim = d;
    a.out = out.v;
    const bool reject = (c.H * c.W > d && d > 64) || (v == 3 && (d != 32 || ks > 7));
    check_case("lite-mla", v, dt, c.name, reject, [&] { return cuda::lite_mla(a, v); }, out.v, [&] {
      return ref_lite_mla(x.h, wq.h, wk.h, wv.h, wdw.h, wg.h, wout.h, nw.h, nb.h, c.B, c.H, c.W, C, I, d, ks, rnd);
    });
  }
}

// The dcae-upsample shortcut by torch's definition: pixel_shuffle(repeat_interleave(x, r, channels), f), NHWC.
Vec upsample_shortcut_ref(const Vec& x, int64_t B, int64_t H, int64_t W, int64_t C, int64_t Co, int64_t f) {
  const int64_t r = Co * f * f / C, Ho = H * f, Wo = W * f;
  Vec sc(B * Ho * Wo * Co);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t o = 0; o < Co; ++o)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t xx = 0; xx < W; ++xx)
          for (int64_t i = 0; i < f; ++i)
            for (int64_t j = 0; j < f; ++j) {
              const int64_t rep = o * f * f + i * f + j;  // channel of repeat_interleave(x, r) → x channel rep / r
              sc[((b * Ho + y * f + i) * Wo + xx * f + j) * Co + o] = x[((b * H + y) * W + xx) * C + rep / r];
            }
  return sc;
}

// dcae-upsample's composition (dcae_upsample.cu): interpolate / none round once (conv + bias + shortcut, the
// shortcut being the conv's residual); pixel-shuffle stores the conv (B, H, W, 4·Co) first.
Vec ref_dcae_upsample(const Vec& x, const Vec& w, const Vec* bias, int64_t B, int64_t H, int64_t W, int64_t C, int64_t Nc, DcaeUpsampleMode mode,
                      bool shortcut, const selftest::Round& rnd) {
  const bool ps = mode == DcaeUpsampleMode::kPixelShuffle;
  const int64_t f = mode == DcaeUpsampleMode::kNone ? 1 : 2, Co = ps ? Nc / 4 : Nc;
  const Vec sc = shortcut ? upsample_shortcut_ref(x, B, H, W, C, Co, f) : Vec(B * f * H * f * W * Co, 0.0);
  if (!ps) return selftest::conv3x3(x, w, B, H, W, C, Nc, 1, static_cast<int>(f), bias, 0, &sc);
  const Vec t = selftest::round_all(selftest::conv3x3(x, w, B, H, W, C, Nc, 1, 1, bias, 0, nullptr), rnd);
  Vec o(sc.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t oy = 0; oy < 2 * H; ++oy)
      for (int64_t ox = 0; ox < 2 * W; ++ox)
        for (int64_t ch = 0; ch < Co; ++ch) {
          const int64_t e = ((b * 2 * H + oy) * 2 * W + ox) * Co + ch;
          o[e] = t[((b * H + oy / 2) * W + ox / 2) * Nc + 4 * ch + 2 * (oy % 2) + ox % 2] + sc[e];
        }
  return o;
}

void parity_dcae_upsample(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    DcaeUpsampleMode mode;
    int64_t B, H, W, C, Nc;
    bool bias, shortcut;
  };
  const Case cases[] = {
      {"interpolate B2 5×4 16→8 bias shortcut (r 2)", DcaeUpsampleMode::kInterpolate, 2, 5, 4, 16, 8, true, true},
      {"interpolate B1 3×6 32→32 shortcut (r 4)", DcaeUpsampleMode::kInterpolate, 1, 3, 6, 32, 32, false, true},
      {"interpolate B1 4×3 12→6 bias shortcut (C, Co % 8 != 0)", DcaeUpsampleMode::kInterpolate, 1, 4, 3, 12, 6, true, true},
      {"interpolate B1 4×4 16→8 bias, no shortcut", DcaeUpsampleMode::kInterpolate, 1, 4, 4, 16, 8, true, false},
      {"none B1 6×5 8→32 bias shortcut (r 4)", DcaeUpsampleMode::kNone, 1, 6, 5, 8, 32, true, true},
      {"pixel-shuffle B1 4×5 16→4·8 bias shortcut (r 2)", DcaeUpsampleMode::kPixelShuffle, 1, 4, 5, 16, 32, true, true},
      // v3's shapes (C % 64 == 0, rows of 128 pixels), run by every version: B 2 with Co != C, one row (both
      // phases at the top and bottom border at once) of two tiles with two channel blocks per tap, the scalar
      // epilogue (Co % 8 != 0), Co past one 128-wide tile
      {"interpolate B2 3×128 64→32 bias shortcut (r 2)", DcaeUpsampleMode::kInterpolate, 2, 3, 128, 64, 32, true, true},
      {"interpolate B1 1×256 128→64 shortcut (r 2)", DcaeUpsampleMode::kInterpolate, 1, 1, 256, 128, 64, false, true},
      {"interpolate B1 2×128 64→12 bias, no shortcut (Co % 8 != 0)", DcaeUpsampleMode::kInterpolate, 1, 2, 128, 64, 12, true, false},
      {"interpolate B1 2×128 64→144 bias shortcut (r 9)", DcaeUpsampleMode::kInterpolate, 1, 2, 128, 64, 144, true, true}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  for (const Case& c : cases) {
    const bool ps = c.mode == DcaeUpsampleMode::kPixelShuffle;
    const int64_t f = c.mode == DcaeUpsampleMode::kNone ? 1 : 2, Co = ps ? c.Nc / 4 : c.Nc;
    Dev x = randn(dt, {c.B, c.H, c.W, c.C}, rng, 1.0), w = randn(dt, {c.Nc, c.C, 3, 3}, rng, 1.0 / std::sqrt(9.0 * c.C));
    Dev bias = randn(dt, {c.Nc}, rng, 0.5);
    Dev out = poisoned(dt, {c.B, f * c.H, f * c.W, Co});
    DcaeUpsampleArgs a;
    a.x = x.v;
    a.w = w.v;
    a.bias = c.bias ? bias.ptr() : nullptr;
    a.mode = c.mode;
    a.shortcut = c.shortcut;
    a.out = out.v;
    // v3 (sub-pixel phases on the wgmma conv): bf16, interpolate, C % 64 == 0, W % 128 == 0, sm_90; run at
    // the planned tile width and at every forced one, checking that it ran on the wgmma engine
    const bool v3_ok = dt == DType::kBF16 && c.mode == DcaeUpsampleMode::kInterpolate && c.C % 64 == 0 && c.W % 128 == 0 && device_is_sm90();
    for (const WgVariant& wv : v == 3 && v3_ok ? std::vector<WgVariant>{{0, 1}, {128, 1}, {192, 1}, {256, 1}, {0, 2}} : std::vector<WgVariant>{{0, 1}}) {
      WgForce force(wv);
      if (wv.tile_n != 0 || wv.cluster != 1) {
        out = poisoned(dt, {c.B, f * c.H, f * c.W, Co});
        a.out = out.v;
      }
      const std::string name = c.name + wv.suffix();
      const int64_t before = cuda::gemm_wgmma_launch_count(), clustered = cuda::gemm_wgmma_cluster_launch_count();
      check_case("dcae-upsample", v, dt, name, v == 3 && !v3_ok, [&] { return cuda::dcae_upsample(a, v); }, out.v, [&] {
        return ref_dcae_upsample(x.h, w.h, c.bias ? &bias.h : nullptr, c.B, c.H, c.W, c.C, c.Nc, c.mode, c.shortcut, rnd);
      });
      if (v == 3 && v3_ok) {
        Check e;
        e.op = "dcae-upsample";
        e.version = v;
        e.dtype = dname(dt);
        e.name = name + ": engine: 4 wgmma launches (one per phase)";
        e.detail = std::to_string(cuda::gemm_wgmma_launch_count() - before) + " wgmma launches";
        e.pass = cuda::gemm_wgmma_launch_count() - before == 4;
        g_checks.push_back(e);
        check_launches("dcae-upsample", v, dt, name, "cluster", cuda::gemm_wgmma_cluster_launch_count() - clustered,
                       cuda::plan::gemm_wgmma_cluster(wv.cluster, c.B * c.H * c.W, 1) > 1 ? 4 : 0);
      }
    }
  }
  if (v == 3 && dt == DType::kBF16) {  // v3's refusals at otherwise-accepted shapes, before any launch: out stays poisoned
    struct Refusal {
      const char* name;
      DcaeUpsampleMode mode;
      int64_t H, W, C, Nc, f, Co;
    };
    const Refusal refusals[] = {{"refuses pixel-shuffle", DcaeUpsampleMode::kPixelShuffle, 2, 128, 64, 64, 2, 16},
                                {"refuses mode none", DcaeUpsampleMode::kNone, 2, 128, 64, 64, 1, 64},
                                {"refuses C % 64 != 0", DcaeUpsampleMode::kInterpolate, 2, 128, 32, 32, 2, 32},
                                {"refuses W % 128 != 0", DcaeUpsampleMode::kInterpolate, 2, 64, 64, 64, 2, 64}};
    for (const Refusal& r : refusals) {
      Dev x = randn(dt, {1, r.H, r.W, r.C}, rng, 1.0), w = randn(dt, {r.Nc, r.C, 3, 3}, rng, 0.1);
      Dev out = poisoned(dt, {1, r.f * r.H, r.f * r.W, r.Co});
      DcaeUpsampleArgs a;
      a.x = x.v;
      a.w = w.v;
      a.mode = r.mode;
      a.shortcut = true;
      a.out = out.v;
      record_status("dcae-upsample", 3, dt, r.name, cuda::dcae_upsample(a, 3), true);
      const Vec o = download(out.v);
      Check u;
      u.op = "dcae-upsample";
      u.version = 3;
      u.dtype = dname(dt);
      u.name = std::string(r.name) + ": out untouched";
      u.pass = std::none_of(o.begin(), o.end(), [](double e) { return std::isfinite(e); });
      u.detail = u.pass ? "" : "the refused call wrote into out";
      g_checks.push_back(u);
    }
  }
  if (v == 0 && dt == DType::kF32) {  // refusals: an unknown version, a pixel-shuffle conv without 4·Co channels
    Dev x = randn(dt, {1, 4, 4, 8}, rng, 1.0), w = randn(dt, {6, 8, 3, 3}, rng, 0.1), out = poisoned(dt, {1, 8, 8, 6});
    DcaeUpsampleArgs a;
    a.x = x.v;
    a.w = w.v;
    a.mode = DcaeUpsampleMode::kInterpolate;
    a.shortcut = false;
    a.out = out.v;
    record_status("dcae-upsample", 4, dt, "refuses an unknown version", cuda::dcae_upsample(a, 4), true);
    a.mode = DcaeUpsampleMode::kPixelShuffle;
    record_status("dcae-upsample", 0, dt, "refuses pixel-shuffle with 6 conv channels", cuda::dcae_upsample(a, 0), true);
  }
}

// dcae-head's composition (dcae_head.cu): the norm and the activation each stored in the dtype; the conv
// output stored NHWC, then transposed to NCHW.
Vec ref_dcae_head(const Vec& x, const Vec& nw, const Vec& nb, const Vec& w, const Vec* bias, int64_t B, int64_t H, int64_t W, int64_t C,
                  int64_t Cout, int act, const selftest::Round& rnd) {
  const int64_t HW = H * W;
  Vec t = selftest::round_all(selftest::rmsnorm(x, B * HW, C, &nw, &nb, 1e-5, nullptr), rnd);
  for (double& e : t) e = rnd(selftest::act_d(e, act));
  const Vec y = selftest::conv3x3(t, w, B, H, W, C, Cout, 1, 1, bias, 0, nullptr);
  Vec o(y.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t ch = 0; ch < Cout; ++ch)
      for (int64_t p = 0; p < HW; ++p) o[(b * Cout + ch) * HW + p] = y[(b * HW + p) * Cout + ch];
  return o;
}

void parity_dcae_head(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, H, W, C, Cout;
    Activation act;
    bool bias;
  };
  const Case cases[] = {{"B2 7×5 C16→3 relu bias", 2, 7, 5, 16, 3, Activation::kRelu, true},
                        {"B1 4×6 C12→5 silu (C % 8 != 0)", 1, 4, 6, 12, 5, Activation::kSilu, false},
                        {"B1 5×5 C8→3 no activation, bias", 1, 5, 5, 8, 3, Activation::kNone, true},
                        {"B2 19×35 C128→3 relu bias (SANA's head, 2×3 tiles)", 2, 19, 35, 128, 3, Activation::kRelu, true},
                        {"B1 3×4 C136→3 relu (C > 128)", 1, 3, 4, 136, 3, Activation::kRelu, true},
                        {"B1 17×16 C48→8 silu bias (v4: Cout 8, one tile row over)", 1, 17, 16, 48, 8, Activation::kSilu, true},
                        {"B1 1×33 C32→6 relu (H = 1, v4: 3 tiles)", 1, 1, 33, 32, 6, Activation::kRelu, false}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  for (const Case& c : cases) {
    Dev x = randn(dt, {c.B, c.H, c.W, c.C}, rng, 2.0, 0.5), nw = randn(dt, {c.C}, rng, 0.2, 1.0), nb = randn(dt, {c.C}, rng, 0.3);
    Dev w = randn(dt, {c.Cout, c.C, 3, 3}, rng, 1.0 / std::sqrt(9.0 * c.C)), bias = randn(dt, {c.Cout}, rng, 0.5);
    Dev out = poisoned(dt, {c.B, c.Cout, c.H, c.W});
    DcaeHeadArgs a;
    a.x = x.v;
    a.norm_w = nw.v;
    a.norm_b = nb.v;
    a.w = w.v;
    a.bias = c.bias ? bias.ptr() : nullptr;
    a.act = c.act;
    a.out = out.v;
    const bool reject = (v == 3 && (c.C > 128 || c.Cout > 4)) ||  // v3: narrow heads only
                        (v == 4 && (dt != DType::kBF16 || c.C % 16 != 0 || c.C > 128 || c.Cout > 8));  // v4: mma.sync k-steps of 16, n = 8
    check_case("dcae-head", v, dt, c.name, reject, [&] { return cuda::dcae_head(a, v); }, out.v, [&] {
      return ref_dcae_head(x.h, nw.h, nb.h, w.h, c.bias ? &bias.h : nullptr, c.B, c.H, c.W, c.C, c.Cout, static_cast<int>(c.act), rnd);
    });
  }
  if (v == 0 && dt == DType::kF32) {  // refusals: an unknown version, an NHWC out
    Dev x = randn(dt, {1, 4, 4, 8}, rng, 1.0), nw = randn(dt, {8}, rng, 0.1, 1.0), nb = randn(dt, {8}, rng, 0.1);
    Dev w = randn(dt, {3, 8, 3, 3}, rng, 0.1), out = poisoned(dt, {1, 3, 4, 4}), nhwc = poisoned(dt, {1, 4, 4, 3});
    DcaeHeadArgs a;
    a.x = x.v;
    a.norm_w = nw.v;
    a.norm_b = nb.v;
    a.w = w.v;
    a.out = out.v;
    record_status("dcae-head", 5, dt, "refuses an unknown version", cuda::dcae_head(a, 5), true);
    a.out = nhwc.v;
    record_status("dcae-head", 0, dt, "refuses an NHWC out", cuda::dcae_head(a, 0), true);
  }
}

// sampler-update (sampler_update.cu): the reference schedulers' float32 arithmetic, op by op in the same
// order, on the host (x86-64 without FMA: nothing is contracted). The kernel must match it bit for bit:
// every element of x, m_state and every tokens copy (NaN never passes).
void sampler_update_ref(const std::vector<float>& c, const Vec& v, int64_t halves, std::vector<float>& x, std::vector<float>& m) {
  const int64_t n = static_cast<int64_t>(x.size());
  for (int64_t k = 0; k < n; ++k) {
    float g = static_cast<float>(v[k]);
    if (halves == 2) {
      const float d = static_cast<float>(v[n + k]) - g;
      const float gd = c[1] * d;
      g = g + gd;
    }
    if (c[0] == 2.0f) {
      const float step = c[7] * g;
      x[k] = x[k] + step;
      continue;
    }
    const float sg = c[2] * g;
    const float mk = x[k] - sg;
    const float a = c[3] * x[k];
    const float b = c[4] * mk;
    float xn = a - b;
    if (c[0] == 1.0f) {
      const float diff = mk - m[k];
      const float d1 = c[6] * diff;
      const float e = c[5] * d1;
      xn = xn - e;
    }
    m[k] = mk;
    x[k] = xn;
  }
}

void record_identical(const std::string& op, int version, DType dt, const std::string& name, const Vec& out, const std::vector<float>& want, DType stored) {
  Vec w(want.size());
  for (size_t i = 0; i < want.size(); ++i) w[i] = stored == DType::kBF16 ? bf16_bits_to_f32(f32_to_bf16_bits(want[i])) : static_cast<double>(want[i]);
  g_checks.push_back(identical_check(op, version, dt, name, out, w, "the host scheduler arithmetic"));
}

void parity_sampler_update(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t n, halves, copies;
    std::vector<float> coeffs;  // [kind, guidance, σ, cX, cD0, cD1, invR0, dt]
  };
  const Case cases[] = {
      {"dpm 1st order, CFG halves, 2 token copies, n 210", 210, 2, 2, {0, 4.5f, 0.8125f, 0.96f, -0.0371f, 0, 0, 0}},
      {"dpm 2nd order, CFG halves, 2 token copies, n 70001 (grid-stride)", 70001, 2, 2, {1, 4.5f, 0.61f, 0.93f, -0.052f, -0.026f, 1.17f, 0}},
      {"dpm 2nd order, one prediction, no tokens, n 333", 333, 1, 0, {1, 1, 0.3f, 0.8f, -0.2f, -0.1f, 0.9f, 0}},
      {"euler, CFG halves, 1 token copy, n 4097", 4097, 2, 1, {2, 3.0f, 0, 0, 0, 0, 0, -0.0625f}},
  };
  for (const Case& cs : cases) {
    Dev vv = randn(dt, {cs.halves, cs.n}, rng, 1.0), x = randn(DType::kF32, {cs.n}, rng, 1.0), m = randn(DType::kF32, {cs.n}, rng, 1.0);
    Vec cv(cs.coeffs.begin(), cs.coeffs.end());
    Dev coeffs = upload_values(DType::kF32, {8}, cv);
    Dev tokens = poisoned(dt, {std::max<int64_t>(cs.copies, 1), cs.n});
    SamplerUpdateArgs a;
    a.v = vv.v;
    a.coeffs = coeffs.v;
    a.x = x.v;
    a.m_state = m.ptr();
    a.tokens = cs.copies > 0 ? tokens.ptr() : nullptr;
    a.halves = cs.halves;
    std::vector<float> xw(x.h.begin(), x.h.end()), mw(m.h.begin(), m.h.end());
    sampler_update_ref(cs.coeffs, vv.h, cs.halves, xw, mw);
    Status s;
    try {
      s = cuda::sampler_update(a, v);
    } catch (const Failure& f) {
      s = f.st;
    }
    if (!s.ok()) {
      record_status("sampler-update", v, dt, cs.name, s, false);
      continue;
    }
    record_identical("sampler-update", v, dt, std::string(cs.name) + ": x", download(x.v), xw, DType::kF32);
    if (cs.coeffs[0] != 2.0f) record_identical("sampler-update", v, dt, std::string(cs.name) + ": m_state", download(m.v), mw, DType::kF32);
    for (int64_t j = 0; j < cs.copies; ++j) {
      record_identical("sampler-update", v, dt, std::string(cs.name) + ": tokens copy " + std::to_string(j), download(tokens.v, j * cs.n, cs.n), xw, dt);
    }
  }
  if (v == 0 && dt == DType::kF32) {  // refusals, and a bad kind in the device-side coefficients
    Dev vv = randn(dt, {2, 16}, rng, 1.0), x = randn(DType::kF32, {16}, rng, 1.0), xb = randn(DType::kBF16, {16}, rng, 1.0);
    Dev coeffs = upload_values(DType::kF32, {8}, {5, 1, 0, 0, 0, 0, 0, 0});
    SamplerUpdateArgs a;
    a.v = vv.v;
    a.coeffs = coeffs.v;
    a.x = x.v;
    a.halves = 2;
    record_status("sampler-update", 2, dt, "refuses an unknown version", cuda::sampler_update(a, 2), true);
    a.halves = 1;
    record_status("sampler-update", 0, dt, "refuses v of 2 × n values with halves 1", cuda::sampler_update(a, 0), true);
    a.halves = 2;
    a.x = xb.v;
    record_status("sampler-update", 0, dt, "refuses a bf16 x", cuda::sampler_update(a, 0), true);
    a.x = x.v;
    Check c;
    c.op = "sampler-update";
    c.dtype = dname(dt);
    c.name = "a kind outside 0…2 in the coefficients poisons x with NaN";
    const Status s = cuda::sampler_update(a, 0);
    const Vec out = download(x.v);
    c.pass = s.ok() && std::all_of(out.begin(), out.end(), [](double e) { return std::isnan(e); });
    c.detail = s.ok() ? "x after the update" : s.message();
    g_checks.push_back(c);
  }
}

// dcae-evit-block's composition (dcae_evit_block.cu): a = lite-mla(x) and g = mix-ffn(a) stored in the dtype,
// out = a + RMSNorm2d(g). h = the GLUMBConv hidden width (w_inv has 2h rows).
Vec ref_dcae_evit_block(const Vec& x, const Vec& wq, const Vec& wk, const Vec& wv, const Vec& wdw, const Vec& wg, const Vec& wout, const Vec& anw,
                        const Vec& anb, const Vec& winv, const Vec& binv, const Vec& wdw3, const Vec& bdw, const Vec& wpt, const Vec& fnw,
                        const Vec& fnb, int64_t B, int64_t H, int64_t W, int64_t C, int64_t I, int64_t d, int ks, int64_t h,
                        const selftest::Round& rnd) {
  const Vec at = selftest::round_all(ref_lite_mla(x, wq, wk, wv, wdw, wg, wout, anw, anb, B, H, W, C, I, d, ks, rnd), rnd);
  const Vec g = selftest::round_all(ref_mix_ffn(at, winv, binv, wdw3, bdw, wpt, nullptr, nullptr, B, H, W, C, h, C, rnd), rnd);
  return selftest::rmsnorm(g, B * H * W, C, &fnw, &fnb, 1e-5, &at);
}

void parity_dcae_evit_block(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, H, W;
  };
  // lite-mla's linear form (H·W > d) and its quadratic form for tiny maps (H·W ≤ d)
  const Case cases[] = {{"B1 8×7 (linear form) C64 d32 k5 ffn 256", 1, 8, 7}, {"B2 5×6 (quadratic form) C64 d32 k5 ffn 256", 2, 5, 6}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  const int64_t C = 64, d = 32, I = 64, I3 = 3 * I, h = 4 * C;
  const int ks = 5;
  for (const Case& c : cases) {
    const double s = 1.0 / std::sqrt(double(C));
    Dev x = randn(dt, {c.B, c.H, c.W, C}, rng, 1.0);
    Dev wq = randn(dt, {I, C}, rng, s), wk = randn(dt, {I, C}, rng, s), wv = randn(dt, {I, C}, rng, s);
    Dev wdw = randn(dt, {I3, 1, ks, ks}, rng, 0.2), wg = randn(dt, {I3, d, 1, 1}, rng, 1.0 / std::sqrt(double(d)));
    Dev wout = randn(dt, {C, 2 * I}, rng, 1.0 / std::sqrt(2.0 * I)), anw = randn(dt, {C}, rng, 0.1, 1.0), anb = randn(dt, {C}, rng, 0.1);
    Dev winv = randn(dt, {2 * h, C, 1, 1}, rng, s), binv = randn(dt, {2 * h}, rng, 0.3);
    Dev wdw3 = randn(dt, {2 * h, 1, 3, 3}, rng, 1.0 / 3), bdw = randn(dt, {2 * h}, rng, 0.3);
    Dev wpt = randn(dt, {C, h, 1, 1}, rng, 1.0 / std::sqrt(double(h))), fnw = randn(dt, {C}, rng, 0.1, 1.0), fnb = randn(dt, {C}, rng, 0.1);
    Dev out = poisoned(dt, {c.B, c.H, c.W, C});
    DcaeEvitBlockArgs a;
    a.x = x.v;
    a.wq = wq.v;
    a.wk = wk.v;
    a.wv = wv.v;
    a.w_dw = wdw.v;
    a.w_group = wg.v;
    a.w_out = wout.v;
    a.attn_norm_w = anw.v;
    a.attn_norm_b = anb.v;
    a.ff_w_inv = winv.v;
    a.ff_b_inv = binv.v;
    a.ff_w_dw = wdw3.v;
    a.ff_b_dw = bdw.v;
    a.ff_w_point = wpt.v;
    a.ff_norm_w = fnw.v;
    a.ff_norm_b = fnb.v;
    a.head_dim = d;
    a.out = out.v;
    check_case("dcae-evit-block", v, dt, c.name, false, [&] { return cuda::dcae_evit_block(a, v); }, out.v, [&] {
      return ref_dcae_evit_block(x.h, wq.h, wk.h, wv.h, wdw.h, wg.h, wout.h, anw.h, anb.h, winv.h, binv.h, wdw3.h, bdw.h, wpt.h, fnw.h, fnb.h, c.B,
                                 c.H, c.W, C, I, d, ks, h, rnd);
    });
    if (v == 0 && dt == DType::kF32 && c.B == 1) {  // refusals: an unknown version, out aliasing x
      record_status("dcae-evit-block", 3, dt, "refuses an unknown version", cuda::dcae_evit_block(a, 3), true);
      a.out = x.v;
      record_status("dcae-evit-block", 0, dt, "refuses out aliasing x", cuda::dcae_evit_block(a, 0), true);
    }
  }
}

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

// ---------------------------------------------------------------- 64-bit indexing
void run_big(uint64_t seed) {
  Rng rng(seed);
  const DType dt = DType::kBF16;
  auto fill = [&](Dev& d, float lo, float hi) { ok(cuda::fill_random(d.v.data, dt, d.v.numel(), rng.next(), lo, hi)); };
  {  // rmsnorm2d on (2, 4096, 4096, 128): 2³² elements
    const int64_t B = 2, H = 4096, W = 4096, C = 128, rows = B * H * W;
    Dev x = alloc_dev(dt, {B, H, W, C}), out = alloc_dev(dt, {B, H, W, C});
    Dev w = randn(dt, {C}, rng, 0.1, 1.0), b = randn(dt, {C}, rng, 0.1);
    fill(x, -2.0f, 2.0f);
    for (int v = 1; v <= 2; ++v) {
      ok(cuda::fill_bytes(out.v.data, 0xFF, out.v.bytes()));
      RmsNormArgs a;
      a.x = x.v;
      a.weight = w.ptr();
      a.bias = b.ptr();
      a.out = out.v;
      Status s = cuda::rmsnorm(a, v);
      if (!s.ok()) {
        record_status("rmsnorm", v, dt, "2×4096×4096×128 (2³² elements)", s, false);
        continue;
      }
      Vec got, ref;
      for (int64_t r0 : {int64_t{0}, rows / 2 - 8, (int64_t{1} << 24) + 3, rows - 16}) {  // element offsets up to 2³² − 1
        const int64_t n = 16;
        Vec xs = download(x.v, r0 * C, n * C), os = download(out.v, r0 * C, n * C);
        Vec rr = selftest::rmsnorm(xs, n, C, &w.h, &b.h, 1e-5, nullptr);
        got.insert(got.end(), os.begin(), os.end());
        ref.insert(ref.end(), rr.begin(), rr.end());
      }
      record_compare("rmsnorm", v, dt, "2×4096×4096×128 (2³² elements), sampled rows", got, ref);
    }
  }
  {  // conv3x3 v3, input (2, 2048, 2048, 128) upsampled ×2 in place → out (2, 4096, 4096, 128)
    const int64_t B = 2, H = 2048, W = 2048, Cin = 128, Cout = 128, Ho = 4096, Wo = 4096;
    Dev x = alloc_dev(dt, {B, H, W, Cin}), out = alloc_dev(dt, {B, Ho, Wo, Cout});
    Dev w = randn(dt, {Cout, Cin, 3, 3}, rng, 1.0 / std::sqrt(9.0 * Cin)), bias = randn(dt, {Cout}, rng, 0.1);
    fill(x, -1.0f, 1.0f);
    ok(cuda::fill_bytes(out.v.data, 0xFF, out.v.bytes()));
    Conv3x3Args a;
    a.x = x.v;
    a.w = w.v;
    a.bias = bias.ptr();
    a.out = out.v;
    Status s = cuda::conv3x3_upsampled(a, 2, 3);
    if (!s.ok()) {
      record_status("conv3x3", 3, dt, "upsample2 → 2×4096×4096×128", s, false);
      return;
    }
    Vec got, ref;
    const int64_t pix[][3] = {{1, Ho - 1, Wo - 1}, {1, Ho - 1, 0}, {1, Ho - 2, Wo / 2 + 1}, {0, 0, 0}, {1, Ho / 2, 7}};
    for (const auto& p : pix) {
      const int64_t b = p[0], oy = p[1], ox = p[2];
      // the (upsampled) neighbourhood, gathered from the source rows
      const int64_t r0 = std::max<int64_t>(0, (oy - 1) / 2), r1 = std::min<int64_t>(H - 1, (oy + 1) / 2);
      Vec rows = download(x.v, ((b * H + r0) * W) * Cin, (r1 - r0 + 1) * W * Cin);
      for (int64_t co = 0; co < Cout; ++co) {
        double acc = bias.h[co];
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            const int64_t iy = oy + ky - 1, ix = ox + kx - 1;
            if (iy < 0 || iy >= Ho || ix < 0 || ix >= Wo) continue;
            for (int64_t ci = 0; ci < Cin; ++ci) {
              acc += rows[((iy / 2 - r0) * W + ix / 2) * Cin + ci] * w.h[((co * Cin + ci) * 3 + ky) * 3 + kx];
            }
          }
        ref.push_back(acc);
      }
      Vec o = download(out.v, ((b * Ho + oy) * Wo + ox) * Cout, Cout);
      got.insert(got.end(), o.begin(), o.end());
    }
    record_compare("conv3x3", 3, dt, "upsample2 → 2×4096×4096×128 (2³² elements), sampled pixels", got, ref);
  }
}

// ---------------------------------------------------------------- benchmarks
struct Bench {
  std::vector<std::string> records;
  std::string device;
  std::chrono::steady_clock::time_point deadline;
  bool out_of_time() const { return std::chrono::steady_clock::now() > deadline; }

  void add(const std::string& op, int version, const std::string& model, int64_t res, int64_t batch, int64_t tokens, const std::string& shape,
           const std::function<Status()>& fn, double budget_ms = 600) {
    std::ostringstream r;
    r << "{\"op\":" << json_str(op) << ",\"backend\":\"cuda\",\"version\":" << version << ",\"model\":" << json_str(model) << ",\"res\":" << res
      << ",\"tokens\":" << tokens << ",\"batch\":" << batch << ",\"dtype\":\"bf16\",\"shape\":" << shape << ",\"device\":" << json_str(device);
    if (out_of_time()) {
      r << ",\"skipped\":\"budget\"}";
      records.push_back(r.str());
      return;
    }
    cuda::TimingOptions opt;
    opt.warmup = 2;
    opt.min_reps = 3;
    opt.max_reps = 20;
    opt.budget_ms = budget_ms;
    cuda::Timing t;
    Status s = cuda::time_launches(op.c_str(), fn, opt, &t);
    if (!s.ok()) {
      r << ",\"skipped\":" << json_str("error: " + s.message()) << "}";
      std::fprintf(stderr, "  %-22s v%d %-5s %5lld  error: %s\n", op.c_str(), version, model.c_str(), static_cast<long long>(res), s.message().c_str());
    } else {
      r << ",\"median_ms\":" << num(t.median_ms) << ",\"p20_ms\":" << num(t.p20_ms) << ",\"p80_ms\":" << num(t.p80_ms) << ",\"mean_ms\":" << num(t.mean_ms)
        << ",\"reps\":" << t.reps << ",\"l2_flush_bytes\":" << t.flush_bytes << "}";
      std::fprintf(stderr, "  %-22s v%d %-5s %5lld  %9.3f ms  (p20 %.3f, p80 %.3f, n=%d)\n", op.c_str(), version, model.c_str(),
                   static_cast<long long>(res), t.median_ms, t.p20_ms, t.p80_ms, t.reps);
    }
    records.push_back(r.str());
  }
};

std::string shape_json(const std::vector<std::pair<const char*, int64_t>>& kv) {
  std::string s = "{";
  bool first = true;
  for (const auto& [k, v] : kv) {
    s += (first ? "\"" : ",\"") + std::string(k) + "\":" + std::to_string(v);
    first = false;
  }
  return s + "}";
}

// A gemm v3 record's shape: M, N, K, then what the run forced — shape.tile_n, shape.cluster (when not the
// plan's) and a bench probe with the plan's width (shape.probe, shape.bn).
std::string wg_shape(int64_t M, int64_t N, int64_t K, const WgVariant& w, int probe = cuda::plan::kWgProbeNone, int64_t bn = 0) {
  std::vector<std::pair<const char*, int64_t>> kv = {{"M", M}, {"N", N}, {"K", K}};
  if (w.tile_n != 0) kv.push_back({"tile_n", w.tile_n});
  if (w.cluster > 1) kv.push_back({"cluster", w.cluster});
  if (probe != cuda::plan::kWgProbeNone) {
    kv.push_back({"probe", probe});
    kv.push_back({"bn", bn});
  }
  return shape_json(kv);
}

// gemm v3's main-loop probes at the plan's tile width (bench only: their output is not the product):
// shape.probe 1 = the operand feed alone, without and with clusters of two; 2 = the tensor cores alone.
// shape.bn is the plan's width (compare.py counts the feed's L2 → shared-memory bytes with it).
void bench_gemm_probes(Bench& bench, const std::string& model, int64_t res, int64_t B, int64_t N, const GemmArgs& a, int64_t M, int64_t n, int64_t K) {
  cudaDeviceProp prop;
  const int64_t sms = cudaGetDeviceProperties(&prop, 0) == cudaSuccess ? prop.multiProcessorCount : 0;
  cudaGetLastError();
  const int64_t bn = cuda::plan::gemm_wgmma_tile_n(M, n, sms, cuda::gemm_wgmma_tiles());
  const struct { int probe, cluster; } runs[] = {{cuda::plan::kWgProbeFeed, 1}, {cuda::plan::kWgProbeFeed, 2}, {cuda::plan::kWgProbeMath, 1}};
  for (const auto& r : runs) {
    WgForce force({0, r.cluster}, r.probe);
    bench.add("gemm", 3, model, res, B, N, wg_shape(M, n, K, {0, r.cluster}, r.probe, bn), [&] { return cuda::gemm(a, 3); });
  }
}

int versions_of(const char* op) {
  for (const auto& ov : cuda::op_versions()) {
    if (std::string(op) == ov.op) return static_cast<int>(ov.versions.size());
  }
  return 0;
}

// The gemm version the ceilings measure (--ceilings-gemm-version; 0 = the default, v3 only when asked).
int g_ceilings_gemm_version = 0;

std::string run_bench(const std::vector<int64_t>& res_list, int64_t B, double budget_s, uint64_t seed, std::string* ceil_json) {
  Bench bench;
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  bench.device = prop.name;
  bench.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(budget_s * 1000));
  Rng rng(seed);
  const DType dt = DType::kBF16;
  auto rand_dev = [&](std::vector<int64_t> shape, float scale) {
    Dev d = alloc_dev(dt, shape);
    ok(cuda::fill_random(d.v.data, dt, d.v.numel(), rng.next(), -scale, scale));
    return d;
  };
  {  // ceilings
    cuda::CeilingOptions co;
    co.gemm_version = g_ceilings_gemm_version;
    co.timing.max_reps = 10;
    co.timing.budget_ms = 1500;
    cuda::Ceilings c;
    Status s = cuda::measure_ceilings(co, &c);
    std::ostringstream o;
    if (s.ok()) {
      o << "{\"device\":" << json_str(c.device) << ",\"cc\":\"" << c.cc_major << "." << c.cc_minor << "\",\"sm_count\":" << c.sm_count
        << ",\"l2_bytes\":" << c.l2_bytes << ",\"memory_bytes\":" << c.memory_bytes << ",\"sm_clock_khz\":" << c.sm_clock_khz
        << ",\"mem_clock_khz\":" << c.mem_clock_khz << ",\"mem_bus_bits\":" << c.mem_bus_bits << ",\"copy_GBps\":" << num(c.copy_GBps)
        << ",\"copy_kernel_GBps\":" << num(c.copy_kernel_GBps) << ",\"copy_bytes\":" << c.copy_bytes << ",\"l2_read_GBps\":" << num(c.l2_read_GBps)
        << ",\"l2_read_bytes\":" << c.l2_read_bytes << ",\"bf16_gemm_TFLOPs\":" << num(c.gemm_bf16_TFLOPs)
        << ",\"bf16_gemm_ms\":" << num(c.gemm_ms) << ",\"bf16_gemm_size\":" << c.gemm_size << ",\"gemm_version\":" << c.gemm_version << "}";
      std::fprintf(stderr, "[ceilings] %s: copy %.0f GB/s (kernel %.0f), L2 read %.0f GB/s, bf16 gemm %lld³ %.1f TFLOP/s\n", c.device.c_str(),
                   c.copy_GBps, c.copy_kernel_GBps, c.l2_read_GBps, static_cast<long long>(c.gemm_size), c.gemm_bf16_TFLOPs);
    } else {
      o << "{\"error\":" << json_str(s.message()) << "}";
      std::fprintf(stderr, "[ceilings] error: %s\n", s.message().c_str());
    }
    *ceil_json = o.str();
  }
  if (device_is_sm90()) {  // gemm v3 split-K off / auto / forced at the small-M DiT gemms (512², batch 2: M = 512)
    // shape.split_k: the mode (0 off, −1 auto, 2 … 4 forced); shape.splits: the S that mode resolves to here.
    // First, before the budget runs low: these are the records that tune plan::gemm_wgmma_split_k.
    struct SplitShape {
      const char* model;
      int64_t M, N, K;
      bool bias_silu;  // the FFN's inverted conv: bias + SiLU epilogue
      int64_t tokens;
    };
    const SplitShape shapes[] = {{"0.6b", 512, 3456, 1152, false, 256},  {"0.6b", 512, 1152, 1152, false, 256},
                                 {"0.6b", 512, 5760, 1152, true, 256},   {"0.6b", 512, 1152, 2880, false, 256},
                                 {"1.6b", 512, 6720, 2240, false, 256},  {"1.6b", 512, 2240, 2240, false, 256},
                                 {"1.6b", 512, 11200, 2240, true, 256},  {"1.6b", 512, 2240, 5600, false, 256},
                                 {"0.6b", 600, 2304, 1152, false, 300}};  // cross-attention's k/v of 2 × 300 text tokens
    std::fprintf(stderr, "[gemm v3 split-K] 512², batch 2\n");
    const int saved = cuda::gemm_wgmma_split_k_mode();
    for (const SplitShape& sh : shapes) {
      try {
        Dev x = rand_dev({sh.M, sh.K}, 1.0f), w = rand_dev({sh.N, sh.K}, 0.03f), bias = rand_dev({sh.N}, 0.1f), o = alloc_dev(dt, {sh.M, sh.N});
        GemmArgs a;
        a.x = x.v;
        a.w = w.v;
        a.out = o.v;
        if (sh.bias_silu) {
          a.bias = bias.ptr();
          a.act = Activation::kSilu;
        }
        const int bn = cuda::plan::gemm_wgmma_tile_n(sh.M, sh.N, prop.multiProcessorCount);
        for (int mode : {0, -1, 2, 3, 4}) {
          const int S = cuda::plan::gemm_wgmma_splits(mode, sh.M, sh.N, sh.K, prop.multiProcessorCount, bn, false);
          cuda::set_gemm_wgmma_split_k(mode);
          bench.add("gemm", 3, sh.model, 512, 2, sh.tokens,
                    shape_json({{"M", sh.M}, {"N", sh.N}, {"K", sh.K}, {"act", sh.bias_silu ? 2 : 0}, {"split_k", mode}, {"splits", S}}),
                    [&] { return cuda::gemm(a, 3); });
        }
        cuda::set_gemm_wgmma_split_k(saved);
      } catch (const Failure& f) {
        cuda::set_gemm_wgmma_split_k(saved);
        std::fprintf(stderr, "  setup failed: %s\n", f.st.message().c_str());
      }
    }
    ok(cuda::release_cached_memory());
  }
  struct Model {
    const char* name;
    int64_t C, heads_x, ffn;
  };
  const Model models[] = {{"0.6b", 1152, 16, 2880}, {"1.6b", 2240, 20, 5600}};
  const int64_t L = 300;
  for (int64_t res : res_list) {
    const int64_t hw = res / 32, N = hw * hw, M = B * N;
    // In the order the budget should spend itself (check.sh gives the bench ~50 s): Sana-0.6B (the issue's
    // targets), the DC-AE ResBlock stages (most of a decode's FLOPs: conv3x3 / dcae-resblock v4, dcae-head v3),
    // the EfficientViT stages, then Sana-1.6B.
    auto bench_dit = [&](const Model& m) {
      const int64_t C = m.C;
      std::fprintf(stderr, "[%s %lldx%lld] tokens %lld, batch %lld\n", m.name, static_cast<long long>(res), static_cast<long long>(res),
                   static_cast<long long>(N), static_cast<long long>(B));
      try {
        Dev x = rand_dev({B, N, C}, 1.0f), q = rand_dev({B, N, C}, 1.0f), k = rand_dev({B, N, C}, 1.0f), v = rand_dev({B, N, C}, 1.0f);
        Dev out = alloc_dev(dt, {B, N, C});
        {  // gemm: the QKV projection shape of the baseline (M = B·N, N = 3C, K = C)
          Dev w = rand_dev({3 * C, C}, 0.03f), o3 = alloc_dev(dt, {B, N, 3 * C});
          GemmArgs a;
          a.x = x.v;
          a.w = w.v;
          a.out = o3.v;
          for (int ver = 1; ver <= versions_of("gemm"); ++ver) {
            bench.add("gemm", ver, m.name, res, B, N, shape_json({{"M", M}, {"N", 3 * C}, {"K", C}}), [&] { return cuda::gemm(a, ver); });
          }
          if (device_is_sm90()) {  // v3 at each forced tile width beside the planned one above, and at the planned
            // width in clusters of two (TMA multicast of B, opt-in): shape.tile_n, shape.cluster; then the probes
            for (const WgVariant& w : {WgVariant{128, 1}, WgVariant{192, 1}, WgVariant{256, 1}, WgVariant{0, 2}}) {
              WgForce force(w);
              bench.add("gemm", 3, m.name, res, B, N, wg_shape(M, 3 * C, C, w), [&] { return cuda::gemm(a, 3); });
            }
            bench_gemm_probes(bench, m.name, res, B, N, a, M, 3 * C, C);
          }
        }
        if (device_is_sm90()) {  // v3's N = C gemms (attention out-projection K = C, FFN point-wise K = hidden):
          // planned, then each forced width (192 is opt-in: Sana-0.6B's C = 1152 = 6 × 192 = 4.5 × 256), then in clusters of two
          for (const int64_t K : {C, m.ffn}) {
            Dev xk = rand_dev({M, K}, 1.0f), w = rand_dev({C, K}, 0.03f), oc = alloc_dev(dt, {M, C});
            GemmArgs a;
            a.x = xk.v;
            a.w = w.v;
            a.out = oc.v;
            for (const WgVariant& w : {WgVariant{0, 1}, WgVariant{128, 1}, WgVariant{192, 1}, WgVariant{256, 1}, WgVariant{0, 2}}) {
              WgForce force(w);
              bench.add("gemm", 3, m.name, res, B, N, wg_shape(M, C, K, w), [&] { return cuda::gemm(a, 3); });
            }
            bench_gemm_probes(bench, m.name, res, B, N, a, M, C, K);
          }
        }
        {
          LinearAttentionArgs a;
          a.q = q.v;
          a.k = k.v;
          a.v = v.v;
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("linear-attention"); ++ver) {
            bench.add("linear-attention", ver, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}}),
                      [&] { return cuda::linear_attention(a, ver); });
          }
        }
        {  // the cross-attention core alone (the baseline times SDPA on given q, k, v)
          Dev y = rand_dev({B, L, C}, 1.0f);
          Dev mask = alloc_dev(dt, {B, L});
          std::vector<double> mv(B * L);
          for (int64_t i = 0; i < B * L; ++i) mv[i] = (i % L) < L / 2 ? 0.0 : -10000.0;
          mask = upload_values(dt, {B, L}, mv);
          const int64_t d = C / m.heads_x;
          // The core's own versions (xattn_core: 1 SIMT, 2 tensor cores, 3 tensor cores with the head's K/V
          // resident), not the full op's: cross-attention v3 / v4 are cores v2 / v3 behind wgmma projections,
          // which the Node-side bench times as the whole op.
          constexpr int kXattnCoreVersions = 3;
          for (int ver = 1; ver <= kXattnCoreVersions; ++ver) {
            bench.add("cross-attention", ver, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}, {"L", L}, {"heads", m.heads_x}}), [&] {
              cuda::OpScope scope("cross-attention core");
              SANA_RETURN_IF_ERROR(scope.begin());
              return scope.finish(cuda::xattn_core("cross-attention core", ver, dt, q.v.data, C, y.v.data, C, y.v.data, C, mask.v.data, L, out.v.data,
                                                   C, B, N, L, m.heads_x, d));
            });
          }
        }
        {
          Dev w_inv = rand_dev({2 * m.ffn, C}, 0.03f), b_inv = rand_dev({2 * m.ffn}, 0.02f), w_dw = rand_dev({2 * m.ffn, 1, 3, 3}, 0.3f);
          Dev b_dw = rand_dev({2 * m.ffn}, 0.02f), w_pt = rand_dev({C, m.ffn}, 0.02f);
          MixFfnArgs a;
          a.x = x.v;
          a.w_inv = w_inv.v;
          a.b_inv = b_inv.v;
          a.w_dw = w_dw.v;
          a.b_dw = b_dw.v;
          a.w_point = w_pt.v;
          a.height = hw;
          a.width = hw;
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("mix-ffn"); ++ver) {
            bench.add("mix-ffn", ver, m.name, res, B, N, shape_json({{"B", B}, {"H", hw}, {"W", hw}, {"C", C}, {"hidden", m.ffn}}),
                      [&] { return cuda::mix_ffn(a, ver); });
          }
          // The depthwise + GLU step alone (mix-ffn's middle kernel, its versions 1–3): bandwidth-bound, so
          // compare.py reports its fraction of the copy bandwidth.
          Dev u = rand_dev({B, N, 2 * m.ffn}, 1.0f), z = alloc_dev(dt, {B, N, m.ffn});
          for (int ver = 1; ver <= 3; ++ver) {
            bench.add("mix-ffn-dw", ver, m.name, res, B, N, shape_json({{"B", B}, {"H", hw}, {"W", hw}, {"hidden", m.ffn}}), [&] {
              cuda::OpScope scope("mix-ffn dw");
              SANA_RETURN_IF_ERROR(scope.begin());
              return scope.finish(cuda::dw_glu("mix-ffn dw", ver, dt, u.v.data, w_dw.v.data, b_dw.v.data, z.v.data, B, hw, hw, m.ffn));
            });
          }
        }
        {
          Dev shift = rand_dev({B, 1, C}, 0.1f), scale = rand_dev({B, 1, C}, 0.1f);
          LayerNormModulateArgs a;
          a.x = x.v;
          a.shift = shift.v;
          a.scale = scale.v;
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("layernorm-modulate"); ++ver) {
            bench.add("layernorm-modulate", ver, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}}),
                      [&] { return cuda::layernorm_modulate(a, ver); });
          }
        }
        {
          const float s = 0.03f;
          Dev wq = rand_dev({C, C}, s), wk = rand_dev({C, C}, s), wv = rand_dev({C, C}, s), wo = rand_dev({C, C}, s), bo = rand_dev({C}, 0.02f);
          Dev gate = rand_dev({B, 1, C}, 1.0f);
          LinearAttentionBlockArgs a;
          a.x = x.v;
          a.wq = wq.v;
          a.wk = wk.v;
          a.wv = wv.v;
          a.wo = wo.v;
          a.bo = bo.ptr();
          a.gate = gate.ptr();
          a.residual = x.ptr();
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("linear-attention-block"); ++ver) {
            bench.add("linear-attention-block", ver, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}}),
                      [&] { return cuda::linear_attention_block(a, ver); });
          }
        }
        {  // the whole block (random weights of the real dimensions; y = caption tokens after projection)
          const float s = 0.03f;
          Dev y = rand_dev({B, L, C}, 1.0f), t0 = rand_dev({B, 6 * C}, 0.1f), table = rand_dev({6, C}, 0.1f);
          std::vector<double> mv(B * L);
          for (int64_t i = 0; i < B * L; ++i) mv[i] = (i % L) < L / 2 ? 0.0 : -10000.0;
          Dev mask = upload_values(dt, {B, L}, mv);
          Dev a1q = rand_dev({C, C}, s), a1k = rand_dev({C, C}, s), a1v = rand_dev({C, C}, s), a1o = rand_dev({C, C}, s), a1bo = rand_dev({C}, 0.02f);
          Dev a2q = rand_dev({C, C}, s), a2k = rand_dev({C, C}, s), a2v = rand_dev({C, C}, s), a2o = rand_dev({C, C}, s);
          Dev a2bq = rand_dev({C}, 0.02f), a2bk = rand_dev({C}, 0.02f), a2bv = rand_dev({C}, 0.02f), a2bo = rand_dev({C}, 0.02f);
          Dev winv = rand_dev({2 * m.ffn, C}, s), binv = rand_dev({2 * m.ffn}, 0.02f), wdw = rand_dev({2 * m.ffn, 1, 3, 3}, 0.3f);
          Dev bdw = rand_dev({2 * m.ffn}, 0.02f), wpt = rand_dev({C, m.ffn}, 0.02f);
          DitBlockArgs a;
          a.x = x.v;
          a.y = y.v;
          a.t0 = t0.v;
          a.table = table.v;
          a.mask_bias = mask.ptr();
          a.a1_wq = a1q.v;
          a.a1_wk = a1k.v;
          a.a1_wv = a1v.v;
          a.a1_wo = a1o.v;
          a.a1_bo = a1bo.ptr();
          a.a2_wq = a2q.v;
          a.a2_wk = a2k.v;
          a.a2_wv = a2v.v;
          a.a2_wo = a2o.v;
          a.a2_bq = a2bq.ptr();
          a.a2_bk = a2bk.ptr();
          a.a2_bv = a2bv.ptr();
          a.a2_bo = a2bo.ptr();
          a.ff_w_inv = winv.v;
          a.ff_b_inv = binv.v;
          a.ff_w_dw = wdw.v;
          a.ff_b_dw = bdw.v;
          a.ff_w_point = wpt.v;
          a.height = hw;
          a.width = hw;
          a.cross_heads = m.heads_x;
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("dit-block"); ++ver) {
            bench.add("dit-block", ver, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}}), [&] { return cuda::dit_block(a, ver); });
          }
          // v3 again with every kernel a programmatic dependent (set_pdl_mode(1), as SANA_LAB_PDL=1; opt-in until
          // timed): what the launches and prologues of its ~15 kernels cost (compare.py "programmatic dependent launch").
          {
            const int saved = cuda::pdl_mode();
            cuda::set_pdl_mode(1);
            if (cuda::pdl_active()) {
              bench.add("dit-block", 3, m.name, res, B, N, shape_json({{"B", B}, {"N", N}, {"C", C}, {"pdl", 1}}), [&] { return cuda::dit_block(a, 3); });
            }
            cuda::set_pdl_mode(saved);
          }
        }
      } catch (const Failure& f) {
        std::fprintf(stderr, "  setup failed: %s\n", f.st.message().c_str());
      }
      ok(cuda::release_cached_memory());
    };
    auto bench_evit = [&]() {
      // DC-AE decoder EfficientViT stages (batch 1): LiteMLA at 512 ch res/8, 1024 at res/16 and res/32
      const int64_t evit[][3] = {{3, 512, 8}, {4, 1024, 16}, {5, 1024, 32}};
      for (const auto& st : evit) {
        const int64_t C = st[1], hh = res / st[2], I = C, d = 32;
        try {
          Dev x = rand_dev({1, hh, hh, C}, 1.0f), out = alloc_dev(dt, {1, hh, hh, C});
          Dev wq = rand_dev({I, C}, 0.03f), wk = rand_dev({I, C}, 0.03f), wv = rand_dev({I, C}, 0.03f), wdw = rand_dev({3 * I, 1, 5, 5}, 0.2f);
          Dev wg = rand_dev({3 * I, d, 1, 1}, 0.15f), wout = rand_dev({C, 2 * I}, 0.02f), nw = rand_dev({C}, 1.0f), nb = rand_dev({C}, 0.1f);
          // the whole EfficientViT block: lite-mla, then x + RMSNorm2d(GLUMBConv(x)) with expand ratio 4
          const int64_t hid = 4 * C;
          Dev winv = rand_dev({2 * hid, C}, 0.03f), binv = rand_dev({2 * hid}, 0.02f), wdw3 = rand_dev({2 * hid, 1, 3, 3}, 0.3f);
          Dev bdw = rand_dev({2 * hid}, 0.02f), wpt = rand_dev({C, hid}, 0.02f), fnw = rand_dev({C}, 1.0f), fnb = rand_dev({C}, 0.1f);
          DcaeEvitBlockArgs e;
          e.x = x.v;
          e.wq = wq.v;
          e.wk = wk.v;
          e.wv = wv.v;
          e.w_dw = wdw.v;
          e.w_group = wg.v;
          e.w_out = wout.v;
          e.attn_norm_w = nw.v;
          e.attn_norm_b = nb.v;
          e.ff_w_inv = winv.v;
          e.ff_b_inv = binv.v;
          e.ff_w_dw = wdw3.v;
          e.ff_b_dw = bdw.v;
          e.ff_w_point = wpt.v;
          e.ff_norm_w = fnw.v;
          e.ff_norm_b = fnb.v;
          e.out = out.v;
          // lite-mla alone: the block's own attention call (dcae_evit_calls.h), writing to out
          LiteMlaArgs a = DcaeEvitCalls(e, nullptr, nullptr).attn;
          a.out = out.v;
          for (int ver = 1; ver <= versions_of("lite-mla"); ++ver) {
            bench.add("lite-mla", ver, "dcae", res, 1, hh * hh, shape_json({{"stage", st[0]}, {"C", C}, {"H", hh}, {"W", hh}}),
                      [&] { return cuda::lite_mla(a, ver); });
          }
          for (int ver = 1; ver <= versions_of("dcae-evit-block"); ++ver) {
            bench.add("dcae-evit-block", ver, "dcae", res, 1, hh * hh, shape_json({{"stage", st[0]}, {"C", C}, {"H", hh}, {"W", hh}}),
                      [&] { return cuda::dcae_evit_block(e, ver); });
          }
        } catch (const Failure& f) {
          std::fprintf(stderr, "  setup failed: %s\n", f.st.message().c_str());
        }
      }
    };
    auto bench_resblocks = [&]() {
      // DC-AE decoder ResBlock stages (batch 1): 128 ch at res, 256 at res/2, 512 at res/4
      const int64_t stages[][3] = {{0, 128, 1}, {1, 256, 2}, {2, 512, 4}};
      std::fprintf(stderr, "[dcae %lldx%lld] resblock stages, batch 1\n", static_cast<long long>(res), static_cast<long long>(res));
      for (const auto& st : stages) {
        const int64_t C = st[1], hh = res / st[2];
        try {
          Dev x = rand_dev({1, hh, hh, C}, 1.0f), out = alloc_dev(dt, {1, hh, hh, C});
          Dev w1 = rand_dev({C, C, 3, 3}, 0.02f), b1 = rand_dev({C}, 0.02f), w2 = rand_dev({C, C, 3, 3}, 0.02f);
          Dev nw = rand_dev({C}, 1.0f), nb = rand_dev({C}, 0.1f);
          const std::string shape = shape_json({{"stage", st[0]}, {"C", C}, {"H", hh}, {"W", hh}});
          const bool small = hh * hh <= 1024 * 1024;  // the SIMT versions only where they finish in time
          // v4 (wgmma + TMA im2col) on sm_90 where its shape rules hold (C % 64, W % 128: every stage from 512²)
          const int top_conv = device_is_sm90() && C % 64 == 0 && hh % 128 == 0 ? 4 : 3;
          {
            Conv3x3Args a;
            a.x = x.v;
            a.w = w1.v;
            a.bias = b1.ptr();
            a.out = out.v;
            for (int ver = small ? 2 : 3; ver <= top_conv; ++ver) {
              bench.add("conv3x3", ver, "dcae", res, 1, hh * hh, shape, [&] { return cuda::conv3x3(a, ver); });
            }
            if (top_conv == 4) {  // v4 in clusters of two (one weight tile multicast to both blocks): shape.cluster
              WgForce pairs({0, 2});
              bench.add("conv3x3", 4, "dcae", res, 1, hh * hh, shape_json({{"stage", st[0]}, {"C", C}, {"H", hh}, {"W", hh}, {"cluster", 2}}),
                        [&] { return cuda::conv3x3(a, 4); });
            }
          }
          {
            RmsNormArgs a;
            a.x = x.v;
            a.weight = nw.ptr();
            a.bias = nb.ptr();
            a.out = out.v;
            for (int ver = 1; ver <= 2; ++ver) bench.add("rmsnorm2d", ver, "dcae", res, 1, hh * hh, shape, [&] { return cuda::rmsnorm(a, ver); });
          }
          {
            const DcaeResBlockArgs a = resblock_args(x, w1, b1, w2, nw, nb, out);
            for (int ver = small ? 2 : 3; ver <= top_conv; ++ver) {
              bench.add("dcae-resblock", ver, "dcae", res, 1, hh * hh, shape, [&] { return cuda::dcae_resblock(a, ver); });
            }
          }
          // dcae-upsample at v2 and dcae-head at v2–v4 (the fused narrow heads): their v1 runs the direct
          // conv, a correctness reference far too slow to time at these sizes
          {  // the up block into this stage: nearest 2× → conv3x3 (Cn → C) + the channel-repeat shortcut
            const int64_t Cn = st[0] == 0 ? 256 : 512, hn = hh / 2;
            Dev xn = rand_dev({1, hn, hn, Cn}, 1.0f), wu = rand_dev({C, Cn, 3, 3}, 0.02f), bu = rand_dev({C}, 0.02f);
            DcaeUpsampleArgs a;
            a.x = xn.v;
            a.w = wu.v;
            a.bias = bu.ptr();
            a.mode = DcaeUpsampleMode::kInterpolate;
            a.shortcut = true;
            a.out = out.v;
            // v3 (sub-pixel phases on the wgmma conv) where it runs: bf16 on sm_90, Cin % 64 == 0, W % 128 == 0
            const int top_up = dt == DType::kBF16 && device_is_sm90() && Cn % 64 == 0 && hn % 128 == 0 ? 3 : 2;
            for (int ver = 2; ver <= top_up; ++ver) {
              bench.add("dcae-upsample", ver, "dcae", res, 1, hh * hh, shape_json({{"stage", st[0]}, {"Cin", Cn}, {"Cout", C}, {"H", hn}, {"W", hn}}),
                        [&] { return cuda::dcae_upsample(a, ver); });
            }
          }
          if (st[0] == 0) {  // the output head: RMSNorm2d → ReLU → conv3x3 (128 → 3), the image NCHW
            Dev wh = rand_dev({3, C, 3, 3}, 0.02f), bh = rand_dev({3}, 0.02f), img = alloc_dev(dt, {1, 3, hh, hh});
            DcaeHeadArgs a;
            a.x = x.v;
            a.norm_w = nw.v;
            a.norm_b = nb.v;
            a.w = wh.v;
            a.bias = bh.ptr();
            a.act = Activation::kRelu;
            a.out = img.v;
            for (int ver = 2; ver <= (dt == DType::kBF16 ? 4 : 3); ++ver) {
              bench.add("dcae-head", ver, "dcae", res, 1, hh * hh, shape_json({{"C", C}, {"Cout", 3}, {"H", hh}, {"W", hh}}),
                        [&] { return cuda::dcae_head(a, ver); });
            }
          }
        } catch (const Failure& f) {
          std::fprintf(stderr, "  setup failed: %s\n", f.st.message().c_str());
        }
        ok(cuda::release_cached_memory());
      }
    };
    bench_dit(models[0]);
    bench_resblocks();
    bench_evit();
    bench_dit(models[1]);
  }
  std::string s = "[";
  for (size_t i = 0; i < bench.records.size(); ++i) s += (i ? ",\n  " : "\n  ") + bench.records[i];
  return s + "\n ]";
}

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
