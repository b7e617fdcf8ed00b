// The op calls a `dcae-evit-block` entry makes, the same on every backend (kernels/cpu/dcae_evit_block.cpp,
// kernels/cuda/dcae_evit_block.cu), given two (B, H, W, C) scratches in the op's dtype on x's device,
// a_data (the attention half's result) and g_data (the GLUMBConv's output; may be out's own storage):
//   a   = lite-mla(x)                        = x + RMSNorm2d(LiteMLA(x))        → a_data
//   g   = mix-ffn(a)                         a, g viewed as (B, H·W, C) tokens  → g_data
//   out = rmsnorm(g; w, b, residual = a)     = a + RMSNorm2d(GLUMBConv(a))
// NHWC is the token-major layout mix-ffn takes, so the views are plain reshapes. The args point into
// this object (the view av), so it is neither copied nor moved. Plain C++.
#pragma once
#include <cstdint>

#include "sana/dit_block_calls.h"  // view_on
#include "sana/ops.h"

namespace sana {

struct DcaeEvitCalls {
  TensorView av;  // a: (B, H, W, C) on a_data
  LiteMlaArgs attn;
  MixFfnArgs ffn;
  RmsNormArgs norm;

  DcaeEvitCalls(const DcaeEvitBlockArgs& a, void* a_data, void* g_data) {
    const int64_t B = a.x.shape[0], H = a.x.shape[1], W = a.x.shape[2], C = a.x.shape[3];
    av = view_on(a.x, a_data, {B, H, W, C});
    attn.x = a.x;
    attn.wq = a.wq;
    attn.wk = a.wk;
    attn.wv = a.wv;
    attn.w_dw = a.w_dw;
    attn.w_group = a.w_group;
    attn.w_out = a.w_out;
    attn.norm_w = a.attn_norm_w;
    attn.norm_b = a.attn_norm_b;
    attn.head_dim = a.head_dim;
    attn.eps = a.eps;
    attn.norm_eps = a.norm_eps;
    attn.out = av;
    ffn.x = view_on(a.x, a_data, {B, H * W, C});
    ffn.w_inv = a.ff_w_inv;
    ffn.b_inv = a.ff_b_inv;
    ffn.w_dw = a.ff_w_dw;
    ffn.b_dw = a.ff_b_dw;
    ffn.w_point = a.ff_w_point;
    ffn.height = H;
    ffn.width = W;
    ffn.out = view_on(a.x, g_data, {B, H * W, C});
    norm.x = view_on(a.x, g_data, {B, H, W, C});
    norm.weight = &a.ff_norm_w;
    norm.bias = &a.ff_norm_b;
    norm.eps = a.norm_eps;
    norm.residual = &av;
    norm.out = a.out;
  }
  DcaeEvitCalls(const DcaeEvitCalls&) = delete;
  DcaeEvitCalls& operator=(const DcaeEvitCalls&) = delete;
};

}  // namespace sana
