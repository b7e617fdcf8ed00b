// Building blocks shared between the CUDA op files (internal to kernels/cuda/): the kernels of one
// op that a fused op reuses. Each launches on op_stream() and checks its launch; none synchronizes.
// Pointers are device pointers of the storage type `dt` (f32 or bf16); row strides in elements.
#pragma once
#include <cstdint>

#include "sana/ops.h"

namespace sana::cuda {

class Scratch;

// linear-attention core (linear_attention.cu): version 1 (any head_dim ≤ 64), 2 (head_dim 32,
// 16-byte aligned rows) or 3 (2's needs and bf16: la_check_version knows no dtype, la_core refuses
// f32); 0 = the default for these arguments (1 or 2). Head h of q/k/v starts at column h·hs,
// of out at h·hso (0 = d: heads side by side; lite-mla's heads are 3d apart).
int la_default_version(int64_t d, bool aligned);
Status la_check_version(const char* op, int version, int64_t d, bool aligned);
// For tests (not thread-safe): the state pass sizes its token chunks for this many blocks instead of
// the plan's 2048 (0 = the plan's), e.g. 1 for one chunk per batch·head, many 64-token tiles per block.
void set_la_target_blocks(int64_t blocks);
Status la_core(const char* op, int version, DType dt, const void* q, int64_t ldq, const void* k, int64_t ldk, const void* v, int64_t ldv,
               void* out, int64_t ldo, int64_t B, int64_t N, int64_t M, int64_t H, int64_t d, float eps, Scratch& scratch, int64_t hs = 0,
               int64_t hso = 0);

// depthwise 3×3 + bias + GLU of mix-ffn (mix_ffn.cu): u (B, H, W, 2h) → z (B, H, W, h) with
// z = (dw(u)[:h] + b[:h]) ⊙ SiLU(dw(u)[h:] + b[h:]); w_dw (2h, 9). Version 1 or 2 (h % 8 == 0).
Status dw_glu(const char* op, int version, DType dt, const void* u, const void* w_dw, const void* b_dw, void* z, int64_t B, int64_t H,
              int64_t W, int64_t h);

// cross-attention core (cross_attention.cu): q (B, N, ·) row stride ldq, k/v (B, L, ·), heads of d;
// mask_bias (B, L) with row stride mask_ld (or null). Version 1 (SIMT, d ≤ 128), 2 (tensor cores,
// bf16, d % 8 == 0, d ≤ 128) or 3 (v2 with the head's K/V staged once per 128 queries; bf16, the K/V
// fitting in shared memory: L ≤ 640 at d = 72).
Status xattn_core(const char* op, int version, DType dt, const void* q, int64_t ldq, const void* k, int64_t ldk, const void* v,
                  int64_t ldv, const void* mask_bias, int64_t mask_ld, void* out, int64_t ldo, int64_t B, int64_t N, int64_t L,
                  int64_t H, int64_t d);

// rows of C: out = residual + x / √(mean(x²) + eps) · w + b (norms.cu); version 1 or 2.
Status rms_rows(const char* op, int version, DType dt, const void* x, int64_t rows, int64_t C, const void* w, const void* b, float eps,
                const void* residual, void* out);

}  // namespace sana::cuda
