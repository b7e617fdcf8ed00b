// A non-owning view of a contiguous row-major tensor, the currency of every kernel.
// Sizes and element counts are int64_t: a 4096² DC-AE activation has 128 × 4096 × 4096 = 2³¹ elements,
// which overflows int32 index arithmetic.
#pragma once
#include <cstdint>
#include <string>

namespace sana {

enum class DType : int32_t { kF32 = 0, kBF16 = 1, kF16 = 2, kF64 = 3, kI64 = 4, kI32 = 5 };
enum class Device : int32_t { kCpu = 0, kCuda = 1 };

inline int64_t dtype_bytes(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kBF16: return 2;
    case DType::kF16: return 2;
    case DType::kF64: return 8;
    case DType::kI64: return 8;
    case DType::kI32: return 4;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kBF16: return "bf16";
    case DType::kF16: return "f16";
    case DType::kF64: return "f64";
    case DType::kI64: return "i64";
    case DType::kI32: return "i32";
  }
  return "?";
}

constexpr int kMaxDims = 8;

struct TensorView {
  void* data = nullptr;
  DType dtype = DType::kF32;
  Device device = Device::kCpu;
  int32_t ndim = 0;
  int64_t shape[kMaxDims] = {0};

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= shape[i];
    return n;
  }
  int64_t bytes() const { return numel() * dtype_bytes(dtype); }
  int64_t dim(int i) const { return shape[i < 0 ? ndim + i : i]; }
  template <typename T> T* as() const { return static_cast<T*>(data); }

  std::string shape_str() const {
    std::string s = "[";
    for (int i = 0; i < ndim; ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  }
};

}  // namespace sana
