// The DC-AE convolutions: conv3x3, dcae-resblock, dcae-upsample and dcae-head.
#include "cases.h"
#include "harness.h"

namespace sana_selftest {

void parity_conv3x3(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, H, W, Cin, Cout;
    int stride, up, act;
    bool bias, res;
    bool in_place;  // out == residual
  };
  // The entry takes any stride (1, 2) with any upsample (1, 2). Odd Cout = an odd output row stride,
  // which v3's epilogue must store element-wise.
  const Case cases[] = {{"B2 9×7 16→24 s1 bias silu residual", 2, 9, 7, 16, 24, 1, 1, 2, true, true, false},
                        {"B1 10×9 8→16 s2 bias", 1, 10, 9, 8, 16, 2, 1, 0, true, false, false},
                        {"B1 5×4 16→8 upsample2 bias", 1, 5, 4, 16, 8, 1, 2, 0, true, false, false},
                        {"B1 6×5 12→8 s1 (Cin % 8 != 0)", 1, 6, 5, 12, 8, 1, 1, 1, false, false, false},
                        {"B1 5×6 16→8 upsample2 s2 bias", 1, 5, 6, 16, 8, 2, 2, 0, true, false, false},
                        {"B2 7×6 16→13 s1 bias relu (odd Cout)", 2, 7, 6, 16, 13, 1, 1, 1, true, false, false},
                        {"B1 9×7 8→7 s2 bias residual (odd Cout)", 1, 9, 7, 8, 7, 2, 1, 0, true, true, false},
                        {"B1 6×7 24→16 s1 bias gelu", 1, 6, 7, 24, 16, 1, 1, 3, true, false, false},
                        {"B1 4×5 16→24 upsample2 bias silu residual", 1, 4, 5, 16, 24, 1, 2, 2, true, true, false},
                        {"B1 8×6 16→16 s1 bias, residual in place", 1, 8, 6, 16, 16, 1, 1, 0, true, true, true},
                        {"B1 4×3 8→5 upsample2, res in place (odd Cout)", 1, 4, 3, 8, 5, 1, 2, 0, false, true, true},
                        // v4's shapes (Cin % 64 == 0, rows of 128 pixels), run by every version: two channel
                        // blocks per tap, two tiles per row, Cout past one 128-wide tile, the scalar epilogue
                        {"B2 4×128 64→72 s1 bias silu residual", 2, 4, 128, 64, 72, 1, 1, 2, true, true, false},
                        {"B1 3×256 128→136 s1 bias gelu", 1, 3, 256, 128, 136, 1, 1, 3, true, false, false},
                        {"B1 2×128 64→13 s1 (odd Cout)", 1, 2, 128, 64, 13, 1, 1, 0, false, false, false},
                        {"B1 3×128 64→64 s1 bias, residual in place", 1, 3, 128, 64, 64, 1, 1, 0, true, true, true},
                        // 3 tiles of 128 pixels: in clusters of two, the last pair's second block lies past the image
                        {"B1 3×128 64→40 s1 bias relu residual", 1, 3, 128, 64, 40, 1, 1, 1, true, true, false},
                        {"B1 2×128 32→16 s1 (Cin % 64 != 0)", 1, 2, 128, 32, 16, 1, 1, 0, true, false, false},
                        {"B1 4×128 64→16 s2 bias", 1, 4, 128, 64, 16, 2, 1, 0, true, false, false}};
  for (const Case& c : cases) {
    const int64_t Ho = (c.H * c.up - 1) / c.stride + 1, Wo = (c.W * c.up - 1) / c.stride + 1;
    Dev x = randn(dt, {c.B, c.H, c.W, c.Cin}, rng, 1.0), w = randn(dt, {c.Cout, c.Cin, 3, 3}, rng, 1.0 / std::sqrt(9.0 * c.Cin));
    Dev bias = randn(dt, {c.Cout}, rng, 0.1), res = randn(dt, {c.B, Ho, Wo, c.Cout}, rng, 1.0);
    Dev out = c.in_place ? upload_values(dt, {c.B, Ho, Wo, c.Cout}, res.h) : poisoned(dt, {c.B, Ho, Wo, c.Cout});
    Conv3x3Args a;
    a.x = x.v;
    a.w = w.v;
    a.bias = c.bias ? bias.ptr() : nullptr;
    a.stride = c.stride;
    a.act = static_cast<Activation>(c.act);
    a.residual = c.in_place ? out.ptr() : c.res ? res.ptr() : nullptr;
    a.out = out.v;
    const bool v4_ok = dt == DType::kBF16 && c.stride == 1 && c.up == 1 && c.Cin % 64 == 0 && c.W % 128 == 0 && device_is_sm90();
    const bool reject = (v == 3 && (dt != DType::kBF16 || c.Cin % 8 != 0)) || (v == 4 && !v4_ok);
    // v4 at the planned tile width and at every forced one (the wgmma pipeline's BN = 128, 192 and 256).
    // ... and in clusters of two at the planned width.
    for (const WgVariant& wv : v == 4 && v4_ok ? std::vector<WgVariant>{{0, 1}, {128, 1}, {192, 1}, {256, 1}, {0, 2}} : std::vector<WgVariant>{{0, 1}}) {
      const bool forced = wv.tile_n != 0 || wv.cluster != 1;
      if (forced && c.in_place) continue;  // in place: out already holds the result; once is enough
      WgForce force(wv);
      if (forced) {
        out = poisoned(dt, {c.B, Ho, Wo, c.Cout});
        a.out = out.v;
      }
      const std::string name = c.name + wv.suffix();
      const int64_t clustered = cuda::gemm_wgmma_cluster_launch_count();
      check_case("conv3x3", v, dt, name, reject, [&] { return cuda::conv3x3_upsampled(a, c.up, v); }, out.v, [&] {
        return selftest::conv3x3(x.h, w.h, c.B, c.H, c.W, c.Cin, c.Cout, c.stride, c.up, c.bias ? &bias.h : nullptr, c.act,
                                 c.res ? &res.h : nullptr);
      });
      if (v == 4 && !reject) {
        check_launches("conv3x3", v, dt, name, "cluster", cuda::gemm_wgmma_cluster_launch_count() - clustered,
                       cuda::plan::gemm_wgmma_cluster(wv.cluster, c.B * Ho * Wo, 1) > 1 ? 1 : 0);
      }
    }
  }
}

