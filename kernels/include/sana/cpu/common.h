// Helpers shared by the CPU kernels: element types (f32, bf16 storage with f32 math), a branch-free
// exp that the compiler vectorises, activations, aligned scratch buffers, the target_clones macro that
// compiles a hot loop for AVX-512 / AVX2 / baseline x86-64 and picks one at load time, and the argument
// checks of the entries (sana/op_checks.h; the TypeScript layer checks first, with friendlier messages).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "sana/bf16.h"
#include "sana/cpu/host_memory.h"
#include "sana/op_checks.h"
#include "sana/ops.h"
#include "sana/status.h"
#include "sana/tensor_view.h"

// Hot loops written as plain lane-parallel C++; GCC/Clang clone them per ISA level on x86-64 Linux.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(SANA_LAB_NO_CLONES) && !defined(__SANITIZE_ADDRESS__)
#define SANA_VECTORIZE __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SANA_VECTORIZE
#endif

namespace sana::cpu {

using bf16_t = uint16_t;  // bf16 bit pattern

inline float load_f(float v) { return v; }
inline float load_f(bf16_t v) { return bf16_bits_to_f32(v); }
template <typename T> inline T store_f(float v);
template <> inline float store_f<float>(float v) { return v; }
template <> inline bf16_t store_f<bf16_t>(float v) { return f32_to_bf16_bits(v); }

// e^x for float, relative error < 3e-7 on the normal range, exact 0 below -104, +inf above 88.7,
// NaN propagates. Branch-free so that loops calling it vectorise.
inline float exp_f(float x) {
  const float hi = 88.7228f, lo = -104.0f;
  float xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;
  // e^x = 2^n · e^r, n = round(x / ln2), r = x − n·ln2 in [-ln2/2, ln2/2]
  const float magic = 12582912.0f;  // 1.5·2^23: adding and subtracting it rounds to the nearest integer
  float n = (xc * 1.44269504088896341f + magic) - magic;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  // 2^n built in two halves so that n down to -150 (subnormal results) stays exact.
  int32_t ni = static_cast<int32_t>(n);
  int32_t n1 = ni / 2, n2 = ni - n1;
  uint32_t b1 = static_cast<uint32_t>(n1 + 127) << 23, b2 = static_cast<uint32_t>(n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, 4);
  std::memcpy(&s2, &b2, 4);
  float y = p * s1 * s2;
  y = x > hi ? INFINITY : y;
  y = x < lo ? 0.0f : y;
  return x != x ? x : y;
}

inline float silu_f(float x) { return x / (1.0f + exp_f(-x)); }
inline float relu_f(float x) { return x < 0.0f ? 0.0f : x; }  // NaN propagates
inline float gelu_tanh_f(float x) {
  const float k = 0.7978845608028654f;
  float u = k * (x + 0.044715f * x * x * x);
  // tanh(u) = 1 − 2 / (e^{2u} + 1)
  float t = 1.0f - 2.0f / (exp_f(2.0f * u) + 1.0f);
  return 0.5f * x * (1.0f + t);
}

inline float activate(float v, Activation a) {
  switch (a) {
    case Activation::kNone: return v;
    case Activation::kRelu: return relu_f(v);
    case Activation::kSilu: return silu_f(v);
    case Activation::kGeluTanh: return gelu_tanh_f(v);
  }
  return v;
}

// 64-byte aligned scratch (host_memory.h); throws std::bad_alloc (caught at the op entry → kOutOfMemory).
struct ScratchFree {
  int64_t bytes = 0;
  void operator()(void* p) const { scratch_free(p, bytes); }
};
template <typename T> using Buffer = std::unique_ptr<T[], ScratchFree>;
template <typename T> Buffer<T> alloc_buffer(int64_t n) {
  if (n < 0 || n > (int64_t{1} << 60) / static_cast<int64_t>(sizeof(T))) throw std::bad_alloc();
  const int64_t bytes = n * static_cast<int64_t>(sizeof(T));
  return Buffer<T>(static_cast<T*>(scratch_alloc(bytes)), ScratchFree{bytes});
}

// ---- shape checks at kernel entries ----
using sana::is_shape;
using sana::is_vector;
using sana::same_shape;
using sana::shp;

inline Status check_float(const char* op, const char* what, const TensorView& t, DType dt) {
  return check_float_on(Device::kCpu, op, what, t, dt);
}

// Runs an op body, turning std::bad_alloc into kOutOfMemory (kernels never throw across the boundary).
template <typename F> Status guarded(const char* op, F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return OutOfMemory(std::string(op) + ": out of host memory for scratch buffers");
  } catch (const std::exception& e) {
    return Internal(std::string(op) + ": " + e.what());
  }
}

}  // namespace sana::cpu
