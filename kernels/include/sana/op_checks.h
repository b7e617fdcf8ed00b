// Each op entry's backend-independent argument checks (dtype, device, shapes, optional tensors, gate
// broadcast, residual), shared by the CPU (kernels/cpu) and CUDA (kernels/cuda) entries so both reject
// the same arguments with the same messages; an entry adds only its backend's own rules (CUDA's
// aliasing and version checks). Each returns the sizes it derived. Plain C++, no device headers.
// (cross-attention's checks: sana/cross_attention_checks.h.)
#pragma once
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "sana/arg_checks.h"
#include "sana/ops.h"

namespace sana {

// "[2, 3, 4]", as TensorView::shape_str prints a shape.
inline std::string dims_str(std::initializer_list<int64_t> d) {
  TensorView v;
  for (int64_t x : d) v.shape[v.ndim++] = x;
  return v.shape_str();
}

struct GemmSizes {
  int64_t M = 0, N = 0, K = 0, gate_rows = 1;
};
inline Status check_gemm_args(Device dev, const GemmArgs& a, GemmSizes* s) {
  const char* op = "gemm";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.w, "w"}, {&a.out, "out"}}));
  if (a.x.ndim < 1 || a.w.ndim != 2 || a.w.shape[1] != a.x.dim(-1)) {
    return InvalidArgument("gemm: w " + shp(a.w) + " does not match x " + shp(a.x) + " (want w (N, K))");
  }
  const int64_t K = a.x.dim(-1), N = a.w.shape[0], M = a.x.numel() / K;
  if (a.out.ndim != a.x.ndim || a.out.dim(-1) != N || a.out.numel() != M * N) {
    return InvalidArgument("gemm: out " + shp(a.out) + " does not match x " + shp(a.x) + " and w " + shp(a.w));
  }
  SANA_RETURN_IF_ERROR(check_opt_vector_on(dev, op, "bias", a.bias, N, dt));
  *s = {M, N, K, 1};
  SANA_RETURN_IF_ERROR(gate_rows_on(dev, op, a.gate, M, N, a.out, dt, &s->gate_rows));
  return check_opt_residual_on(dev, op, a.residual, a.out, "out", dt);
}

struct LinearAttentionSizes {
  int64_t B = 0, N = 0, M = 0, C = 0, H = 0;  // M key/value tokens, H heads
};
inline Status check_linear_attention_args(Device dev, const LinearAttentionArgs& a, LinearAttentionSizes* s) {
  const char* op = "linear-attention";
  const DType dt = a.q.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "q", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.q, "q"}, {&a.k, "k"}, {&a.v, "v"}, {&a.out, "out"}}));
  if (a.q.ndim != 3 || a.k.ndim != 3 || a.v.ndim != 3) {
    return InvalidArgument("linear-attention: want q, k, v (B, N, C), got " + shp(a.q) + ", " + shp(a.k) + ", " + shp(a.v));
  }
  const int64_t B = a.q.shape[0], N = a.q.shape[1], C = a.q.shape[2], M = a.k.shape[1];
  if (!is_shape(a.k, {B, M, C}) || !is_shape(a.v, {B, M, C}) || !is_shape(a.out, {B, N, C})) {
    return InvalidArgument("linear-attention: q " + shp(a.q) + ", k " + shp(a.k) + ", v " + shp(a.v) + ", out " + shp(a.out) + " do not agree");
  }
  if (a.head_dim < 1 || C % a.head_dim != 0) {
    return InvalidArgument("linear-attention: " + std::to_string(C) + " channels are not a multiple of head_dim " + std::to_string(a.head_dim));
  }
  *s = {B, N, M, C, C / a.head_dim};
  return Status::Ok();
}