DcaeResBlockArgs resblock_args(const Dev& x, const Dev& w1, const Dev& b1, const Dev& w2, const Dev& nw, const Dev& nb, const Dev& out) {
  DcaeResBlockArgs a;
  a.x = x.v;
  a.w1 = w1.v;
  a.b1 = b1.v;
  a.w2 = w2.v;
  a.norm_w = nw.v;
  a.norm_b = nb.v;
  a.out = out.v;
  return a;
}

void parity_dcae_resblock_at(int v, DType dt, Rng& rng, int64_t B, int64_t H, int64_t W, int64_t C) {
  const int64_t M = B * H * W;
  auto rnd = [dt](double x) { return round_to(dt, x); };
  Dev x = randn(dt, {B, H, W, C}, rng, 1.0);
  Dev w1 = randn(dt, {C, C, 3, 3}, rng, 1.0 / std::sqrt(9.0 * C)), w2 = randn(dt, {C, C, 3, 3}, rng, 1.0 / std::sqrt(9.0 * C));
  Dev b1 = randn(dt, {C}, rng, 0.1), nw = randn(dt, {C}, rng, 0.1, 1.0), nb = randn(dt, {C}, rng, 0.1);
  Dev out = poisoned(dt, {B, H, W, C});
  const DcaeResBlockArgs a = resblock_args(x, w1, b1, w2, nw, nb, out);
  const bool v4_ok = dt == DType::kBF16 && C % 64 == 0 && W % 128 == 0 && device_is_sm90();
  const bool reject = (v == 3 && dt != DType::kBF16) || (v == 4 && !v4_ok);
  const std::string name = "B" + std::to_string(B) + " " + std::to_string(H) + "×" + std::to_string(W) + " C" + std::to_string(C);
  check_case("dcae-resblock", v, dt, name, reject, [&] { return cuda::dcae_resblock(a, v); }, out.v, [&] {
    Vec t1 = selftest::round_all(selftest::conv3x3(x.h, w1.h, B, H, W, C, C, 1, 1, &b1.h, 2, nullptr), rnd);
    Vec t2 = selftest::round_all(selftest::conv3x3(t1, w2.h, B, H, W, C, C, 1, 1, nullptr, 0, nullptr), rnd);
    return selftest::rmsnorm(t2, M, C, &nw.h, &nb.h, 1e-5, &x.h);
  });
}

