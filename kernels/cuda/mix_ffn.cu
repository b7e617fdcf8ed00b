// Op `mix-ffn`: SANA's GLUMBConv on token-major (B, H·W, C) (= NHWC) activations, h = hidden width:
//   1. u = SiLU(x·W_invᵀ + b_inv)                        gemm, bias + SiLU fused in the epilogue → (M × 2h)
//   2. z = (dw(u)[:h] + b[:h]) ⊙ SiLU(dw(u)[h:] + b[h:])  depthwise 3×3 + bias + GLU, one kernel → (M × h)
//   3. out = residual + gate ⊙ (z·W_pointᵀ)               gemm, gate/residual fused in the epilogue
// M = B·H·W. Intermediates u, z in the op's dtype (bf16 for bf16).
// FLOPs 2·M·(C·2h + 9·2h + h·C) (+ SiLUs); minimal bytes 2·M·C·sizeof(T) + weights; this composition
// also writes and reads u (M·2h) and z (M·h): at SANA's h = 2.5·C that is 7.5·M·C extra elements, so
// the depthwise step (≈ 9 FLOPs per element moved) is bandwidth-bound and the gemms dominate.
//
// Versions (v1, v2: of the depthwise+GLU step, the gemms at the default gemm for the dtype; v3: the gemms):
//   v1  one thread per (pixel, channel c < h): 9 taps of channel c and of c + h, scalar loads
//       (coalesced along channels; neighbours re-read through L1/L2 ≈ 9× the input).
//   v2  one thread per (8 channels, run of 4 pixels along a row): 16-byte loads, taps transposed to
//       a (9, 2h) f32 table so each tap is 4 float4 loads, each loaded input column reused by the 3
//       horizontal taps (3·6 column loads per 4 pixels instead of 9·4). Needs h % 8 == 0.
//   v3  v2's depthwise step with both gemms (≈ 98% of the op's FLOPs at SANA's widths) on the Hopper
//       wgmma engine (gemm v3: TMA-fed wgmma, bias + SiLU / gate + residual in its epilogue) instead
//       of mma.sync. bf16, C % 8 == 0, h % 8 == 0, an sm_90 GPU. The default wherever it can run (H200:
//       2.16 ms vs v2's 3.44 ms at Sana-0.6B 4096², batch 2); else v2, else v1.
//   v4  v3's wgmma gemms around depthwise step v3 (bf16, C % 8 == 0, h % 8 == 0, sm_90). Explicit only:
//       version 0 keeps choosing v3 until a GPU has timed v4 (written 2026-11, emulator parity only).
//
// The depthwise step alone (dw_glu; the self-test bench times it as `mix-ffn-dw`): 18·M·2h FLOPs (9 taps
// of both halves) + M·h SiLU·products over M·2h read + M·h written, 2 bytes each in bf16: 566 MB at
// Sana-0.6B 4096², batch 2 (M 32768, h 2880) ≈ 0.13 ms at 4.2 TB/s, 1.1 GFLOP (≈ 0.03 ms on the f32 FMA
// units): bandwidth-bound. The H200 run timed mix-ffn v3 at 2.16 ms where its two gemms at gemm v3's
// measured 572 TFLOP/s would take ≈ 1.15 ms, which leaves ≈ 1 ms to dw v2 (≈ 15% of the copy bandwidth,
// an inference until the kernel timeline measures it). dw v2 holds 150 registers per thread (ptxas
// sm_90a): 3 blocks of 4 warps per SM, and a thread's loads of one input column wait for the previous
// column's FMAs, too little in flight to cover DRAM latency.
//   dw v3  a block stages its 8 × 16-pixel output tile's input (with the halo, both halves, a slice of
//       32 channels each: 10 × 18 pixels × 128 bytes) in shared memory by cp.async, all of it in flight
//       at once, and the slice's taps as f32 beside it; 256 threads compute 8 channels × 2 pixels each
//       from shared memory (ptxas sm_90a: 92 registers, no spills; 2 blocks = 16 warps and ≈ 57 KB of
//       copies in flight per SM). Global traffic: the input once plus the halo re-read from L2 (180 / 128 = 1.4× of it), the
//       output once. Shared-memory reads per warp: 24 input loads of 16 bytes per thread (4 wavefronts
//       each: the 144-byte pixel pitch spreads them over all banks) + 36 tap loads (one wavefront: the 8
//       threads of a vector read the same address) for 32 × 288 FMAs: 132 wavefronts, ≈ 0.09 ms of the
//       132 SMs' shared-memory ports at the shape above, overlapping other blocks' copies. Predicted
//       ≈ 0.2 ms there (the copies at ~70% of DRAM bandwidth), against the ≈ 1 ms inferred for v2.
#include <type_traits>

