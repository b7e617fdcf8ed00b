// Op `dcae-upsample`: a DC-AE decoder 3×3 conv (zero padding 1) with its non-parametric shortcut, on
// NHWC x (B, H, W, C), w (Nc, C, 3, 3) torch layout, as the CPU backend defines it
// (kernels/cpu/dcae_upsample.cpp):
//   none (the decoder's conv_in, f = 1):   out (B, H, W, Co)   = conv3×3(x) + b                      Nc = Co
//   interpolate (SANA's up blocks, f = 2): out (B, 2H, 2W, Co) = conv3×3(nearest2×(x)) + b           Nc = Co
//   pixel-shuffle (f = 2):                 out (B, 2H, 2W, Co) = pixel_shuffle(conv3×3(x) + b, 2)    Nc = 4·Co
//   + shortcut: out[b, oy, ox, o] += x[b, ⌊oy/f⌋, ⌊ox/f⌋, ⌊(o·f² + (oy mod f)·f + ox mod f) / r⌋], r = Co·f²/C
// (= pixel_shuffle(repeat_interleave(x, r), f), diffusers' DCUpBlock2d shortcut; the index maps are in
// sana/cuda/dcae_maps.h, tested on the host).
// Composed from the CUDA conv3x3 (conv3x3.cu) and two small layout kernels:
//   none / interpolate:  1. out = shortcut(x)            a copy of x's values (exact), skipped without the shortcut
//                        2. out = conv3×3(up_f(x)) + b + out   conv3x3_upsampled with out as its residual (each
//                           element read and then written by the same thread): the nearest-upsampled image is
//                           read in place, and the shortcut is added in f32 with a single rounding
//   pixel-shuffle:       1. t = conv3×3(x) + b  → scratch (B, H, W, 4·Co)
//                        2. out = pixel_shuffle(t) + shortcut(x)  one thread per output element
// FLOPs 2·B·(f²·H·W)·9·C·Co (the conv; the same count for pixel-shuffle); minimal bytes
// (B·H·W·C + B·f²·H·W·Co + 9·C·Nc)·sizeof(T); this composition also writes the shortcut into out and
// reads it back in the conv epilogue (+ 2·out), or writes and reads t (pixel-shuffle, + 2·out).
// SANA's decoder at 4096² (stage 0: 256 → 128 channels, 2048² → 4096²): 2·16.8 M·9·256·128 ≈ 9.9 TFLOP,
// out has 2.1 G elements (2³² at batch 2), so every index is 64-bit.
//
// Versions:
//   v1  the conv at its version 1 (direct, one thread per output element) + the shortcut copy one
//       thread per output element (scalar index decode). Obviously right, slow.
//   v2  the conv at its default version (tensor cores for bf16 with C % 8 == 0, else the SIMT implicit
//       gemm) + the shortcut copy 8 channels per thread (pixel decoded once, 16-byte stores; Co % 8 == 0
//       and a 16-byte aligned out, else the scalar copy). pixel-shuffle's store is the same kernel in both.
#include "sana/cuda/common.cuh"
#include "sana/cuda/dcae_maps.h"

namespace sana::cuda {
namespace {

// out = shortcut(x), one thread per output element (the stored values are x's, bit for bit).
template <typename T> __global__ void shortcut_store_v1(const T* __restrict__ x, T* __restrict__ out, maps::Upsample g) {
  const int64_t n = g.out_numel();
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n; e += int64_t{gridDim.x} * blockDim.x) out[e] = x[maps::shortcut_src(g, e)];
}

// The same, 8 output channels per thread (Co % 8 == 0, out 16-byte aligned): 8 gathered loads, one
// 16-byte (bf16) or two 16-byte (f32) stores.
template <typename T> __global__ void shortcut_store_v2(const T* __restrict__ x, T* __restrict__ out, maps::Upsample g) {
  static_assert(sizeof(T) == 2 || sizeof(T) == 4, "bf16 or f32 storage");
  constexpr int kWords = static_cast<int>(sizeof(T)) / 2;  // 16-byte words per 8 elements
  const int64_t items = g.out_numel() / 8;
  for (int64_t it = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; it < items; it += int64_t{gridDim.x} * blockDim.x) {
    int64_t src[8];
    const int64_t o = maps::shortcut_src8(g, it, src);
    alignas(16) T v[8];
#pragma unroll
    for (int k = 0; k < 8; ++k) v[k] = x[src[k]];
#pragma unroll
    for (int w = 0; w < kWords; ++w) reinterpret_cast<uint4*>(out + o)[w] = reinterpret_cast<const uint4*>(v)[w];
  }
}

// pixel-shuffle: out[e] = t[shuffled] (+ x[shortcut]), t the conv output (B, H, W, 4·Co).
template <typename T>
__global__ void shuffle_store(const T* __restrict__ t, const T* __restrict__ x, T* __restrict__ out, maps::Upsample g, bool shortcut) {
  const int64_t n = g.out_numel();
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n; e += int64_t{gridDim.x} * blockDim.x) {
    int64_t ts = 0, xs = 0;
    maps::pixel_shuffle_src(g, e, &ts, &xs);
    float v = ldf(t[ts]);
    if (shortcut) v += ldf(x[xs]);
    out[e] = stf<T>(v);
  }
}

