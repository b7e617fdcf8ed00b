// Op `gemm`: out = residual + gate ⊙ act(x · wᵀ + bias) (the linear layers and 1×1 convs).
// FLOPs 2·M·N·K (+ a few per output for the epilogue); minimal bytes
// (M·K + N·K + M·N (+ M·N residual, G·N gate, N bias))·sizeof(T). Engine: gemm_engine.cpp.
#include "sana/cpu/gemm.h"
#include "sana/cpu/ops_cpu.h"

namespace sana::cpu {
namespace {

template <typename T> void run(const GemmArgs& a, int64_t M, int64_t N, int64_t K, int64_t gate_rows) {
  DenseA<T> A(a.x.as<T>(), M, K, K);
  LinearWeightB<T> B(a.w.as<T>(), N, K);
  Epilogue<T, T> ep;
  ep.out = a.out.as<T>();
  ep.ldo = N;
  ep.bias = a.bias ? a.bias->as<T>() : nullptr;
  ep.act = a.act;
  if (a.gate) {
    ep.gate = a.gate->as<T>();
    ep.gate_ld = N;
    ep.gate_rows = gate_rows;
  }
  if (a.residual) {
    ep.residual = a.residual->as<T>();
    ep.res_ld = N;
  }
  gemm_run<T, T>(A, B, ep);
}

}  // namespace

Status gemm(const GemmArgs& a) {
  const char* op = "gemm";
  GemmSizes z;
  SANA_RETURN_IF_ERROR(check_gemm_args(Device::kCpu, a, &z));
  return guarded(op, [&] {
    if (a.x.dtype == DType::kF32) run<float>(a, z.M, z.N, z.K, z.gate_rows);
    else run<bf16_t>(a, z.M, z.N, z.K, z.gate_rows);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
