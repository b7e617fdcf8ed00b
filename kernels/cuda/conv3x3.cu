// Ops `conv3x3` and `dcae-resblock` (composed at the end of the file), NHWC activations.
//
// `conv3x3`: x (B, H, W, Cin), w (Cout, Cin, 3, 3) torch layout, zero padding 1, stride 1 or 2,
// out (B, Ho, Wo, Cout) = residual + act(conv + bias) (the shortcut fused into the epilogue). The
// input may be read nearest-upsampled by 2 in place (DC-AE's InterpolateConv: conv3x3_upsampled),
// so the upsampled tensor (4× the input) never exists. As an implicit gemm: M = B·Ho·Wo pixels,
// N = Cout, K = 9·Cin, A[m][(ky·3 + kx)·Cin + ci] = x[b, oy·s + ky − 1, ox·s + kx − 1, ci].
// FLOPs 2·M·Cout·9·Cin; minimal bytes (B·H·W·Cin + M·Cout + 9·Cin·Cout)·sizeof(T) (+ residual).
// DC-AE decoder stage 0 at 4096²: M = 16.8 M, Cin = Cout = 128 → 4.9 TFLOP per conv over ≈ 8.6 GB
// of bf16 activations: ≈ 570 FLOP/B, compute-bound on tensor cores. The tensors exceed 2³¹
// elements, so every index is 64-bit.
//
// Versions:
//   v1  direct: one thread per output element, 9·Cin multiply-adds from global memory (torch weight
//       layout read as is). Obviously right, very slow.
//   v2  implicit gemm on the SIMT engine (gemm v1) with im2col computed on the fly; f32 or bf16.
//   v3  implicit gemm on tensor cores (gemm v2): the weight reordered once per call into (Cout, 9·Cin)
//       scratch, 16-byte cp.async chunks of 8 input channels per tap, padding zero-filled in the copy.
//       bf16, Cin % 8 == 0.
//   v4  Hopper (sm_90a): the implicit gemm on gemm v3's wgmma pipeline, im2col done by the copy engine.
//       A tile is 128 pixels of one output row; each K slice (tap, 64 channels) is one 4-D TMA box of
//       the NHWC x at the tap's offset — (64 channels, 128 pixels, 1 row, 1 image) — whose coordinates
//       outside the image (x − 1 < 0, y + 1 ≥ H, …) the hardware fills with zeros: the padding costs
//       nothing and no thread computes an address. Same FLOPs as v3; x is read 9 times per output tile
//       through L2 (the taps overlap), HBM ideally once. bf16, stride 1, no upsampling, Cin % 64 == 0,
//       W % 128 == 0 (DC-AE's ResBlocks from 512² up). The default wherever it can run (H200,
//       2026-11-28: 10.7 ms vs v3's 34.6 ms at DC-AE stage 0, 4096²); else v3, else v2.
#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/internal.h"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

template <typename T>
__global__ void conv_direct_v1(const T* __restrict__ x, const T* __restrict__ w, Epilogue<T> ep, int64_t B, int64_t H, int64_t W, int64_t Cin,
                               int64_t Ho, int64_t Wo, int64_t Cout, int stride, int up) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int64_t total = B * Ho * Wo * Cout;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t co = e % Cout, m = e / Cout, ox = m % Wo, t = m / Wo, oy = t % Ho, b = t / Ho;
    float acc = 0.0f;
    for (int ky = 0; ky < 3; ++ky) {
      const int64_t iy = oy * stride + ky - 1;
      if (iy < 0 || iy >= H * up) continue;
      for (int kx = 0; kx < 3; ++kx) {
        const int64_t ix = ox * stride + kx - 1;
        if (ix < 0 || ix >= W * up) continue;
        const T* xp = x + ((b * H + iy / up) * W + ix / up) * Cin;
        const T* wp = w + co * Cin * 9 + ky * 3 + kx;
        for (int64_t ci = 0; ci < Cin; ++ci) acc = fmaf(ldf(xp[ci]), ldf(wp[ci * 9]), acc);
      }
    }
    ep.store(m, co, acc);
  }
}

template <typename T> Epilogue<T> conv_epilogue(void* out, int64_t Cout, const void* bias, Activation act, const void* residual) {
  Epilogue<T> ep;
  ep.out = static_cast<T*>(out);
  ep.ldo = Cout;
  ep.bias = static_cast<const T*>(bias);
  ep.act = static_cast<int>(act);
  ep.residual = static_cast<const T*>(residual);
  ep.res_ld = Cout;
  return ep;
}

