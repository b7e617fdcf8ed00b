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
// default), v2 = every inner op at its default (fastest) version.
#include "sana/cuda/common.cuh"

namespace sana::cuda {
namespace {

template <typename T>
__global__ void build_mod(const T* __restrict__ table, const T* __restrict__ t0, T* __restrict__ mod, int64_t B, int64_t C) {
  const int64_t n = 6 * B * C;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = i % C, b = (i / C) % B, j = i / (B * C);
    mod[i] = stf<T>(ldf(table[j * C + c]) + ldf(t0[b * 6 * C + j * C + c]));
  }
}

TensorView view_of(void* data, DType dt, std::initializer_list<int64_t> shape) {
  TensorView v;
  v.data = data;
  v.dtype = dt;
  v.device = Device::kCuda;
  v.ndim = static_cast<int32_t>(shape.size());
  int i = 0;
  for (int64_t d : shape) v.shape[i++] = d;
  return v;
}

}  // namespace

Status dit_block(const DitBlockArgs& a, int version) {
  const char* op = "dit-block";
  const DType dt = a.x.dtype;
  if (dt != DType::kF32 && dt != DType::kBF16) return InvalidArgument("dit-block: x must be f32 or bf16");
  SANA_RETURN_IF_ERROR(check_float(op, "x", a.x, dt));
  SANA_RETURN_IF_ERROR(check_float(op, "t0", a.t0, dt));
  SANA_RETURN_IF_ERROR(check_float(op, "table", a.table, dt));
  SANA_RETURN_IF_ERROR(check_float(op, "out", a.out, dt));
  if (a.x.ndim != 3 || !same_shape(a.x, a.out)) return InvalidArgument("dit-block: want x and out (B, N, C), got " + shp(a.x) + ", " + shp(a.out));
  const int64_t B = a.x.shape[0], N = a.x.shape[1], C = a.x.shape[2];
  if (!is_shape(a.table, {6, C}) || !is_shape(a.t0, {B, 6 * C})) {
    return InvalidArgument("dit-block: table " + shp(a.table) + " and t0 " + shp(a.t0) + " must be (6, C) and (B, 6C) for x " + shp(a.x));
  }
  if (a.out.data == a.x.data) return InvalidArgument("dit-block: out must not be x");
  if (version < 0 || version > 2) return unknown_version(op, version, 2);
  const int inner = version == 1 ? 1 : 0;

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
      build_mod<float><<<grid, block, 0, op_stream()>>>(a.table.as<float>(), a.t0.as<float>(), reinterpret_cast<float*>(mod), B, C);
    } else {
      build_mod<bf16><<<grid, block, 0, op_stream()>>>(a.table.as<bf16>(), a.t0.as<bf16>(), reinterpret_cast<bf16*>(mod), B, C);
    }
    SANA_CUDA_LAUNCHED(op, "build_mod");
    TensorView m[6];
    for (int j = 0; j < 6; ++j) m[j] = view_of(mod + j * B * C * es, dt, {B, 1, C});
    const TensorView hv = view_of(h, dt, {B, N, C});

    LayerNormModulateArgs ln1{a.x, m[0], m[1], a.norm_eps, hv};
    SANA_RETURN_IF_ERROR(layernorm_modulate(ln1, inner));
    LinearAttentionBlockArgs sa;
    sa.x = hv;
    sa.wq = a.a1_wq;
    sa.wk = a.a1_wk;
    sa.wv = a.a1_wv;
    sa.wo = a.a1_wo;
    sa.bo = a.a1_bo;
    sa.head_dim = a.head_dim;
    sa.eps = a.attn_eps;
    sa.gate = &m[2];
    sa.residual = &a.x;
    sa.out = a.out;
    SANA_RETURN_IF_ERROR(linear_attention_block(sa, inner));
    CrossAttentionArgs ca;
    ca.x = a.out;
    ca.y = a.y;
    ca.wq = a.a2_wq;
    ca.bq = a.a2_bq;
    ca.wk = a.a2_wk;
    ca.bk = a.a2_bk;
    ca.wv = a.a2_wv;
    ca.bv = a.a2_bv;
    ca.wo = a.a2_wo;
    ca.bo = a.a2_bo;
    ca.mask_bias = a.mask_bias;
    ca.heads = a.cross_heads;
    ca.residual = &a.out;
    ca.out = a.out;
    SANA_RETURN_IF_ERROR(cross_attention(ca, inner));
    LayerNormModulateArgs ln2{a.out, m[3], m[4], a.norm_eps, hv};
    SANA_RETURN_IF_ERROR(layernorm_modulate(ln2, inner));
    MixFfnArgs ff;
    ff.x = hv;
    ff.w_inv = a.ff_w_inv;
    ff.b_inv = a.ff_b_inv;
    ff.w_dw = a.ff_w_dw;
    ff.b_dw = a.ff_b_dw;
    ff.w_point = a.ff_w_point;
    ff.height = a.height;
    ff.width = a.width;
    ff.gate = &m[5];
    ff.residual = &a.out;
    ff.out = a.out;
    return mix_ffn(ff, inner);
  }();
  return scope.finish(s);
}

}  // namespace sana::cuda
