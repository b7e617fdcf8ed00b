// The addon's `runtime` object: kernel versions, device timing and ceilings, and the fills that
// benchmarks and parity use on backend memory. One object (not top-level functions) so that the
// op-function enumerations of the tests see only ops.
//   runtime.opVersions(backend)              [{ op, versions: [{ version, summary, needs }] }] (static data)
//   runtime.timeOp(opName, args, opts?)      Promise<timing>: one op call (the op's own argument object,
//                                            e.g. timeOp('gemm', { x, w, out, version })) timed with CUDA
//                                            events: warm-up, L2 flush, median/p20/p80 (cuda::time_launches)
//   runtime.measureCeilings(opts?)           Promise<ceilings>: copy bandwidth and a bf16 gemm (cuda)
//   runtime.synchronize(what?)               waits for queued device work; reports a pending fault (naming `what`)
//   runtime.setSyncEachOp(on)                → the previous setting; false = queued dispatch on cuda (ops
//                                            return once queued; a runner synchronizes once per step)
//   runtime.releaseCachedMemory()            returns cached device scratch to the driver
//   runtime.cudaDefaultOverrides()           → "op=N,…": the SANA_LAB_CUDA_DEFAULTS entries in effect ("" = none)
//   runtime.gemmWgmmaModes()                 → { tiles, splitK, cluster }: gemm v3's launch modes in effect
//   runtime.pdlMode()                        → { mode, active, launches }: programmatic dependent launch (SANA_LAB_PDL)
//                                            (SANA_LAB_GEMM_TILES / _SPLIT_K / _CLUSTER as parsed; null without CUDA)
//   runtime.timelineMark(what?)             cuda: → index of a CUDA event recorded now on the op stream
//   runtime.timelineRead(what?)             → Float64Array: device ms from mark 0 to each mark (waits; clears)
//   runtime.kernelTimelineBegin(what?)       cuda: from now on an event after every kernel launch (cuda::kernel_timeline_begin)
//   runtime.kernelTimelineEnd(what?)         → { kernels: [{ op, kernel, ms }], truncated }: per launch, device ms
//                                            since the event before it (waits; stops the recording)
//   runtime.graphBegin(what)                 cuda: the ops called from now on are captured into a CUDA
//                                            graph instead of run (cuda::graph_begin)
//   runtime.graphEnd(what)                   → graph handle: the capture, instantiated (or an Error naming
//                                            what broke the capture); ends the capture either way
//   runtime.graphLaunch(graph, what)         runs the captured ops again (one launch)
//   runtime.graphDispose(graph)              frees the graph (idempotent; also done by the GC)
//   runtime.fillBytes(t, byte)               every byte of t's storage = byte (0xFF = NaN poison)
//   runtime.fillRandom(t, seed, lo, hi)      t = seeded uniform values in [lo, hi) (never zeros)
// Arguments are checked here (TypeError/RangeError naming the function); CUDA failures carry the CUDA
// message; in a build or on a machine without CUDA the cuda entries fail with the reason.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "op_call.h"
#include "registry.h"
#include "sana/convert.h"
#include "tensor_handle.h"
#include "versions.h"

#ifdef SANA_LAB_WITH_CUDA
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/launch_plan.h"
#include "sana/cuda/ops_cuda.h"
#endif