#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/internal.h"
#include "sana/cuda/ptx.cuh"

namespace sana::cuda {
namespace {

template <typename T>
__global__ void dw_glu_v1(const T* __restrict__ u, const T* __restrict__ w, const T* __restrict__ bias, T* __restrict__ z, int64_t B,
                          int64_t H, int64_t W, int64_t h) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int64_t total = B * H * W * h, two = 2 * h;
  for (int64_t e = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; e < total; e += int64_t{gridDim.x} * blockDim.x) {
    const int64_t c = e % h, pix = e / h, x = pix % W, t = pix / W, y = t % H, b = t / H;
    float acc_a = ldf(bias[c]), acc_g = ldf(bias[h + c]);
    for (int tap = 0; tap < 9; ++tap) {
      const int64_t iy = y + tap / 3 - 1, ix = x + tap % 3 - 1;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      const T* un = u + ((b * H + iy) * W + ix) * two;
      acc_a += ldf(w[c * 9 + tap]) * ldf(un[c]);
      acc_g += ldf(w[(h + c) * 9 + tap]) * ldf(un[h + c]);
    }
    z[pix * h + c] = stf<T>(acc_a * silu_f(acc_g));
  }
}

// wt[tap·2h + c] = w[c·9 + tap], bt[c] = bias[c] (f32)
template <typename T> __global__ void dw_transpose(const T* __restrict__ w, const T* __restrict__ bias, float* __restrict__ wt, int64_t two) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < 10 * two; i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t tap = i / two, c = i % two;
    wt[i] = tap < 9 ? ldf(w[c * 9 + tap]) : ldf(bias[c]);
  }
}

__device__ __forceinline__ void ld8f(const float* p, float* o) {
  const float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
  o[0] = a.x; o[1] = a.y; o[2] = a.z; o[3] = a.w; o[4] = b.x; o[5] = b.y; o[6] = b.z; o[7] = b.w;
}

constexpr int kRun = plan::kDwRun;

template <typename T>
__global__ void __launch_bounds__(128) dw_glu_v2(const T* __restrict__ u, const float* __restrict__ wt, T* __restrict__ z, int64_t B, int64_t H,
                                                  int64_t W, int64_t h) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  const int64_t groups = h / 8, runs = (W + kRun - 1) / kRun, two = 2 * h;
  const int64_t item = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (item >= B * H * runs * groups) return;
  const int64_t c0 = (item % groups) * 8, rest = item / groups, x0 = (rest % runs) * kRun, row = rest / runs;  // row = b·H + y
  const int64_t y = row % H, b = row / H;
  float acc_a[kRun][8], acc_g[kRun][8];
  {
    float ba[8], bg[8];
    ld8f(wt + 9 * two + c0, ba);
    ld8f(wt + 9 * two + h + c0, bg);
#pragma unroll
    for (int p = 0; p < kRun; ++p)
#pragma unroll
      for (int c = 0; c < 8; ++c) {
        acc_a[p][c] = ba[c];
        acc_g[p][c] = bg[c];
      }
  }
#pragma unroll
  for (int ky = 0; ky < 3; ++ky) {
    const int64_t iy = y + ky - 1;
    if (iy < 0 || iy >= H) continue;
    float wa[3][8], wg[3][8];
#pragma unroll
    for (int kx = 0; kx < 3; ++kx) {
      ld8f(wt + (ky * 3 + kx) * two + c0, wa[kx]);
      ld8f(wt + (ky * 3 + kx) * two + h + c0, wg[kx]);
    }
    const T* urow = u + (b * H + iy) * W * two;
#pragma unroll
    for (int xx = 0; xx < kRun + 2; ++xx) {
      const int64_t ix = x0 + xx - 1;
      if (ix < 0 || ix >= W) continue;
      float ua[8], ug[8];
      load8(urow + ix * two + c0, ua);
      load8(urow + ix * two + h + c0, ug);
#pragma unroll
      for (int kx = 0; kx < 3; ++kx) {
        const int p = xx - kx;  // the output pixel this input column feeds through tap kx
        if (p < 0 || p >= kRun) continue;
#pragma unroll
        for (int c = 0; c < 8; ++c) {
          acc_a[p][c] = fmaf(wa[kx][c], ua[c], acc_a[p][c]);
          acc_g[p][c] = fmaf(wg[kx][c], ug[c], acc_g[p][c]);
        }
      }
    }
  }
