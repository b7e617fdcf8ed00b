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
//   v3  interpolate only: the sub-pixel (phase) form of the conv on Hopper's wgmma/TMA conv engine (conv3x3
//       v4's). Output pixel (2y + a, 2x + b) of conv3×3(nearest2×(x)) reads only x's 2×2 window at rows
//       y + a − 1 …, columns x + b − 1 … (maps::phase_tap: along an axis phase 0 is {−1: w0, 0: w1 + w2},
//       phase 1 {0: w0 + w1, +1: w2}; the upsampled image's padding is x's). So each of the 4 phases is a
//       4-tap conv on x itself (K = 4·C instead of 9·C: 2.25× fewer FLOPs, and x, not the 4× larger
//       upsampled image, is what the taps read) with combined weights: one small kernel sums each phase's
//       taps in f32 from the bf16 w and rounds the sum once to bf16 (the engine's operand type) into
//       (4, Co, 4·C) scratch; then one wgmma launch per phase, each tile = 128 pixels of one x row as
//       4·C/64 TMA boxes, its epilogue storing tile row r at output pixel (2y + a, 2(x0 + r) + b) (rows
//       2 apart, GemmProblem::conv_phase) and reading the shortcut residual at the same addresses. The
//       shortcut is stored first as in v2. bf16, C % 64 == 0, W % 128 == 0, sm_90a; refused before any
//       launch otherwise (and pixel-shuffle / none). FLOPs 2·B·4HW·4·C·Co (SANA stage 0 at 4096²: 4.4
//       TFLOP vs v2's 9.9); bytes as v2 with x read once per phase (4·B·H·W·C·2, mostly from HBM) + the
//       combined weights (16·C·Co·2). Not the default: version 0 stays v2 until a GPU has timed v3.
#include "sana/cuda/common.cuh"
#include "sana/cuda/dcae_maps.h"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

// out = shortcut(x), one thread per output element (the stored values are x's, bit for bit).
template <typename T> __global__ void shortcut_store_v1(const T* __restrict__ x, T* __restrict__ out, maps::Upsample g) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int64_t n = g.out_numel();
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n; e += int64_t{gridDim.x} * blockDim.x) out[e] = x[maps::shortcut_src(g, e)];
}

// The same, 8 output channels per thread (Co % 8 == 0, out 16-byte aligned): 8 gathered loads, one
// 16-byte (bf16) or two 16-byte (f32) stores.
template <typename T> __global__ void shortcut_store_v2(const T* __restrict__ x, T* __restrict__ out, maps::Upsample g) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
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
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
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
    SANA_CUDA_CHECK(op, launch_dependent("shortcut_store_v2<T>", shortcut_store_v2<T>, grid, block, 0, static_cast<const T*>(x), static_cast<T*>(out),
                                         g));
    SANA_CUDA_LAUNCHED(op, "shortcut_store_v2");
  } else {
    SANA_RETURN_IF_ERROR(to_dims(op, "shortcut_store_v1", plan::elementwise(g.out_numel()), &grid, &block));
    SANA_CUDA_CHECK(op, launch_dependent("shortcut_store_v1<T>", shortcut_store_v1<T>, grid, block, 0, static_cast<const T*>(x), static_cast<T*>(out),
                                         g));
    SANA_CUDA_LAUNCHED(op, "shortcut_store_v1");
  }
  return Status::Ok();
}

template <typename T> Status store_shuffled(const char* op, const void* t, const void* x, void* out, const maps::Upsample& g, bool shortcut) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "shuffle_store", plan::elementwise(g.out_numel()), &grid, &block));
  SANA_CUDA_CHECK(op, launch_dependent("shuffle_store<T>", shuffle_store<T>, grid, block, 0, static_cast<const T*>(t), static_cast<const T*>(x),
                                       static_cast<T*>(out), g, shortcut));
  SANA_CUDA_LAUNCHED(op, "shuffle_store");
  return Status::Ok();
}

