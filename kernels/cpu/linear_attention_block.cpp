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
  LinearAttentionBlockSizes z;
  SANA_RETURN_IF_ERROR(check_linear_attention_block_args(Device::kCpu, a, &z));
  return guarded(op, [&] {
    if (a.x.dtype == DType::kF32) run<float>(a, z.B, z.N, z.C, z.Cout, z.gate_rows);
    else run<bf16_t>(a, z.B, z.N, z.C, z.Cout, z.gate_rows);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
