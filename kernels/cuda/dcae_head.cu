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
// FLOPs; v3 is the narrow direct conv with the norm fused.
//
// Versions:
//   v1  rmsnorm v1 (a block per pixel) → act one thread per element → conv3x3 v1 (direct) → NCHW store.
//   v2  rmsnorm and conv3x3 at their default versions (16-byte row kernels; tensor cores for bf16 with
//       C % 8 == 0) → act 8 elements per thread (16-byte loads/stores when M·C % 8 == 0 and t is
//       16-byte aligned) → the same NCHW store.
//   v3  one fused kernel for narrow heads (C ≤ 128, Cout ≤ 4: SANA's 128 → 3). A block owns a 16×16
//       tile of one image: a warp per pixel of the 18×18 halo computes t = act(RMSNorm2d(x)) in f32
//       into shared memory (rows padded to C + 1 floats: the conv's 32 lanes read 32 pixels of one
//       channel conflict-free), zero outside the image (the conv's padding); then each thread convolves
//       its pixel over 9 taps × C channels with the weights as float4 broadcasts (Cout padded to 4)
//       and writes the NCHW output directly. Bytes ≈ (1.27·M·C + M·Cout)·sizeof(T): x read once (+ the
//       halo), nothing else stored; FLOPs 2·M·9·C·4 executed on FP32 cores (Cout padded to 4: 1.33×
//       the counted). Shared memory (324·(C + 1) + 36·C)·4 bytes: 185 KB at C = 128, one block per SM.
//       The default on sm_90 GPUs where it applies (H200: 31.0 ms vs v2's 37.2 ms at 4096², 1.99 vs
//       2.38 ms at 1024²); elsewhere v2 (its 185 KB of shared memory is over an A100's 164 KB, and it
//       has not been timed there).
//   v4  v3's fusion rebuilt around tensor cores (bf16, C % 16 == 0, C ≤ 128, Cout ≤ 8; mma.sync, so
//       sm_80+). Why v3 is slow (31 ms where x alone is 4.3 GB ≈ 1 ms of DRAM): per multiply-add group it
//       issues a scalar shared load and a 16-byte broadcast (≈ 9·C·2 loads per pixel: 1.2 G warp-level
//       loads at 4096²) with one block of 8 warps per SM (185 KB of f32 tile) to hide their latency, and
//       its norm phase waits on each halo pixel's global loads in turn. v4: a block's raw 18 × 18 halo
//       (bf16, C·2 + 16 bytes per pixel: 88 KB at C = 128) arrives by cp.async, all at once; a warp per
//       pixel normalizes it in place (t = act(RMSNorm2d(x)·w + b) in bf16, rounded where v2 rounds
//       it); then each warp runs the conv for 2 of the tile's 16-pixel rows as 9 taps × C/16
//       k-steps of mma.sync m16n8k16 (A = the row's pixels shifted by the tap, read by ldmatrix from the
//       halo; B = the tap's weights, outputs padded to 8, pre-arranged in shared memory in fragment
//       order: 9·C·16 bytes), adds the bias and stores the NCHW outputs (a plane's 16 pixels are 32
//       contiguous bytes). FLOPs executed 2·M·9·C·8 on tensor cores (2.7× the counted; 0.3 TFLOP at
//       4096²: negligible); bytes ≈ (1.27·M·C + M·Cout)·2 (the halo re-read from L2); 106 KB of shared
//       memory per block: 2 blocks per SM. Predicted ≈ 2 ms at 4096² (the copies at ~60% of DRAM
//       bandwidth + 1.3 ldmatrix wavefronts per pixel-tap). Explicit only: version 0 stays v3 on sm_90
//       until a GPU has timed v4 (written 2026-11, emulator parity only).
#include "sana/cuda/common.cuh"
#include "sana/cuda/dcae_maps.h"
#include "sana/cuda/internal.h"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

template <typename T> __global__ void act_v1(T* __restrict__ t, int64_t n, int act) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) t[i] = stf<T>(activate(ldf(t[i]), act));
}

// n8 groups of 8 elements, t 16-byte aligned.
template <typename T> __global__ void act_v2(T* __restrict__ t, int64_t n8, int act) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
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
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < n; e += int64_t{gridDim.x} * blockDim.x) out[e] = y[maps::nchw_src(HW, Cout, e)];
}