#pragma unroll
  for (int p = 0; p < kRun; ++p) {
    if (x0 + p >= W) break;
    float o[8];
#pragma unroll
    for (int c = 0; c < 8; ++c) o[c] = acc_a[p][c] * silu_f(acc_g[p][c]);
    store8(z + ((row * W) + x0 + p) * h + c0, o);
  }
}

// v3 (bf16): see the header and plan::dw_glu_v3. Shared memory: ws[10][64] f32 (taps 0–8, then the
// bias; column j < 32 is a-half channel c0 + j, j ≥ 32 is g-half channel h + c0 + j − 32), then the halo
// tile, (kDw3Rows + 2) × (kDw3Cols + 2) pixels of kDw3Pitch bytes: a-half channels at 0, g-half at 64.
// Zeros stand for the padding pixels outside the image and for channels past h in a partial slice.
constexpr int kR3 = plan::kDw3Rows, kC3 = plan::kDw3Cols, kCh3 = plan::kDw3Chan, kT3 = plan::kDw3Threads, kP3 = plan::kDw3Pitch;
constexpr int kHaloW3 = kC3 + 2, kHaloPix3 = (kR3 + 2) * kHaloW3, kVec3 = kCh3 / 8;

__global__ void __launch_bounds__(kT3, 2) dw_glu_v3(const bf16* __restrict__ u, const bf16* __restrict__ w, const bf16* __restrict__ bias,
                                                     bf16* __restrict__ z, int64_t H, int64_t W, int64_t h) {
  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)
  extern __shared__ __align__(16) uint8_t smem_raw[];
  float* ws = reinterpret_cast<float*>(smem_raw);
  uint8_t* tile = smem_raw + 10 * 2 * kCh3 * sizeof(float);
  const int tid = threadIdx.x;
  const int64_t tiles_x = (W + kC3 - 1) / kC3;
  const int64_t x0 = (blockIdx.x % tiles_x) * kC3, y0 = (blockIdx.x / tiles_x) * kR3, c0 = int64_t{blockIdx.y} * kCh3, b = blockIdx.z;
  const int64_t two = 2 * h;
  const int nvec = static_cast<int>((h - c0) / 8 < kVec3 ? (h - c0) / 8 : kVec3);  // 8-channel vectors in this slice (h % 8 == 0)

  // The halo tile, 16 bytes per copy: pixel p, half k / kVec3, vector k % kVec3.
  for (int i = tid; i < kHaloPix3 * 2 * kVec3; i += kT3) {
    const int p = i / (2 * kVec3), k = i % (2 * kVec3), half = k / kVec3, vec = k % kVec3;
    const int64_t iy = y0 + p / kHaloW3 - 1, ix = x0 + p % kHaloW3 - 1;
    const bool ok = iy >= 0 && iy < H && ix >= 0 && ix < W && vec < nvec;
    const bf16* src = ok ? u + ((b * H + iy) * W + ix) * two + half * h + c0 + vec * 8 : u;  // a valid address when nothing is copied
    ptx::cp_async16(ptx::smem_u32(tile + p * kP3 + half * 64 + vec * 16), src, ok);
  }
  ptx::cp_async_commit();
  // The slice's taps and biases (read while the copies are in flight).
  for (int i = tid; i < 10 * 2 * kCh3; i += kT3) {
    const int tap = i / (2 * kCh3), j = i % (2 * kCh3), jc = j % kCh3;
    const int64_t ch = (j < kCh3 ? 0 : h) + c0 + jc;
    ws[i] = jc < nvec * 8 ? (tap < 9 ? ldf(w[ch * 9 + tap]) : ldf(bias[ch])) : 0.0f;
  }
  ptx::cp_async_wait<0>();
  __syncthreads();

  // Thread → 8 channels (vector vec) × output pixels (row, col) and (row, col + 1) of the tile.
  const int vec = tid % kVec3, q = tid / kVec3, row = q / (kC3 / 2), col = (q % (kC3 / 2)) * 2;
  float acc_a[2][8], acc_g[2][8];
