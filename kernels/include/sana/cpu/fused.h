// Building blocks the fused CPU ops share (each defined in the op's own file): the linear-attention
// core and RMSNorm over rows, templated on input/output storage (T = float or bf16; float scratch
// inside fused ops), with explicit row strides so they read q/k/v straight out of a packed qkv buffer.
#pragma once
#include <cstdint>

#include "sana/cpu/common.h"

namespace sana::cpu {

// ReLU linear attention for all B·heads heads. q: B×N rows of ldq elements, k, v: B×M rows; head h
// reads columns [h·hs_in, h·hs_in + d) of q, k and v (hs_in = d for SANA's (B, N, C) layout, 3d for
// LiteMLA's packed q|k|v heads) and writes columns [h·hs_out, …) of out (B×N rows of ldo).
// Parallel over (batch, head).
template <typename TI, typename TO>
void linear_attention_core(const TI* q, int64_t ldq, const TI* k, int64_t ldk, const TI* v, int64_t ldv, int64_t hs_in, TO* out,
                           int64_t ldo, int64_t hs_out, int64_t B, int64_t N, int64_t M, int64_t heads, int64_t d, float eps);

// out[r] = residual[r] + x[r] / √(mean(x[r]²) + eps) · w + b over rows of C (w, b, residual optional).
template <typename TX, typename TP, typename TO>
void rmsnorm_rows(const TX* x, int64_t rows, int64_t C, const TP* w, const TP* b, float eps, const TP* residual, TO* out);

}  // namespace sana::cpu