struct LinearAttentionBlockSizes {
  int64_t B = 0, N = 0, C = 0, Cout = 0, H = 0, gate_rows = 1;
};
inline Status check_linear_attention_block_args(Device dev, const LinearAttentionBlockArgs& a, LinearAttentionBlockSizes* s) {
  const char* op = "linear-attention-block";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.wq, "wq"}, {&a.wk, "wk"}, {&a.wv, "wv"}, {&a.wo, "wo"}, {&a.out, "out"}}));
  if (a.x.ndim != 3) return InvalidArgument("linear-attention-block: want x (B, N, C), got " + shp(a.x));
  const int64_t B = a.x.shape[0], N = a.x.shape[1], C = a.x.shape[2];
  if (!is_shape(a.wq, {C, C}) || !is_shape(a.wk, {C, C}) || !is_shape(a.wv, {C, C}) || a.wo.ndim != 2 || a.wo.shape[1] != C) {
    return InvalidArgument("linear-attention-block: weights wq " + shp(a.wq) + ", wk " + shp(a.wk) + ", wv " + shp(a.wv) + ", wo " + shp(a.wo) +
                           " do not fit x " + shp(a.x));
  }
  const int64_t Cout = a.wo.shape[0];
  if (a.head_dim < 1 || C % a.head_dim != 0) {
    return InvalidArgument("linear-attention-block: " + std::to_string(C) + " channels are not a multiple of head_dim " + std::to_string(a.head_dim));
  }
  if (!is_shape(a.out, {B, N, Cout})) return InvalidArgument("linear-attention-block: out " + shp(a.out) + " is not (B, N, Cout)");
  SANA_RETURN_IF_ERROR(check_opt_vector_on(dev, op, "bo", a.bo, Cout, dt));
  *s = {B, N, C, Cout, C / a.head_dim, 1};
  SANA_RETURN_IF_ERROR(gate_rows_on(dev, op, a.gate, B * N, Cout, a.out, dt, &s->gate_rows));
  return check_opt_residual_on(dev, op, a.residual, a.out, "out", dt);
}

struct MixFfnSizes {
  int64_t B = 0, N = 0, C = 0, h = 0, Cout = 0, gate_rows = 1;  // h: GLU width (w_inv has 2h rows)
};
inline Status check_mix_ffn_args(Device dev, const MixFfnArgs& a, MixFfnSizes* s) {
  const char* op = "mix-ffn";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.w_inv, "wInv"}, {&a.b_inv, "bInv"}, {&a.w_dw, "wDw"}, {&a.b_dw, "bDw"},
                                                     {&a.w_point, "wPoint"}, {&a.out, "out"}}));
  if (a.x.ndim != 3) return InvalidArgument("mix-ffn: want x (B, H·W, C), got " + shp(a.x));
  const int64_t B = a.x.shape[0], N = a.x.shape[1], C = a.x.shape[2];
  if (a.height < 1 || a.width < 1 || a.height * a.width != N) {
    return InvalidArgument("mix-ffn: grid " + std::to_string(a.height) + "×" + std::to_string(a.width) + " does not match " + std::to_string(N) +
                           " tokens of x " + shp(a.x));
  }
  // 1×1 conv weights as (out, in) or (out, in, 1, 1)
  auto is_matrix = [](const TensorView& t) { return t.ndim == 2 || (t.ndim == 4 && t.shape[2] == 1 && t.shape[3] == 1); };
  if (!is_matrix(a.w_inv) || a.w_inv.shape[1] != C || a.w_inv.shape[0] % 2 != 0) {
    return InvalidArgument("mix-ffn: wInv " + shp(a.w_inv) + " is not (2h, " + std::to_string(C) + ")");
  }
  const int64_t two = a.w_inv.shape[0], h = two / 2;
  if (!is_vector(a.b_inv, two) || !is_vector(a.b_dw, two) || !(is_shape(a.w_dw, {two, 1, 3, 3}) || is_shape(a.w_dw, {two, 3, 3})) ||
      !is_matrix(a.w_point) || a.w_point.shape[1] != h) {
    return InvalidArgument("mix-ffn: inconsistent weights wInv " + shp(a.w_inv) + ", bInv " + shp(a.b_inv) + ", wDw " + shp(a.w_dw) + ", bDw " +
                           shp(a.b_dw) + ", wPoint " + shp(a.w_point));
  }
  const int64_t Cout = a.w_point.shape[0];
  if (!is_shape(a.out, {B, N, Cout})) return InvalidArgument("mix-ffn: out " + shp(a.out) + " is not (B, N, Cout) = " + dims_str({B, N, Cout}));
  *s = {B, N, C, h, Cout, 1};
  SANA_RETURN_IF_ERROR(gate_rows_on(dev, op, a.gate, B * N, Cout, a.out, dt, &s->gate_rows));
  return check_opt_residual_on(dev, op, a.residual, a.out, "out", dt);
}

