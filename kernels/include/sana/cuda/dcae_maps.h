// Index maps of the DC-AE decoder's layout kernels (kernels/cuda/dcae_upsample.cu, dcae_head.cu):
// which input element each output element reads. Plain integer arithmetic, host and device, so the
// host checks (test/kernels/cuda/launch_plan_test.cpp) test them against the definitions (nested loops
// over torch's pixel_shuffle / repeat_interleave / NHWC→NCHW) without a GPU. Every index is int64_t:
// DC-AE stage 0 at 4096², batch 2, has 2³² elements per activation.
#pragma once
#include <cstdint>

#include "sana/cuda/launch_plan.h"  // SANA_HD

namespace sana::cuda::maps {

// dcae-upsample's output (B, f·H, f·W, Co) NHWC and its input x (B, H, W, C); the shortcut
// pixel_shuffle(repeat_interleave(x, r, channels), f) with r = Co·f²/C reads, for output (b, oy, ox, o),
//   x[b, ⌊oy/f⌋, ⌊ox/f⌋, ⌊(o·f² + (oy mod f)·f + ox mod f) / r⌋].
struct Upsample {
  int64_t B = 0, H = 0, W = 0, C = 0, Co = 0, r = 1;
  int64_t f = 1;
  SANA_HD int64_t out_numel() const { return B * H * f * W * f * Co; }
};

// The x element the shortcut puts at output element e (flat NHWC index).
SANA_HD inline int64_t shortcut_src(const Upsample& g, int64_t e) {
  const int64_t Wo = g.W * g.f, Ho = g.H * g.f;
  const int64_t o = e % g.Co, p = e / g.Co, ox = p % Wo, t = p / Wo, oy = t % Ho, b = t / Ho;
  const int64_t phase = (oy % g.f) * g.f + ox % g.f;
  return ((b * g.H + oy / g.f) * g.W + ox / g.f) * g.C + (o * g.f * g.f + phase) / g.r;
}

// The same for 8 consecutive output channels (Co % 8 == 0): item = output pixel · (Co / 8) + channel
// group. Returns the output element of the group's first channel and writes the 8 x elements to src;
// the pixel is decoded once and the channel quotients advance incrementally (no division per element).
SANA_HD inline int64_t shortcut_src8(const Upsample& g, int64_t item, int64_t* src) {
  const int64_t Wo = g.W * g.f, Ho = g.H * g.f, groups = g.Co / 8, f2 = g.f * g.f;
  const int64_t o0 = (item % groups) * 8, p = item / groups, ox = p % Wo, t = p / Wo, oy = t % Ho, b = t / Ho;
  const int64_t base = ((b * g.H + oy / g.f) * g.W + ox / g.f) * g.C;
  const int64_t n = o0 * f2 + (oy % g.f) * g.f + ox % g.f;  // the repeated channel of o0
  int64_t q = n / g.r, rem = n - q * g.r;
  for (int k = 0; k < 8; ++k) {
    src[k] = base + q;
    rem += f2;  // the next output channel's repeated channel is f² further on
    while (rem >= g.r) {
      rem -= g.r;
      ++q;
    }
  }
  return p * g.Co + o0;
}

// pixel-shuffle mode: output element e of (B, 2H, 2W, Co) takes conv channel 4o + 2(oy mod 2) + ox mod 2
// of the conv output t (B, H, W, 4·Co) at pixel (b, ⌊oy/2⌋, ⌊ox/2⌋); with the shortcut (f = 2) it also
// reads x channel (4o + 2(oy mod 2) + ox mod 2) / r of the same pixel. Writes both source indices.
SANA_HD inline void pixel_shuffle_src(const Upsample& g, int64_t e, int64_t* t_src, int64_t* x_src) {
  const int64_t Wo = 2 * g.W, Ho = 2 * g.H;
  const int64_t o = e % g.Co, p = e / g.Co, ox = p % Wo, t = p / Wo, oy = t % Ho, b = t / Ho;
  const int64_t ch = 4 * o + 2 * (oy % 2) + ox % 2, pix = (b * g.H + oy / 2) * g.W + ox / 2;
  *t_src = pix * 4 * g.Co + ch;
  *x_src = pix * g.C + ch / g.r;
}

// dcae-upsample v3's sub-pixel form of conv3×3(nearest2×(x)), padding 1. Output row 2y + a (a ∈ {0, 1})
// reads upsampled rows 2y + a + k − 1 (tap k = 0, 1, 2), i.e. x rows ⌊(2y + a + k − 1)/2⌋ = y + ⌊(a + k − 1)/2⌋
// (row −1 and row 2H of the padded upsampled image are x's rows −1 and H: zero as well). Phase a thus
// touches x rows y + a − 1 + j, j ∈ {0, 1}, and tap k lands on j = ⌊(a + k + 1)/2⌋ − a:
//   a = 0: k 0 → j 0 (row y − 1), k 1, 2 → j 1 (row y)      a = 1: k 0, 1 → j 0 (row y), k 2 → j 1 (row y + 1)
// The same along columns; phase (a, b)'s 2×2 weight is w'[jy][jx] = Σ w[ky][kx] over the taps landing there.
SANA_HD inline int phase_tap(int a, int k) { return (a + k + 1) / 2 - a; }

// dcae-head's NHWC → NCHW store: output element e of (B, Cout, HW) reads y (B, HW, Cout) at (b, p, o).
SANA_HD inline int64_t nchw_src(int64_t HW, int64_t Cout, int64_t e) {
  const int64_t p = e % HW, bo = e / HW, o = bo % Cout, b = bo / Cout;
  return (b * HW + p) * Cout + o;
}

}  // namespace sana::cuda::maps