namespace sana::binding {
namespace {

Napi::Object object_arg(const Napi::CallbackInfo& info, size_t i, const std::string& fn, const char* what) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return Napi::Object::New(info.Env());
  if (!info[i].IsObject() || info[i].IsArray()) throw Napi::TypeError::New(info.Env(), fn + ": " + what + " must be an object");
  return info[i].As<Napi::Object>();
}

// An integer option in [lo, hi], or `fallback` when absent.
int64_t int_option(const Napi::Object& o, const char* key, int64_t fallback, int64_t lo, int64_t hi, const std::string& fn) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) || d != std::floor(d)) {
    throw Napi::RangeError::New(o.Env(), fn + ": option '" + key + "' must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int64_t>(d);
}

double num_option(const Napi::Object& o, const char* key, double fallback, double lo, double hi, const std::string& fn) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= lo && d <= hi)) {
    throw Napi::RangeError::New(o.Env(), fn + ": option '" + key + "' must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return d;
}

// Timing options shared by timeOp and measureCeilings.
TimingRequest timing_options(const Napi::Object& o, const std::string& fn) {
  TimingRequest r;
  r.warmup = static_cast<int>(int_option(o, "warmup", r.warmup, 0, 1000, fn));
  r.min_reps = static_cast<int>(int_option(o, "minReps", r.min_reps, 1, 100000, fn));
  r.max_reps = static_cast<int>(int_option(o, "maxReps", std::max(r.max_reps, r.min_reps), 1, 100000, fn));
  if (r.max_reps < r.min_reps) throw Napi::RangeError::New(o.Env(), fn + ": maxReps " + std::to_string(r.max_reps) + " < minReps " + std::to_string(r.min_reps));
  r.budget_ms = num_option(o, "budgetMs", r.budget_ms, 0, 600000, fn);
  Napi::Value flush = o.Get("flushL2");
  if (!flush.IsUndefined() && !flush.IsBoolean()) throw Napi::TypeError::New(o.Env(), fn + ": option 'flushL2' must be a boolean");
  if (flush.IsBoolean()) r.flush_l2 = flush.As<Napi::Boolean>().Value();
  return r;
}

Napi::Value OpVersions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "opVersions";
  if (info.Length() != 1 || !info[0].IsString()) throw Napi::TypeError::New(env, fn + ": expected a backend name ('cpu' or 'cuda')");
  const std::vector<OpVersionList> all = backend_versions(env, info[0].As<Napi::String>().Utf8Value(), fn);
  Napi::Array out = Napi::Array::New(env, all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("op", all[i].op);
    Napi::Array vs = Napi::Array::New(env, all[i].versions.size());
    for (size_t j = 0; j < all[i].versions.size(); ++j) {
      const VersionEntry& e = all[i].versions[j];
      Napi::Object v = Napi::Object::New(env);
      v.Set("version", e.version);
      v.Set("summary", e.summary);
      v.Set("needs", e.needs);
      vs.Set(static_cast<uint32_t>(j), v);
    }
    o.Set("versions", vs);
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

Napi::Value TimeOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "timeOp";
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
    throw Napi::TypeError::New(env, fn + ": expected (opName, args, options?), e.g. timeOp('gemm', { x, w, out })");
  }
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  OpFunction op = op_function(name);
  if (op == nullptr) throw Napi::TypeError::New(env, fn + ": unknown op function '" + name + "' (have: " + op_function_names() + ")");
  TimingRequest req = timing_options(object_arg(info, 2, fn, "options"), fn);
  Napi::Function f = Napi::Function::New(env, op, name);
  Napi::Value result;
  {
    TimingRequestScope scope(&req);
    result = f.Call({info[1]});
  }
  if (!req.taken) throw Napi::Error::New(env, fn + ": " + name + " returned without running (no timing was taken)");
  return result;
}

