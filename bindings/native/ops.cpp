// The op bindings: each reads its argument object, fills the op's argument struct and runs the
// backend's entry point (sync, or async with a Promise when the second argument is true).
// JS: addon.gemm({ x, w, bias?, act?, gate?, residual?, version?, out }, async) etc.; see bindings/addon.ts.
// `version` picks a numbered kernel version (0 = the backend's default; bindings/native/versions.h):
// on the cuda backend through cuda::versioned_ops(), on the cpu backend 0 or 1 (linear-attention: 1 =
// the unfused composition, 2 = the fused kernel).
#include <cmath>
#include <type_traits>

#include "op_call.h"
#include "registry.h"
#include "sana/cpu/gemm.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/thread_pool.h"
#include "versions.h"

#ifdef SANA_LAB_WITH_CUDA
#include "sana/cuda/ops_cuda.h"
#endif

namespace sana::binding {
namespace {

#ifdef SANA_LAB_WITH_CUDA
// The cuda backend's versioned entry of each argument struct (nullptr: the op has no cuda versions).
inline auto cuda_entry(const GemmArgs*) { return &cuda::VersionedOps::gemm; }
inline auto cuda_entry(const LinearAttentionArgs*) { return &cuda::VersionedOps::linear_attention; }
inline auto cuda_entry(const LinearAttentionBlockArgs*) { return &cuda::VersionedOps::linear_attention_block; }
inline auto cuda_entry(const MixFfnArgs*) { return &cuda::VersionedOps::mix_ffn; }
inline auto cuda_entry(const CrossAttentionArgs*) { return &cuda::VersionedOps::cross_attention; }
inline auto cuda_entry(const LayerNormModulateArgs*) { return &cuda::VersionedOps::layernorm_modulate; }
inline auto cuda_entry(const RmsNormArgs*) { return &cuda::VersionedOps::rmsnorm; }
inline auto cuda_entry(const Conv3x3Args*) { return &cuda::VersionedOps::conv3x3; }
inline auto cuda_entry(const DcaeResBlockArgs*) { return &cuda::VersionedOps::dcae_resblock; }
inline auto cuda_entry(const DitBlockArgs*) { return &cuda::VersionedOps::dit_block; }
inline auto cuda_entry(const LiteMlaArgs*) { return &cuda::VersionedOps::lite_mla; }
inline auto cuda_entry(const DcaeUpsampleArgs*) { return &cuda::VersionedOps::dcae_upsample; }
inline auto cuda_entry(const DcaeHeadArgs*) { return &cuda::VersionedOps::dcae_head; }
inline auto cuda_entry(const DcaeEvitBlockArgs*) { return &cuda::VersionedOps::dcae_evit_block; }
inline auto cuda_entry(const SamplerUpdateArgs*) { return &cuda::VersionedOps::sampler_update; }
inline std::nullptr_t cuda_entry(const void*) { return nullptr; }
#endif

// The text side of a cross-attention (y, wk, wv): required, unless precomputed keys/values replace it
// (then it stays an empty view when absent; the op's checks reject a mix of both forms).
TensorView text_side(OpCall& c, bool precomputed_kv, const char* key) {
  if (!precomputed_kv) return c.tensor(key);
  const TensorView* t = c.optional(key);
  return t ? *t : TensorView{};
}

// Runs the op on its tensors' backend at the `version` option (checked against the backend's list).
template <typename Args>
Napi::Value dispatch(OpCall& c, Status (*const OpTable::*entry)(const Args&), const Args& args) {
  if (c.backend() != nullptr) {
    const int version = c.version();
    check_version(c.env(), c.op(), *c.backend(), version);
#ifdef SANA_LAB_WITH_CUDA
    auto member = cuda_entry(static_cast<const Args*>(nullptr));
    if constexpr (!std::is_same_v<decltype(member), std::nullptr_t>) {
      if (c.backend()->device == Device::kCuda) {
        auto fn = cuda::versioned_ops()->*member;
        return c.run([args, fn, version](const OpTable&) -> Status { return fn(args, version); });
      }
    }
#endif
  }
  return c.run([args, entry, op = c.op()](const OpTable& be) -> Status {
    auto fn = be.*entry;
    if (fn == nullptr) return Unavailable(op + ": not implemented on the " + be.name + " backend");
    return fn(args);
  });
}

float eps_of(OpCall& c, double fallback, const char* key = "eps") {
  double e = c.number(key, fallback);
  // > 0 as the f32 the kernels use: 0 divides by zero on a constant row or an all-zero key set (NaN out)
  if (!(static_cast<float>(e) > 0) || !std::isfinite(e)) {
    throw Napi::RangeError::New(c.env(), c.op() + ": " + key + " must be a finite number > 0" + (e > 0 && std::isfinite(e) ? " in float32" : ""));
  }
  return static_cast<float>(e);
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  OpCall c(info, "gemm");
  GemmArgs a;
  a.x = c.tensor("x");
  a.w = c.tensor("w");
  a.bias = c.optional("bias");
  a.act = c.activation("act");
  a.gate = c.optional("gate");
  a.residual = c.optional("residual");
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::gemm, a);
}

Napi::Value LinearAttention(const Napi::CallbackInfo& info) {
  OpCall c(info, "linear-attention");
  LinearAttentionArgs a;
  a.q = c.tensor("q");
  a.k = c.tensor("k");
  a.v = c.tensor("v");
  a.head_dim = c.integer("headDim", 32);
  a.eps = eps_of(c, 1e-15);
  a.out = c.tensor("out");
  Napi::Value variant = info[0].As<Napi::Object>().Get("variant");
  const std::string vs = variant.IsString() ? variant.As<Napi::String>().Utf8Value() : "";
  // On the cpu backend the unfused variant is version 1 and the fused kernel version 2 (catalogue numbering).
  const bool cpu = c.backend() != nullptr && c.backend()->device == Device::kCpu;
  const int version = c.backend() != nullptr ? c.version() : 0;
  if (cpu && ((vs == "unfused" && version == 2) || (vs == "fused" && version == 1))) {
    throw Napi::RangeError::New(c.env(), "linear-attention: variant '" + vs + "' contradicts version " + std::to_string(version) +
                                             " (on the cpu backend version 1 is the unfused variant, version 2 the fused kernel)");
  }
  if (vs == "unfused" || (cpu && version == 1)) {
    // CPU-only baseline variant: not an OpTable entry (other backends have their own numbered versions).
    return c.run([a](const OpTable& be) -> Status {
      if (be.device != Device::kCpu) return Unavailable("linear-attention: the unfused variant exists on the cpu backend only");
      return cpu::linear_attention_unfused(a);
    });
  }
  if (!variant.IsUndefined() && vs != "fused") {
    throw Napi::TypeError::New(c.env(), "linear-attention: variant must be 'fused' or 'unfused'");
  }
  return dispatch(c, &OpTable::linear_attention, a);
}

Napi::Value LinearAttentionBlock(const Napi::CallbackInfo& info) {
  OpCall c(info, "linear-attention-block");
  LinearAttentionBlockArgs a;
  a.x = c.tensor("x");
  a.wq = c.tensor("wq");
  a.wk = c.tensor("wk");
  a.wv = c.tensor("wv");
  a.wo = c.tensor("wo");
  a.bo = c.optional("bo");
  a.head_dim = c.integer("headDim", 32);
  a.eps = eps_of(c, 1e-15);
  a.gate = c.optional("gate");
  a.residual = c.optional("residual");
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::linear_attention_block, a);
}

