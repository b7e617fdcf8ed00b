// Argument checks shared by every backend's op entries (kernels/include/sana/cpu/common.h and
// kernels/include/sana/cuda/checks.h bind them to their device), so the CPU and CUDA backends reject
// the same arguments with the same messages. Plain C++, no device headers.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "sana/status.h"
#include "sana/tensor_view.h"

namespace sana {

inline std::string shp(const TensorView& t) { return t.shape_str(); }

inline const char* device_phrase(Device d) { return d == Device::kCuda ? "the CUDA device" : "the CPU"; }

// A float tensor of dtype `dt` on `device`, with storage and no empty dimension.
inline Status check_float_on(Device device, const char* op, const char* what, const TensorView& t, DType dt) {
  if (t.data == nullptr && t.numel() != 0) return InvalidArgument(std::string(op) + ": " + what + " has no storage");
  if (t.dtype != dt) {
    return InvalidArgument(std::string(op) + ": " + what + " is " + dtype_name(t.dtype) + ", expected " + dtype_name(dt));
  }
  if (t.device != device) return InvalidArgument(std::string(op) + ": " + what + " is not on " + device_phrase(device));
  for (int i = 0; i < t.ndim; ++i) {
    if (t.shape[i] <= 0) return InvalidArgument(std::string(op) + ": " + what + " " + shp(t) + " has an empty dimension");
  }
  return Status::Ok();
}

// "op: x must be f32 or bf16": the storage every float op takes, read from its first tensor `what`.
inline Status check_float_dtype(const char* op, const char* what, DType dt) {
  if (dt == DType::kF32 || dt == DType::kBF16) return Status::Ok();
  return InvalidArgument(std::string(op) + ": " + what + " must be f32 or bf16");
}

// check_float_on for each (tensor, name), in order.
inline Status check_floats_on(Device device, const char* op, DType dt, std::initializer_list<std::pair<const TensorView*, const char*>> ts) {
  for (auto [t, what] : ts) SANA_RETURN_IF_ERROR(check_float_on(device, op, what, *t, dt));
  return Status::Ok();
}

inline bool is_shape(const TensorView& t, std::initializer_list<int64_t> s) {
  if (t.ndim != static_cast<int>(s.size())) return false;
  int i = 0;
  for (int64_t d : s) {
    if (t.shape[i++] != d) return false;
  }
  return true;
}

// A vector of n elements: shape (n), or (1, n) / (1, 1, n).
inline bool is_vector(const TensorView& t, int64_t n) {
  if (t.ndim < 1 || t.shape[t.ndim - 1] != n) return false;
  for (int i = 0; i + 1 < t.ndim; ++i) {
    if (t.shape[i] != 1) return false;
  }
  return true;
}

inline bool same_shape(const TensorView& a, const TensorView& b) {
  if (a.ndim != b.ndim) return false;
  for (int i = 0; i < a.ndim; ++i) {
    if (a.shape[i] != b.shape[i]) return false;
  }
  return true;
}

// An optional vector of n elements (a bias, a norm weight).
inline Status check_opt_vector_on(Device device, const char* op, const char* what, const TensorView* t, int64_t n, DType dt) {
  if (!t) return Status::Ok();
  SANA_RETURN_IF_ERROR(check_float_on(device, op, what, *t, dt));
  if (is_vector(*t, n)) return Status::Ok();
  return InvalidArgument(std::string(op) + ": " + what + " " + shp(*t) + " is not a vector of " + std::to_string(n));
}

// An optional residual with the shape of `ref` (named `ref_name` in the message).
inline Status check_opt_residual_on(Device device, const char* op, const TensorView* residual, const TensorView& ref, const char* ref_name, DType dt) {
  if (!residual) return Status::Ok();
  SANA_RETURN_IF_ERROR(check_float_on(device, op, "residual", *residual, dt));
  if (same_shape(*residual, ref)) return Status::Ok();
  return InvalidArgument(std::string(op) + ": residual " + shp(*residual) + " differs from " + ref_name + " " + shp(ref));
}

// The gate broadcast rule of the gated epilogues (M rows of N outputs): gate has G·N elements, last dim
// N, G | M; row m uses gate row m / rows. rows = 1 without a gate.
inline Status gate_rows_on(Device device, const char* op, const TensorView* gate, int64_t M, int64_t N, const TensorView& out, DType dt, int64_t* rows) {
  *rows = 1;
  if (!gate) return Status::Ok();
  SANA_RETURN_IF_ERROR(check_float_on(device, op, "gate", *gate, dt));
  const int64_t G = gate->numel() / N;
  if (gate->dim(-1) != N || G < 1 || M % G != 0) {
    return InvalidArgument(std::string(op) + ": gate " + shp(*gate) + " does not broadcast over out " + shp(out));
  }
  *rows = M / G;
  return Status::Ok();
}

}  // namespace sana
