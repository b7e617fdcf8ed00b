// Argument checks at the CUDA op entries, the same rules and messages as the CPU entries
// (kernels/include/sana/cpu/common.h) except that tensors must live on the CUDA device.
// Plain C++ (no CUDA headers), shared by every kernels/cuda/<op>.cu.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>

#include "sana/ops.h"

namespace sana::cuda {

inline std::string shp(const TensorView& t) { return t.shape_str(); }

inline Status check_float(const char* op, const char* what, const TensorView& t, DType dt) {
  if (t.data == nullptr && t.numel() != 0) return InvalidArgument(std::string(op) + ": " + what + " has no storage");
  if (t.dtype != dt) {
    return InvalidArgument(std::string(op) + ": " + what + " is " + dtype_name(t.dtype) + ", expected " + dtype_name(dt));
  }
  if (t.device != Device::kCuda) return InvalidArgument(std::string(op) + ": " + what + " is not on the CUDA device");
  for (int i = 0; i < t.ndim; ++i) {
    if (t.shape[i] <= 0) return InvalidArgument(std::string(op) + ": " + what + " " + shp(t) + " has an empty dimension");
  }
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

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// "op: version N …" errors for a version that cannot run the given arguments.
inline Status bad_version(const char* op, int version, const std::string& why) {
  return InvalidArgument(std::string(op) + ": version " + std::to_string(version) + " " + why);
}
inline Status unknown_version(const char* op, int version, int max_version) {
  return InvalidArgument(std::string(op) + ": no version " + std::to_string(version) + " on the cuda backend (0 = default, 1.." +
                         std::to_string(max_version) + ")");
}

// The gate broadcast rule shared with the CPU entries: gate has G·N elements, last dim N, G | M.
inline Status gate_rows_of(const char* op, const TensorView* gate, int64_t M, int64_t N, const TensorView& out, int64_t* rows,
                           DType dt) {
  *rows = 1;
  if (!gate) return Status::Ok();
  Status s = check_float(op, "gate", *gate, dt);
  if (!s.ok()) return s;
  const int64_t G = gate->numel() / N;
  if (gate->dim(-1) != N || G < 1 || M % G != 0) {
    return InvalidArgument(std::string(op) + ": gate " + shp(*gate) + " does not broadcast over out " + shp(out));
  }
  *rows = M / G;
  return Status::Ok();
}

}  // namespace sana::cuda