void parity_dcae_resblock(int v, DType dt, Rng& rng) {
  parity_dcae_resblock_at(v, dt, rng, 1, 8, 6, 32);
  parity_dcae_resblock_at(v, dt, rng, 1, 3, 128, 64);  // v4's shape (C % 64 == 0, W % 128 == 0), every version
}

// The dcae-upsample shortcut by torch's definition: pixel_shuffle(repeat_interleave(x, r, channels), f), NHWC.
Vec upsample_shortcut_ref(const Vec& x, int64_t B, int64_t H, int64_t W, int64_t C, int64_t Co, int64_t f) {
  const int64_t r = Co * f * f / C, Ho = H * f, Wo = W * f;
  Vec sc(B * Ho * Wo * Co);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t o = 0; o < Co; ++o)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t xx = 0; xx < W; ++xx)
          for (int64_t i = 0; i < f; ++i)
            for (int64_t j = 0; j < f; ++j) {
              const int64_t rep = o * f * f + i * f + j;  // channel of repeat_interleave(x, r) → x channel rep / r
              sc[((b * Ho + y * f + i) * Wo + xx * f + j) * Co + o] = x[((b * H + y) * W + xx) * C + rep / r];
            }
  return sc;
}

// dcae-upsample's composition (dcae_upsample.cu): interpolate / none round once (conv + bias + shortcut, the
// shortcut being the conv's residual); pixel-shuffle stores the conv (B, H, W, 4·Co) first.
Vec ref_dcae_upsample(const Vec& x, const Vec& w, const Vec* bias, int64_t B, int64_t H, int64_t W, int64_t C, int64_t Nc, DcaeUpsampleMode mode,
                      bool shortcut, const selftest::Round& rnd) {
  const bool ps = mode == DcaeUpsampleMode::kPixelShuffle;
  const int64_t f = mode == DcaeUpsampleMode::kNone ? 1 : 2, Co = ps ? Nc / 4 : Nc;
  const Vec sc = shortcut ? upsample_shortcut_ref(x, B, H, W, C, Co, f) : Vec(B * f * H * f * W * Co, 0.0);
  if (!ps) return selftest::conv3x3(x, w, B, H, W, C, Nc, 1, static_cast<int>(f), bias, 0, &sc);
  const Vec t = selftest::round_all(selftest::conv3x3(x, w, B, H, W, C, Nc, 1, 1, bias, 0, nullptr), rnd);
  Vec o(sc.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t oy = 0; oy < 2 * H; ++oy)
      for (int64_t ox = 0; ox < 2 * W; ++ox)
        for (int64_t ch = 0; ch < Co; ++ch) {
          const int64_t e = ((b * 2 * H + oy) * 2 * W + ox) * Co + ch;
          o[e] = t[((b * H + oy / 2) * W + ox / 2) * Nc + 4 * ch + 2 * (oy % 2) + ox % 2] + sc[e];
        }
  return o;
}

