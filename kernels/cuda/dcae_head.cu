// Op `dcae-head`: the DC-AE decoder's output head, NHWC in, NCHW out (the image layout), as the CPU
// backend defines it (kernels/cpu/dcae_head.cpp):
//   out (B, Cout, H, W) = conv3×3(act(RMSNorm2d(x; norm_w, norm_b, eps)); w) + bias
//   x (B, H, W, C), w (Cout, C, 3, 3) torch layout, zero padding 1; act ReLU in SANA (decoder_conv_act_fn).
// Composed from the CUDA rmsnorm rows (norms.cu), the CUDA conv3x3 (conv3x3.cu) and two small kernels,
// intermediates in the op's dtype (M = B·H·W pixels):
//   1. t = RMSNorm2d(x)·w + b     rmsnorm rows → scratch (M × C)
//   2. t = act(t)                 in place (skipped for act = none)
//   3. y = conv3×3(t) + bias      → scratch (M × Cout), NHWC
//   4. out = y as NCHW            one thread per output element (sana/cuda/dcae_maps.h: nchw_src)
// FLOPs 2·M·9·C·Cout + ≈ 6·M·C; minimal bytes (M·C + M·Cout + 9·C·Cout)·sizeof(T); this composition
// also writes t, reads and rewrites it (act) and reads it in the conv (+ 4·M·C), and moves y (+ 2·M·Cout).
// SANA at 4096²: M = 16.8 M, C = 128, Cout = 3: 116 GFLOP counted over ≈ 4.3 GB of bf16 input. The
// tensor-core conv computes 128-wide output tiles, so with Cout = 3 it executes ≈ 43× the counted
// FLOPs; a narrow direct conv with the norm fused would be the next version.
//
// Versions:
//   v1  rmsnorm v1 (a block per pixel) → act one thread per element → conv3x3 v1 (direct) → NCHW store.
//   v2  rmsnorm and conv3x3 at their default versions (16-byte row kernels; tensor cores for bf16 with
//       C % 8 == 0) → act 8 elements per thread (16-byte loads/stores when M·C % 8 == 0 and t is
//       16-byte aligned) → the same NCHW store.
#include "sana/cuda/common.cuh"
#include "sana/cuda/dcae_maps.h"
#include "sana/cuda/internal.h"

namespace sana::cuda {
namespace {

template <typename T> __global__ void act_v1(T* __restrict__ t, int64_t n, int act) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) t[i] = stf<T>(activate(ldf(t[i]), act));
}

// n8 groups of 8 elements, t 16-byte aligned.
template <typename T> __global__ void act_v2(T* __restrict__ t, int64_t n8, int act) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n8; i += int64_t{gridDim.x} * blockDim.x) {
    float v[8];
    load8(t + i * 8, v);
#pragma unroll
    for (int k = 0; k < 8; ++k) v[k] = activate(v[k], act);
    store8(t + i * 8, v);
  }
}

// out (B, Cout, HW) = y (B, HW, Cout) transposed per batch item.
template <typename T> __global__ void nchw_store(const T* __restrict__ y, T* __restrict__ out, int64_t n, int64_t HW, int64_t Cout) {
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n; e += int64_t{gridDim.x} * blockDim.x) out[e] = y[maps::nchw_src(HW, Cout, e)];
}

template <typename T> Status run_act(const char* op, int version, void* t, int64_t n, Activation act) {
  dim3 grid, block;
  const int a = static_cast<int>(act);
  if (version != 1 && n % 8 == 0 && aligned16(t)) {
    SANA_RETURN_IF_ERROR(to_dims(op, "act_v2", plan::elementwise(n / 8), &grid, &block));
    act_v2<T><<<grid, block, 0, op_stream()>>>(static_cast<T*>(t), n / 8, a);
    SANA_CUDA_LAUNCHED(op, "act_v2");
  } else {
    SANA_RETURN_IF_ERROR(to_dims(op, "act_v1", plan::elementwise(n), &grid, &block));
    act_v1<T><<<grid, block, 0, op_stream()>>>(static_cast<T*>(t), n, a);
    SANA_CUDA_LAUNCHED(op, "act_v1");
  }
  return Status::Ok();
}

template <typename T> Status run_nchw(const char* op, const void* y, void* out, int64_t n, int64_t HW, int64_t Cout) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "nchw_store", plan::elementwise(n), &grid, &block));
  nchw_store<T><<<grid, block, 0, op_stream()>>>(static_cast<const T*>(y), static_cast<T*>(out), n, HW, Cout);
  SANA_CUDA_LAUNCHED(op, "nchw_store");
  return Status::Ok();
}

}  // namespace

Status dcae_head(const DcaeHeadArgs& a, int version) {
  const char* op = "dcae-head";
  DcaeHeadSizes sz;
  SANA_RETURN_IF_ERROR(check_dcae_head_args(Device::kCuda, a, &sz));
  if (version < 0 || version > 2) return unknown_version(op, version, 2);
  const int act = static_cast<int>(a.act);
  if (act < 0 || act > 3) return InvalidArgument("dcae-head: unknown activation " + std::to_string(act));
  const int inner = version == 1 ? 1 : 0;  // the norm's and the conv's version
  const DType dt = a.x.dtype;
  const int64_t B = sz.B, H = sz.H, W = sz.W, C = sz.C, Cout = sz.Cout, M = B * H * W, es = dtype_bytes(dt);

  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s = [&]() -> Status {
    Scratch scratch(op);
    void *t = nullptr, *y = nullptr;
    SANA_RETURN_IF_ERROR(scratch.alloc(M * C * es, &t));
    SANA_RETURN_IF_ERROR(scratch.alloc(M * Cout * es, &y));
    SANA_RETURN_IF_ERROR(rms_rows(op, inner, dt, a.x.data, M, C, a.norm_w.data, a.norm_b.data, a.eps, nullptr, t));
    if (a.act != Activation::kNone) {
      SANA_RETURN_IF_ERROR(dt == DType::kF32 ? run_act<float>(op, version, t, M * C, a.act) : run_act<bf16>(op, version, t, M * C, a.act));
    }
    Conv3x3Args c;
    c.x = a.x;  // (B, H, W, C) on the device, in x's dtype
    c.x.data = t;
    c.w = a.w;
    c.bias = a.bias;
    c.stride = 1;
    c.act = Activation::kNone;
    c.out = a.x;
    c.out.data = y;
    c.out.shape[3] = Cout;
    SANA_RETURN_IF_ERROR(conv3x3_upsampled(c, 1, inner));
    return dt == DType::kF32 ? run_nchw<float>(op, y, a.out.data, a.out.numel(), H * W, Cout) : run_nchw<bf16>(op, y, a.out.data, a.out.numel(), H * W, Cout);
  }();
  return scope.finish(s);
}

}  // namespace sana::cuda
