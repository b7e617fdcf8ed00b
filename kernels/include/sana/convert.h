#pragma once
#include <cstdint>

namespace sana::cpu {
void f32_to_bf16(const float* src, uint16_t* dst, int64_t n);
void bf16_to_f32(const uint16_t* src, float* dst, int64_t n);
}  // namespace sana::cpu