// A Promise settled by a Status-returning body run on a worker thread; `ok` builds the value.
class StatusWorker : public Napi::AsyncWorker {
 public:
  StatusWorker(Napi::Env env, const char* name, std::function<Status()> body, std::function<Napi::Value(Napi::Env)> ok)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), body_(std::move(body)), ok_(std::move(ok)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override { status_ = body_(); }
  void OnOK() override {
    if (status_.ok()) deferred_.Resolve(ok_(Env()));
    else deferred_.Reject(status_error(Env(), status_).Value());
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<Status()> body_;
  std::function<Napi::Value(Napi::Env)> ok_;
  Status status_;
};

Napi::Value MeasureCeilings(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "measureCeilings";
  Napi::Object o = object_arg(info, 0, fn, "options");
#ifdef SANA_LAB_WITH_CUDA
  auto opts = std::make_shared<cuda::CeilingOptions>();
  opts->copy_bytes = int_option(o, "copyBytes", opts->copy_bytes, int64_t{1} << 20, int64_t{1} << 36, fn);
  opts->gemm_size = int_option(o, "gemmSize", opts->gemm_size, 128, 32768, fn);
  opts->gemm_version = static_cast<int>(int_option(o, "gemmVersion", opts->gemm_version, 0, 1000, fn));
  const TimingRequest t = timing_options(o, fn);
  opts->timing.warmup = t.warmup;
  opts->timing.min_reps = t.min_reps;
  opts->timing.max_reps = t.max_reps;
  opts->timing.budget_ms = t.budget_ms;
  opts->timing.flush_l2 = t.flush_l2;
  auto result = std::make_shared<cuda::Ceilings>();
  auto* w = new StatusWorker(
      env, "measureCeilings", [opts, result]() { return cuda::measure_ceilings(*opts, result.get()); },
      [result](Napi::Env e) -> Napi::Value {
        const cuda::Ceilings& c = *result;
        Napi::Object r = Napi::Object::New(e);
        r.Set("device", c.device);
        r.Set("computeCapability", std::to_string(c.cc_major) + "." + std::to_string(c.cc_minor));
        r.Set("smCount", c.sm_count);
        r.Set("l2Bytes", static_cast<double>(c.l2_bytes));
        r.Set("memoryBytes", static_cast<double>(c.memory_bytes));
        r.Set("smClockKHz", c.sm_clock_khz);
        r.Set("memClockKHz", c.mem_clock_khz);
        r.Set("memBusBits", c.mem_bus_bits);
        r.Set("copyGBps", c.copy_GBps);
        r.Set("copyKernelGBps", c.copy_kernel_GBps);
        r.Set("l2ReadGBps", c.l2_read_GBps);
        r.Set("l2ReadBytes", static_cast<double>(c.l2_read_bytes));
        r.Set("copyBytes", static_cast<double>(c.copy_bytes));
        r.Set("gemmBf16TFLOPs", c.gemm_bf16_TFLOPs);
        r.Set("gemmMs", c.gemm_ms);
        r.Set("gemmSize", static_cast<double>(c.gemm_size));
        r.Set("gemmVersion", c.gemm_version);
        return r;
      });
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
#else
  (void)o;
  auto d = Napi::Promise::Deferred::New(env);
  d.Reject(Napi::Error::New(env, fn + ": this addon was built without CUDA").Value());
  return d.Promise();
#endif
}

// An optional name argument (what errors name), `fn` when absent.
std::string name_arg(const Napi::CallbackInfo& info, size_t i, const std::string& fn) {
  if (info.Length() <= i || info[i].IsUndefined()) return fn;
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), fn + ": the optional name must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  const std::string what = name_arg(info, 0, "synchronize");
#ifdef SANA_LAB_WITH_CUDA
  Status s = cuda::synchronize(what.c_str());
  if (!s.ok()) throw status_error(info.Env(), s);
#endif
  return info.Env().Undefined();
}

// ---- device timeline ----
Napi::Value TimelineMark(const Napi::CallbackInfo& info) {
  const std::string what = name_arg(info, 0, "timelineMark");
#ifdef SANA_LAB_WITH_CUDA
  int64_t index = 0;
  Status s = cuda::timeline_mark(what.c_str(), &index);
  if (!s.ok()) throw status_error(info.Env(), s);
  return Napi::Number::New(info.Env(), static_cast<double>(index));
#else
  throw Napi::Error::New(info.Env(), what + ": the device timeline needs the cuda backend; this addon was built without CUDA");
#endif
}

Napi::Value TimelineRead(const Napi::CallbackInfo& info) {
  const std::string what = name_arg(info, 0, "timelineRead");
#ifdef SANA_LAB_WITH_CUDA
  std::vector<double> ms;
  Status s = cuda::timeline_read(what.c_str(), &ms);
  if (!s.ok()) throw status_error(info.Env(), s);
  auto a = Napi::Float64Array::New(info.Env(), ms.size());
  std::copy(ms.begin(), ms.end(), a.Data());
  return a;
#else
  return Napi::Float64Array::New(info.Env(), 0);
#endif
}

Napi::Value CudaDefaultOverrides(const Napi::CallbackInfo& info) {
#ifdef SANA_LAB_WITH_CUDA
  return Napi::String::New(info.Env(), cuda::default_version_overrides());
#else
  return Napi::String::New(info.Env(), "");
#endif
}