constexpr int kV3Tile = 16, kV3Halo = kV3Tile + 2, kV3HaloPix = kV3Halo * kV3Halo;
constexpr int64_t kV3MaxC = 128, kV3MaxCout = 4;

int64_t v3_smem_bytes(int64_t C) { return (kV3HaloPix * (C + 1) + 9 * C * kV3MaxCout) * 4; }

template <typename T>
__global__ void __launch_bounds__(256) head_fused_v3(const T* __restrict__ x, const T* __restrict__ nw, const T* __restrict__ nb,
                                                     const T* __restrict__ w, const T* __restrict__ bias, T* __restrict__ out, int64_t H,
                                                     int64_t W, int C, int Cout, float eps, int act) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  extern __shared__ __align__(16) float v3_smem[];
  const int tp = C + 1;                             // t row pitch (floats)
  float* t = v3_smem;                               // t[p][c], p over the 18×18 halo
  float* ws = v3_smem + kV3HaloPix * tp;            // ws[(tap·C + c)·4 + co] = w[co][c][tap]
  const int64_t b = blockIdx.y, tiles_x = (W + kV3Tile - 1) / kV3Tile;
  const int64_t ty0 = (blockIdx.x / tiles_x) * kV3Tile, tx0 = (blockIdx.x % tiles_x) * kV3Tile;
  const int tid = static_cast<int>(threadIdx.x), warp = tid / 32, lane = tid % 32;

  for (int i = tid; i < 9 * C * 4; i += 256) {
    const int co = i % 4, c = (i / 4) % C, tap = i / (4 * C);
    ws[i] = co < Cout ? ldf(w[(static_cast<int64_t>(co) * C + c) * 9 + tap]) : 0.0f;
  }
  for (int p = warp; p < kV3HaloPix; p += 8) {  // warp-uniform branches: the shuffles see all 32 lanes
    const int64_t iy = ty0 - 1 + p / kV3Halo, ix = tx0 - 1 + p % kV3Halo;
    float* tr = t + p * tp;
    if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
      for (int c = lane; c < C; c += 32) tr[c] = 0.0f;
      continue;
    }
    const T* xr = x + ((b * H + iy) * W + ix) * C;
    float ss = 0.0f;
    for (int c = lane; c < C; c += 32) {
      const float v = ldf(xr[c]);
      tr[c] = v;
      ss += v * v;
    }
#pragma unroll
    for (int o = 16; o > 0; o /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    const float ri = 1.0f / sqrtf(ss / static_cast<float>(C) + eps);
    for (int c = lane; c < C; c += 32) tr[c] = activate(tr[c] * ri * ldf(nw[c]) + ldf(nb[c]), act);
  }
  __syncthreads();

  const int oy = tid / kV3Tile, ox = tid % kV3Tile;
  const int64_t y = ty0 + oy, xo = tx0 + ox;
  if (y >= H || xo >= W) return;
  float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int tap = 0; tap < 9; ++tap) {
    const float* tr = t + ((oy + tap / 3) * kV3Halo + ox + tap % 3) * tp;
    const float4* wr = reinterpret_cast<const float4*>(ws + tap * C * 4);
    for (int c = 0; c < C; ++c) {
      const float v = tr[c];
      const float4 q = wr[c];
      acc[0] = fmaf(v, q.x, acc[0]);
      acc[1] = fmaf(v, q.y, acc[1]);
      acc[2] = fmaf(v, q.z, acc[2]);
      acc[3] = fmaf(v, q.w, acc[3]);
    }
  }
  const int64_t HW = H * W, pix = y * W + xo;
  for (int co = 0; co < Cout; ++co) out[(b * Cout + co) * HW + pix] = stf<T>(acc[co] + (bias ? ldf(bias[co]) : 0.0f));
}

