// Op `dit-block`: one SANA Linear-DiT block (diffusers SanaTransformerBlock) on device tensors, as the
// CPU backend composes it (kernels/cpu/dit_block.cpp), from the CUDA ops:
//   mod  = table (6, C) + t0 (B, 6C)                                   one small kernel → (6, B, C)
//   h    = layernorm-modulate(x; shift₁, scale₁)                       → scratch (B, N, C)
//   out  = linear-attention-block(h; gate = gate₁, residual = x)
//   out  = cross-attention(out, y; residual = out)                     (in place)
//   h    = layernorm-modulate(out; shift₂, scale₂)
//   out  = mix-ffn(h; gate = gate₂, residual = out)                    (in place)
// FLOPs ≈ 2·B·N·(4C² + 2C² + 3·C·h) + the attention cores (h = FFN hidden width); minimal bytes
// 2·B·N·C·sizeof(T) + weights; the composition moves the intermediates of each op (see their files).
// Versions: v1 = every inner op at its version 1 (the simple kernels; gemms stay at the dtype's
// default), v2 = every inner op at its portable default (no sm_90 version: the mma.sync composition),
// v3 = the Hopper versions whose gemms run on wgmma (linear-attention-block v4, cross-attention v3,
// mix-ffn v3; layernorm-modulate at its default): bf16 and an sm_90 GPU, an inner op's refusal names
// that op. The default (0) is every inner op at its own default — on an sm_90 GPU their sm_90
// versions where they apply, so v3's composition (H200: 4.77 ms vs v2's 7.49 ms at Sana-0.6B 4096²,
// batch 2), each op falling back on its own where it cannot run.
#include <optional>

#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/ptx.cuh"
#include "sana/dit_block_calls.h"

namespace sana::cuda {
namespace {

template <typename T>
__global__ void build_mod(const T* __restrict__ table, const T* __restrict__ t0, T* __restrict__ mod, int64_t B, int64_t C) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int64_t n = 6 * B * C;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = i % C, b = (i / C) % B, j = i / (B * C);
    mod[i] = stf<T>(ldf(table[j * C + c]) + ldf(t0[b * 6 * C + j * C + c]));
  }
}

}  // namespace

Status dit_block(const DitBlockArgs& a, int version) {
  const char* op = "dit-block";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  DitBlockSizes sz;
  SANA_RETURN_IF_ERROR(check_dit_block_args(Device::kCuda, a, &sz));
  const DType dt = a.x.dtype;
  const int64_t B = sz.B, N = sz.N, C = sz.C;
  if (version < 0 || version > 3) return unknown_version(op, version, 3);
  if (version == 3 && dt != DType::kBF16) return bad_version(op, 3, "(its inner ops' wgmma versions) needs bf16");
  const int inner = version == 1 ? 1 : 0;
  std::optional<PortableDefaults> portable;  // v2 names the composition without sm_90 versions
  if (version == 2) portable.emplace();
  const int v_attn = version == 3 ? 4 : inner, v_cross = version == 3 ? 3 : inner, v_ffn = version == 3 ? 3 : inner;

  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s = [&]() -> Status {
    Scratch scratch(op);
    const int64_t es = dtype_bytes(dt);
    uint8_t *mod = nullptr, *h = nullptr;
    SANA_RETURN_IF_ERROR(scratch.alloc_n(6 * B * C * es, &mod));
    SANA_RETURN_IF_ERROR(scratch.alloc_n(B * N * C * es, &h));
    dim3 grid, block;
    SANA_RETURN_IF_ERROR(to_dims(op, "build_mod", plan::elementwise(6 * B * C), &grid, &block));
    if (dt == DType::kF32) {
      SANA_CUDA_CHECK(op, launch_dependent("build_mod<float>", build_mod<float>, grid, block, 0, a.table.as<float>(), a.t0.as<float>(),
                                           reinterpret_cast<float*>(mod), B, C));
    } else {
      SANA_CUDA_CHECK(op, launch_dependent("build_mod<bf16>", build_mod<bf16>, grid, block, 0, a.table.as<bf16>(), a.t0.as<bf16>(),
                                           reinterpret_cast<bf16*>(mod), B, C));
    }
    SANA_CUDA_LAUNCHED(op, "build_mod");
    const DitBlockCalls c(a, mod, h);
    SANA_RETURN_IF_ERROR(layernorm_modulate(c.ln1, inner));
    SANA_RETURN_IF_ERROR(linear_attention_block(c.attn, v_attn));
    SANA_RETURN_IF_ERROR(cross_attention(c.cross, v_cross));
    SANA_RETURN_IF_ERROR(layernorm_modulate(c.ln2, inner));
    return mix_ffn(c.ffn, v_ffn);
  }();
  return scope.finish(s);
}

}  // namespace sana::cuda