// One convolution on device pointers (shapes already checked). version 0 = default.
struct ConvCall {
  DType dt;
  const void* x;
  const void* w;
  const void* bias;
  Activation act;
  const void* residual;
  void* out;
  int64_t B, H, W, Cin, Cout, Ho, Wo;
  int stride, up;
};

bool conv_mma_ok(const ConvCall& c) { return c.dt == DType::kBF16 && c.Cin % 8 == 0 && aligned16(c.x); }

bool conv_wgmma_ok(const ConvCall& c) {
  return c.dt == DType::kBF16 && c.stride == 1 && c.up == 1 && c.Cin % 64 == 0 && c.W % 128 == 0 && aligned16(c.x);
}

Status conv_check_version(const char* op, int version, const ConvCall& c) {
  if (version < 0 || version > 4) return unknown_version(op, version, 4);
  if (version == 3 && !conv_mma_ok(c)) return bad_version(op, 3, "(tensor cores) needs bf16, Cin % 8 == 0 and a 16-byte aligned x");
  if (version == 4 && !conv_wgmma_ok(c)) {
    return bad_version(op, 4, "(wgmma, TMA im2col) needs bf16, stride 1 without upsampling, Cin % 64 == 0, a width that is a multiple of 128 and a 16-byte aligned x");
  }
  return Status::Ok();
}

Status run_conv(const char* op, int version, const ConvCall& c, Scratch& scratch) {
  SANA_RETURN_IF_ERROR(conv_check_version(op, version, c));
  // Default: v4 where it can run on an sm_90 GPU (H200: 10.7 ms vs v3's 34.6 ms for DC-AE stage 0 at
  // 4096²), else v3 (tensor cores), else v2. A composite's default conv follows the same rule.
  if (version == 0) version = conv_wgmma_ok(c) && hopper_defaults() ? 4 : conv_mma_ok(c) ? 3 : 2;
  if (version == 1) {
    dim3 grid, block;
    SANA_RETURN_IF_ERROR(to_dims(op, "conv_direct_v1", plan::elementwise(c.B * c.Ho * c.Wo * c.Cout), &grid, &block));
    if (c.dt == DType::kF32) {
      SANA_CUDA_CHECK(op, launch_dependent("conv_direct_v1<float>", conv_direct_v1<float>, grid, block, 0, static_cast<const float*>(c.x),
                                           static_cast<const float*>(c.w), conv_epilogue<float>(c.out, c.Cout, c.bias, c.act, c.residual), c.B, c.H,
                                           c.W, c.Cin, c.Ho, c.Wo, c.Cout, c.stride, c.up));
    } else {
      SANA_CUDA_CHECK(op, launch_dependent("conv_direct_v1<bf16>", conv_direct_v1<bf16>, grid, block, 0, static_cast<const bf16*>(c.x),
                                           static_cast<const bf16*>(c.w), conv_epilogue<bf16>(c.out, c.Cout, c.bias, c.act, c.residual), c.B, c.H,
                                           c.W, c.Cin, c.Ho, c.Wo, c.Cout, c.stride, c.up));
    }
    SANA_CUDA_LAUNCHED(op, "conv_direct_v1");
    return Status::Ok();
  }
  GemmProblem p;
  p.dtype = c.dt;
  p.M = c.B * c.Ho * c.Wo;
  p.N = c.Cout;
  p.K = 9 * c.Cin;
  p.a = c.x;
  p.a_conv = true;
  p.conv_b = c.B;
  p.conv_h = c.H;
  p.conv_w = c.W;
  p.conv_cin = c.Cin;
  p.conv_ho = c.Ho;
  p.conv_wo = c.Wo;
  p.conv_stride = c.stride;
  p.conv_upsample = c.up;
  p.c = c.out;
  p.ldc = c.Cout;
  p.bias = c.bias;
  p.act = c.act;
  p.residual = c.residual;
  p.res_ld = c.Cout;
  if (version == 2) {
    p.b = c.w;
    p.b_torch_conv = true;
    return launch_gemm_simt(op, p);
  }
  void* wr = nullptr;
  const int64_t es = c.dt == DType::kF32 ? 4 : 2;
  SANA_RETURN_IF_ERROR(scratch.alloc(c.Cout * 9 * c.Cin * es, &wr));
  SANA_RETURN_IF_ERROR(reorder_conv_weight(op, c.dt, c.w, c.Cout, c.Cin, wr));
  p.b = wr;
  p.ldb = 9 * c.Cin;
  return version == 4 ? launch_gemm_wgmma(op, p, 4) : launch_gemm_mma(op, p);
}