// gemm v3's modes as the cuda backend parsed them (no device is touched): the tile widths the plan may
// choose, the split-K mode (−1 = the plan's, 0 = off, 2 … 8 = forced) and the cluster size (1 or 2).
Napi::Value GemmWgmmaModes(const Napi::CallbackInfo& info) {
#ifdef SANA_LAB_WITH_CUDA
  Napi::Object o = Napi::Object::New(info.Env());
  const int bits = cuda::gemm_wgmma_tiles();
  Napi::Array tiles = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (int bn : {128, 192, 256}) {
    if (bits & cuda::plan::wg_tile_bit(bn)) tiles.Set(n++, Napi::Number::New(info.Env(), bn));
  }
  o.Set("tiles", tiles);
  o.Set("splitK", Napi::Number::New(info.Env(), cuda::gemm_wgmma_split_k_mode()));
  o.Set("cluster", Napi::Number::New(info.Env(), cuda::gemm_wgmma_cluster_mode()));
  return o;
#else
  return info.Env().Null();
#endif
}

// Programmatic dependent launch as the cuda backend parsed SANA_LAB_PDL: the mode (0 or 1), whether launches
// get the attribute on this device (sm_90 or newer; asks the device once), and how many did so far.
Napi::Value PdlMode(const Napi::CallbackInfo& info) {
#ifdef SANA_LAB_WITH_CUDA
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("mode", Napi::Number::New(info.Env(), cuda::pdl_mode()));
  o.Set("active", Napi::Boolean::New(info.Env(), cuda::pdl_active()));
  o.Set("launches", Napi::Number::New(info.Env(), static_cast<double>(cuda::pdl_launch_count())));
  return o;
#else
  return info.Env().Null();
#endif
}

// ---- kernel timeline ----
Napi::Value KernelTimelineBegin(const Napi::CallbackInfo& info) {
  const std::string what = name_arg(info, 0, "kernelTimelineBegin");
#ifdef SANA_LAB_WITH_CUDA
  Status s = cuda::kernel_timeline_begin(what.c_str());
  if (!s.ok()) throw status_error(info.Env(), s);
  return info.Env().Undefined();
#else
  throw Napi::Error::New(info.Env(), what + ": the kernel timeline needs the cuda backend; this addon was built without CUDA");
#endif
}

Napi::Value KernelTimelineEnd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string what = name_arg(info, 0, "kernelTimelineEnd");
#ifdef SANA_LAB_WITH_CUDA
  std::vector<cuda::KernelTime> ks;
  bool truncated = false;
  Status s = cuda::kernel_timeline_end(what.c_str(), &ks, &truncated);
  if (!s.ok()) throw status_error(env, s);
  Napi::Array a = Napi::Array::New(env, ks.size());
  for (size_t i = 0; i < ks.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("op", ks[i].op);
    o.Set("kernel", ks[i].kernel);
    o.Set("ms", ks[i].ms);
    a.Set(static_cast<uint32_t>(i), o);
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("kernels", a);
  r.Set("truncated", truncated);
  return r;
#else
  throw Napi::Error::New(env, what + ": the kernel timeline needs the cuda backend; this addon was built without CUDA");
#endif
}

// ---- CUDA graphs: an External with its own type tag around the cuda::Graph ----
const napi_type_tag kGraphTag = {0x5a4a1ab5c0ffee02ULL, 0x6ea1c0de9a9b7c11ULL};

struct GraphBox {
#ifdef SANA_LAB_WITH_CUDA
  cuda::Graph* g = nullptr;
#endif
};

[[maybe_unused]] GraphBox* unwrap_graph(const Napi::CallbackInfo& info, const std::string& fn) {
  if (info.Length() < 1 || !info[0].IsExternal() || !info[0].As<Napi::External<GraphBox>>().CheckTypeTag(&kGraphTag)) {
    throw Napi::TypeError::New(info.Env(), fn + ": expected a graph from runtime.graphEnd");
  }
  return info[0].As<Napi::External<GraphBox>>().Data();
}

