// --big: 64-bit indexing on tensors of 2³² elements, sampled against the host reference.
#include "cases.h"
#include "harness.h"

namespace sana_selftest {

void run_big(uint64_t seed) {
  Rng rng(seed);
  const DType dt = DType::kBF16;
  auto fill = [&](Dev& d, float lo, float hi) { ok(cuda::fill_random(d.v.data, dt, d.v.numel(), rng.next(), lo, hi)); };
  {  // rmsnorm2d on (2, 4096, 4096, 128): 2³² elements
    const int64_t B = 2, H = 4096, W = 4096, C = 128, rows = B * H * W;
    Dev x = alloc_dev(dt, {B, H, W, C}), out = alloc_dev(dt, {B, H, W, C});
    Dev w = randn(dt, {C}, rng, 0.1, 1.0), b = randn(dt, {C}, rng, 0.1);
    fill(x, -2.0f, 2.0f);
    for (int v = 1; v <= 2; ++v) {
      ok(cuda::fill_bytes(out.v.data, 0xFF, out.v.bytes()));
      RmsNormArgs a;
      a.x = x.v;
      a.weight = w.ptr();
      a.bias = b.ptr();
      a.out = out.v;
      Status s = cuda::rmsnorm(a, v);
      if (!s.ok()) {
        record_status("rmsnorm", v, dt, "2×4096×4096×128 (2³² elements)", s, false);
        continue;
      }
      Vec got, ref;
      for (int64_t r0 : {int64_t{0}, rows / 2 - 8, (int64_t{1} << 24) + 3, rows - 16}) {  // element offsets up to 2³² − 1
        const int64_t n = 16;
        Vec xs = download(x.v, r0 * C, n * C), os = download(out.v, r0 * C, n * C);
        Vec rr = selftest::rmsnorm(xs, n, C, &w.h, &b.h, 1e-5, nullptr);
        got.insert(got.end(), os.begin(), os.end());
        ref.insert(ref.end(), rr.begin(), rr.end());
      }
      record_compare("rmsnorm", v, dt, "2×4096×4096×128 (2³² elements), sampled rows", got, ref);
    }
  }
  {  // conv3x3 v3, input (2, 2048, 2048, 128) upsampled ×2 in place → out (2, 4096, 4096, 128)
    const int64_t B = 2, H = 2048, W = 2048, Cin = 128, Cout = 128, Ho = 4096, Wo = 4096;
    Dev x = alloc_dev(dt, {B, H, W, Cin}), out = alloc_dev(dt, {B, Ho, Wo, Cout});
    Dev w = randn(dt, {Cout, Cin, 3, 3}, rng, 1.0 / std::sqrt(9.0 * Cin)), bias = randn(dt, {Cout}, rng, 0.1);
    fill(x, -1.0f, 1.0f);
    ok(cuda::fill_bytes(out.v.data, 0xFF, out.v.bytes()));
    Conv3x3Args a;
    a.x = x.v;
    a.w = w.v;
    a.bias = bias.ptr();
    a.out = out.v;
    Status s = cuda::conv3x3_upsampled(a, 2, 3);
    if (!s.ok()) {
      record_status("conv3x3", 3, dt, "upsample2 → 2×4096×4096×128", s, false);
      return;
    }
    Vec got, ref;
    const int64_t pix[][3] = {{1, Ho - 1, Wo - 1}, {1, Ho - 1, 0}, {1, Ho - 2, Wo / 2 + 1}, {0, 0, 0}, {1, Ho / 2, 7}};
    for (const auto& p : pix) {
      const int64_t b = p[0], oy = p[1], ox = p[2];
      // the (upsampled) neighbourhood, gathered from the source rows
      const int64_t r0 = std::max<int64_t>(0, (oy - 1) / 2), r1 = std::min<int64_t>(H - 1, (oy + 1) / 2);
      Vec rows = download(x.v, ((b * H + r0) * W) * Cin, (r1 - r0 + 1) * W * Cin);
      for (int64_t co = 0; co < Cout; ++co) {
        double acc = bias.h[co];
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx) {
            const int64_t iy = oy + ky - 1, ix = ox + kx - 1;
            if (iy < 0 || iy >= Ho || ix < 0 || ix >= Wo) continue;
            for (int64_t ci = 0; ci < Cin; ++ci) {
              acc += rows[((iy / 2 - r0) * W + ix / 2) * Cin + ci] * w.h[((co * Cin + ci) * 3 + ky) * 3 + kx];
            }
          }
        ref.push_back(acc);
      }
      Vec o = download(out.v, ((b * Ho + oy) * Wo + ox) * Cout, Cout);
      got.insert(got.end(), o.begin(), o.end());
    }
    record_compare("conv3x3", 3, dt, "upsample2 → 2×4096×4096×128 (2³² elements), sampled pixels", got, ref);
  }
}

}  // namespace sana_selftest
