// Op `dcae-upsample`: a DC-AE decoder 3×3 convolution with its non-parametric shortcut fused, on NHWC
// x (B, H, W, C), conv weight w (Nc, C, 3, 3) torch layout, zero padding 1:
//   mode none (the decoder's conv_in, f = 1):  y = conv3×3(x) + b                          (B, H, W, Co),   Nc = Co
//   mode interpolate (SANA's up blocks, f = 2): y = conv3×3(nearest2×(x)) + b               (B, 2H, 2W, Co), Nc = Co
//   mode pixel-shuffle (f = 2):                 y = pixel_shuffle(conv3×3(x) + b, 2)         (B, 2H, 2W, Co), Nc = 4·Co
//   shortcut: y[b, oy, ox, o] += x[b, ⌊oy/f⌋, ⌊ox/f⌋, ⌊(o·f² + (oy mod f)·f + ox mod f) / r⌋],  r = Co·f²/C
// (= pixel_shuffle(repeat_interleave(x, r), f): diffusers' DCUpBlock2d shortcut and, for f = 1, the
// decoder-in shortcut). The upsampled image is never materialised.
// interpolate, sub-pixel form: output pixel (2y + i, 2x + j) of the 3×3 conv on the nearest-upsampled
// image sees only the 2×2 input pixels rows y−1+i+a, cols x−1+j+b (a, b ∈ {0, 1}), with the taps
// that land on the same input pixel summed: rows {ky} = S_i(a), S_0 = ({0}, {1, 2}), S_1 = ({0, 1}, {2})
// (likewise for columns). So each of the 4 phases (i, j) is a 2×2 conv on x with combined weights —
// 4·C instead of 9·C multiply-adds per output (2.25× fewer); the weights are combined in f32, once per
// call. none / pixel-shuffle: the plain 3×3 implicit gemm. Each runs in chunks of rows into f32
// scratch; one pass adds the shortcut and stores (a single rounding for bf16).
// FLOPs (executed) 2·B·4HW·4·C·Co (interpolate), 2·B·HW·9·C·Nc (none, pixel-shuffle); minimal bytes
// (B·H·W·C + out + 9·C·Nc)·sizeof(T); scratch ≤ 4 MiB of f32 per chunk + the packed operands (+ the
// four phases' combined weights, 16·C·Co floats, for interpolate).
#include <algorithm>

#include "sana/cpu/gemm.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/thread_pool.h"

namespace sana::cpu {
namespace {

constexpr int64_t kScratchFloats = int64_t{1} << 20;  // 4 MiB of f32 per chunk / band

// A = im2col of NHWC x for a 3×3 conv with zero padding 1, rows [r0, r0 + M) of the (B, H, W) output
// grid: row m = (b, oy, ox), column k = (ky·3 + kx)·C + ci reads x[b, oy + ky − 1, ox + kx − 1, ci].
template <typename T> struct Conv3x3RowsA : ASource {
  const T* x;
  int64_t B, H, W, C, r0;
  Conv3x3RowsA(const T* x_, int64_t B_, int64_t H_, int64_t W_, int64_t C_, int64_t r0_, int64_t rows)
      : x(x_), B(B_), H(H_), W(W_), C(C_), r0(r0_) {
    M = rows;
    K = 9 * C;
  }
  void pack(int64_t m0, int mr, int MR, float* dst) const override {
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) {
        for (int64_t k = 0; k < K; ++k) dst[k * MR + r] = 0.0f;
        continue;
      }
      const int64_t g = r0 + m0 + r;
      const int64_t b = g / (H * W), rem = g % (H * W), oy = rem / W, ox = rem % W;
      for (int tap = 0; tap < 9; ++tap) {
        const int64_t iy = oy - 1 + tap / 3, ix = ox - 1 + tap % 3;
        float* d = dst + static_cast<int64_t>(tap) * C * MR + r;
        if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
          for (int64_t ci = 0; ci < C; ++ci) d[ci * MR] = 0.0f;
        } else {
          const T* s = x + ((b * H + iy) * W + ix) * C;
          for (int64_t ci = 0; ci < C; ++ci) d[ci * MR] = load_f(s[ci]);
        }
      }
    }
  }
};

// The taps of a 3×3 kernel row/column that fall on input offset a ∈ {0, 1} for output phase i ∈ {0, 1}:
// kTaps[i][a] = {first, last} (inclusive).
constexpr int kTaps[2][2][2] = {{{0, 0}, {1, 2}}, {{0, 1}, {2, 2}}};

