// The `cross-attention` entry's argument checks, shared by the CPU and CUDA backends so both accept the
// same two forms with the same messages:
//   text form:        y (B, L, Cy), wk, wv (C, Cy), optional bk, bv (C)
//   precomputed form: k, v (B, L, C) — the text keys/values, projected once per prompt by a runner
// Exactly one form; the rest (x, wq, wo, biases, mask, residual, out) is common. Plain C++.
#pragma once
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>

#include "sana/arg_checks.h"
#include "sana/ops.h"

namespace sana {

struct CrossAttentionDims {
  int64_t B = 0, N = 0, C = 0, L = 0, Cy = 0, Cout = 0, H = 0, d = 0;
  bool precomputed_kv = false;
};

inline Status check_cross_attention(Device device, const CrossAttentionArgs& a, CrossAttentionDims* dims) {
  const char* op = "cross-attention";
  const DType dt = a.x.dtype;
  if (dt != DType::kF32 && dt != DType::kBF16) return InvalidArgument("cross-attention: x must be f32 or bf16");
  const bool kv = a.k != nullptr || a.v != nullptr;
  if (kv) {
    if (a.k == nullptr || a.v == nullptr) return InvalidArgument("cross-attention: precomputed keys/values need both k and v");
    if (a.y.data != nullptr || a.wk.data != nullptr || a.wv.data != nullptr || a.bk != nullptr || a.bv != nullptr) {
      return InvalidArgument("cross-attention: give either y with wk, wv (bk, bv) or precomputed k, v — not both");
    }
  }
  for (auto [t, name] : {std::pair{&a.x, "x"}, {&a.wq, "wq"}, {&a.wo, "wo"}, {&a.out, "out"}}) {
    SANA_RETURN_IF_ERROR(check_float_on(device, op, name, *t, dt));
  }
  CrossAttentionDims m;
  m.precomputed_kv = kv;
  if (kv) {
    SANA_RETURN_IF_ERROR(check_float_on(device, op, "k", *a.k, dt));
    SANA_RETURN_IF_ERROR(check_float_on(device, op, "v", *a.v, dt));
    if (a.x.ndim != 3 || a.k->ndim != 3 || !same_shape(*a.k, *a.v) || a.k->shape[0] != a.x.shape[0] || a.k->shape[2] != a.x.shape[2]) {
      return InvalidArgument("cross-attention: want x (B, N, C) and precomputed k, v (B, L, C), got x " + shp(a.x) + ", k " + shp(*a.k) + ", v " + shp(*a.v));
    }
  } else {
    for (auto [t, name] : {std::pair{&a.y, "y"}, {&a.wk, "wk"}, {&a.wv, "wv"}}) {
      SANA_RETURN_IF_ERROR(check_float_on(device, op, name, *t, dt));
    }
    if (a.x.ndim != 3 || a.y.ndim != 3 || a.y.shape[0] != a.x.shape[0]) {
      return InvalidArgument("cross-attention: want x (B, N, C) and y (B, L, Cy), got " + shp(a.x) + " and " + shp(a.y));
    }
  }
  m.B = a.x.shape[0];
  m.N = a.x.shape[1];
  m.C = a.x.shape[2];
  m.L = kv ? a.k->shape[1] : a.y.shape[1];
  m.Cy = kv ? m.C : a.y.shape[2];
  const int64_t C = m.C;
  if (kv) {
    if (!is_shape(a.wq, {C, C}) || a.wo.ndim != 2 || a.wo.shape[1] != C) {
      return InvalidArgument("cross-attention: weights wq " + shp(a.wq) + ", wo " + shp(a.wo) + " do not fit x " + shp(a.x));
    }
  } else if (!is_shape(a.wq, {C, C}) || !is_shape(a.wk, {C, m.Cy}) || !is_shape(a.wv, {C, m.Cy}) || a.wo.ndim != 2 || a.wo.shape[1] != C) {
    return InvalidArgument("cross-attention: weights wq " + shp(a.wq) + ", wk " + shp(a.wk) + ", wv " + shp(a.wv) + ", wo " + shp(a.wo) +
                           " do not fit x " + shp(a.x) + " and y " + shp(a.y));
  }
  m.Cout = a.wo.shape[0];
  for (auto [t, n, name] : {std::tuple{a.bq, C, "bq"}, {a.bk, C, "bk"}, {a.bv, C, "bv"}, {a.bo, m.Cout, "bo"}}) {
    if (!t) continue;
    SANA_RETURN_IF_ERROR(check_float_on(device, op, name, *t, dt));
    if (!is_vector(*t, n)) return InvalidArgument(std::string("cross-attention: ") + name + " " + shp(*t) + " is not a vector of " + std::to_string(n));
  }
  if (a.heads < 1 || C % a.heads != 0) {
    return InvalidArgument("cross-attention: " + std::to_string(C) + " channels cannot be split into " + std::to_string(a.heads) + " heads");
  }
  m.H = a.heads;
  m.d = C / a.heads;
  if (!is_shape(a.out, {m.B, m.N, m.Cout})) return InvalidArgument("cross-attention: out " + shp(a.out) + " is not (B, N, Cout)");
  if (a.mask_bias) {
    SANA_RETURN_IF_ERROR(check_float_on(device, op, "maskBias", *a.mask_bias, dt));
    if (!is_shape(*a.mask_bias, {m.B, m.L}) && !is_shape(*a.mask_bias, {m.B, 1, m.L})) {
      return InvalidArgument("cross-attention: maskBias " + shp(*a.mask_bias) + " is not (B, L) or (B, 1, L) for " + (kv ? "k " + shp(*a.k) : "y " + shp(a.y)));
    }
  }
  if (a.residual) {
    SANA_RETURN_IF_ERROR(check_float_on(device, op, "residual", *a.residual, dt));
    if (!same_shape(*a.residual, a.out)) return InvalidArgument("cross-attention: residual " + shp(*a.residual) + " differs from out " + shp(a.out));
  }
  *dims = m;
  return Status::Ok();
}

}  // namespace sana