struct RmsNormSizes {
  int64_t rows = 0, C = 0;
};
inline Status check_rmsnorm_args(Device dev, const RmsNormArgs& a, RmsNormSizes* s) {
  const char* op = "rmsnorm";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.out, "out"}}));
  if (a.x.ndim < 1 || !same_shape(a.x, a.out)) return InvalidArgument("rmsnorm: out " + shp(a.out) + " differs from x " + shp(a.x));
  const int64_t C = a.x.dim(-1);
  SANA_RETURN_IF_ERROR(check_opt_vector_on(dev, op, "weight", a.weight, C, dt));
  SANA_RETURN_IF_ERROR(check_opt_vector_on(dev, op, "bias", a.bias, C, dt));
  *s = {a.x.numel() / C, C};
  return check_opt_residual_on(dev, op, a.residual, a.x, "x", dt);
}

struct LayerNormModulateSizes {
  int64_t B = 0, N = 0, C = 0, rows_per_mod = 0;  // row r uses shift/scale row r / rows_per_mod
};
inline Status check_layernorm_modulate_args(Device dev, const LayerNormModulateArgs& a, LayerNormModulateSizes* s) {
  const char* op = "layernorm-modulate";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.shift, "shift"}, {&a.scale, "scale"}, {&a.out, "out"}}));
  if (a.x.ndim != 3 || !same_shape(a.x, a.out)) {
    return InvalidArgument("layernorm-modulate: want x and out (B, N, C), got " + shp(a.x) + ", " + shp(a.out));
  }
  const int64_t B = a.x.shape[0], N = a.x.shape[1], C = a.x.shape[2];
  if (!same_shape(a.shift, a.scale) || a.shift.dim(-1) != C) {
    return InvalidArgument("layernorm-modulate: shift " + shp(a.shift) + " and scale " + shp(a.scale) + " must both be (B, C) for x " + shp(a.x));
  }
  const int64_t G = a.shift.numel() / C;
  if (G != 1 && G != B) {
    return InvalidArgument("layernorm-modulate: shift " + shp(a.shift) + " has " + std::to_string(G) + " rows, want 1 or B = " + std::to_string(B));
  }
  *s = {B, N, C, B * N / G};
  return Status::Ok();
}

// upsample 2: the input read nearest-upsampled by 2 (the CUDA backend's DC-AE InterpolateConv).
struct Conv3x3Sizes {
  int64_t B = 0, H = 0, W = 0, Cin = 0, Cout = 0, Ho = 0, Wo = 0;
};
inline Status check_conv3x3_args(Device dev, const Conv3x3Args& a, Conv3x3Sizes* s, int upsample = 1) {
  const char* op = "conv3x3";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.w, "w"}, {&a.out, "out"}}));
  if (a.x.ndim != 4) return InvalidArgument("conv3x3: want x (B, H, W, Cin) (NHWC), got " + shp(a.x));
  const int64_t B = a.x.shape[0], H = a.x.shape[1], W = a.x.shape[2], Cin = a.x.shape[3];
  if (a.w.ndim != 4 || a.w.shape[1] != Cin || a.w.shape[2] != 3 || a.w.shape[3] != 3) {
    return InvalidArgument("conv3x3: w " + shp(a.w) + " is not (Cout, " + std::to_string(Cin) + ", 3, 3) for x " + shp(a.x));
  }
  if (a.stride != 1 && a.stride != 2) return InvalidArgument("conv3x3: stride must be 1 or 2, got " + std::to_string(a.stride));
  if (upsample != 1 && upsample != 2) return InvalidArgument("conv3x3: upsample must be 1 or 2, got " + std::to_string(upsample));
  const int64_t Cout = a.w.shape[0], Ho = (H * upsample - 1) / a.stride + 1, Wo = (W * upsample - 1) / a.stride + 1;
  if (!is_shape(a.out, {B, Ho, Wo, Cout})) {
    return InvalidArgument("conv3x3: out " + shp(a.out) + " is not (B, Ho, Wo, Cout) = " + dims_str({B, Ho, Wo, Cout}));
  }
  SANA_RETURN_IF_ERROR(check_opt_vector_on(dev, op, "bias", a.bias, Cout, dt));
  SANA_RETURN_IF_ERROR(check_opt_residual_on(dev, op, a.residual, a.out, "out", dt));
  if (a.out.data == a.x.data) return InvalidArgument("conv3x3: out must not be x (the patches are read while out is written)");
  *s = {B, H, W, Cin, Cout, Ho, Wo};
  return Status::Ok();
}