Napi::Value MixFfn(const Napi::CallbackInfo& info) {
  OpCall c(info, "mix-ffn");
  MixFfnArgs a;
  a.x = c.tensor("x");
  a.w_inv = c.tensor("wInv");
  a.b_inv = c.tensor("bInv");
  a.w_dw = c.tensor("wDw");
  a.b_dw = c.tensor("bDw");
  a.w_point = c.tensor("wPoint");
  a.height = c.integer("height", 0);
  a.width = c.integer("width", 0);
  a.gate = c.optional("gate");
  a.residual = c.optional("residual");
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::mix_ffn, a);
}

Napi::Value CrossAttention(const Napi::CallbackInfo& info) {
  OpCall c(info, "cross-attention");
  CrossAttentionArgs a;
  a.x = c.tensor("x");
  // Precomputed text keys/values (k, v) replace y, wk, wv, bk, bv; the kernel rejects a mix of both forms.
  a.k = c.optional("k");
  a.v = c.optional("v");
  const bool kv = a.k != nullptr || a.v != nullptr;
  a.y = text_side(c, kv, "y");
  a.wq = c.tensor("wq");
  a.bq = c.optional("bq");
  a.wk = text_side(c, kv, "wk");
  a.bk = c.optional("bk");
  a.wv = text_side(c, kv, "wv");
  a.bv = c.optional("bv");
  a.wo = c.tensor("wo");
  a.bo = c.optional("bo");
  a.mask_bias = c.optional("maskBias");
  a.heads = c.integer("heads", 1);
  a.residual = c.optional("residual");
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::cross_attention, a);
}

