// Argument checks at the CUDA op entries: the shared per-op checks (sana/op_checks.h, called with
// Device::kCuda) plus the CUDA-only helpers (alignment, version errors).
// Plain C++ (no CUDA headers), shared by every kernels/cuda/<op>.cu.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>

#include "sana/op_checks.h"
#include "sana/ops.h"

namespace sana::cuda {

using sana::is_shape;
using sana::is_vector;
using sana::same_shape;
using sana::shp;

inline Status check_float(const char* op, const char* what, const TensorView& t, DType dt) {
  return check_float_on(Device::kCuda, op, what, t, dt);
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

}  // namespace sana::cuda