struct DcaeResBlockSizes {
  int64_t B = 0, H = 0, W = 0, C = 0;
};
inline Status check_dcae_resblock_args(Device dev, const DcaeResBlockArgs& a, DcaeResBlockSizes* s) {
  const char* op = "dcae-resblock";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.w1, "w1"}, {&a.b1, "b1"}, {&a.w2, "w2"}, {&a.norm_w, "normWeight"},
                                                     {&a.norm_b, "normBias"}, {&a.out, "out"}}));
  if (a.x.ndim != 4) return InvalidArgument("dcae-resblock: want x (B, H, W, C) (NHWC), got " + shp(a.x));
  const int64_t C = a.x.shape[3];
  if (!is_shape(a.w1, {C, C, 3, 3}) || !is_shape(a.w2, {C, C, 3, 3})) {
    return InvalidArgument("dcae-resblock: w1 " + shp(a.w1) + " and w2 " + shp(a.w2) + " must be (" + std::to_string(C) + ", " + std::to_string(C) +
                           ", 3, 3) for x " + shp(a.x));
  }
  for (auto [t, name] : {std::pair{&a.b1, "b1"}, {&a.norm_w, "normWeight"}, {&a.norm_b, "normBias"}}) {
    SANA_RETURN_IF_ERROR(check_opt_vector_on(dev, op, name, t, C, dt));
  }
  if (!same_shape(a.out, a.x)) return InvalidArgument("dcae-resblock: out " + shp(a.out) + " differs from x " + shp(a.x));
  *s = {a.x.shape[0], a.x.shape[1], a.x.shape[2], C};
  return Status::Ok();
}

struct LiteMlaSizes {
  int64_t B = 0, H = 0, W = 0, C = 0, I = 0, d = 0;  // I = heads · d
  int ks = 0;                                          // the depthwise aggregation kernel size
};
inline Status check_lite_mla_args(Device dev, const LiteMlaArgs& a, LiteMlaSizes* s) {
  const char* op = "lite-mla";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.wq, "wq"}, {&a.wk, "wk"}, {&a.wv, "wv"}, {&a.w_dw, "wDw"}, {&a.w_group, "wGroup"},
                                                     {&a.w_out, "wOut"}, {&a.norm_w, "normWeight"}, {&a.norm_b, "normBias"}, {&a.out, "out"}}));
  if (a.x.ndim != 4 || !same_shape(a.x, a.out)) return InvalidArgument("lite-mla: want x and out (B, H, W, C) NHWC, got " + shp(a.x) + ", " + shp(a.out));
  const int64_t C = a.x.shape[3], d = a.head_dim;
  if (d < 1 || a.wq.ndim != 2 || a.wq.shape[1] != C || a.wq.shape[0] % d != 0) {
    return InvalidArgument("lite-mla: wq " + shp(a.wq) + " is not (I, " + std::to_string(C) + ") with I a multiple of head_dim " + std::to_string(d));
  }
  const int64_t I = a.wq.shape[0], I3 = 3 * I;
  const int ks = a.w_dw.ndim == 4 ? static_cast<int>(a.w_dw.shape[2]) : 0;
  const bool group_ok = is_shape(a.w_group, {I3, d, 1, 1}) || is_shape(a.w_group, {I3, d});
  if (!is_shape(a.wk, {I, C}) || !is_shape(a.wv, {I, C}) || ks < 1 || ks % 2 == 0 || !is_shape(a.w_dw, {I3, 1, ks, ks}) || !group_ok ||
      !is_shape(a.w_out, {C, 2 * I}) || !is_vector(a.norm_w, C) || !is_vector(a.norm_b, C)) {
    return InvalidArgument("lite-mla: weights wq " + shp(a.wq) + ", wk " + shp(a.wk) + ", wv " + shp(a.wv) + ", wDw " + shp(a.w_dw) + ", wGroup " +
                           shp(a.w_group) + ", wOut " + shp(a.w_out) + ", norm " + shp(a.norm_w) + "/" + shp(a.norm_b) + " do not fit x " + shp(a.x));
  }
  *s = {a.x.shape[0], a.x.shape[1], a.x.shape[2], C, I, d, ks};
  return Status::Ok();
}