template <typename T> Status run_v3(const char* op, const DcaeHeadArgs& a, int64_t B, int64_t H, int64_t W, int64_t C, int64_t Cout) {
  const int64_t tiles = ((H + kV3Tile - 1) / kV3Tile) * ((W + kV3Tile - 1) / kV3Tile);
  plan::Launch l;
  l.grid = {tiles, B, 1};
  l.block = {256, 1, 1};
  l.smem = v3_smem_bytes(C);
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "head_fused_v3", l, &grid, &block));
  SANA_CUDA_CHECK(op, cudaFuncSetAttribute(head_fused_v3<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(l.smem)));
  SANA_CUDA_CHECK(op, launch_dependent("head_fused_v3<T>", head_fused_v3<T>, grid, block, l.smem, static_cast<const T*>(a.x.data),
                                       static_cast<const T*>(a.norm_w.data), static_cast<const T*>(a.norm_b.data), static_cast<const T*>(a.w.data),
                                       a.bias ? static_cast<const T*>(a.bias->data) : nullptr, static_cast<T*>(a.out.data), H, W, static_cast<int>(C),
                                       static_cast<int>(Cout), a.eps, static_cast<int>(a.act)));
  SANA_CUDA_LAUNCHED(op, "head_fused_v3");
  return Status::Ok();
}

// v4 (bf16; see the header): a block owns a 16 × 16 output tile of one image. Shared memory: the raw
// 18 × 18 halo of x (bf16 rows of C channels + 16 bytes of padding: an odd multiple of 16 bytes, so the
// 8 rows of an ldmatrix land on 8 different bank groups), normalized in place; then the B fragments of
// the 9 taps × C/16 k-steps, in the order the lanes read them (ws[((tap·KS + ks)·32 + lane)·2 + j]).
constexpr int kV4Tile = 16, kV4Halo = kV4Tile + 2, kV4HaloPix = kV4Halo * kV4Halo, kV4Threads = 256;
constexpr int64_t kV4MaxC = 128, kV4MaxCout = 8;

int64_t v4_pitch(int64_t C) { return C * 2 + 16; }
int64_t v4_smem_bytes(int64_t C) { return kV4HaloPix * v4_pitch(C) + 9 * (C / 16) * 32 * 8; }

