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
  const DType dt = a.x.dtype;
  if (dt != DType::kF32 && dt != DType::kBF16) return InvalidArgument("conv3x3: x must be f32 or bf16");
  SANA_RETURN_IF_ERROR(check_float(op, "x", a.x, dt));
  SANA_RETURN_IF_ERROR(check_float(op, "w", a.w, dt));
  SANA_RETURN_IF_ERROR(check_float(op, "out", a.out, dt));
  if (a.x.ndim != 4) return InvalidArgument("conv3x3: want x (B, H, W, Cin) NHWC, got " + shp(a.x));
  const int64_t B = a.x.shape[0], H = a.x.shape[1], W = a.x.shape[2], Cin = a.x.shape[3];
  if (a.w.ndim != 4 || a.w.shape[1] != Cin || a.w.shape[2] != 3 || a.w.shape[3] != 3) {
    return InvalidArgument("conv3x3: w " + shp(a.w) + " is not (Cout, " + std::to_string(Cin) + ", 3, 3) for x " + shp(a.x));
  }
  if (a.stride != 1 && a.stride != 2) return InvalidArgument("conv3x3: stride must be 1 or 2");
  const int64_t Cout = a.w.shape[0], Ho = (H - 1) / a.stride + 1, Wo = (W - 1) / a.stride + 1;
  if (!is_shape(a.out, {B, Ho, Wo, Cout})) return InvalidArgument("conv3x3: out " + shp(a.out) + " is not (B, Ho, Wo, Cout)");
  if (a.bias) {
    SANA_RETURN_IF_ERROR(check_float(op, "bias", *a.bias, dt));
    if (!is_vector(*a.bias, Cout)) return InvalidArgument("conv3x3: bias " + shp(*a.bias) + " is not a vector of " + std::to_string(Cout));
  }
  if (a.residual) {
    SANA_RETURN_IF_ERROR(check_float(op, "residual", *a.residual, dt));
    if (!same_shape(*a.residual, a.out)) return InvalidArgument("conv3x3: residual " + shp(*a.residual) + " differs from out " + shp(a.out));
  }
  if (a.out.data == a.x.data) return InvalidArgument("conv3x3: out must not be x (the patches are read while out is written)");
  return guarded(op, [&] {
    if (dt == DType::kF32) run_conv<float>(a, B, H, W, Cin, Cout);
    else run_conv<bf16_t>(a, B, H, W, Cin, Cout);
    return Status::Ok();
  });
}

Status dcae_resblock(const DcaeResBlockArgs& a) {
  const char* op = "dcae-resblock";
  const DType dt = a.x.dtype;
  if (dt != DType::kF32 && dt != DType::kBF16) return InvalidArgument("dcae-resblock: x must be f32 or bf16");
  for (auto [t, name] : {std::pair{&a.x, "x"}, {&a.w1, "w1"}, {&a.b1, "b1"}, {&a.w2, "w2"}, {&a.norm_w, "normWeight"}, {&a.norm_b, "normBias"},
                         {&a.out, "out"}}) {
    SANA_RETURN_IF_ERROR(check_float(op, name, *t, dt));
  }
  if (a.x.ndim != 4 || !same_shape(a.x, a.out)) return InvalidArgument("dcae-resblock: want x and out (B, H, W, C) NHWC, got " + shp(a.x) + ", " + shp(a.out));
  const int64_t B = a.x.shape[0], H = a.x.shape[1], W = a.x.shape[2], C = a.x.shape[3];
  if (!is_shape(a.w1, {C, C, 3, 3}) || !is_shape(a.w2, {C, C, 3, 3}) || !is_vector(a.b1, C) || !is_vector(a.norm_w, C) || !is_vector(a.norm_b, C)) {
    return InvalidArgument("dcae-resblock: weights w1 " + shp(a.w1) + ", b1 " + shp(a.b1) + ", w2 " + shp(a.w2) + ", norm " + shp(a.norm_w) + "/" +
                           shp(a.norm_b) + " do not fit x " + shp(a.x));
  }
  return guarded(op, [&] {
    if (dt == DType::kF32) run_resblock<float>(a, B, H, W, C);
    else run_resblock<bf16_t>(a, B, H, W, C);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
