// The op calls a `dit-block` entry makes, the same on every backend (kernels/cpu/dit_block.cpp,
// kernels/cuda/dit_block.cu), given the modulation chunks mod (6, B, C) = table + t0 and a (B, N, C)
// scratch h, both in the op's dtype on x's device:
//   h   = layernorm-modulate(x; shift₁, scale₁)
//   out = linear-attention-block(h; gate = gate₁, residual = x)
//   out = cross-attention(out, y or precomputed k, v; residual = out)
//   h   = layernorm-modulate(out; shift₂, scale₂)
//   out = mix-ffn(h; gate = gate₂, residual = out)
// The args point into this object (the chunk views), so it is neither copied nor moved. Plain C++.
#pragma once
#include <cstdint>
#include <initializer_list>

#include "sana/ops.h"

namespace sana {

inline TensorView view_on(const TensorView& like, void* data, std::initializer_list<int64_t> shape) {
  TensorView v;
  v.data = data;
  v.dtype = like.dtype;
  v.device = like.device;
  for (int64_t d : shape) v.shape[v.ndim++] = d;
  return v;
}

struct DitBlockCalls {
  TensorView mod[6], h;  // (shift₁, scale₁, gate₁, shift₂, scale₂, gate₂) as (B, 1, C) views; h (B, N, C)
  LayerNormModulateArgs ln1, ln2;
  LinearAttentionBlockArgs attn;
  CrossAttentionArgs cross;
  MixFfnArgs ffn;

  DitBlockCalls(const DitBlockArgs& a, void* mod_data, void* h_data) {
    const int64_t B = a.x.shape[0], N = a.x.shape[1], C = a.x.shape[2];
    for (int j = 0; j < 6; ++j) mod[j] = view_on(a.x, static_cast<char*>(mod_data) + j * B * C * dtype_bytes(a.x.dtype), {B, 1, C});
    h = view_on(a.x, h_data, {B, N, C});
    ln1 = {a.x, mod[0], mod[1], a.norm_eps, h};
    ln2 = {a.out, mod[3], mod[4], a.norm_eps, h};
    attn.x = h;
    attn.wq = a.a1_wq;
    attn.wk = a.a1_wk;
    attn.wv = a.a1_wv;
    attn.wo = a.a1_wo;
    attn.bo = a.a1_bo;
    attn.head_dim = a.head_dim;
    attn.eps = a.attn_eps;
    attn.gate = &mod[2];
    attn.residual = &a.x;
    attn.out = a.out;
    cross.x = a.out;
    cross.y = a.y;
    cross.wq = a.a2_wq;
    cross.bq = a.a2_bq;
    cross.wk = a.a2_wk;
    cross.bk = a.a2_bk;
    cross.wv = a.a2_wv;
    cross.bv = a.a2_bv;
    cross.wo = a.a2_wo;
    cross.bo = a.a2_bo;
    cross.k = a.a2_k;  // precomputed text keys/values (then y, wk, wv, bk, bv are empty)
    cross.v = a.a2_v;
    cross.mask_bias = a.mask_bias;
    cross.heads = a.cross_heads;
    cross.residual = &a.out;
    cross.out = a.out;
    ffn.x = h;
    ffn.w_inv = a.ff_w_inv;
    ffn.b_inv = a.ff_b_inv;
    ffn.w_dw = a.ff_w_dw;
    ffn.b_dw = a.ff_b_dw;
    ffn.w_point = a.ff_w_point;
    ffn.height = a.height;
    ffn.width = a.width;
    ffn.gate = &mod[5];
    ffn.residual = &a.out;
    ffn.out = a.out;
  }
  DitBlockCalls(const DitBlockCalls&) = delete;
  DitBlockCalls& operator=(const DitBlockCalls&) = delete;
};

}  // namespace sana
