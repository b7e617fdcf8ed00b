// The CPU backend's op entry points (one per op, kernels/cpu/<op>.cpp), collected in cpu_ops().
#pragma once
#include "sana/ops.h"

namespace sana::cpu {
Status gemm(const GemmArgs&);
Status linear_attention(const LinearAttentionArgs&);
// The unfused composition (ReLU → pad → matmul → matmul → divide), the baseline of the fused kernel.
Status linear_attention_unfused(const LinearAttentionArgs&);
Status linear_attention_block(const LinearAttentionBlockArgs&);
Status mix_ffn(const MixFfnArgs&);
Status cross_attention(const CrossAttentionArgs&);
Status layernorm_modulate(const LayerNormModulateArgs&);
Status rmsnorm(const RmsNormArgs&);
Status conv3x3(const Conv3x3Args&);
Status dcae_resblock(const DcaeResBlockArgs&);
Status lite_mla(const LiteMlaArgs&);
Status dit_block(const DitBlockArgs&);
Status sampler_update(const SamplerUpdateArgs&);
}  // namespace sana::cpu
