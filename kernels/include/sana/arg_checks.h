// Argument checks shared by every backend's op entries (kernels/include/sana/cpu/common.h and
// kernels/include/sana/cuda/checks.h bind them to their device), so the CPU and CUDA backends reject
// the same arguments with the same messages. Plain C++, no device headers.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>

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

}  // namespace sana