constexpr int64_t kMaxSide = int64_t{1} << 29;  // H·upsample, W·upsample fit the tensor-core kernel's int32 coordinates

}  // namespace

Status conv3x3_upsampled(const Conv3x3Args& a, int upsample, int version) {
  const char* op = "conv3x3";
  Conv3x3Sizes sz;
  SANA_RETURN_IF_ERROR(check_conv3x3_args(Device::kCuda, a, &sz, upsample));
  if (sz.H * upsample > kMaxSide || sz.W * upsample > kMaxSide) return InvalidArgument("conv3x3: image " + shp(a.x) + " is too large");
  ConvCall c{a.x.dtype, a.x.data, a.w.data, a.bias ? a.bias->data : nullptr, a.act, a.residual ? a.residual->data : nullptr, a.out.data,
             sz.B, sz.H, sz.W, sz.Cin, sz.Cout, sz.Ho, sz.Wo, a.stride, upsample};
  SANA_RETURN_IF_ERROR(conv_check_version(op, version, c));
  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s;
  {
    Scratch scratch(op);
    s = run_conv(op, version, c, scratch);
  }
  return scope.finish(s);
}

Status conv3x3(const Conv3x3Args& a, int version) { return conv3x3_upsampled(a, 1, default_version_override("conv3x3", version)); }

// ---------------------------------------------------------------- op `dcae-resblock`
// DC-AE's ResBlock on NHWC: out = x + RMSNorm2d(conv3x3₂(SiLU(conv3x3₁(x) + b1)); norm_w, norm_b), eps.
//   t1 = SiLU(conv₁(x) + b1)           conv, bias + SiLU in the epilogue → scratch (M × C)
//   t2 = conv₂(t1)                      conv → scratch (M × C)
//   out = x + rmsnorm(t2)·w + b         rmsnorm rows with the residual fused
// FLOPs 2·2·M·C·9·C + ≈ 6·M·C; minimal bytes 2·M·C·sizeof(T) + weights; this composition also writes
// and reads t1 and t2 (4·M·C·sizeof(T)).
// Versions: v1 = conv v1 (direct) + rmsnorm v1 (all obviously-right kernels); v2 = conv v2 (SIMT
// implicit gemm) + default rmsnorm; v3 = conv v3 (tensor cores, bf16, C % 8 == 0) + default rmsnorm;
// v4 = conv v4 (Hopper wgmma with TMA im2col: C % 64 == 0, W % 128 == 0) + default rmsnorm.
Status dcae_resblock(const DcaeResBlockArgs& a, int version) {
  const char* op = "dcae-resblock";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  DcaeResBlockSizes sz;
  SANA_RETURN_IF_ERROR(check_dcae_resblock_args(Device::kCuda, a, &sz));
  const DType dt = a.x.dtype;
  const int64_t B = sz.B, H = sz.H, W = sz.W, C = sz.C;
  if (H > kMaxSide || W > kMaxSide) return InvalidArgument("dcae-resblock: image " + shp(a.x) + " is too large");
  const int64_t M = B * H * W;
  ConvCall c1{dt, a.x.data, a.w1.data, a.b1.data, Activation::kSilu, nullptr, nullptr, B, H, W, C, C, H, W, 1, 1};
  SANA_RETURN_IF_ERROR(conv_check_version(op, version, c1));

  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s = [&]() -> Status {
    Scratch scratch(op);
    const int64_t es = dt == DType::kF32 ? 4 : 2;
    void *t1 = nullptr, *t2 = nullptr;
    SANA_RETURN_IF_ERROR(scratch.alloc(M * C * es, &t1));
    SANA_RETURN_IF_ERROR(scratch.alloc(M * C * es, &t2));
    c1.out = t1;
    SANA_RETURN_IF_ERROR(run_conv(op, version, c1, scratch));
    ConvCall c2{dt, t1, a.w2.data, nullptr, Activation::kNone, nullptr, t2, B, H, W, C, C, H, W, 1, 1};
    SANA_RETURN_IF_ERROR(run_conv(op, version, c2, scratch));
    return rms_rows(op, version == 1 ? 1 : 0, dt, t2, M, C, a.norm_w.data, a.norm_b.data, a.eps, a.x.data, a.out.data);
  }();
  return scope.finish(s);
}

}  // namespace sana::cuda