Napi::Value GraphBegin(const Napi::CallbackInfo& info) {
  const std::string what = name_arg(info, 0, "graphBegin");
#ifdef SANA_LAB_WITH_CUDA
  Status s = cuda::graph_begin(what.c_str());
  if (!s.ok()) throw status_error(info.Env(), s);
  return info.Env().Undefined();
#else
  throw Napi::Error::New(info.Env(), what + ": CUDA graphs need the cuda backend; this addon was built without CUDA");
#endif
}

Napi::Value GraphEnd(const Napi::CallbackInfo& info) {
  const std::string what = name_arg(info, 0, "graphEnd");
#ifdef SANA_LAB_WITH_CUDA
  cuda::Graph* g = nullptr;
  Status s = cuda::graph_end(what.c_str(), &g);
  if (!s.ok()) throw status_error(info.Env(), s);
  auto* box = new GraphBox{g};
  auto ext = Napi::External<GraphBox>::New(info.Env(), box, [](Napi::Env, GraphBox* b) {
    cuda::graph_destroy(b->g);
    delete b;
  });
  ext.TypeTag(&kGraphTag);
  return ext;
#else
  throw Napi::Error::New(info.Env(), what + ": CUDA graphs need the cuda backend; this addon was built without CUDA");
#endif
}

Napi::Value GraphLaunch(const Napi::CallbackInfo& info) {
  GraphBox* b = unwrap_graph(info, "graphLaunch");
  const std::string what = name_arg(info, 1, "graphLaunch");
#ifdef SANA_LAB_WITH_CUDA
  Status s = cuda::graph_launch(what.c_str(), b->g);
  if (!s.ok()) throw status_error(info.Env(), s);
#else
  (void)b;
#endif
  return info.Env().Undefined();
}

Napi::Value GraphDispose(const Napi::CallbackInfo& info) {
  GraphBox* b = unwrap_graph(info, "graphDispose");
#ifdef SANA_LAB_WITH_CUDA
  cuda::graph_destroy(b->g);
  b->g = nullptr;
#else
  (void)b;
#endif
  return info.Env().Undefined();
}

// Without CUDA there is nothing to queue: the cpu backend's ops always finish before they return.
Napi::Value SetSyncEachOp(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBoolean()) throw Napi::TypeError::New(info.Env(), "setSyncEachOp: expected a boolean");
  const bool on = info[0].As<Napi::Boolean>().Value();
#ifdef SANA_LAB_WITH_CUDA
  return Napi::Boolean::New(info.Env(), cuda::set_sync_each_op(on));
#else
  (void)on;
  return Napi::Boolean::New(info.Env(), true);
#endif
}

Napi::Value ReleaseCachedMemory(const Napi::CallbackInfo& info) {
#ifdef SANA_LAB_WITH_CUDA
  Status s = cuda::release_cached_memory();
  if (!s.ok()) throw status_error(info.Env(), s);
#endif
  return info.Env().Undefined();
}

Napi::Value FillBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "fillBytes";
  if (info.Length() != 2) throw Napi::TypeError::New(env, fn + ": expected (tensor, byteValue)");
  TensorHandle* h = unwrap_tensor(info[0], fn, "tensor");
  const double b = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : NAN;
  if (!(b >= 0 && b <= 255) || b != std::floor(b)) throw Napi::RangeError::New(env, fn + ": byteValue must be an integer in [0, 255]");
  const Storage& st = *h->storage;
  if (st.backend->device == Device::kCpu) {
    if (st.bytes > 0) std::memset(st.data, static_cast<int>(b), static_cast<size_t>(st.bytes));
    return env.Undefined();
  }
#ifdef SANA_LAB_WITH_CUDA
  Status s = cuda::fill_bytes(st.data, static_cast<int>(b), st.bytes);
  if (!s.ok()) throw status_error(env, s);
#endif
  return env.Undefined();
}