// v3's combined weights: wp[ph][co][(jy·2 + jx)·C + ci] = Σ w[co][ci][ky][kx] over the taps with
// phase_tap(a, ky) == jy, phase_tap(b, kx) == jx (ph = 2a + b), summed in f32, rounded once.
__global__ void phase_weights(const bf16* __restrict__ w, bf16* __restrict__ wp, int64_t Co, int64_t C) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int64_t n = 16 * Co * C;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t ci = e % C, t = e / C, tap = t % 4, co = (t / 4) % Co, ph = t / 4 / Co;
    const int a = static_cast<int>(ph >> 1), b = static_cast<int>(ph & 1), jy = static_cast<int>(tap >> 1), jx = static_cast<int>(tap & 1);
    const bf16* src = w + (co * C + ci) * 9;
    float sum = 0.0f;
    for (int ky = 0; ky < 3; ++ky) {
      if (maps::phase_tap(a, ky) != jy) continue;
      for (int kx = 0; kx < 3; ++kx) {
        if (maps::phase_tap(b, kx) == jx) sum += ldf(src[ky * 3 + kx]);
      }
    }
    wp[e] = stf<bf16>(sum);
  }
}

// One phase of v3 as a wgmma conv problem (b = that phase's combined weight).
GemmProblem phase_problem(const DcaeUpsampleArgs& a, const DcaeUpsampleSizes& sz, int phase, const void* wp) {
  GemmProblem p;
  p.dtype = DType::kBF16;
  p.M = sz.B * sz.H * sz.W;
  p.N = sz.Co;
  p.K = 4 * sz.C;
  p.a = a.x.data;
  p.a_conv = true;
  p.conv_b = sz.B;
  p.conv_h = sz.H;
  p.conv_w = sz.W;
  p.conv_cin = sz.C;
  p.conv_ho = 2 * sz.H;
  p.conv_wo = 2 * sz.W;
  p.conv_upsample = 2;
  p.conv_phase = phase;
  p.b = wp;
  p.ldb = 4 * sz.C;
  p.c = a.out.data;
  p.ldc = sz.Co;
  p.bias = a.bias ? a.bias->data : nullptr;
  p.residual = a.shortcut ? a.out.data : nullptr;
  p.res_ld = sz.Co;
  return p;
}

// v3: everything it refuses, checked before any launch (out untouched on a refusal).
Status check_v3(const char* op, const DcaeUpsampleArgs& a, const DcaeUpsampleSizes& sz) {
  if (a.mode != DcaeUpsampleMode::kInterpolate) return bad_version(op, 3, "(sub-pixel wgmma conv) runs only the interpolate mode");
  if (a.x.dtype != DType::kBF16) return bad_version(op, 3, "(sub-pixel wgmma conv) needs bf16");
  if (sz.H > (int64_t{1} << 29) || sz.W > (int64_t{1} << 29)) return InvalidArgument(std::string(op) + ": image " + shp(a.x) + " is too large");
  return gemm_wgmma_check(op, phase_problem(a, sz, 0, nullptr), 3);  // the weight scratch is 256-byte aligned
}

Status run_v3(const char* op, const DcaeUpsampleArgs& a, const DcaeUpsampleSizes& sz, const maps::Upsample& g) {
  Scratch scratch(op);
  void* wp = nullptr;
  SANA_RETURN_IF_ERROR(scratch.alloc(16 * sz.Co * sz.C * 2, &wp));
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "phase_weights", plan::elementwise(16 * sz.Co * sz.C), &grid, &block));
  SANA_CUDA_CHECK(op, launch_dependent("phase_weights", phase_weights, grid, block, 0, static_cast<const bf16*>(a.w.data), static_cast<bf16*>(wp),
                                       sz.Co, sz.C));
  SANA_CUDA_LAUNCHED(op, "phase_weights");
  if (a.shortcut) SANA_RETURN_IF_ERROR(store_shortcut<bf16>(op, 3, a.x.data, a.out.data, g));
  for (int ph = 0; ph < 4; ++ph) {
    const void* w_ph = static_cast<const bf16*>(wp) + ph * sz.Co * 4 * sz.C;
    SANA_RETURN_IF_ERROR(launch_gemm_wgmma(op, phase_problem(a, sz, ph, w_ph), 3));
  }
  return Status::Ok();
}

}  // namespace

Status dcae_upsample(const DcaeUpsampleArgs& a, int version) {
  const char* op = "dcae-upsample";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  DcaeUpsampleSizes sz;
  SANA_RETURN_IF_ERROR(check_dcae_upsample_args(Device::kCuda, a, &sz));
  if (version < 0 || version > 3) return unknown_version(op, version, 3);
  if (version == 3) SANA_RETURN_IF_ERROR(check_v3(op, a, sz));
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
    if (version == 3) return run_v3(op, a, sz, g);
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
