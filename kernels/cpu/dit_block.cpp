// Op `dit-block`: one SANA Linear-DiT block as a sequence of the fused CPU ops, on tensors that never
// leave native memory. The modulation chunks are built once (table + t0, stored in the op's dtype);
// the three residual updates run in place on `out` through the ops' fused residual/gate epilogues:
//   h   = layernorm-modulate(x; shift₁, scale₁)                          → scratch (B, N, C)
//   out = linear-attention-block(h; gate = gate₁, residual = x)
//   out = cross-attention(out, y; residual = out)
//   h   = layernorm-modulate(out; shift₂, scale₂)
//   out = mix-ffn(h; gate = gate₂, residual = out)
// FLOPs: the sum of the ops' (≈ 2·B·N·(4C² + 2C² + 3·C·h) + cores); scratch (B, N, C) + 6·B·C.
#include "sana/cpu/common.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/dit_block_calls.h"

namespace sana::cpu {
namespace {

template <typename T> void build_chunks(const DitBlockArgs& a, int64_t B, int64_t C, T* chunks) {
  const T* tab = a.table.as<T>();
  const T* t0 = a.t0.as<T>();
  for (int64_t j = 0; j < 6; ++j)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c) chunks[(j * B + b) * C + c] = store_f<T>(load_f(tab[j * C + c]) + load_f(t0[b * 6 * C + j * C + c]));
}

}  // namespace

Status dit_block(const DitBlockArgs& a) {
  const char* op = "dit-block";
  DitBlockSizes z;
  SANA_RETURN_IF_ERROR(check_dit_block_args(Device::kCpu, a, &z));
  const DType dt = a.x.dtype;
  const int64_t B = z.B, N = z.N, C = z.C;
  return guarded(op, [&]() -> Status {
    const int64_t es = dtype_bytes(dt);
    Buffer<uint8_t> chunks = alloc_buffer<uint8_t>(6 * B * C * es);
    Buffer<uint8_t> h = alloc_buffer<uint8_t>(B * N * C * es);
    if (dt == DType::kF32) build_chunks<float>(a, B, C, reinterpret_cast<float*>(chunks.get()));
    else build_chunks<bf16_t>(a, B, C, reinterpret_cast<bf16_t*>(chunks.get()));
    const DitBlockCalls c(a, chunks.get(), h.get());
    SANA_RETURN_IF_ERROR(layernorm_modulate(c.ln1));
    SANA_RETURN_IF_ERROR(linear_attention_block(c.attn));
    SANA_RETURN_IF_ERROR(cross_attention(c.cross));
    SANA_RETURN_IF_ERROR(layernorm_modulate(c.ln2));
    return mix_ffn(c.ffn);
  });
}

}  // namespace sana::cpu