Napi::Value LayerNormModulate(const Napi::CallbackInfo& info) {
  OpCall c(info, "layernorm-modulate");
  LayerNormModulateArgs a;
  a.x = c.tensor("x");
  a.shift = c.tensor("shift");
  a.scale = c.tensor("scale");
  a.eps = eps_of(c, 1e-6);
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::layernorm_modulate, a);
}

Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  OpCall c(info, "rmsnorm");
  RmsNormArgs a;
  a.x = c.tensor("x");
  a.weight = c.optional("weight");
  a.bias = c.optional("bias");
  a.eps = eps_of(c, 1e-5);
  a.residual = c.optional("residual");
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::rmsnorm, a);
}

Napi::Value Conv3x3(const Napi::CallbackInfo& info) {
  OpCall c(info, "conv3x3");
  Conv3x3Args a;
  a.x = c.tensor("x");
  a.w = c.tensor("w");
  a.bias = c.optional("bias");
  a.stride = static_cast<int32_t>(c.integer("stride", 1));
  a.act = c.activation("act");
  a.residual = c.optional("residual");
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::conv3x3, a);
}

Napi::Value DcaeResBlock(const Napi::CallbackInfo& info) {
  OpCall c(info, "dcae-resblock");
  DcaeResBlockArgs a;
  a.x = c.tensor("x");
  a.w1 = c.tensor("w1");
  a.b1 = c.tensor("b1");
  a.w2 = c.tensor("w2");
  a.norm_w = c.tensor("normWeight");
  a.norm_b = c.tensor("normBias");
  a.eps = eps_of(c, 1e-5);
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::dcae_resblock, a);
}

Napi::Value LiteMla(const Napi::CallbackInfo& info) {
  OpCall c(info, "lite-mla");
  LiteMlaArgs a;
  a.x = c.tensor("x");
  a.wq = c.tensor("wq");
  a.wk = c.tensor("wk");
  a.wv = c.tensor("wv");
  a.w_dw = c.tensor("wDw");
  a.w_group = c.tensor("wGroup");
  a.w_out = c.tensor("wOut");
  a.norm_w = c.tensor("normWeight");
  a.norm_b = c.tensor("normBias");
  a.head_dim = c.integer("headDim", 32);
  a.eps = eps_of(c, 1e-15);
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::lite_mla, a);
}