void parity_dcae_upsample(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    DcaeUpsampleMode mode;
    int64_t B, H, W, C, Nc;
    bool bias, shortcut;
  };
  const Case cases[] = {
      {"interpolate B2 5×4 16→8 bias shortcut (r 2)", DcaeUpsampleMode::kInterpolate, 2, 5, 4, 16, 8, true, true},
      {"interpolate B1 3×6 32→32 shortcut (r 4)", DcaeUpsampleMode::kInterpolate, 1, 3, 6, 32, 32, false, true},
      {"interpolate B1 4×3 12→6 bias shortcut (C, Co % 8 != 0)", DcaeUpsampleMode::kInterpolate, 1, 4, 3, 12, 6, true, true},
      {"interpolate B1 4×4 16→8 bias, no shortcut", DcaeUpsampleMode::kInterpolate, 1, 4, 4, 16, 8, true, false},
      {"none B1 6×5 8→32 bias shortcut (r 4)", DcaeUpsampleMode::kNone, 1, 6, 5, 8, 32, true, true},
      {"pixel-shuffle B1 4×5 16→4·8 bias shortcut (r 2)", DcaeUpsampleMode::kPixelShuffle, 1, 4, 5, 16, 32, true, true},
      // v3's shapes (C % 64 == 0, rows of 128 pixels), run by every version: B 2 with Co != C, one row (both
      // phases at the top and bottom border at once) of two tiles with two channel blocks per tap, the scalar
      // epilogue (Co % 8 != 0), Co past one 128-wide tile
      {"interpolate B2 3×128 64→32 bias shortcut (r 2)", DcaeUpsampleMode::kInterpolate, 2, 3, 128, 64, 32, true, true},
      {"interpolate B1 1×256 128→64 shortcut (r 2)", DcaeUpsampleMode::kInterpolate, 1, 1, 256, 128, 64, false, true},
      {"interpolate B1 2×128 64→12 bias, no shortcut (Co % 8 != 0)", DcaeUpsampleMode::kInterpolate, 1, 2, 128, 64, 12, true, false},
      {"interpolate B1 2×128 64→144 bias shortcut (r 9)", DcaeUpsampleMode::kInterpolate, 1, 2, 128, 64, 144, true, true}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  for (const Case& c : cases) {
    const bool ps = c.mode == DcaeUpsampleMode::kPixelShuffle;
    const int64_t f = c.mode == DcaeUpsampleMode::kNone ? 1 : 2, Co = ps ? c.Nc / 4 : c.Nc;
    Dev x = randn(dt, {c.B, c.H, c.W, c.C}, rng, 1.0), w = randn(dt, {c.Nc, c.C, 3, 3}, rng, 1.0 / std::sqrt(9.0 * c.C));
    Dev bias = randn(dt, {c.Nc}, rng, 0.5);
    Dev out = poisoned(dt, {c.B, f * c.H, f * c.W, Co});
    DcaeUpsampleArgs a;
    a.x = x.v;
    a.w = w.v;
    a.bias = c.bias ? bias.ptr() : nullptr;
    a.mode = c.mode;
    a.shortcut = c.shortcut;
    a.out = out.v;
    // v3 (sub-pixel phases on the wgmma conv): bf16, interpolate, C % 64 == 0, W % 128 == 0, sm_90; run at
    // the planned tile width and at every forced one, checking that it ran on the wgmma engine
    const bool v3_ok = dt == DType::kBF16 && c.mode == DcaeUpsampleMode::kInterpolate && c.C % 64 == 0 && c.W % 128 == 0 && device_is_sm90();
    for (const WgVariant& wv : v == 3 && v3_ok ? std::vector<WgVariant>{{0, 1}, {128, 1}, {192, 1}, {256, 1}, {0, 2}} : std::vector<WgVariant>{{0, 1}}) {
      WgForce force(wv);
      if (wv.tile_n != 0 || wv.cluster != 1) {
        out = poisoned(dt, {c.B, f * c.H, f * c.W, Co});
        a.out = out.v;
      }
      const std::string name = c.name + wv.suffix();
      const int64_t before = cuda::gemm_wgmma_launch_count(), clustered = cuda::gemm_wgmma_cluster_launch_count();
      check_case("dcae-upsample", v, dt, name, v == 3 && !v3_ok, [&] { return cuda::dcae_upsample(a, v); }, out.v, [&] {
        return ref_dcae_upsample(x.h, w.h, c.bias ? &bias.h : nullptr, c.B, c.H, c.W, c.C, c.Nc, c.mode, c.shortcut, rnd);
      });
      if (v == 3 && v3_ok) {
        Check e;
        e.op = "dcae-upsample";
        e.version = v;
        e.dtype = dname(dt);
        e.name = name + ": engine: 4 wgmma launches (one per phase)";
        e.detail = std::to_string(cuda::gemm_wgmma_launch_count() - before) + " wgmma launches";
        e.pass = cuda::gemm_wgmma_launch_count() - before == 4;
        g_checks.push_back(e);
        check_launches("dcae-upsample", v, dt, name, "cluster", cuda::gemm_wgmma_cluster_launch_count() - clustered,
                       cuda::plan::gemm_wgmma_cluster(wv.cluster, c.B * c.H * c.W, 1) > 1 ? 4 : 0);
      }
    }
  }
  if (v == 3 && dt == DType::kBF16) {  // v3's refusals at otherwise-accepted shapes, before any launch: out stays poisoned
    struct Refusal {
      const char* name;
      DcaeUpsampleMode mode;
      int64_t H, W, C, Nc, f, Co;
    };
    const Refusal refusals[] = {{"refuses pixel-shuffle", DcaeUpsampleMode::kPixelShuffle, 2, 128, 64, 64, 2, 16},
                                {"refuses mode none", DcaeUpsampleMode::kNone, 2, 128, 64, 64, 1, 64},
                                {"refuses C % 64 != 0", DcaeUpsampleMode::kInterpolate, 2, 128, 32, 32, 2, 32},
                                {"refuses W % 128 != 0", DcaeUpsampleMode::kInterpolate, 2, 64, 64, 64, 2, 64}};
    for (const Refusal& r : refusals) {
      Dev x = randn(dt, {1, r.H, r.W, r.C}, rng, 1.0), w = randn(dt, {r.Nc, r.C, 3, 3}, rng, 0.1);
      Dev out = poisoned(dt, {1, r.f * r.H, r.f * r.W, r.Co});
      DcaeUpsampleArgs a;
      a.x = x.v;
      a.w = w.v;
      a.mode = r.mode;
      a.shortcut = true;
      a.out = out.v;
      record_status("dcae-upsample", 3, dt, r.name, cuda::dcae_upsample(a, 3), true);
      const Vec o = download(out.v);
      Check u;
      u.op = "dcae-upsample";
      u.version = 3;
      u.dtype = dname(dt);
      u.name = std::string(r.name) + ": out untouched";
      u.pass = std::none_of(o.begin(), o.end(), [](double e) { return std::isfinite(e); });
      u.detail = u.pass ? "" : "the refused call wrote into out";
      g_checks.push_back(u);
    }
  }
  if (v == 0 && dt == DType::kF32) {  // refusals: an unknown version, a pixel-shuffle conv without 4·Co channels
    Dev x = randn(dt, {1, 4, 4, 8}, rng, 1.0), w = randn(dt, {6, 8, 3, 3}, rng, 0.1), out = poisoned(dt, {1, 8, 8, 6});
    DcaeUpsampleArgs a;
    a.x = x.v;
    a.w = w.v;
    a.mode = DcaeUpsampleMode::kInterpolate;
    a.shortcut = false;
    a.out = out.v;
    record_status("dcae-upsample", 4, dt, "refuses an unknown version", cuda::dcae_upsample(a, 4), true);
    a.mode = DcaeUpsampleMode::kPixelShuffle;
    record_status("dcae-upsample", 0, dt, "refuses pixel-shuffle with 6 conv channels", cuda::dcae_upsample(a, 0), true);
  }
}