// A for phase (i, j): rows [r0, r0 + M) of the input pixels (b, y, x); column k = (a·2 + b)·C + ci reads
// x[b, y − 1 + i + a, x − 1 + j + b, ci] (0 outside the image).
template <typename T> struct PhaseConv2x2A : ASource {
  const T* x;
  int64_t B, H, W, C, i, j, r0;
  PhaseConv2x2A(const T* x_, int64_t B_, int64_t H_, int64_t W_, int64_t C_, int64_t i_, int64_t j_, int64_t r0_, int64_t rows)
      : x(x_), B(B_), H(H_), W(W_), C(C_), i(i_), j(j_), r0(r0_) {
    M = rows;
    K = 4 * C;
  }
  void pack(int64_t m0, int mr, int MR, float* dst) const override {
    for (int r = 0; r < MR; ++r) {
      if (r >= mr) {
        for (int64_t k = 0; k < K; ++k) dst[k * MR + r] = 0.0f;
        continue;
      }
      const int64_t g = r0 + m0 + r;
      const int64_t b = g / (H * W), rem = g % (H * W), y = rem / W, xx = rem % W;
      for (int tap = 0; tap < 4; ++tap) {
        const int64_t iy = y - 1 + i + tap / 2, ix = xx - 1 + j + tap % 2;
        float* d = dst + static_cast<int64_t>(tap) * C * MR + r;
        if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
          for (int64_t ci = 0; ci < C; ++ci) d[ci * MR] = 0.0f;
        } else {
          const T* src = x + ((b * H + iy) * W + ix) * C;
          for (int64_t ci = 0; ci < C; ++ci) d[ci * MR] = load_f(src[ci]);
        }
      }
    }
  }
};

// B for the four phases (i, j): the 2×2 combined weights from the torch (Co, C, 3, 3) weight, each a dense
// (4·C) × Co f32 matrix (phase p = 2i + j at dst + p·4·C·Co) with rows ordered like PhaseConv2x2A's columns
// (k = tap·C + ci); the taps are summed in f32. Built once per op call, in one pass over w, so that every
// chunk of rows shares them and the gemm packs them by cheap, contiguous k-slices (the torch layout
// interleaves (ci, tap)). Bytes: 9·C·Co·sizeof(T) read, 16·C·Co·4 written (64 MiB at 1024 channels).
template <typename T> void combine_phase_weights(const T* w, int64_t Co, int64_t C, float* dst) {
  int at[4][4][4], n_at[4][4];  // [phase][tap]: the 3×3 positions ky·3 + kx summed, in (ky, kx) order
  for (int p = 0; p < 4; ++p)
    for (int tap = 0; tap < 4; ++tap) {
      const int* ry = kTaps[p / 2][tap / 2];
      const int* rx = kTaps[p % 2][tap % 2];
      n_at[p][tap] = 0;
      for (int ky = ry[0]; ky <= ry[1]; ++ky)
        for (int kx = rx[0]; kx <= rx[1]; ++kx) at[p][tap][n_at[p][tap]++] = ky * 3 + kx;
    }
  // A task owns 16 output channels: it reads their rows of w front to back (16 sequential streams), and
  // writes each dst row 16 floats (64 bytes) at a time through a local tile.
  constexpr int64_t kB = 16;
  parallel_for((Co + kB - 1) / kB, [&](int64_t t) {
    const int64_t o0 = t * kB, o1 = std::min(Co, o0 + kB);
    float tile[4][4][kB][kB];  // [phase][tap][ci − c0][o − o0]
    for (int64_t c0 = 0; c0 < C; c0 += kB) {
      const int64_t c1 = std::min(C, c0 + kB);
      for (int64_t o = o0; o < o1; ++o) {
        const T* wk = w + (o * C + c0) * 9;
        for (int64_t ci = c0; ci < c1; ++ci, wk += 9) {
          float v[9];
          for (int q = 0; q < 9; ++q) v[q] = load_f(wk[q]);
          for (int p = 0; p < 4; ++p)
            for (int tap = 0; tap < 4; ++tap) {
              float sum = 0.0f;
              for (int n = 0; n < n_at[p][tap]; ++n) sum += v[at[p][tap][n]];
              tile[p][tap][ci - c0][o - o0] = sum;
            }
        }
      }
      for (int p = 0; p < 4; ++p)
        for (int tap = 0; tap < 4; ++tap)
          for (int64_t ci = c0; ci < c1; ++ci)
            std::copy_n(tile[p][tap][ci - c0], o1 - o0, dst + p * 4 * C * Co + (tap * C + ci) * Co + o0);
    }
  });
}

// Writes output channel block for one output pixel: out[o] = conv[o·cs] + shortcut(o), o in [0, Co).
template <typename T>
inline void store_pixel(const float* conv, int64_t cs, const T* xpix, int64_t C, int64_t Co, int f, int64_t i, int64_t j, bool shortcut,
                        T* out) {
  if (!shortcut) {
    for (int64_t o = 0; o < Co; ++o) out[o] = store_f<T>(conv[o * cs]);
    return;
  }
  const int64_t f2 = f * f, rep = Co * f2 / C, phase = i * f + j;
  for (int64_t o = 0; o < Co; ++o) out[o] = store_f<T>(conv[o * cs] + load_f(xpix[(o * f2 + phase) / rep]));
}