Napi::Value DitBlock(const Napi::CallbackInfo& info) {
  OpCall c(info, "dit-block");
  DitBlockArgs a;
  a.x = c.tensor("x");
  // Precomputed text keys/values (attn2K, attn2V) replace y and attn2's wk, wv, bk, bv (checked in the kernel).
  a.a2_k = c.optional("attn2K");
  a.a2_v = c.optional("attn2V");
  const bool kv = a.a2_k != nullptr || a.a2_v != nullptr;
  a.y = text_side(c, kv, "y");
  a.t0 = c.tensor("t0");
  a.table = c.tensor("table");
  a.mask_bias = c.optional("maskBias");
  a.a1_wq = c.tensor("attn1Wq");
  a.a1_wk = c.tensor("attn1Wk");
  a.a1_wv = c.tensor("attn1Wv");
  a.a1_wo = c.tensor("attn1Wo");
  a.a1_bo = c.optional("attn1Bo");
  a.a2_wq = c.tensor("attn2Wq");
  a.a2_bq = c.optional("attn2Bq");
  a.a2_wk = text_side(c, kv, "attn2Wk");
  a.a2_bk = c.optional("attn2Bk");
  a.a2_wv = text_side(c, kv, "attn2Wv");
  a.a2_bv = c.optional("attn2Bv");
  a.a2_wo = c.tensor("attn2Wo");
  a.a2_bo = c.optional("attn2Bo");
  a.ff_w_inv = c.tensor("ffWInv");
  a.ff_b_inv = c.tensor("ffBInv");
  a.ff_w_dw = c.tensor("ffWDw");
  a.ff_b_dw = c.tensor("ffBDw");
  a.ff_w_point = c.tensor("ffWPoint");
  a.height = c.integer("height", 0);
  a.width = c.integer("width", 0);
  a.head_dim = c.integer("headDim", 32);
  a.cross_heads = c.integer("crossHeads", 1);
  a.norm_eps = eps_of(c, 1e-6, "normEps");
  a.attn_eps = eps_of(c, 1e-15);
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::dit_block, a);
}

// Appended (issue 9): the DC-AE decoder's up-sampling conv with its shortcut, and its output head.
Napi::Value DcaeUpsample(const Napi::CallbackInfo& info) {
  OpCall c(info, "dcae-upsample");
  DcaeUpsampleArgs a;
  a.x = c.tensor("x");
  a.w = c.tensor("w");
  a.bias = c.optional("bias");
  Napi::Value mode = info[0].As<Napi::Object>().Get("mode");
  const std::string m = mode.IsString() ? mode.As<Napi::String>().Utf8Value() : "";
  if (m == "none") a.mode = DcaeUpsampleMode::kNone;
  else if (m == "interpolate") a.mode = DcaeUpsampleMode::kInterpolate;
  else if (m == "pixel-shuffle") a.mode = DcaeUpsampleMode::kPixelShuffle;
  else throw Napi::TypeError::New(c.env(), "dcae-upsample: mode must be 'none', 'interpolate' or 'pixel-shuffle'");
  a.shortcut = c.integer("shortcut", 1) != 0;
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::dcae_upsample, a);
}

Napi::Value DcaeHead(const Napi::CallbackInfo& info) {
  OpCall c(info, "dcae-head");
  DcaeHeadArgs a;
  a.x = c.tensor("x");
  a.norm_w = c.tensor("normWeight");
  a.norm_b = c.tensor("normBias");
  a.w = c.tensor("w");
  a.bias = c.optional("bias");
  a.eps = eps_of(c, 1e-5);
  a.act = c.activation("act");
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::dcae_head, a);
}