// dcae-head's composition (dcae_head.cu): the norm and the activation each stored in the dtype; the conv
// output stored NHWC, then transposed to NCHW.
Vec ref_dcae_head(const Vec& x, const Vec& nw, const Vec& nb, const Vec& w, const Vec* bias, int64_t B, int64_t H, int64_t W, int64_t C,
                  int64_t Cout, int act, const selftest::Round& rnd) {
  const int64_t HW = H * W;
  Vec t = selftest::round_all(selftest::rmsnorm(x, B * HW, C, &nw, &nb, 1e-5, nullptr), rnd);
  for (double& e : t) e = rnd(selftest::act_d(e, act));
  const Vec y = selftest::conv3x3(t, w, B, H, W, C, Cout, 1, 1, bias, 0, nullptr);
  Vec o(y.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t ch = 0; ch < Cout; ++ch)
      for (int64_t p = 0; p < HW; ++p) o[(b * Cout + ch) * HW + p] = y[(b * HW + p) * Cout + ch];
  return o;
}

void parity_dcae_head(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, H, W, C, Cout;
    Activation act;
    bool bias;
  };
  const Case cases[] = {{"B2 7×5 C16→3 relu bias", 2, 7, 5, 16, 3, Activation::kRelu, true},
                        {"B1 4×6 C12→5 silu (C % 8 != 0)", 1, 4, 6, 12, 5, Activation::kSilu, false},
                        {"B1 5×5 C8→3 no activation, bias", 1, 5, 5, 8, 3, Activation::kNone, true},
                        {"B2 19×35 C128→3 relu bias (SANA's head, 2×3 tiles)", 2, 19, 35, 128, 3, Activation::kRelu, true},
                        {"B1 3×4 C136→3 relu (C > 128)", 1, 3, 4, 136, 3, Activation::kRelu, true},
                        {"B1 17×16 C48→8 silu bias (v4: Cout 8, one tile row over)", 1, 17, 16, 48, 8, Activation::kSilu, true},
                        {"B1 1×33 C32→6 relu (H = 1, v4: 3 tiles)", 1, 1, 33, 32, 6, Activation::kRelu, false}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  for (const Case& c : cases) {
    Dev x = randn(dt, {c.B, c.H, c.W, c.C}, rng, 2.0, 0.5), nw = randn(dt, {c.C}, rng, 0.2, 1.0), nb = randn(dt, {c.C}, rng, 0.3);
    Dev w = randn(dt, {c.Cout, c.C, 3, 3}, rng, 1.0 / std::sqrt(9.0 * c.C)), bias = randn(dt, {c.Cout}, rng, 0.5);
    Dev out = poisoned(dt, {c.B, c.Cout, c.H, c.W});
    DcaeHeadArgs a;
    a.x = x.v;
    a.norm_w = nw.v;
    a.norm_b = nb.v;
    a.w = w.v;
    a.bias = c.bias ? bias.ptr() : nullptr;
    a.act = c.act;
    a.out = out.v;
    const bool reject = (v == 3 && (c.C > 128 || c.Cout > 4)) ||  // v3: narrow heads only
                        (v == 4 && (dt != DType::kBF16 || c.C % 16 != 0 || c.C > 128 || c.Cout > 8));  // v4: mma.sync k-steps of 16, n = 8
    check_case("dcae-head", v, dt, c.name, reject, [&] { return cuda::dcae_head(a, v); }, out.v, [&] {
      return ref_dcae_head(x.h, nw.h, nb.h, w.h, c.bias ? &bias.h : nullptr, c.B, c.H, c.W, c.C, c.Cout, static_cast<int>(c.act), rnd);
    });
  }
  if (v == 0 && dt == DType::kF32) {  // refusals: an unknown version, an NHWC out
    Dev x = randn(dt, {1, 4, 4, 8}, rng, 1.0), nw = randn(dt, {8}, rng, 0.1, 1.0), nb = randn(dt, {8}, rng, 0.1);
    Dev w = randn(dt, {3, 8, 3, 3}, rng, 0.1), out = poisoned(dt, {1, 3, 4, 4}), nhwc = poisoned(dt, {1, 4, 4, 3});
    DcaeHeadArgs a;
    a.x = x.v;
    a.norm_w = nw.v;
    a.norm_b = nb.v;
    a.w = w.v;
    a.out = out.v;
    record_status("dcae-head", 5, dt, "refuses an unknown version", cuda::dcae_head(a, 5), true);
    a.out = nhwc.v;
    record_status("dcae-head", 0, dt, "refuses an NHWC out", cuda::dcae_head(a, 0), true);
  }
}

}  // namespace sana_selftest