__global__ void __launch_bounds__(kV4Threads, 2)
    head_mma_v4(const bf16* __restrict__ x, const bf16* __restrict__ nw, const bf16* __restrict__ nb, const bf16* __restrict__ w,
                const bf16* __restrict__ bias, bf16* __restrict__ out, int64_t H, int64_t W, int C, int Cout, float eps, int act) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  extern __shared__ __align__(16) uint8_t v4_smem[];
  const int pitch = 2 * C + 16, KS = C / 16;
  uint8_t* tile = v4_smem;
  uint32_t* ws = reinterpret_cast<uint32_t*>(v4_smem + kV4HaloPix * pitch);
  const int64_t b = blockIdx.y, tiles_x = (W + kV4Tile - 1) / kV4Tile;
  const int64_t ty0 = (blockIdx.x / tiles_x) * kV4Tile, tx0 = (blockIdx.x % tiles_x) * kV4Tile;
  const int tid = static_cast<int>(threadIdx.x), warp = tid / 32, lane = tid % 32;

  // 1. The raw halo by cp.async (zero-filled outside the image: the conv's padding of t is zero, and a
  //    zero pixel is left as it is below), all of it in flight at once.
  const int chunks = C / 8;  // 16-byte chunks per pixel
  for (int i = tid; i < kV4HaloPix * chunks; i += kV4Threads) {
    const int p = i / chunks, k = i % chunks;
    const int64_t iy = ty0 - 1 + p / kV4Halo, ix = tx0 - 1 + p % kV4Halo;
    const bool ok = iy >= 0 && iy < H && ix >= 0 && ix < W;
    ptx::cp_async16(ptx::smem_u32(tile + p * pitch + k * 16), ok ? x + ((b * H + iy) * W + ix) * C + k * 8 : x, ok);
  }
  ptx::cp_async_commit();
  // 2. B fragments (mma m16n8k16, B = 16 channels × 8 outputs): lane l holds column n = l / 4 and rows
  //    k = 2·(l % 4) + {0, 1} (register 0) and + 8 (register 1); outputs ≥ Cout are zero.
  for (int i = tid; i < 9 * KS * 32 * 2; i += kV4Threads) {
    const int j = i % 2, l = (i / 2) % 32, ks = (i / 64) % KS, tap = i / (64 * KS);
    const int n = l / 4, c = ks * 16 + 2 * (l % 4) + 8 * j;
    uint32_t pair = 0;  // element c in the low half, c + 1 in the high half
    for (int e = 0; e < 2 && n < Cout; ++e) pair |= static_cast<uint32_t>(__bfloat16_as_ushort(w[(static_cast<int64_t>(n) * C + c + e) * 9 + tap])) << (16 * e);
    ws[i] = pair;
  }
  ptx::cp_async_wait<0>();
  __syncthreads();

  // 3. t = act(RMSNorm2d(x)·nw + nb) in place, in bf16: the norm rounded, then the activation rounded (as
  //    v2 stores the norm and then activates it in place); a warp per halo pixel, 4 channels per lane
  //    (C ≤ 128); pixels outside the image stay zero.
  {
    const int c0 = lane * 4;
    const bool has = c0 < C;
    float gw[4] = {0, 0, 0, 0}, gb[4] = {0, 0, 0, 0};
    if (has) {
      for (int e = 0; e < 4; ++e) {
        gw[e] = ldf(nw[c0 + e]);
        gb[e] = ldf(nb[c0 + e]);
      }
    }
    for (int p = warp; p < kV4HaloPix; p += kV4Threads / 32) {  // warp-uniform: the shuffles see all 32 lanes
      const int64_t iy = ty0 - 1 + p / kV4Halo, ix = tx0 - 1 + p % kV4Halo;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      bf16* tr = reinterpret_cast<bf16*>(tile + p * pitch) + c0;
      float v[4] = {0, 0, 0, 0};
      float ss = 0.0f;
      if (has) {
        for (int e = 0; e < 4; ++e) {
          v[e] = ldf(tr[e]);
          ss += v[e] * v[e];
        }
      }
#pragma unroll
      for (int o = 16; o > 0; o /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, o);
      const float ri = 1.0f / sqrtf(ss / static_cast<float>(C) + eps);
      if (has) {
        for (int e = 0; e < 4; ++e) tr[e] = __float2bfloat16_rn(activate(ldf(__float2bfloat16_rn(v[e] * ri * gw[e] + gb[e])), act));
      }
    }
  }
  __syncthreads();

  // 4. The conv as 9 taps × C/16 k-steps of mma.sync per 16-pixel row segment (warp w: tile rows 2w,
  //    2w + 1); A rows = the segment's pixels shifted by the tap, read by ldmatrix from the halo tile.
  for (int sr = 0; sr < 2; ++sr) {
    const int row = warp * 2 + sr;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int tap = 0; tap < 9; ++tap) {
      const uint8_t* arow = tile + ((row + tap / 3) * kV4Halo + (lane % 16) + tap % 3) * pitch + (lane / 16) * 16;
      for (int ks = 0; ks < KS; ++ks) {
        uint32_t a[4];
        ptx::ldmatrix_x4(a, ptx::smem_u32(arow + ks * 32));
        const uint32_t* bf = ws + ((tap * KS + ks) * 32 + lane) * 2;
        ptx::mma_m16n8k16_bf16(acc, a, bf[0], bf[1]);
      }
    }
    // acc: pixels lane / 4 (0, 1) and lane / 4 + 8 (2, 3) of the segment, outputs 2·(lane % 4) + {0, 1}
    const int64_t y = ty0 + row;
    if (y >= H) continue;
    for (int r = 0; r < 2; ++r) {
      const int64_t xo = tx0 + lane / 4 + 8 * r;
      if (xo >= W) continue;
      for (int e = 0; e < 2; ++e) {
        const int o = 2 * (lane % 4) + e;
        if (o < Cout) out[(b * Cout + o) * H * W + y * W + xo] = __float2bfloat16_rn(acc[2 * r + e] + (bias ? ldf(bias[o]) : 0.0f));
      }
    }
  }
}

Status run_v4(const char* op, const DcaeHeadArgs& a, int64_t B, int64_t H, int64_t W, int64_t C, int64_t Cout) {
  const int64_t tiles = ((H + kV4Tile - 1) / kV4Tile) * ((W + kV4Tile - 1) / kV4Tile);
  plan::Launch l;
  l.grid = {tiles, B, 1};
  l.block = {kV4Threads, 1, 1};
  l.smem = v4_smem_bytes(C);
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "head_mma_v4", l, &grid, &block));
  SANA_CUDA_CHECK(op, cudaFuncSetAttribute(head_mma_v4, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(l.smem)));
  SANA_CUDA_CHECK(op, launch_dependent("head_mma_v4", head_mma_v4, grid, block, l.smem, static_cast<const bf16*>(a.x.data),
                                       static_cast<const bf16*>(a.norm_w.data), static_cast<const bf16*>(a.norm_b.data),
                                       static_cast<const bf16*>(a.w.data), a.bias ? static_cast<const bf16*>(a.bias->data) : nullptr,
                                       static_cast<bf16*>(a.out.data), H, W, static_cast<int>(C), static_cast<int>(Cout), a.eps,
                                       static_cast<int>(a.act)));
  SANA_CUDA_LAUNCHED(op, "head_mma_v4");
  return Status::Ok();
}