// dcae-upsample: f = 1 (none) or 2; Co = Nc (none, interpolate) or Nc / 4 (pixel-shuffle); the
// shortcut repeats each of x's C channels r = Co·f²/C times.
struct DcaeUpsampleSizes {
  int64_t B = 0, H = 0, W = 0, C = 0, Nc = 0, Co = 0, r = 1;
  int f = 1;
};
inline Status check_dcae_upsample_args(Device dev, const DcaeUpsampleArgs& a, DcaeUpsampleSizes* s) {
  const char* op = "dcae-upsample";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.w, "w"}, {&a.out, "out"}}));
  if (a.x.ndim != 4) return InvalidArgument("dcae-upsample: want x (B, H, W, C) NHWC, got " + shp(a.x));
  DcaeUpsampleSizes d;
  d.B = a.x.shape[0];
  d.H = a.x.shape[1];
  d.W = a.x.shape[2];
  d.C = a.x.shape[3];
  if (a.w.ndim != 4 || a.w.shape[1] != d.C || a.w.shape[2] != 3 || a.w.shape[3] != 3) {
    return InvalidArgument("dcae-upsample: w " + shp(a.w) + " is not (Nc, " + std::to_string(d.C) + ", 3, 3) for x " + shp(a.x));
  }
  d.Nc = a.w.shape[0];
  switch (a.mode) {
    case DcaeUpsampleMode::kNone: d.f = 1; d.Co = d.Nc; break;
    case DcaeUpsampleMode::kInterpolate: d.f = 2; d.Co = d.Nc; break;
    case DcaeUpsampleMode::kPixelShuffle:
      if (d.Nc % 4 != 0) return InvalidArgument("dcae-upsample: pixel-shuffle needs 4·Co conv channels, w is " + shp(a.w));
      d.f = 2;
      d.Co = d.Nc / 4;
      break;
    default: return InvalidArgument("dcae-upsample: unknown mode " + std::to_string(static_cast<int>(a.mode)));
  }
  if (!is_shape(a.out, {d.B, d.f * d.H, d.f * d.W, d.Co})) {
    return InvalidArgument("dcae-upsample: out " + shp(a.out) + " is not (B, " + std::to_string(d.f) + "H, " + std::to_string(d.f) + "W, " +
                           std::to_string(d.Co) + ") for x " + shp(a.x));
  }
  if (a.shortcut && (d.Co * d.f * d.f) % d.C != 0) {
    return InvalidArgument("dcae-upsample: the shortcut cannot repeat " + std::to_string(d.C) + " channels into " + std::to_string(d.Co) + "·" +
                           std::to_string(d.f * d.f));
  }
  SANA_RETURN_IF_ERROR(check_opt_vector_on(dev, op, "bias", a.bias, d.Nc, dt));
  if (a.out.data == a.x.data) return InvalidArgument("dcae-upsample: out must not be x");
  d.r = a.shortcut ? d.Co * d.f * d.f / d.C : 1;
  *s = d;
  return Status::Ok();
}