#pragma unroll
  for (int c = 0; c < 8; ++c) {
    acc_a[0][c] = acc_a[1][c] = ws[9 * 2 * kCh3 + vec * 8 + c];
    acc_g[0][c] = acc_g[1][c] = ws[9 * 2 * kCh3 + kCh3 + vec * 8 + c];
  }
#pragma unroll
  for (int ky = 0; ky < 3; ++ky) {
    float wa[3][8], wg[3][8];
#pragma unroll
    for (int kx = 0; kx < 3; ++kx) {
      const float* t = ws + (ky * 3 + kx) * 2 * kCh3 + vec * 8;
#pragma unroll
      for (int c = 0; c < 8; ++c) {
        wa[kx][c] = t[c];
        wg[kx][c] = t[kCh3 + c];
      }
    }
    // Halo columns col … col + 3 feed output pixels col (taps kx = xx) and col + 1 (kx = xx − 1).
#pragma unroll
    for (int xx = 0; xx < 4; ++xx) {
      const uint8_t* px = tile + ((row + ky) * kHaloW3 + col + xx) * kP3 + vec * 16;
      float ua[8], ug[8];
      load8(reinterpret_cast<const bf16*>(px), ua);
      load8(reinterpret_cast<const bf16*>(px + 64), ug);
#pragma unroll
      for (int p = 0; p < 2; ++p) {
        const int kx = xx - p;
        if (kx < 0 || kx > 2) continue;
#pragma unroll
        for (int c = 0; c < 8; ++c) {
          acc_a[p][c] = fmaf(wa[kx][c], ua[c], acc_a[p][c]);
          acc_g[p][c] = fmaf(wg[kx][c], ug[c], acc_g[p][c]);
        }
      }
    }
  }
  if (vec >= nvec) return;
  const int64_t y = y0 + row;
  if (y >= H) return;
#pragma unroll
  for (int p = 0; p < 2; ++p) {
    const int64_t x = x0 + col + p;
    if (x >= W) break;
    float o[8];
#pragma unroll
    for (int c = 0; c < 8; ++c) o[c] = acc_a[p][c] * silu_f(acc_g[p][c]);
    store8(z + ((b * H + y) * W + x) * h + c0 + vec * 8, o);
  }
}

template <typename T>
Status run_dw(const char* op, int version, const T* u, const T* w, const T* bias, T* z, int64_t B, int64_t H, int64_t W, int64_t h) {
  dim3 grid, block;
  if constexpr (std::is_same_v<T, bf16>) {
    if (version == 3) {
      const plan::Launch l = plan::dw_glu_v3(B, H, W, h);
      SANA_RETURN_IF_ERROR(to_dims(op, "dw_glu_v3", l, &grid, &block));
      SANA_CUDA_CHECK(op, launch_dependent("dw_glu_v3", dw_glu_v3, grid, block, static_cast<size_t>(l.smem), u, w, bias, z, H, W, h));
      SANA_CUDA_LAUNCHED(op, "dw_glu_v3");
      return Status::Ok();
    }
  }
  if (version == 1) {
    SANA_RETURN_IF_ERROR(to_dims(op, "dw_glu_v1", plan::elementwise(B * H * W * h), &grid, &block));
    SANA_CUDA_CHECK(op, launch_dependent("dw_glu_v1", dw_glu_v1<T>, grid, block, 0, u, w, bias, z, B, H, W, h));
    SANA_CUDA_LAUNCHED(op, "dw_glu_v1");
    return Status::Ok();
  }
  Scratch scratch(op);
  float* wt = nullptr;
  SANA_RETURN_IF_ERROR(scratch.alloc_n(10 * 2 * h, &wt));
  SANA_RETURN_IF_ERROR(to_dims(op, "dw_transpose", plan::elementwise(10 * 2 * h), &grid, &block));
  SANA_CUDA_CHECK(op, launch_dependent("dw_transpose", dw_transpose<T>, grid, block, 0, w, bias, wt, 2 * h));
  SANA_CUDA_LAUNCHED(op, "dw_transpose");
  SANA_RETURN_IF_ERROR(to_dims(op, "dw_glu_v2", plan::dw_glu_v2(B, H, W, h), &grid, &block));
  SANA_CUDA_CHECK(op, launch_dependent("dw_glu_v2", dw_glu_v2<T>, grid, block, 0, u, wt, z, B, H, W, h));
  SANA_CUDA_LAUNCHED(op, "dw_glu_v2");
  return Status::Ok();
}

