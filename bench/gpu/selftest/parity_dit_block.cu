// Parity of dit-block: the whole DiT block (dit_block_calls.h) against the composition of the references.
#include "cases.h"
#include "composition_refs.h"
#include "harness.h"

namespace sana_selftest {

// dit-block's composition (dit_block_calls.h), rounding where it stores: the modulation, each op's output.
// The cross-attention's text side: y with attn2 wk, wv, bk, bv (kp == nullptr) or precomputed kp, vp.
struct DitRefWeights {
  const Vec *table, *t0, *mask;
  const Vec *a1q, *a1k, *a1v, *a1o, *a1bo;
  const Vec *a2q, *a2k, *a2v, *a2o, *a2bq, *a2bk, *a2bv, *a2bo;
  const Vec *kp, *vp;  // precomputed text keys/values (B, L, C), or null
  const Vec *winv, *binv, *wdw, *bdw, *wpt;
};

Vec ref_dit_block(const Vec& x, const Vec& y, const DitRefWeights& w, int64_t B, int64_t H, int64_t W, int64_t C, int64_t L, int64_t heads, int64_t h,
                  int64_t d, const selftest::Round& rnd) {
  const int64_t N = H * W;
  Vec mod(6 * B * C);
  for (int64_t j = 0; j < 6; ++j)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c) mod[(j * B + b) * C + c] = rnd((*w.table)[j * C + c] + (*w.t0)[b * 6 * C + j * C + c]);
  auto chunk = [&](int j) { return Vec(mod.begin() + j * B * C, mod.begin() + (j + 1) * B * C); };
  Vec h1 = selftest::round_all(selftest::layernorm_modulate(x, B * N, C, chunk(0), chunk(1), N, 1e-6), rnd);
  Vec g1 = chunk(2), g2 = chunk(5);
  Vec o1 = selftest::round_all(ref_la_block(h1, *w.a1q, *w.a1k, *w.a1v, *w.a1o, w.a1bo, &g1, N, &x, B, N, C, C, d, rnd), rnd);
  Vec o2;
  if (w.kp) {
    o2 = selftest::round_all(ref_cross_kv(o1, *w.kp, *w.vp, *w.a2q, *w.a2o, w.a2bq, w.a2bo, w.mask, &o1, B, N, L, C, heads, rnd), rnd);
  } else {
    const Vec* bb[4] = {w.a2bq, w.a2bk, w.a2bv, w.a2bo};
    o2 = selftest::round_all(ref_cross(o1, y, *w.a2q, *w.a2k, *w.a2v, *w.a2o, bb, w.mask, &o1, B, N, L, C, C, heads, rnd), rnd);
  }
  Vec h2 = selftest::round_all(selftest::layernorm_modulate(o2, B * N, C, chunk(3), chunk(4), N, 1e-6), rnd);
  return ref_mix_ffn(h2, *w.winv, *w.binv, *w.wdw, *w.bdw, *w.wpt, &g2, &o2, B, H, W, C, h, C, rnd);
}

