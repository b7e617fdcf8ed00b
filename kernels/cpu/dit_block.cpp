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

namespace sana::cpu {
namespace {

TensorView view_of(void* data, DType dt, std::initializer_list<int64_t> shape) {
  TensorView v;
  v.data = data;
  v.dtype = dt;
  v.device = Device::kCpu;
  v.ndim = static_cast<int32_t>(shape.size());
  int i = 0;
  for (int64_t d : shape) v.shape[i++] = d;
  return v;
}

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
  return guarded(op, [&]() -> Status {
    const int64_t es = dtype_bytes(dt);
    Buffer<uint8_t> chunks = alloc_buffer<uint8_t>(6 * B * C * es);
    Buffer<uint8_t> h = alloc_buffer<uint8_t>(B * N * C * es);
    if (dt == DType::kF32) build_chunks<float>(a, B, C, reinterpret_cast<float*>(chunks.get()));
    else build_chunks<bf16_t>(a, B, C, reinterpret_cast<bf16_t*>(chunks.get()));
    TensorView mod[6];
    for (int j = 0; j < 6; ++j) mod[j] = view_of(chunks.get() + j * B * C * es, dt, {B, 1, C});
    TensorView hv = view_of(h.get(), dt, {B, N, C});

    LayerNormModulateArgs ln1{a.x, mod[0], mod[1], a.norm_eps, hv};
    SANA_RETURN_IF_ERROR(layernorm_modulate(ln1));
    LinearAttentionBlockArgs sa;
    sa.x = hv;
    sa.wq = a.a1_wq;
    sa.wk = a.a1_wk;
    sa.wv = a.a1_wv;
    sa.wo = a.a1_wo;
    sa.bo = a.a1_bo;
    sa.head_dim = a.head_dim;
    sa.eps = a.attn_eps;
    sa.gate = &mod[2];
    sa.residual = &a.x;
    sa.out = a.out;
    SANA_RETURN_IF_ERROR(linear_attention_block(sa));

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
    SANA_RETURN_IF_ERROR(cross_attention(ca));

    LayerNormModulateArgs ln2{a.out, mod[3], mod[4], a.norm_eps, hv};
    SANA_RETURN_IF_ERROR(layernorm_modulate(ln2));
    MixFfnArgs ff;
    ff.x = hv;
    ff.w_inv = a.ff_w_inv;
    ff.b_inv = a.ff_b_inv;
    ff.w_dw = a.ff_w_dw;
    ff.b_dw = a.ff_b_dw;
    ff.w_point = a.ff_w_point;
    ff.height = a.height;
    ff.width = a.width;
    ff.gate = &mod[5];
    ff.residual = &a.out;
    ff.out = a.out;
    return mix_ffn(ff);
  });
}

}  // namespace sana::cpu
