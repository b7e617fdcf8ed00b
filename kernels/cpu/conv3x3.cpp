// Op `conv3x3` on NHWC: out = residual + act(conv3x3(x, w; pad 1, stride s) + bias), as an implicit
// gemm: A = the 3×3 patches of x gathered while packing (no im2col buffer; K = 9·Cin, row = output
// pixel), B = the torch (Cout, Cin, 3, 3) weight re-ordered to k = (ky·3 + kx)·Cin + ci.
// Also `dcae-resblock` (DC-AE ResBlock): out = x + RMSNorm2d(conv3x3(SiLU(conv3x3(x) + b1)); w, b).
// FLOPs 2·B·Ho·Wo·Cout·9·Cin per conv; minimal bytes (B·H·W·Cin + B·Ho·Wo·Cout + 9·Cin·Cout)·sizeof(T).
#include "sana/cpu/fused.h"
#include "sana/cpu/gemm.h"
#include "sana/cpu/ops_cpu.h"

namespace sana::cpu {
namespace {

template <typename T> void run_conv(const Conv3x3Args& a, int64_t B, int64_t H, int64_t W, int64_t Cin, int64_t Cout) {
  Conv3x3A<T> A(a.x.as<T>(), B, H, W, Cin, a.stride);
  Conv3x3WeightB<T> Wb(a.w.as<T>(), Cout, Cin);
  Epilogue<T, T> ep;
  ep.out = a.out.as<T>();
  ep.ldo = Cout;
  ep.bias = a.bias ? a.bias->as<T>() : nullptr;
  ep.act = a.act;
  if (a.residual) {
    ep.residual = a.residual->as<T>();
    ep.res_ld = Cout;
  }
  gemm_run<T, T>(A, Wb, ep);
}

template <typename T> void run_resblock(const DcaeResBlockArgs& a, int64_t B, int64_t H, int64_t W, int64_t C) {
  const int64_t M = B * H * W;
  Buffer<float> h1 = alloc_buffer<float>(M * C);
  Buffer<float> h2 = alloc_buffer<float>(M * C);
  {
    Conv3x3A<T> A(a.x.as<T>(), B, H, W, C, 1);
    Conv3x3WeightB<T> Wb(a.w1.as<T>(), C, C);
    Epilogue<T, float> ep;
    ep.out = h1.get();
    ep.ldo = C;
    ep.bias = a.b1.as<T>();
    ep.act = Activation::kSilu;
    gemm_run<T, float>(A, Wb, ep);
  }
  {
    Conv3x3A<float> A(h1.get(), B, H, W, C, 1);
    Conv3x3WeightB<T> Wb(a.w2.as<T>(), C, C);
    Epilogue<T, float> ep;
    ep.out = h2.get();
    ep.ldo = C;
    gemm_run<T, float>(A, Wb, ep);
  }
  rmsnorm_rows<float, T, T>(h2.get(), M, C, a.norm_w.as<T>(), a.norm_b.as<T>(), a.eps, a.x.as<T>(), a.out.as<T>());
}

}  // namespace

Status conv3x3(const Conv3x3Args& a) {
  const char* op = "conv3x3";
  Conv3x3Sizes z;
  SANA_RETURN_IF_ERROR(check_conv3x3_args(Device::kCpu, a, &z));
  return guarded(op, [&] {
    if (a.x.dtype == DType::kF32) run_conv<float>(a, z.B, z.H, z.W, z.Cin, z.Cout);
    else run_conv<bf16_t>(a, z.B, z.H, z.W, z.Cin, z.Cout);
    return Status::Ok();
  });
}

Status dcae_resblock(const DcaeResBlockArgs& a) {
  const char* op = "dcae-resblock";
  DcaeResBlockSizes z;
  SANA_RETURN_IF_ERROR(check_dcae_resblock_args(Device::kCpu, a, &z));
  return guarded(op, [&] {
    if (a.x.dtype == DType::kF32) run_resblock<float>(a, z.B, z.H, z.W, z.C);
    else run_resblock<bf16_t>(a, z.B, z.H, z.W, z.C);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