// Both text forms: y with attn2 wk, wv, bk, bv, and precomputed a2_k, a2_v (what the runner passes).
void parity_dit_block(int v, DType dt, Rng& rng) {
  const int64_t B = 2, H = 4, W = 5, N = H * W, C = 64, L = 9, heads = 2, h = 40, d = 32;
  auto rnd = [dt](double x) { return round_to(dt, x); };
  const double s = 1.0 / std::sqrt(double(C));
  for (bool precomputed : {false, true}) {
    Dev x = randn(dt, {B, N, C}, rng, 1.0), y = randn(dt, {B, L, C}, rng, 1.0);
    Dev table = randn(dt, {6, C}, rng, 0.2), t0 = randn(dt, {B, 6 * C}, rng, 0.2);
    std::vector<double> mv(B * L);
    for (int64_t i = 0; i < B * L; ++i) mv[i] = (i % L) < 5 ? 0.0 : -10000.0;
    Dev mask = upload_values(dt, {B, L}, mv);
    Dev a1q = randn(dt, {C, C}, rng, s), a1k = randn(dt, {C, C}, rng, s), a1v = randn(dt, {C, C}, rng, s), a1o = randn(dt, {C, C}, rng, s);
    Dev a1bo = randn(dt, {C}, rng, 0.1);
    Dev a2q = randn(dt, {C, C}, rng, s), a2k = randn(dt, {C, C}, rng, s), a2v = randn(dt, {C, C}, rng, s), a2o = randn(dt, {C, C}, rng, s);
    Dev a2bq = randn(dt, {C}, rng, 0.1), a2bk = randn(dt, {C}, rng, 0.1), a2bv = randn(dt, {C}, rng, 0.1), a2bo = randn(dt, {C}, rng, 0.1);
    Dev kp = randn(dt, {B, L, C}, rng, 1.0), vp = randn(dt, {B, L, C}, rng, 1.0);  // (y·wkᵀ + bk has std ≈ 1)
    Dev winv = randn(dt, {2 * h, C}, rng, s), binv = randn(dt, {2 * h}, rng, 0.1), wdw = randn(dt, {2 * h, 1, 3, 3}, rng, 1.0 / 3);
    Dev bdw = randn(dt, {2 * h}, rng, 0.1), wpt = randn(dt, {C, h}, rng, 1.0 / std::sqrt(double(h)));
    Dev out = poisoned(dt, {B, N, C});
    DitBlockArgs a;
    a.x = x.v;
    a.t0 = t0.v;
    a.table = table.v;
    a.mask_bias = mask.ptr();
    a.a1_wq = a1q.v;
    a.a1_wk = a1k.v;
    a.a1_wv = a1v.v;
    a.a1_wo = a1o.v;
    a.a1_bo = a1bo.ptr();
    a.a2_wq = a2q.v;
    a.a2_wo = a2o.v;
    a.a2_bq = a2bq.ptr();
    a.a2_bo = a2bo.ptr();
    if (precomputed) {
      a.a2_k = kp.ptr();
      a.a2_v = vp.ptr();
    } else {
      a.y = y.v;
      a.a2_wk = a2k.v;
      a.a2_wv = a2v.v;
      a.a2_bk = a2bk.ptr();
      a.a2_bv = a2bv.ptr();
    }
    a.ff_w_inv = winv.v;
    a.ff_b_inv = binv.v;
    a.ff_w_dw = wdw.v;
    a.ff_b_dw = bdw.v;
    a.ff_w_point = wpt.v;
    a.height = H;
    a.width = W;
    a.head_dim = d;
    a.cross_heads = heads;
    a.out = out.v;
    const std::string name = precomputed ? "B2 4×5 C64 L9 h40 precomputed text k v" : "B2 4×5 C64 L9 h40";
    check_case("dit-block", v, dt, name, v == 3 && (dt != DType::kBF16 || !device_is_sm90()), [&] { return cuda::dit_block(a, v); }, out.v, [&] {
      DitRefWeights w{&table.h, &t0.h, &mask.h, &a1q.h, &a1k.h, &a1v.h, &a1o.h, &a1bo.h, &a2q.h, &a2k.h, &a2v.h, &a2o.h, &a2bq.h, &a2bk.h, &a2bv.h,
                      &a2bo.h, precomputed ? &kp.h : nullptr, precomputed ? &vp.h : nullptr, &winv.h, &binv.h, &wdw.h, &bdw.h, &wpt.h};
      return ref_dit_block(x.h, y.h, w, B, H, W, C, L, heads, h, d, rnd);
    });
    if (v == 0 && dt == DType::kF32 && precomputed) {  // refusal: both text forms at once
      a.y = y.v;
      a.a2_wk = a2k.v;
      a.a2_wv = a2v.v;
      record_status("dit-block", 0, dt, "refuses y, attn2 wk, wv given beside precomputed k, v", cuda::dit_block(a, 0), true);
    }
  }
}

}  // namespace sana_selftest