Status dw_check_version(const char* op, int version, DType dt, int64_t h) {
  if (version < 0 || version > 3) return unknown_version(op, version, 3);
  if (version >= 2 && h % 8 != 0) return bad_version(op, version, "needs a hidden width divisible by 8, got " + std::to_string(h));
  if (version == 3 && dt != DType::kBF16) return bad_version(op, 3, "needs bf16");
  return Status::Ok();
}

}  // namespace

Status dw_glu(const char* op, int version, DType dt, const void* u, const void* w_dw, const void* b_dw, void* z, int64_t B, int64_t H,
              int64_t W, int64_t h) {
  SANA_RETURN_IF_ERROR(dw_check_version(op, version, dt, h));
  if (version == 0) version = h % 8 == 0 && aligned16(u) && aligned16(z) ? 2 : 1;
  if (version >= 2 && !(aligned16(u) && aligned16(z))) return bad_version(op, version, "needs 16-byte aligned u and z");
  if (dt == DType::kF32) {
    return run_dw<float>(op, version, static_cast<const float*>(u), static_cast<const float*>(w_dw), static_cast<const float*>(b_dw),
                         static_cast<float*>(z), B, H, W, h);
  }
  return run_dw<bf16>(op, version, static_cast<const bf16*>(u), static_cast<const bf16*>(w_dw), static_cast<const bf16*>(b_dw),
                      static_cast<bf16*>(z), B, H, W, h);
}

Status mix_ffn(const MixFfnArgs& a, int version) {
  const char* op = "mix-ffn";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  MixFfnSizes sz;
  SANA_RETURN_IF_ERROR(check_mix_ffn_args(Device::kCuda, a, &sz));
  const DType dt = a.x.dtype;
  const int64_t B = sz.B, C = sz.C, h = sz.h, two = 2 * h, Cout = sz.Cout, M = B * sz.N;
  if (version < 0 || version > 4) return unknown_version(op, version, 4);
  // The two gemms as the wgmma engine sees them: x · w_invᵀ, then z (op scratch) · w_pointᵀ.
  const bool v3_ok = gemm_wgmma_dense_ok(dt, a.x.data, C, a.w_inv.data, C, M, two, C) && gemm_wgmma_dense_ok(dt, nullptr, h, a.w_point.data, h, M, Cout, h);
  if (version == 0 && v3_ok && hopper_defaults()) version = 3;
  if (version >= 3 && !v3_ok) {
    return bad_version(op, version, "(wgmma gemms) needs bf16, C % 8 == 0, a hidden width divisible by 8 and 16-byte aligned x, w_inv, w_point");
  }
  const int dw_version = version == 3 ? 2 : version == 4 ? 3 : version, engine = version >= 3 ? 3 : 0;
  SANA_RETURN_IF_ERROR(dw_check_version(op, dw_version, dt, h));

  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s = [&]() -> Status {
    Scratch scratch(op);
    const int64_t es = dt == DType::kF32 ? 4 : 2;
    uint8_t *u = nullptr, *z = nullptr;
    SANA_RETURN_IF_ERROR(scratch.alloc_n(M * two * es, &u));
    SANA_RETURN_IF_ERROR(scratch.alloc_n(M * h * es, &z));
    GemmProblem p1;
    p1.dtype = dt;
    p1.M = M;
    p1.N = two;
    p1.K = C;
    p1.a = a.x.data;
    p1.lda = C;
    p1.b = a.w_inv.data;
    p1.ldb = C;
    p1.c = u;
    p1.ldc = two;
    p1.bias = a.b_inv.data;
    p1.act = Activation::kSilu;
    SANA_RETURN_IF_ERROR(launch_gemm(op, p1, engine, version));
    SANA_RETURN_IF_ERROR(dw_glu(op, dw_version, dt, u, a.w_dw.data, a.b_dw.data, z, B, a.height, a.width, h));
    GemmProblem p2;
    p2.dtype = dt;
    p2.M = M;
    p2.N = Cout;
    p2.K = h;
    p2.a = z;
    p2.lda = h;
    p2.b = a.w_point.data;
    p2.ldb = h;
    p2.c = a.out.data;
    p2.ldc = Cout;
    p2.gate = a.gate ? a.gate->data : nullptr;
    p2.gate_ld = Cout;
    p2.gate_rows = sz.gate_rows;
    p2.residual = a.residual ? a.residual->data : nullptr;
    p2.res_ld = Cout;
    return launch_gemm(op, p2, engine, version);
  }();
  return scope.finish(s);
}

}  // namespace sana::cuda
