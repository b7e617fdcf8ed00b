// The DC-AE EfficientViT pieces: lite-mla and dcae-evit-block.
#include "cases.h"
#include "composition_refs.h"
#include "harness.h"

namespace sana_selftest {

// Linear form (H·W > d: the linear-attention core with a head stride of 3d; v2 uses the core's v2 at
// d = 32, v1 otherwise) and quadratic form (H·W ≤ d); head dims 8…64, I ≠ C, aggregation kernels 1…9.
// The linear form refuses head_dim > 64 (the core's limit) in every version. v3 (depthwise + grouped 1×1
// fused, a block per run of ≤ 128 pixels of a row) refuses head_dim ≠ 32 and kernels > 7; rows of 130
// and 131 pixels end in a partial second run, narrow rows in a run rounded up to a warp.
void parity_lite_mla(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, H, W, C, I, d;
    int ks;
  };
  const Case cases[] = {{"B1 6×5 (quadratic form) C64 d32 k5", 1, 6, 5, 64, 64, 32, 5},
                        {"B2 8×7 (linear form) C64 d32 k5", 2, 8, 7, 64, 64, 32, 5},
                        {"B1 6×7 (linear) C40 I48 d16 k3", 1, 6, 7, 40, 48, 16, 3},
                        {"B2 4×3 (quadratic) C48 I48 d16 k5", 2, 4, 3, 48, 48, 16, 5},
                        {"B1 9×8 (linear) C48 I96 d32 k3", 1, 9, 8, 48, 96, 32, 3},
                        {"B1 8×9 (linear) C80 I64 d64 k5", 1, 8, 9, 80, 64, 64, 5},
                        {"B1 5×5 (linear) C24 I16 d8 k3", 1, 5, 5, 24, 16, 8, 3},
                        {"B1 12×11 (linear) C64 d128 k3 (head_dim > 64)", 1, 12, 11, 64, 128, 128, 3},
                        {"B2 3×130 C32 I64 d32 k5 (run past the row end)", 2, 3, 130, 32, 64, 32, 5},
                        {"B2 2×131 C48 I32 d32 k3 (run past the row end)", 2, 2, 131, 48, 32, 32, 3},
                        {"B1 9×10 (linear) C32 I32 d32 k7", 1, 9, 10, 32, 32, 32, 7},
                        {"B1 5×7 (linear) C32 I32 d32 k1", 1, 5, 7, 32, 32, 32, 1},
                        {"B1 10×9 (linear) C32 I32 d32 k9 (v3: kernel > 7)", 1, 10, 9, 32, 32, 32, 9}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  for (const Case& c : cases) {
    const int64_t C = c.C, I = c.I, d = c.d, I3 = 3 * I;
    const int ks = c.ks;
    const double s = 1.0 / std::sqrt(double(C));
    Dev x = randn(dt, {c.B, c.H, c.W, C}, rng, 1.0);
    Dev wq = randn(dt, {I, C}, rng, s), wk = randn(dt, {I, C}, rng, s), wv = randn(dt, {I, C}, rng, s);
    Dev wdw = randn(dt, {I3, 1, ks, ks}, rng, 1.0 / ks), wg = randn(dt, {I3, d, 1, 1}, rng, 1.0 / std::sqrt(double(d)));
    Dev wout = randn(dt, {C, 2 * I}, rng, 1.0 / std::sqrt(2.0 * I)), nw = randn(dt, {C}, rng, 0.1, 1.0), nb = randn(dt, {C}, rng, 0.1);
    Dev out = poisoned(dt, {c.B, c.H, c.W, C});
    LiteMlaArgs a;
    a.x = x.v;
    a.wq = wq.v;
    a.wk = wk.v;
    a.wv = wv.v;
    a.w_dw = wdw.v;
    a.w_group = wg.v;
    a.w_out = wout.v;
    a.norm_w = nw.v;
    a.norm_b = nb.v;
    a.head_dim = d;
    a.out = out.v;
    const bool reject = (c.H * c.W > d && d > 64) || (v == 3 && (d != 32 || ks > 7));
    check_case("lite-mla", v, dt, c.name, reject, [&] { return cuda::lite_mla(a, v); }, out.v, [&] {
      return ref_lite_mla(x.h, wq.h, wk.h, wv.h, wdw.h, wg.h, wout.h, nw.h, nb.h, c.B, c.H, c.W, C, I, d, ks, rnd);
    });
  }
}

// dcae-evit-block's composition (dcae_evit_block.cu): a = lite-mla(x) and g = mix-ffn(a) stored in the dtype,
// out = a + RMSNorm2d(g). h = the GLUMBConv hidden width (w_inv has 2h rows).
Vec ref_dcae_evit_block(const Vec& x, const Vec& wq, const Vec& wk, const Vec& wv, const Vec& wdw, const Vec& wg, const Vec& wout, const Vec& anw,
                        const Vec& anb, const Vec& winv, const Vec& binv, const Vec& wdw3, const Vec& bdw, const Vec& wpt, const Vec& fnw,
                        const Vec& fnb, int64_t B, int64_t H, int64_t W, int64_t C, int64_t I, int64_t d, int ks, int64_t h,
                        const selftest::Round& rnd) {
  const Vec at = selftest::round_all(ref_lite_mla(x, wq, wk, wv, wdw, wg, wout, anw, anb, B, H, W, C, I, d, ks, rnd), rnd);
  const Vec g = selftest::round_all(ref_mix_ffn(at, winv, binv, wdw3, bdw, wpt, nullptr, nullptr, B, H, W, C, h, C, rnd), rnd);
  return selftest::rmsnorm(g, B * H * W, C, &fnw, &fnb, 1e-5, &at);
}

void parity_dcae_evit_block(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, H, W;
  };
  // lite-mla's linear form (H·W > d) and its quadratic form for tiny maps (H·W ≤ d)
  const Case cases[] = {{"B1 8×7 (linear form) C64 d32 k5 ffn 256", 1, 8, 7}, {"B2 5×6 (quadratic form) C64 d32 k5 ffn 256", 2, 5, 6}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  const int64_t C = 64, d = 32, I = 64, I3 = 3 * I, h = 4 * C;
  const int ks = 5;
  for (const Case& c : cases) {
    const double s = 1.0 / std::sqrt(double(C));
    Dev x = randn(dt, {c.B, c.H, c.W, C}, rng, 1.0);
    Dev wq = randn(dt, {I, C}, rng, s), wk = randn(dt, {I, C}, rng, s), wv = randn(dt, {I, C}, rng, s);
    Dev wdw = randn(dt, {I3, 1, ks, ks}, rng, 0.2), wg = randn(dt, {I3, d, 1, 1}, rng, 1.0 / std::sqrt(double(d)));
    Dev wout = randn(dt, {C, 2 * I}, rng, 1.0 / std::sqrt(2.0 * I)), anw = randn(dt, {C}, rng, 0.1, 1.0), anb = randn(dt, {C}, rng, 0.1);
    Dev winv = randn(dt, {2 * h, C, 1, 1}, rng, s), binv = randn(dt, {2 * h}, rng, 0.3);
    Dev wdw3 = randn(dt, {2 * h, 1, 3, 3}, rng, 1.0 / 3), bdw = randn(dt, {2 * h}, rng, 0.3);
    Dev wpt = randn(dt, {C, h, 1, 1}, rng, 1.0 / std::sqrt(double(h))), fnw = randn(dt, {C}, rng, 0.1, 1.0), fnb = randn(dt, {C}, rng, 0.1);
    Dev out = poisoned(dt, {c.B, c.H, c.W, C});
    DcaeEvitBlockArgs a;
    a.x = x.v;
    a.wq = wq.v;
    a.wk = wk.v;
    a.wv = wv.v;
    a.w_dw = wdw.v;
    a.w_group = wg.v;
    a.w_out = wout.v;
    a.attn_norm_w = anw.v;
    a.attn_norm_b = anb.v;
    a.ff_w_inv = winv.v;
    a.ff_b_inv = binv.v;
    a.ff_w_dw = wdw3.v;
    a.ff_b_dw = bdw.v;
    a.ff_w_point = wpt.v;
    a.ff_norm_w = fnw.v;
    a.ff_norm_b = fnb.v;
    a.head_dim = d;
    a.out = out.v;
    check_case("dcae-evit-block", v, dt, c.name, false, [&] { return cuda::dcae_evit_block(a, v); }, out.v, [&] {
      return ref_dcae_evit_block(x.h, wq.h, wk.h, wv.h, wdw.h, wg.h, wout.h, anw.h, anb.h, winv.h, binv.h, wdw3.h, bdw.h, wpt.h, fnw.h, fnb.h, c.B,
                                 c.H, c.W, C, I, d, ks, h, rnd);
    });
    if (v == 0 && dt == DType::kF32 && c.B == 1) {  // refusals: an unknown version, out aliasing x
      record_status("dcae-evit-block", 3, dt, "refuses an unknown version", cuda::dcae_evit_block(a, 3), true);
      a.out = x.v;
      record_status("dcae-evit-block", 0, dt, "refuses out aliasing x", cuda::dcae_evit_block(a, 0), true);
    }
  }
}

}  // namespace sana_selftest
