// The op interface every backend implements (cpu now, cuda later). One argument struct per op,
// device-independent: tensors are TensorViews (contiguous, row-major, int64 shapes) and optional
// tensors are null pointers. A backend is an OpTable of entry points; an entry left null means "not
// implemented on this backend" and the binding reports kUnavailable. Shapes are validated twice: by
// the TypeScript layer (clear JS errors) and again by each kernel entry (a kInvalidArgument Status),
// so a kernel never touches memory on a shape it did not check.
#pragma once
#include <cstdint>

#include "sana/status.h"
#include "sana/tensor_view.h"

namespace sana {

// Pointwise activation applied in an epilogue.
enum class Activation : int32_t { kNone = 0, kRelu = 1, kSilu = 2, kGeluTanh = 3 };

// gemm: out = residual + gate ⊙ act(x · wᵀ + bias)
//   x (…, K), w (N, K) (torch Linear layout), bias (N), out (…, N) with M = numel(x) / K rows.
//   gate (G, N) or any shape with G·N elements and last dim N, G dividing M: row m uses gate row
//   m / (M / G) (so a (B, 1, N) gate broadcasts over the tokens of each batch item).
//   residual has out's shape and may be the same tensor as out (in-place residual add).
struct GemmArgs {
  TensorView x, w;
  const TensorView* bias = nullptr;
  Activation act = Activation::kNone;
  const TensorView* gate = nullptr;
  const TensorView* residual = nullptr;
  TensorView out;
};

// linear-attention: the ReLU linear-attention core. q (B, N, C), k and v (B, M, C), out (B, N, C);
// heads of head_dim channels (C = heads · head_dim). out_n = Σ_m v_m (φk_m·φq_n) / (Σ_m φk_m·φq_n + eps).
struct LinearAttentionArgs {
  TensorView q, k, v;
  int64_t head_dim = 32;
  float eps = 1e-15f;
  TensorView out;
};

// linear-attention-block: q,k,v = x·w{q,k,v}ᵀ (+ optional biases), core, out = residual + gate ⊙ (o·woᵀ + bo).
struct LinearAttentionBlockArgs {
  TensorView x, wq, wk, wv, wo;
  const TensorView* bo = nullptr;
  int64_t head_dim = 32;
  float eps = 1e-15f;
  const TensorView* gate = nullptr;
  const TensorView* residual = nullptr;
  TensorView out;
};

// mix-ffn (GLUMBConv on token-major (B, H·W, C) = NHWC):
//   u = SiLU(x·w_invᵀ + b_inv) (2h channels); u' = dw3×3(u) + b_dw; z = u'[:h] ⊙ SiLU(u'[h:]);
//   out = residual + gate ⊙ (z · w_pointᵀ).   w_dw is (2h, 1, 3, 3) or (2h, 3, 3).
struct MixFfnArgs {
  TensorView x, w_inv, b_inv, w_dw, b_dw, w_point;
  int64_t height = 0, width = 0;
  const TensorView* gate = nullptr;
  const TensorView* residual = nullptr;
  TensorView out;
};

// cross-attention: q = x·wqᵀ+bq, k = y·wkᵀ+bk, v = y·wvᵀ+bv; per head softmax(q·kᵀ/√d + mask_bias)·v;
// out = residual + (o·woᵀ + bo). x (B, N, C), y (B, L, Cy), mask_bias (B, L) or (B, 1, L) additive.
// Precomputed text keys/values: k and v (B, L, C) given → y, wk, wv, bk, bv must be absent (empty
// views / null): the text side is constant over the sampling steps, so a runner projects it once per
// prompt. Exactly one of the two forms (kernels/include/sana/cross_attention_checks.h).
struct CrossAttentionArgs {
  TensorView x, y, wq, wk, wv, wo;
  const TensorView *bq = nullptr, *bk = nullptr, *bv = nullptr, *bo = nullptr;
  const TensorView* mask_bias = nullptr;
  int64_t heads = 1;
  const TensorView* residual = nullptr;
  TensorView out;
  const TensorView *k = nullptr, *v = nullptr;  // precomputed text keys / values (B, L, C)
};

// layernorm-modulate: out = LN(x)·(1 + scale) + shift, LN without affine over the last dim.
//   x (B, N, C); shift, scale (B, C) or (B, 1, C) (a (1, C)/(C) table also broadcasts).
struct LayerNormModulateArgs {
  TensorView x, shift, scale;
  float eps = 1e-6f;
  TensorView out;
};

// rmsnorm over the last dim: out = residual + x / √(mean(x²) + eps) · weight + bias (each optional).
// On NHWC tensors this is DC-AE's RMSNorm2d (`rmsnorm2d`).
struct RmsNormArgs {
  TensorView x;
  const TensorView* weight = nullptr;
  const TensorView* bias = nullptr;
  float eps = 1e-5f;
  const TensorView* residual = nullptr;
  TensorView out;
};

// conv3x3 on NHWC: x (B, H, W, Cin), w (Cout, Cin, 3, 3) torch layout, zero padding 1, stride 1 or 2;
// out (B, Ho, Wo, Cout) = residual + act(conv + bias).
struct Conv3x3Args {
  TensorView x, w;
  const TensorView* bias = nullptr;
  int32_t stride = 1;
  Activation act = Activation::kNone;
  const TensorView* residual = nullptr;
  TensorView out;
};

// dcae-resblock on NHWC: out = x + RMSNorm2d(conv3x3_2(SiLU(conv3x3_1(x) + b1)); norm_w, norm_b), eps.
struct DcaeResBlockArgs {
  TensorView x, w1, b1, w2, norm_w, norm_b;
  float eps = 1e-5f;
  TensorView out;
};

// lite-mla: DC-AE's LiteMLA with its norm and residual, on NHWC x (B, H, W, C), head dim d, I = h·d:
//   qkv = x·[Wq; Wk; Wv]ᵀ (3I); agg = grouped1×1(dw_k×k(qkv)) (3I; w_dw (3I, 1, k, k), w_group (3I, d[, 1, 1]));
//   m = [qkv | agg] = 2h heads of 3d consecutive channels (q | k | v);
//   a = ReLU attention per head (linear form if H·W > d, else the quadratic form) → 2I channels;
//   out = x + RMSNorm2d(a·w_outᵀ; norm_w, norm_b, norm_eps), w_out (C, 2I).
struct LiteMlaArgs {
  TensorView x, wq, wk, wv, w_dw, w_group, w_out, norm_w, norm_b;
  int64_t head_dim = 32;
  float eps = 1e-15f;
  float norm_eps = 1e-5f;
  TensorView out;
};

// dit-block: one SANA Linear-DiT block (diffusers SanaTransformerBlock) on tokens x (B, N, C):
//   (shift₁, scale₁, gate₁, shift₂, scale₂, gate₂) = table (6, C) + t0 (B, 6C)
//   x ← x + gate₁ ⊙ linear-attention-block(LN(x)·(1 + scale₁) + shift₁)
//   x ← x + cross-attention(x, y, mask_bias)           (or with precomputed text keys/values a2_k, a2_v)
//   x ← x + gate₂ ⊙ mix-ffn(LN(x)·(1 + scale₂) + shift₂)
struct DitBlockArgs {
  TensorView x, y, t0, table;
  const TensorView* mask_bias = nullptr;
  TensorView a1_wq, a1_wk, a1_wv, a1_wo;
  const TensorView* a1_bo = nullptr;
  TensorView a2_wq, a2_wk, a2_wv, a2_wo;
  const TensorView *a2_bq = nullptr, *a2_bk = nullptr, *a2_bv = nullptr, *a2_bo = nullptr;
  TensorView ff_w_inv, ff_b_inv, ff_w_dw, ff_b_dw, ff_w_point;
  int64_t height = 0, width = 0;
  int64_t head_dim = 32;   // linear self-attention
  int64_t cross_heads = 1;
  float norm_eps = 1e-6f;
  float attn_eps = 1e-15f;
  TensorView out;
  // Precomputed cross-attention text keys/values (B, L, C), as cross-attention's k, v: then y, a2_wk,
  // a2_wv, a2_bk, a2_bv are absent (a runner projects the text once per prompt, not once per step).
  const TensorView *a2_k = nullptr, *a2_v = nullptr;
};

// dcae-upsample (appended, issue 9): a DC-AE decoder 3×3 conv (zero padding 1) with its non-parametric
// shortcut, on NHWC x (B, H, W, C), w (Nc, C, 3, 3):
//   kNone (the decoder's conv_in, f = 1):   out (B, H, W, Co)   = conv3×3(x) + bias                       (Nc = Co)
//   kInterpolate (SANA's up blocks, f = 2): out (B, 2H, 2W, Co) = conv3×3(nearest2×(x)) + bias            (Nc = Co)
//   kPixelShuffle (f = 2):                  out (B, 2H, 2W, Co) = pixel_shuffle(conv3×3(x) + bias, 2)     (Nc = 4·Co)
//   shortcut: out += pixel_shuffle(repeat_interleave(x, Co·f²/C), f)   (diffusers DCUpBlock2d / decoder-in shortcut)
enum class DcaeUpsampleMode : int32_t { kNone = 0, kInterpolate = 1, kPixelShuffle = 2 };
struct DcaeUpsampleArgs {
  TensorView x, w;
  const TensorView* bias = nullptr;
  DcaeUpsampleMode mode = DcaeUpsampleMode::kInterpolate;
  bool shortcut = true;
  TensorView out;
};

// dcae-head (appended, issue 9): the DC-AE decoder's output head, NHWC in, NCHW out:
//   out (B, Cout, H, W) = conv3×3(act(RMSNorm2d(x; norm_w, norm_b, eps)); w) + bias,  x (B, H, W, C), w (Cout, C, 3, 3).
struct DcaeHeadArgs {
  TensorView x, norm_w, norm_b, w;
  const TensorView* bias = nullptr;
  float eps = 1e-5f;
  Activation act = Activation::kRelu;
  TensorView out;
};

// dcae-evit-block (appended, issue 9): one DC-AE EfficientViT block on NHWC x (B, H, W, C):
//   a = lite-mla(x) (= x + RMSNorm2d(LiteMLA(x)); the LiteMla weights), out = a + RMSNorm2d(GLUMBConv(a))
//   with GLUMBConv = mix-ffn's u = SiLU(x·w_invᵀ + b_inv), depthwise 3×3 + b_dw, GLU, ·w_pointᵀ (no bias).
struct DcaeEvitBlockArgs {
  TensorView x;
  TensorView wq, wk, wv, w_dw, w_group, w_out, attn_norm_w, attn_norm_b;
  TensorView ff_w_inv, ff_b_inv, ff_w_dw, ff_b_dw, ff_w_point, ff_norm_w, ff_norm_b;
  int64_t head_dim = 32;
  float eps = 1e-15f;
  float norm_eps = 1e-5f;
  TensorView out;
};

// sampler-update (appended, issue 9): one sampling step's elementwise tail, on the device, so a whole
// denoising loop keeps its latents there (the DiT's tokens in, its velocity out, nothing read back):
//   g = v                                            (halves = 1)
//   g = v_u + guidance·(v_c − v_u)                   (halves = 2: v = [uncond | cond], classifier-free guidance)
//   kind 0, Flow-DPM-Solver++ 1st order:  m = x − σ·g;  x ← cX·x − cD0·m;                    m_state ← m
//   kind 1, 2nd order (midpoint):         m = x − σ·g;  D1 = invR0·(m − m_state);
//                                         x ← (cX·x − cD0·m) − cD1·D1;                         m_state ← m
//   kind 2, Flow-Euler:                   x ← x + dt·g
//   tokens[j·n + k] = x[k] for every copy j (the next model input, rounded to its dtype)
// every operation rounded to f32 in this order (no fused multiply-add), which is what the reference
// schedulers compute (reference/schedulers/flow-update.ts), bit for bit.
// v (halves·n) and tokens (copies·n) in the model's dtype; x, m_state (n) and coeffs f32. coeffs (8) =
// [kind, guidance, σ, cX, cD0, cD1, invR0, dt], read on the device (a captured CUDA graph replays the
// op with the coefficients the host writes before each launch).
struct SamplerUpdateArgs {
  TensorView v, coeffs, x;
  const TensorView* m_state = nullptr;  // required for kinds 0 and 1
  const TensorView* tokens = nullptr;
  int64_t halves = 1;
};
inline constexpr int kSamplerCoeffs = 8;

// A backend: allocation, host copies, and the ops. Null entries are ops this backend lacks.
struct OpTable {
  const char* name;
  Device device;
  // Memory: alloc returns nullptr on failure (the caller reports out of memory).
  void* (*alloc)(int64_t bytes);
  void (*free)(void* p);
  Status (*copy_from_host)(void* dst, const void* src, int64_t bytes);
  Status (*copy_to_host)(void* dst, const void* src, int64_t bytes);
  // Ops.
  Status (*gemm)(const GemmArgs&);
  Status (*linear_attention)(const LinearAttentionArgs&);
  Status (*linear_attention_block)(const LinearAttentionBlockArgs&);
  Status (*mix_ffn)(const MixFfnArgs&);
  Status (*cross_attention)(const CrossAttentionArgs&);
  Status (*layernorm_modulate)(const LayerNormModulateArgs&);
  Status (*rmsnorm)(const RmsNormArgs&);
  Status (*conv3x3)(const Conv3x3Args&);
  Status (*dcae_resblock)(const DcaeResBlockArgs&);
  Status (*lite_mla)(const LiteMlaArgs&);
  Status (*dit_block)(const DitBlockArgs&);
  // Appended (issue 9); backends that do not set them report "not implemented".
  Status (*dcae_upsample)(const DcaeUpsampleArgs&) = nullptr;
  Status (*dcae_head)(const DcaeHeadArgs&) = nullptr;
  Status (*dcae_evit_block)(const DcaeEvitBlockArgs&) = nullptr;
  Status (*sampler_update)(const SamplerUpdateArgs&) = nullptr;
};

// The CPU backend (kernels/cpu/op_table.cpp). A CUDA backend adds `const OpTable* cuda_ops();`.
const OpTable* cpu_ops();

}  // namespace sana
