// Bulk f32 <-> bf16 conversion on the CPU (round to nearest even). Cross-checked bit for bit against
// the TypeScript conversion in reference/core/dtype.ts, which makes it the first parity test of the
// native boundary. Bytes moved: 6 per element.
#include "sana/convert.h"

#include "sana/bf16.h"

namespace sana::cpu {

void f32_to_bf16(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_bf16_bits(src[i]);
}

void bf16_to_f32(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_bits_to_f32(src[i]);
}

}  // namespace sana::cpu