// splitmix64, as the cuda fill uses: value i of seed s is a pure function of (s, i).
uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void host_fill_random(void* dst, DType dt, int64_t n, uint64_t seed, float lo, float hi) {
  constexpr int64_t kChunk = 4096;
  std::vector<float> buf(static_cast<size_t>(std::min(n, kChunk)));
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t m = std::min(kChunk, n - i0);
    for (int64_t j = 0; j < m; ++j) {
      const uint64_t r = splitmix64(seed * 0x2545f4914f6cdd1dULL + static_cast<uint64_t>(i0 + j));
      buf[static_cast<size_t>(j)] = lo + (hi - lo) * (static_cast<float>(r >> 40) * (1.0f / 16777216.0f));
    }
    if (dt == DType::kF32) std::memcpy(static_cast<float*>(dst) + i0, buf.data(), static_cast<size_t>(m) * sizeof(float));
    else cpu::f32_to_bf16(buf.data(), static_cast<uint16_t*>(dst) + i0, m);
  }
}

Napi::Value FillRandom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "fillRandom";
  if (info.Length() != 4) throw Napi::TypeError::New(env, fn + ": expected (tensor, seed, lo, hi)");
  TensorHandle* h = unwrap_tensor(info[0], fn, "tensor");
  auto num = [&](size_t i) { return info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : NAN; };
  const double seed = num(1), lo = num(2), hi = num(3);
  if (!(seed >= 0 && seed <= 9007199254740991.0) || seed != std::floor(seed)) throw Napi::RangeError::New(env, fn + ": seed must be a non-negative integer");
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi) || std::fabs(lo) > 1e30 || std::fabs(hi) > 1e30) {
    throw Napi::RangeError::New(env, fn + ": want finite lo < hi");
  }
  const Storage& st = *h->storage;
  const int64_t n = h->view().numel();
  if (st.backend->device == Device::kCpu) {
    host_fill_random(st.data, h->dtype, n, static_cast<uint64_t>(seed), static_cast<float>(lo), static_cast<float>(hi));
    return env.Undefined();
  }
#ifdef SANA_LAB_WITH_CUDA
  Status s = cuda::fill_random(st.data, h->dtype, n, static_cast<uint64_t>(seed), static_cast<float>(lo), static_cast<float>(hi));
  if (!s.ok()) throw status_error(env, s);
#endif
  return env.Undefined();
}

}  // namespace

void RegisterRuntime(Napi::Env env, Napi::Object exports) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("opVersions", Napi::Function::New(env, OpVersions, "opVersions"));
  r.Set("timeOp", Napi::Function::New(env, TimeOp, "timeOp"));
  r.Set("measureCeilings", Napi::Function::New(env, MeasureCeilings, "measureCeilings"));
  r.Set("synchronize", Napi::Function::New(env, Synchronize, "synchronize"));
  r.Set("setSyncEachOp", Napi::Function::New(env, SetSyncEachOp, "setSyncEachOp"));
  r.Set("releaseCachedMemory", Napi::Function::New(env, ReleaseCachedMemory, "releaseCachedMemory"));
  r.Set("cudaDefaultOverrides", Napi::Function::New(env, CudaDefaultOverrides, "cudaDefaultOverrides"));
  r.Set("gemmWgmmaModes", Napi::Function::New(env, GemmWgmmaModes, "gemmWgmmaModes"));
  r.Set("pdlMode", Napi::Function::New(env, PdlMode, "pdlMode"));
  r.Set("timelineMark", Napi::Function::New(env, TimelineMark, "timelineMark"));
  r.Set("timelineRead", Napi::Function::New(env, TimelineRead, "timelineRead"));
  r.Set("kernelTimelineBegin", Napi::Function::New(env, KernelTimelineBegin, "kernelTimelineBegin"));
  r.Set("kernelTimelineEnd", Napi::Function::New(env, KernelTimelineEnd, "kernelTimelineEnd"));
  r.Set("graphBegin", Napi::Function::New(env, GraphBegin, "graphBegin"));
  r.Set("graphEnd", Napi::Function::New(env, GraphEnd, "graphEnd"));
  r.Set("graphLaunch", Napi::Function::New(env, GraphLaunch, "graphLaunch"));
  r.Set("graphDispose", Napi::Function::New(env, GraphDispose, "graphDispose"));
  r.Set("fillBytes", Napi::Function::New(env, FillBytes, "fillBytes"));
  r.Set("fillRandom", Napi::Function::New(env, FillRandom, "fillRandom"));
  exports.Set("runtime", r);
}

}  // namespace sana::binding
