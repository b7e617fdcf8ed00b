// Op `linear-attention-block`: SANA's self-attention module (attn1) in three passes:
//   qkv = x·[Wq; Wk; Wv]ᵀ                  one gemm over the row-stacked weights → f32 (M × 3C)
//   o   = linear-attention core(qkv)         reads q, k, v in place (row stride 3C) → f32 (M × C)
//   out = residual + gate ⊙ (o·Woᵀ + bo)     gemm with bias, gate and residual fused in the epilogue
// (in a DiT block: x ← x + gate_msa ⊙ attn(LN-modulated x) is one call with residual = out = x).
// FLOPs 2·M·C·3C + 4·M·C·(d+1) + 2·M·C·C; minimal bytes 2·M·C·sizeof(T) + 4·C²·sizeof(T) (+ gate,
// residual); f32 scratch 4·M·4C bytes.
#include "sana/cpu/fused.h"
#include "sana/cpu/gemm.h"
#include "sana/cpu/ops_cpu.h"

namespace sana::cpu {
namespace {

template <typename T> void run(const LinearAttentionBlockArgs& a, int64_t B, int64_t N, int64_t C, int64_t Cout, int64_t gate_rows) {
  const int64_t M = B * N;
  Buffer<float> qkv = alloc_buffer<float>(M * 3 * C);
  Buffer<float> o = alloc_buffer<float>(M * C);
  {
    DenseA<T> A(a.x.as<T>(), M, C, C);
    LinearWeightB<T> W;
    W.K = C;
    W.add(a.wq.as<T>(), C);
    W.add(a.wk.as<T>(), C);
    W.add(a.wv.as<T>(), C);
    Epilogue<T, float> ep;
    ep.out = qkv.get();
    ep.ldo = 3 * C;
    gemm_run<T, float>(A, W, ep);
  }
  const float* q = qkv.get();
  const int64_t d = a.head_dim;
  linear_attention_core<float, float>(q, 3 * C, q + C, 3 * C, q + 2 * C, 3 * C, d, o.get(), C, d, B, N, N, C / d, d, a.eps);
  DenseA<float> A(o.get(), M, C, C);
  LinearWeightB<T> Wo(a.wo.as<T>(), Cout, C);
  Epilogue<T, T> ep;
  ep.out = a.out.as<T>();
  ep.ldo = Cout;
  ep.bias = a.bo ? a.bo->as<T>() : nullptr;
  if (a.gate) {
    ep.gate = a.gate->as<T>();
    ep.gate_ld = Cout;
    ep.gate_rows = gate_rows;
  }
  if (a.residual) {
    ep.residual = a.residual->as<T>();
    ep.res_ld = Cout;
  }
  gemm_run<T, T>(A, Wo, ep);
}

}  // namespace

Status linear_attention_block(const LinearAttentionBlockArgs& a) {
  const char* op = "linear-attention-block";
  const DType dt = a.x.dtype;
  if (dt != DType::kF32 && dt != DType::kBF16) return InvalidArgument("linear-attention-block: x must be f32 or bf16");
  for (auto [t, name] : {std::pair{&a.x, "x"}, {&a.wq, "wq"}, {&a.wk, "wk"}, {&a.wv, "wv"}, {&a.wo, "wo"}, {&a.out, "out"}}) {
    SANA_RETURN_IF_ERROR(check_float(op, name, *t, dt));
  }
  if (a.x.ndim != 3) return InvalidArgument("linear-attention-block: want x (B, N, C), got " + shp(a.x));
  const int64_t B = a.x.shape[0], N = a.x.shape[1], C = a.x.shape[2];
  if (!is_shape(a.wq, {C, C}) || !is_shape(a.wk, {C, C}) || !is_shape(a.wv, {C, C}) || a.wo.ndim != 2 || a.wo.shape[1] != C) {
    return InvalidArgument("linear-attention-block: weights wq " + shp(a.wq) + ", wk " + shp(a.wk) + ", wv " + shp(a.wv) + ", wo " +
                           shp(a.wo) + " do not fit x " + shp(a.x));
  }
  const int64_t Cout = a.wo.shape[0];
  if (a.head_dim < 1 || C % a.head_dim != 0) {
    return InvalidArgument("linear-attention-block: " + std::to_string(C) + " channels are not a multiple of head_dim " + std::to_string(a.head_dim));
  }
  if (!is_shape(a.out, {B, N, Cout})) return InvalidArgument("linear-attention-block: out " + shp(a.out) + " is not (B, N, Cout)");
  if (a.bo) {
    SANA_RETURN_IF_ERROR(check_float(op, "bo", *a.bo, dt));
    if (!is_vector(*a.bo, Cout)) return InvalidArgument("linear-attention-block: bo " + shp(*a.bo) + " is not a vector of " + std::to_string(Cout));
  }
  int64_t gate_rows = 1;
  if (a.gate) {
    SANA_RETURN_IF_ERROR(check_float(op, "gate", *a.gate, dt));
    const int64_t G = a.gate->numel() / Cout;
    if (a.gate->dim(-1) != Cout || G < 1 || (B * N) % G != 0) {
      return InvalidArgument("linear-attention-block: gate " + shp(*a.gate) + " does not broadcast over out " + shp(a.out));
    }
    gate_rows = B * N / G;
  }
  if (a.residual) {
    SANA_RETURN_IF_ERROR(check_float(op, "residual", *a.residual, dt));
    if (!same_shape(*a.residual, a.out)) return InvalidArgument("linear-attention-block: residual " + shp(*a.residual) + " differs from out " + shp(a.out));
  }
  return guarded(op, [&] {
    if (dt == DType::kF32) run<float>(a, B, N, C, Cout, gate_rows);
    else run<bf16_t>(a, B, N, C, Cout, gate_rows);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
