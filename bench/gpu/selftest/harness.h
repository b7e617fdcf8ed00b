// The self-test's harness: device tensors with the exact values they hold, fresh random inputs and
// poisoned outputs, the comparison against a float64 reference (relative L2 and max-abs, non-finite never
// passes), where a failed comparison is wrong, and the list of checks every mode appends to.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
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

namespace sana_selftest {

inline const OpTable* be() { return cuda_op_table(); }

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

inline double round_to(DType dt, double v) {
  if (dt == DType::kBF16) return bf16_bits_to_f32(f32_to_bf16_bits(static_cast<float>(v)));
  return static_cast<double>(static_cast<float>(v));
}

inline std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if (c == '\n') o += "\\n";
    else if (static_cast<unsigned char>(c) < 0x20) o += ' ';
    else o += c;
  }
  return o + "\"";
}
inline std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

struct Failure : std::runtime_error {
  Status st;
  explicit Failure(Status s) : std::runtime_error(s.message()), st(std::move(s)) {}
};
inline void ok(const Status& s) {
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

inline Dev alloc_dev(DType dt, const std::vector<int64_t>& shape) {
  Dev d;
  d.v.dtype = dt;
  d.v.device = Device::kCuda;
  d.v.ndim = static_cast<int32_t>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) d.v.shape[i] = shape[i];
  d.v.data = be()->alloc(d.v.bytes());
  if (!d.v.data) throw Failure(OutOfMemory("selftest: device out of memory for " + d.v.shape_str()));
  return d;
}

inline Dev upload_values(DType dt, const std::vector<int64_t>& shape, const std::vector<double>& vals) {
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

inline Dev randn(DType dt, const std::vector<int64_t>& shape, Rng& rng, double std, double mean = 0.0) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::vector<double> vals(n);
  for (auto& x : vals) x = mean + std * rng.normal();
  return upload_values(dt, shape, vals);
}

inline Dev poisoned(DType dt, const std::vector<int64_t>& shape) {
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
inline OffsetDev offset_view(Dev raw, const std::vector<int64_t>& shape, int64_t off) {
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
inline int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}
// randn / poisoned, `off` elements into an allocation one element larger than needed (off 0 or 1).
inline OffsetDev randn_at(DType dt, const std::vector<int64_t>& shape, int64_t off, Rng& rng, double std) {
  return offset_view(randn(dt, {numel_of(shape) + 1}, rng, std), shape, off);
}
inline OffsetDev poisoned_at(DType dt, const std::vector<int64_t>& shape, int64_t off) { return offset_view(poisoned(dt, {numel_of(shape) + 1}), shape, off); }

// Copies [offset, offset + n) elements of a device tensor to the host as doubles.
inline Vec download(const TensorView& t, int64_t offset = 0, int64_t n = -1) {
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
inline Stats compare(const Vec& out, const Vec& ref) {
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
inline Where locate(const Vec& out, const Vec& ref, double bound_rel, double max_ref) {
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
inline std::string where_json(const Where& w) {
  if (w.bad == 0) return "";
  std::ostringstream o;
  o << ",\"where\":{\"bad\":" << w.bad << ",\"size\":" << w.size << ",\"bound_rel\":" << num(w.bound_rel) << ",\"first\":" << w.first
    << ",\"last\":" << w.last << ",\"worst\":" << w.worst << ",\"worst_out\":" << num(w.worst_out) << ",\"worst_ref\":" << num(w.worst_ref) << "}";
  return o.str();
}

inline const char* dname(DType dt) { return dt == DType::kBF16 ? "bf16" : "f32"; }

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
inline bool g_fail_fast = false;
struct FailFast {};
struct CheckList : std::vector<Check> {
  void push_back(const Check& c) {
    std::vector<Check>::push_back(c);
    if (g_fail_fast && !c.pass) throw FailFast{};
  }
};
inline CheckList g_checks;

// f32_tol: both f32 bounds, raised only where f32 itself cannot do better (say why at the call).
inline void record_compare(const std::string& op, int version, DType dt, const std::string& name, const Vec& out, const Vec& ref, double f32_tol = 1e-4) {
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
inline Check identical_check(const std::string& op, int version, DType dt, const std::string& name, const Vec& out, const Vec& want, const std::string& what) {
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

inline void record_status(const std::string& op, int version, DType dt, const std::string& name, const Status& s, bool expect_reject) {
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

// Whether device 0 is an sm_90 GPU (gemm v3 must run there and refuse elsewhere).
inline bool device_is_sm90() {
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
inline void check_launches(const char* op, int version, DType dt, const std::string& name, const char* kind, int64_t launches, int64_t expected) {
  if (launches == expected) return;
  Check e;
  e.op = op;
  e.version = version;
  e.dtype = dname(dt);
  e.name = name + ": " + kind + " launches";
  e.detail = std::to_string(launches) + " " + kind + " launches, expected " + std::to_string(expected);
  g_checks.push_back(e);
}

}  // namespace sana_selftest