// interpolate: the four 2×2 phase convs per chunk of input pixels, each stored to its output phase.
template <typename T> void run_interpolate(const DcaeUpsampleArgs& a, const DcaeUpsampleSizes& d) {
  const T* x = a.x.as<T>();
  T* out = a.out.as<T>();
  const int64_t rows = d.B * d.H * d.W;
  const int64_t chunk = std::min(rows, std::max<int64_t>(256, kScratchFloats / d.Co));
  Buffer<float> s = alloc_buffer<float>(chunk * d.Co);
  const int64_t Ho = 2 * d.H, Wo = 2 * d.W;
  Buffer<float> wc = alloc_buffer<float>(16 * d.C * d.Co);
  combine_phase_weights(a.w.as<T>(), d.Co, d.C, wc.get());
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 2; ++j) {
      const DenseB<float> Wb(wc.get() + (i * 2 + j) * 4 * d.C * d.Co, 4 * d.C, d.Co, d.Co);
      for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
        const int64_t R = std::min(chunk, rows - r0);
        PhaseConv2x2A<T> A(x, d.B, d.H, d.W, d.C, i, j, r0, R);
        Epilogue<T, float> ep;
        ep.out = s.get();
        ep.ldo = d.Co;
        ep.bias = a.bias ? a.bias->template as<T>() : nullptr;
        gemm_run<T, float>(A, Wb, ep);
        constexpr int64_t kRows = 64;
        parallel_for((R + kRows - 1) / kRows, [&](int64_t task) {
          const int64_t m1 = std::min(R, (task + 1) * kRows);
          for (int64_t m = task * kRows; m < m1; ++m) {
            const int64_t g = r0 + m;  // input pixel (b, y, x)
            const int64_t b = g / (d.H * d.W), rem = g % (d.H * d.W), y = rem / d.W, xx = rem % d.W;
            T* o = out + ((b * Ho + 2 * y + i) * Wo + 2 * xx + j) * d.Co;
            store_pixel(s.get() + m * d.Co, 1, x + g * d.C, d.C, d.Co, 2, i, j, a.shortcut, o);
          }
        });
      }
    }
}

// none / pixel-shuffle: the 3×3 conv on x's own grid per chunk of pixels, then the (shuffled) store.
template <typename T> void run(const DcaeUpsampleArgs& a, const DcaeUpsampleSizes& d) {
  if (a.mode == DcaeUpsampleMode::kInterpolate) {
    run_interpolate<T>(a, d);
    return;
  }
  const T* x = a.x.as<T>();
  T* out = a.out.as<T>();
  const bool shortcut = a.shortcut;
  const int64_t Hc = d.H, Wc = d.W;  // the conv's grid (x's)
  const int64_t rows = d.B * Hc * Wc;
  const int64_t chunk = std::min(rows, std::max<int64_t>(256, kScratchFloats / d.Nc));
  Buffer<float> s = alloc_buffer<float>(chunk * d.Nc);
  Conv3x3WeightB<T> Wb(a.w.as<T>(), d.Nc, d.C);
  const int64_t Ho = 2 * d.H, Wo = 2 * d.W;  // pixel-shuffle output grid
  for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
    const int64_t R = std::min(chunk, rows - r0);
    Conv3x3RowsA<T> A(x, d.B, d.H, d.W, d.C, r0, R);
    Epilogue<T, float> ep;
    ep.out = s.get();
    ep.ldo = d.Nc;
    ep.bias = a.bias ? a.bias->template as<T>() : nullptr;
    gemm_run<T, float>(A, Wb, ep);
    constexpr int64_t kRows = 64;
    parallel_for((R + kRows - 1) / kRows, [&](int64_t task) {
      const int64_t m1 = std::min(R, (task + 1) * kRows);
      for (int64_t m = task * kRows; m < m1; ++m) {
        const int64_t g = r0 + m;  // pixel of the conv grid
        const int64_t b = g / (Hc * Wc), rem = g % (Hc * Wc), cy = rem / Wc, cx = rem % Wc;
        const float* conv = s.get() + m * d.Nc;
        if (a.mode == DcaeUpsampleMode::kPixelShuffle) {
          // conv channel o·4 + i·2 + j goes to output pixel (2cy + i, 2cx + j), channel o.
          const T* xpix = x + g * d.C;
          for (int64_t i = 0; i < 2; ++i)
            for (int64_t j = 0; j < 2; ++j) {
              T* o = out + ((b * Ho + 2 * cy + i) * Wo + 2 * cx + j) * d.Co;
              store_pixel(conv + i * 2 + j, 4, xpix, d.C, d.Co, 2, i, j, shortcut, o);
            }
        } else {
          // none: the conv grid is the output grid, the shortcut repeats x's own channels.
          store_pixel(conv, 1, x + g * d.C, d.C, d.Co, 1, 0, 0, shortcut, out + g * d.Co);
        }
      }
    });
  }
}

}  // namespace

Status dcae_upsample(const DcaeUpsampleArgs& a) {
  const char* op = "dcae-upsample";
  DcaeUpsampleSizes d;
  SANA_RETURN_IF_ERROR(check_dcae_upsample_args(Device::kCpu, a, &d));
  const DType dt = a.x.dtype;
  return guarded(op, [&] {
    if (dt == DType::kF32) run<float>(a, d);
    else run<bf16_t>(a, d);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