template <typename T> Status run_act(const char* op, int version, void* t, int64_t n, Activation act) {
  dim3 grid, block;
  const int a = static_cast<int>(act);
  if (version != 1 && n % 8 == 0 && aligned16(t)) {
    SANA_RETURN_IF_ERROR(to_dims(op, "act_v2", plan::elementwise(n / 8), &grid, &block));
    SANA_CUDA_CHECK(op, launch_dependent("act_v2<T>", act_v2<T>, grid, block, 0, static_cast<T*>(t), n / 8, a));
    SANA_CUDA_LAUNCHED(op, "act_v2");
  } else {
    SANA_RETURN_IF_ERROR(to_dims(op, "act_v1", plan::elementwise(n), &grid, &block));
    SANA_CUDA_CHECK(op, launch_dependent("act_v1<T>", act_v1<T>, grid, block, 0, static_cast<T*>(t), n, a));
    SANA_CUDA_LAUNCHED(op, "act_v1");
  }
  return Status::Ok();
}

template <typename T> Status run_nchw(const char* op, const void* y, void* out, int64_t n, int64_t HW, int64_t Cout) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "nchw_store", plan::elementwise(n), &grid, &block));
  SANA_CUDA_CHECK(op, launch_dependent("nchw_store<T>", nchw_store<T>, grid, block, 0, static_cast<const T*>(y), static_cast<T*>(out), n, HW, Cout));
  SANA_CUDA_LAUNCHED(op, "nchw_store");
  return Status::Ok();
}

}  // namespace

Status dcae_head(const DcaeHeadArgs& a, int version) {
  const char* op = "dcae-head";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  DcaeHeadSizes sz;
  SANA_RETURN_IF_ERROR(check_dcae_head_args(Device::kCuda, a, &sz));
  if (version < 0 || version > 4) return unknown_version(op, version, 4);
  const int act = static_cast<int>(a.act);
  if (act < 0 || act > 3) return InvalidArgument("dcae-head: unknown activation " + std::to_string(act));
  if (version == 0 && sz.C <= kV3MaxC && sz.Cout <= kV3MaxCout && hopper_defaults()) version = 3;
  if (version == 3 && (sz.C > kV3MaxC || sz.Cout > kV3MaxCout)) {
    return bad_version(op, 3, "(fused narrow head) needs C ≤ " + std::to_string(kV3MaxC) + " and Cout ≤ " + std::to_string(kV3MaxCout) + ", got C " +
                                  std::to_string(sz.C) + ", Cout " + std::to_string(sz.Cout));
  }
  if (version == 4 && (a.x.dtype != DType::kBF16 || sz.C % 16 != 0 || sz.C > kV4MaxC || sz.Cout > kV4MaxCout || !aligned16(a.x.data))) {
    return bad_version(op, 4, "(tensor-core narrow head) needs bf16, C % 16 == 0, C ≤ " + std::to_string(kV4MaxC) + ", Cout ≤ " +
                                  std::to_string(kV4MaxCout) + " and a 16-byte aligned x, got " + dtype_name(a.x.dtype) + ", C " + std::to_string(sz.C) +
                                  ", Cout " + std::to_string(sz.Cout));
  }
  const int inner = version == 1 ? 1 : 0;  // the norm's and the conv's version
  const DType dt = a.x.dtype;
  const int64_t B = sz.B, H = sz.H, W = sz.W, C = sz.C, Cout = sz.Cout, M = B * H * W, es = dtype_bytes(dt);

  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s = [&]() -> Status {
    if (version == 3) return dt == DType::kF32 ? run_v3<float>(op, a, B, H, W, C, Cout) : run_v3<bf16>(op, a, B, H, W, C, Cout);
    if (version == 4) return run_v4(op, a, B, H, W, C, Cout);
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