struct DcaeHeadSizes {
  int64_t B = 0, H = 0, W = 0, C = 0, Cout = 0;
};
inline Status check_dcae_head_args(Device dev, const DcaeHeadArgs& a, DcaeHeadSizes* s) {
  const char* op = "dcae-head";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.norm_w, "normWeight"}, {&a.norm_b, "normBias"}, {&a.w, "w"}, {&a.out, "out"}}));
  if (a.x.ndim != 4) return InvalidArgument("dcae-head: want x (B, H, W, C) NHWC, got " + shp(a.x));
  const int64_t B = a.x.shape[0], H = a.x.shape[1], W = a.x.shape[2], C = a.x.shape[3];
  if (a.w.ndim != 4 || a.w.shape[1] != C || a.w.shape[2] != 3 || a.w.shape[3] != 3) {
    return InvalidArgument("dcae-head: w " + shp(a.w) + " is not (Cout, " + std::to_string(C) + ", 3, 3) for x " + shp(a.x));
  }
  const int64_t Cout = a.w.shape[0];
  if (!is_vector(a.norm_w, C) || !is_vector(a.norm_b, C)) {
    return InvalidArgument("dcae-head: norm weight " + shp(a.norm_w) + " / bias " + shp(a.norm_b) + " are not vectors of " + std::to_string(C));
  }
  if (!is_shape(a.out, {B, Cout, H, W})) return InvalidArgument("dcae-head: out " + shp(a.out) + " is not (B, Cout, H, W) NCHW for x " + shp(a.x));
  SANA_RETURN_IF_ERROR(check_opt_vector_on(dev, op, "bias", a.bias, Cout, dt));
  if (!(a.eps > 0.0f) || !std::isfinite(a.eps)) return InvalidArgument("dcae-head: eps must be a finite number > 0");
  if (a.out.data == a.x.data) return InvalidArgument("dcae-head: out must not be x");
  *s = {B, H, W, C, Cout};
  return Status::Ok();
}

// The block's own tensors; lite-mla, mix-ffn and rmsnorm check their weights when called.
struct DcaeEvitBlockSizes {
  int64_t B = 0, H = 0, W = 0, C = 0;
};
inline Status check_dcae_evit_block_args(Device dev, const DcaeEvitBlockArgs& a, DcaeEvitBlockSizes* s) {
  const char* op = "dcae-evit-block";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.out, "out"}}));
  if (a.x.ndim != 4 || !same_shape(a.x, a.out)) {
    return InvalidArgument("dcae-evit-block: want x and out (B, H, W, C) NHWC, got " + shp(a.x) + ", " + shp(a.out));
  }
  if (a.out.data == a.x.data) return InvalidArgument("dcae-evit-block: out must not be x");
  *s = {a.x.shape[0], a.x.shape[1], a.x.shape[2], a.x.shape[3]};
  return Status::Ok();
}

// The block's own tensors; its inner ops check their weights when called.
struct DitBlockSizes {
  int64_t B = 0, N = 0, C = 0;
};
inline Status check_dit_block_args(Device dev, const DitBlockArgs& a, DitBlockSizes* s) {
  const char* op = "dit-block";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, dt, {{&a.x, "x"}, {&a.t0, "t0"}, {&a.table, "table"}, {&a.out, "out"}}));
  if (a.x.ndim != 3 || !same_shape(a.x, a.out)) return InvalidArgument("dit-block: want x and out (B, N, C), got " + shp(a.x) + ", " + shp(a.out));
  const int64_t B = a.x.shape[0], C = a.x.shape[2];
  if (!is_shape(a.table, {6, C}) || !is_shape(a.t0, {B, 6 * C})) {
    return InvalidArgument("dit-block: table " + shp(a.table) + " and t0 " + shp(a.t0) + " must be (6, C) and (B, 6C) for x " + shp(a.x));
  }
  if (a.out.data == a.x.data) return InvalidArgument("dit-block: out must not be x");
  // The cross-attention's text side: y with attn2 wk, wv (bk, bv), or precomputed k, v — exactly one
  // form (cross-attention checks the shapes of either).
  if (a.a2_k != nullptr || a.a2_v != nullptr) {
    if (a.a2_k == nullptr || a.a2_v == nullptr) return InvalidArgument("dit-block: precomputed text keys/values need both attn2K and attn2V");
    if (a.y.data != nullptr || a.a2_wk.data != nullptr || a.a2_wv.data != nullptr || a.a2_bk != nullptr || a.a2_bv != nullptr) {
      return InvalidArgument("dit-block: give either y with attn2 wk, wv (bk, bv) or precomputed attn2K, attn2V — not both");
    }
  }
  *s = {B, a.x.shape[1], C};
  return Status::Ok();
}

