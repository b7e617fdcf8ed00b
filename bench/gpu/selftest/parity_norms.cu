// Parity of layernorm-modulate and rmsnorm.
#include "cases.h"
#include "harness.h"

namespace sana_selftest {

void parity_layernorm_modulate(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t B, N, C;
    bool per_batch;
  };
  // C 1152 (Sana-0.6B) and 2240 (1.6B) take v2's long-row variant (more than 2 vectors per lane), the
  // one the DiT runs; the coverage of the emulated self-test showed it was never run before.
  const Case cases[] = {{"B2 N33 C96 mean 3 per-batch", 2, 33, 96, true},
                        {"B2 N5 C100 shared", 2, 5, 100, false},
                        {"B2 N7 C1152 per-batch (long rows)", 2, 7, 1152, true},
                        {"B1 N3 C2240 shared (long rows)", 1, 3, 2240, false},
                        {"B1 N2 C3000 per-batch (v2's largest register budget)", 1, 2, 3000, true}};
  for (const Case& c : cases) {
    Dev x = randn(dt, {c.B, c.N, c.C}, rng, 1.0, 3.0);
    const int64_t G = c.per_batch ? c.B : 1;
    Dev shift = randn(dt, {G, 1, c.C}, rng, 0.3), scale = randn(dt, {G, 1, c.C}, rng, 0.3);
    Dev out = poisoned(dt, {c.B, c.N, c.C});
    LayerNormModulateArgs a;
    a.x = x.v;
    a.shift = shift.v;
    a.scale = scale.v;
    a.out = out.v;
    check_case("layernorm-modulate", v, dt, c.name, v == 2 && c.C % 8 != 0, [&] { return cuda::layernorm_modulate(a, v); }, out.v, [&] {
      return selftest::layernorm_modulate(x.h, c.B * c.N, c.C, shift.h, scale.h, c.B * c.N / G, 1e-6);
    });
  }
}

void parity_rmsnorm(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    std::vector<int64_t> shape;
    bool w, b, res;
  };
  const Case cases[] = {{"NHWC 3×5×7×128 w b residual", {3, 5, 7, 128}, true, true, true},
                        {"4×1000 w", {4, 1000}, true, false, false},
                        {"6×36 plain", {6, 36}, false, false, false},
                        {"3×1152 w b residual (long rows)", {3, 1152}, true, true, true},
                        {"2×2240 w b (register budget 9)", {2, 2240}, true, true, false},
                        {"2×3072 w residual (register budget 12)", {2, 3072}, true, false, true}};
  for (const Case& c : cases) {
    const int64_t C = c.shape.back();
    int64_t rows = 1;
    for (int64_t s : c.shape) rows *= s;
    rows /= C;
    Dev x = randn(dt, c.shape, rng, 2.0, 0.5), w = randn(dt, {C}, rng, 0.1, 1.0), b = randn(dt, {C}, rng, 0.1);
    Dev res = randn(dt, c.shape, rng, 1.0), out = poisoned(dt, c.shape);
    RmsNormArgs a;
    a.x = x.v;
    a.weight = c.w ? w.ptr() : nullptr;
    a.bias = c.b ? b.ptr() : nullptr;
    a.residual = c.res ? res.ptr() : nullptr;
    a.out = out.v;
    check_case("rmsnorm", v, dt, c.name, v == 2 && C % 8 != 0, [&] { return cuda::rmsnorm(a, v); }, out.v, [&] {
      return selftest::rmsnorm(x.h, rows, C, c.w ? &w.h : nullptr, c.b ? &b.h : nullptr, 1e-5, c.res ? &res.h : nullptr);
    });
  }
}

}  // namespace sana_selftest