template <typename T> Status store_shortcut(const char* op, int version, const void* x, void* out, const maps::Upsample& g) {
  dim3 grid, block;
  const bool vec = version != 1 && g.Co % 8 == 0 && aligned16(out);
  if (vec) {
    SANA_RETURN_IF_ERROR(to_dims(op, "shortcut_store_v2", plan::elementwise(g.out_numel() / 8), &grid, &block));
    shortcut_store_v2<T><<<grid, block, 0, op_stream()>>>(static_cast<const T*>(x), static_cast<T*>(out), g);
    SANA_CUDA_LAUNCHED(op, "shortcut_store_v2");
  } else {
    SANA_RETURN_IF_ERROR(to_dims(op, "shortcut_store_v1", plan::elementwise(g.out_numel()), &grid, &block));
    shortcut_store_v1<T><<<grid, block, 0, op_stream()>>>(static_cast<const T*>(x), static_cast<T*>(out), g);
    SANA_CUDA_LAUNCHED(op, "shortcut_store_v1");
  }
  return Status::Ok();
}

template <typename T> Status store_shuffled(const char* op, const void* t, const void* x, void* out, const maps::Upsample& g, bool shortcut) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "shuffle_store", plan::elementwise(g.out_numel()), &grid, &block));
  shuffle_store<T><<<grid, block, 0, op_stream()>>>(static_cast<const T*>(t), static_cast<const T*>(x), static_cast<T*>(out), g, shortcut);
  SANA_CUDA_LAUNCHED(op, "shuffle_store");
  return Status::Ok();
}

}  // namespace

Status dcae_upsample(const DcaeUpsampleArgs& a, int version) {
  const char* op = "dcae-upsample";
  DcaeUpsampleSizes sz;
  SANA_RETURN_IF_ERROR(check_dcae_upsample_args(Device::kCuda, a, &sz));
  if (version < 0 || version > 2) return unknown_version(op, version, 2);
  const int inner = version == 1 ? 1 : 0;  // the conv's version
  const DType dt = a.x.dtype;
  maps::Upsample g;
  g.B = sz.B;
  g.H = sz.H;
  g.W = sz.W;
  g.C = sz.C;
  g.Co = sz.Co;
  g.r = sz.r;
  g.f = sz.f;

  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s = [&]() -> Status {
    Conv3x3Args c;
    c.x = a.x;
    c.w = a.w;
    c.bias = a.bias;
    c.stride = 1;
    c.act = Activation::kNone;
    if (a.mode != DcaeUpsampleMode::kPixelShuffle) {
      if (a.shortcut) {
        SANA_RETURN_IF_ERROR(dt == DType::kF32 ? store_shortcut<float>(op, version, a.x.data, a.out.data, g)
                                               : store_shortcut<bf16>(op, version, a.x.data, a.out.data, g));
      }
      c.residual = a.shortcut ? &a.out : nullptr;
      c.out = a.out;
      return conv3x3_upsampled(c, static_cast<int>(sz.f), inner);
    }
    Scratch scratch(op);
    void* t = nullptr;
    SANA_RETURN_IF_ERROR(scratch.alloc(sz.B * sz.H * sz.W * sz.Nc * dtype_bytes(dt), &t));
    TensorView tv = a.x;  // (B, H, W, 4·Co) in x's dtype, on the device
    tv.data = t;
    tv.shape[3] = sz.Nc;
    c.out = tv;
    SANA_RETURN_IF_ERROR(conv3x3_upsampled(c, 1, inner));
    return dt == DType::kF32 ? store_shuffled<float>(op, t, a.x.data, a.out.data, g, a.shortcut)
                             : store_shuffled<bf16>(op, t, a.x.data, a.out.data, g, a.shortcut);
  }();
  return scope.finish(s);
}

}  // namespace sana::cuda