struct SamplerUpdateSizes {
  int64_t n = 0, halves = 1, copies = 0;
};
// sampler-update: v and tokens in one float dtype (the model's), x, m_state and coeffs f32; v holds
// `halves` (1 or 2) blocks of numel(x) values, tokens any whole number of copies.
inline Status check_sampler_update_args(Device dev, const SamplerUpdateArgs& a, SamplerUpdateSizes* s) {
  const char* op = "sampler-update";
  const DType dt = a.v.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "v", dt));
  SANA_RETURN_IF_ERROR(check_float_on(dev, op, "v", a.v, dt));
  SANA_RETURN_IF_ERROR(check_floats_on(dev, op, DType::kF32, {{&a.coeffs, "coeffs"}, {&a.x, "x"}}));
  if (a.coeffs.numel() != kSamplerCoeffs) {
    return InvalidArgument("sampler-update: coeffs " + shp(a.coeffs) + " must hold " + std::to_string(kSamplerCoeffs) + " values");
  }
  if (a.halves != 1 && a.halves != 2) return InvalidArgument("sampler-update: halves must be 1 or 2, got " + std::to_string(a.halves));
  const int64_t n = a.x.numel();
  if (a.v.numel() != a.halves * n) {
    return InvalidArgument("sampler-update: v " + shp(a.v) + " does not hold " + std::to_string(a.halves) + " × the " + std::to_string(n) + " values of x " + shp(a.x));
  }
  if (a.m_state) {
    SANA_RETURN_IF_ERROR(check_float_on(dev, op, "m_state", *a.m_state, DType::kF32));
    if (a.m_state->numel() != n) return InvalidArgument("sampler-update: m_state " + shp(*a.m_state) + " differs from x " + shp(a.x) + " in size");
  }
  int64_t copies = 0;
  if (a.tokens) {
    SANA_RETURN_IF_ERROR(check_float_on(dev, op, "tokens", *a.tokens, dt));
    copies = a.tokens->numel() / n;
    if (copies < 1 || copies * n != a.tokens->numel()) {
      return InvalidArgument("sampler-update: tokens " + shp(*a.tokens) + " is not a whole number of copies of x " + shp(a.x));
    }
  }
  // x, m_state and tokens are written while v and coeffs are read: no two of them may be one tensor.
  const std::pair<const void*, const char*> ptrs[] = {{a.v.data, "v"}, {a.coeffs.data, "coeffs"}, {a.x.data, "x"},
                                                      {a.m_state ? a.m_state->data : nullptr, "m_state"}, {a.tokens ? a.tokens->data : nullptr, "tokens"}};
  for (size_t i = 0; i < 5; ++i) {
    for (size_t j = i + 1; j < 5; ++j) {
      if (ptrs[i].first != nullptr && ptrs[i].first == ptrs[j].first) {
        return InvalidArgument(std::string("sampler-update: ") + ptrs[j].second + " is the same tensor as " + ptrs[i].second);
      }
    }
  }
  *s = {n, a.halves, copies};
  return Status::Ok();
}

// The kind in coeffs[0] (read where the coefficients live: the host for the CPU backend).
inline Status check_sampler_kind(float kind, bool has_m_state) {
  if (!(kind == 0.0f || kind == 1.0f || kind == 2.0f)) {
    return InvalidArgument("sampler-update: coeffs[0] (kind) must be 0 (dpm 1st order), 1 (dpm 2nd order) or 2 (euler), got " + std::to_string(kind));
  }
  if (kind != 2.0f && !has_m_state) return InvalidArgument("sampler-update: the dpm kinds need m_state (the previous data prediction)");
  return Status::Ok();
}

}  // namespace sana
