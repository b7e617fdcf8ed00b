// Argument checks at the CUDA op entries, the same rules and messages as the CPU entries
// (kernels/include/sana/cpu/common.h) except that tensors must live on the CUDA device.
// Plain C++ (no CUDA headers), shared by every kernels/cuda/<op>.cu.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>

#include "sana/arg_checks.h"
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
