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
  const DType dt = a.x.dtype;
  if (dt != DType::kF32 && dt != DType::kBF16) return InvalidArgument("gemm: x must be f32 or bf16");
  SANA_RETURN_IF_ERROR(check_float(op, "x", a.x, dt));
  SANA_RETURN_IF_ERROR(check_float(op, "w", a.w, dt));
  SANA_RETURN_IF_ERROR(check_float(op, "out", a.out, dt));
  if (a.x.ndim < 1 || a.w.ndim != 2 || a.w.shape[1] != a.x.dim(-1)) {
    return InvalidArgument("gemm: w " + shp(a.w) + " does not match x " + shp(a.x) + " (want w (N, K))");
  }
  const int64_t K = a.x.dim(-1), N = a.w.shape[0], M = a.x.numel() / K;
  if (a.out.ndim != a.x.ndim || a.out.dim(-1) != N || a.out.numel() != M * N) {
    return InvalidArgument("gemm: out " + shp(a.out) + " does not match x " + shp(a.x) + " and w " + shp(a.w));
  }
  if (a.bias) {
    SANA_RETURN_IF_ERROR(check_float(op, "bias", *a.bias, dt));
    if (!is_vector(*a.bias, N)) return InvalidArgument("gemm: bias " + shp(*a.bias) + " is not a vector of " + std::to_string(N));
  }
  int64_t gate_rows = 1;
  if (a.gate) {
    SANA_RETURN_IF_ERROR(check_float(op, "gate", *a.gate, dt));
    const int64_t G = a.gate->numel() / N;
    if (a.gate->dim(-1) != N || G < 1 || M % G != 0) {
      return InvalidArgument("gemm: gate " + shp(*a.gate) + " does not broadcast over out " + shp(a.out));
    }
    gate_rows = M / G;
  }
  if (a.residual) {
    SANA_RETURN_IF_ERROR(check_float(op, "residual", *a.residual, dt));
    if (!same_shape(*a.residual, a.out)) return InvalidArgument("gemm: residual " + shp(*a.residual) + " differs from out " + shp(a.out));
  }
  return guarded(op, [&] {
    if (dt == DType::kF32) run<float>(a, M, N, K, gate_rows);
    else run<bf16_t>(a, M, N, K, gate_rows);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