Napi::Value DcaeEvitBlock(const Napi::CallbackInfo& info) {
  OpCall c(info, "dcae-evit-block");
  DcaeEvitBlockArgs a;
  a.x = c.tensor("x");
  a.wq = c.tensor("wq");
  a.wk = c.tensor("wk");
  a.wv = c.tensor("wv");
  a.w_dw = c.tensor("wDw");
  a.w_group = c.tensor("wGroup");
  a.w_out = c.tensor("wOut");
  a.attn_norm_w = c.tensor("attnNormWeight");
  a.attn_norm_b = c.tensor("attnNormBias");
  a.ff_w_inv = c.tensor("ffWInv");
  a.ff_b_inv = c.tensor("ffBInv");
  a.ff_w_dw = c.tensor("ffWDw");
  a.ff_b_dw = c.tensor("ffBDw");
  a.ff_w_point = c.tensor("ffWPoint");
  a.ff_norm_w = c.tensor("ffNormWeight");
  a.ff_norm_b = c.tensor("ffNormBias");
  a.head_dim = c.integer("headDim", 32);
  a.eps = eps_of(c, 1e-15);
  a.out = c.tensor("out");
  return dispatch(c, &OpTable::dcae_evit_block, a);
}

Napi::Value SamplerUpdate(const Napi::CallbackInfo& info) {
  OpCall c(info, "sampler-update");
  SamplerUpdateArgs a;
  a.v = c.tensor("v");
  a.coeffs = c.tensor("coeffs");
  a.x = c.tensor("x");
  a.m_state = c.optional("mState");
  a.tokens = c.optional("tokens");
  a.halves = c.integer("halves", 1);
  return dispatch(c, &OpTable::sampler_update, a);
}

Napi::Value CpuThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), cpu::cpu_threads()); }

Napi::Value SetCpuThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "setCpuThreads: expected a thread count");
  double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= 1024) || n != std::floor(n)) throw Napi::RangeError::New(env, "setCpuThreads: want an integer in [1, 1024]");
  cpu::set_cpu_threads(static_cast<int>(n));
  return env.Undefined();
}

Napi::Value GemmKernel(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), cpu::gemm_kernel_name()); }

Napi::Value MeasureFmaPeak(const Napi::CallbackInfo& info) {
  double secs = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0.2;
  if (!(secs > 0 && secs <= 10)) throw Napi::RangeError::New(info.Env(), "measureFmaPeak: seconds must be in (0, 10]");
  const bool all_threads = info.Length() > 1 && info[1].ToBoolean().Value();
  return Napi::Number::New(info.Env(), cpu::measure_fma_peak_gflops(secs, all_threads));
}

// The op functions by their JS export name (also what runtime.timeOp looks up).
struct OpExport {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};
constexpr OpExport kOpExports[] = {
    {"gemm", Gemm},
    {"linearAttention", LinearAttention},
    {"linearAttentionBlock", LinearAttentionBlock},
    {"mixFfn", MixFfn},
    {"crossAttention", CrossAttention},
    {"layerNormModulate", LayerNormModulate},
    {"rmsNorm", RmsNorm},
    {"conv3x3", Conv3x3},
    {"dcaeResBlock", DcaeResBlock},
    {"liteMla", LiteMla},
    {"ditBlock", DitBlock},
    {"dcaeUpsample", DcaeUpsample},
    {"dcaeHead", DcaeHead},
    {"dcaeEvitBlock", DcaeEvitBlock},
    {"samplerUpdate", SamplerUpdate},
};

}  // namespace

OpFunction op_function(const std::string& name) {
  for (const OpExport& e : kOpExports) {
    if (name == e.name) return e.fn;
  }
  return nullptr;
}

std::string op_function_names() {
  std::string s;
  for (const OpExport& e : kOpExports) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

void RegisterOps(Napi::Env env, Napi::Object exports) {
  for (const OpExport& e : kOpExports) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  exports.Set("cpuThreads", Napi::Function::New(env, CpuThreads, "cpuThreads"));
  exports.Set("setCpuThreads", Napi::Function::New(env, SetCpuThreads, "setCpuThreads"));
  exports.Set("gemmKernel", Napi::Function::New(env, GemmKernel, "gemmKernel"));
  exports.Set("measureFmaPeak", Napi::Function::New(env, MeasureFmaPeak, "measureFmaPeak"));
}

}  // namespace sana::binding
