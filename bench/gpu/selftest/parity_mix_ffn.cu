// Parity of mix-ffn, and its depthwise 3×3 + GLU step alone (v3 bit-identical to v2).
#include "cases.h"
#include "composition_refs.h"
#include "harness.h"

namespace sana_selftest {

// The depthwise + GLU step alone (needs no sm_90, unlike mix-ffn v4 around it): v3 (tiles staged in shared
// memory) must equal v2 bit for bit, as both sum each output's bias and 9 taps in the same order with f32
// FMAs, and both must match the float64 reference. Poisoned outputs; shapes across v3's 8 × 16 tiles
// and 32-channel slices (partial last slice at h 40 and 72), W < 4, H = 1, a single pixel.
void parity_dw_glu_v3(Rng& rng) {
  struct Shape {
    int64_t B, H, W, h;
  };
  const Shape shapes[] = {{2, 19, 37, 40}, {1, 8, 16, 32}, {1, 9, 17, 72}, {2, 5, 3, 64}, {1, 1, 33, 8}, {1, 1, 1, 16}};
  const DType dt = DType::kBF16;
  for (const Shape& sh : shapes) {
    const std::string name = "depthwise v3 vs v2, B" + std::to_string(sh.B) + " " + std::to_string(sh.H) + "×" + std::to_string(sh.W) + " h" +
                             std::to_string(sh.h);
    Dev u = randn(dt, {sh.B, sh.H * sh.W, 2 * sh.h}, rng, 1.0);
    Dev w = randn(dt, {2 * sh.h, 1, 3, 3}, rng, 1.0 / 3), b = randn(dt, {2 * sh.h}, rng, 0.1);
    Dev z2 = poisoned(dt, {sh.B, sh.H * sh.W, sh.h}), z3 = poisoned(dt, {sh.B, sh.H * sh.W, sh.h});
    for (const auto& [ver, z] : {std::pair<int, Dev*>{2, &z2}, std::pair<int, Dev*>{3, &z3}}) {
      cuda::OpScope scope("mix-ffn dw");
      ok(scope.begin());
      ok(scope.finish(cuda::dw_glu("mix-ffn dw", ver, dt, u.v.data, w.v.data, b.v.data, z->v.data, sh.B, sh.H, sh.W, sh.h)));
    }
    const Vec o2 = download(z2.v), o3 = download(z3.v);
    record_compare("mix-ffn", 4, dt, name + ": v3 vs float64", o3, selftest::round_all(dw_glu_ref(u.h, w.h, b.h, sh.B, sh.H, sh.W, sh.h), [](double x) {
                     return round_to(DType::kBF16, x);
                   }));
    g_checks.push_back(identical_check("mix-ffn", 4, dt, name + ": bit-identical", o3, o2, "dw v2"));
  }
}

void parity_mix_ffn(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, H, W, C, h, Cout;
    bool gate;      // gate and residual
    bool in_place;  // out == residual (as dit-block calls it)
  };
  // v2 works on runs of 4 pixels along a row (W < 4: one partial run; W = 1: no horizontal neighbour)
  // and 8 channels per thread (h % 8 == 0, else refused)
  const Case cases[] = {{"B2 5×7 C32 h40 gate residual", 2, 5, 7, 32, 40, 32, true, false},
                        {"B1 4×4 C16 h20 Cout24", 1, 4, 4, 16, 20, 24, false, false},
                        {"B2 5×3 C32 h40 gate residual (W < 4)", 2, 5, 3, 32, 40, 32, true, false},
                        {"B1 6×1 C16 h16 (W = 1)", 1, 6, 1, 16, 16, 16, false, false},
                        {"B1 1×5 C16 h8 gate residual (H = 1)", 1, 1, 5, 16, 8, 16, true, false},
                        {"B1 4×6 C32 h24 Cout16", 1, 4, 6, 32, 24, 16, false, false},
                        {"B1 7×5 C64 h128 gate residual", 1, 7, 5, 64, 128, 64, true, false},
                        {"B2 3×9 C48 h72 gate, residual in place", 2, 3, 9, 48, 72, 48, true, true},
                        // dw v3's 8 × 16 tiles: several tiles each way with ragged edges, and a partial
                        // channel slice (h 48 = one slice of 32 + one of 16)
                        {"B1 19×37 C32 h48 gate residual (v3 tiles: 3 × 3, ragged)", 1, 19, 37, 32, 48, 32, true, false},
                        {"B2 9×17 C16 h32 (v3 tiles: 2 × 2, one row/column over)", 2, 9, 17, 16, 32, 16, false, false}};
  auto rnd = [dt](double x) { return round_to(dt, x); };
  for (const Case& c : cases) {
    const int64_t N = c.H * c.W, M = c.B * N;
    Dev x = randn(dt, {c.B, N, c.C}, rng, 1.0);
    Dev w_inv = randn(dt, {2 * c.h, c.C, 1, 1}, rng, 1.0 / std::sqrt(double(c.C))), b_inv = randn(dt, {2 * c.h}, rng, 0.1);
    Dev w_dw = randn(dt, {2 * c.h, 1, 3, 3}, rng, 1.0 / 3), b_dw = randn(dt, {2 * c.h}, rng, 0.1);
    Dev w_pt = randn(dt, {c.Cout, c.h, 1, 1}, rng, 1.0 / std::sqrt(double(c.h)));
    Dev gate = randn(dt, {c.B, 1, c.Cout}, rng, 0.5, 1.0), res = randn(dt, {c.B, N, c.Cout}, rng, 1.0);
    Dev out = c.in_place ? upload_values(dt, {c.B, N, c.Cout}, res.h) : poisoned(dt, {c.B, N, c.Cout});
    MixFfnArgs a;
    a.x = x.v;
    a.w_inv = w_inv.v;
    a.b_inv = b_inv.v;
    a.w_dw = w_dw.v;
    a.b_dw = b_dw.v;
    a.w_point = w_pt.v;
    a.height = c.H;
    a.width = c.W;
    a.gate = c.gate ? gate.ptr() : nullptr;
    a.residual = c.in_place ? out.ptr() : c.gate ? res.ptr() : nullptr;
    a.out = out.v;
    const bool reject = (v == 2 && c.h % 8 != 0) || (v >= 3 && (dt != DType::kBF16 || c.C % 8 != 0 || c.h % 8 != 0 || !device_is_sm90()));
    check_case("mix-ffn", v, dt, c.name, reject, [&] { return cuda::mix_ffn(a, v); }, out.v, [&] {
      return ref_mix_ffn(x.h, w_inv.h, b_inv.h, w_dw.h, b_dw.h, w_pt.h, c.gate ? &gate.h : nullptr, c.gate ? &res.h : nullptr, c.B, c.H, c.W, c.C,
                         c.h, c.Cout, rnd);
    });
    (void)M;
  }
  if (v == 4 && dt == DType::kBF16) parity_dw_glu_v3(rng);
}

}  // namespace sana_selftest
