// Parity of sampler-update: bit for bit against the host scheduler arithmetic.
#include "cases.h"
#include "harness.h"

namespace sana_selftest {

// sampler-update (sampler_update.cu): the reference schedulers' float32 arithmetic, op by op in the same
// order, on the host (x86-64 without FMA: nothing is contracted). The kernel must match it bit for bit:
// every element of x, m_state and every tokens copy (NaN never passes).
void sampler_update_ref(const std::vector<float>& c, const Vec& v, int64_t halves, std::vector<float>& x, std::vector<float>& m) {
  const int64_t n = static_cast<int64_t>(x.size());
  for (int64_t k = 0; k < n; ++k) {
    float g = static_cast<float>(v[k]);
    if (halves == 2) {
      const float d = static_cast<float>(v[n + k]) - g;
      const float gd = c[1] * d;
      g = g + gd;
    }
    if (c[0] == 2.0f) {
      const float step = c[7] * g;
      x[k] = x[k] + step;
      continue;
    }
    const float sg = c[2] * g;
    const float mk = x[k] - sg;
    const float a = c[3] * x[k];
    const float b = c[4] * mk;
    float xn = a - b;
    if (c[0] == 1.0f) {
      const float diff = mk - m[k];
      const float d1 = c[6] * diff;
      const float e = c[5] * d1;
      xn = xn - e;
    }
    m[k] = mk;
    x[k] = xn;
  }
}

void record_identical(const std::string& op, int version, DType dt, const std::string& name, const Vec& out, const std::vector<float>& want, DType stored) {
  Vec w(want.size());
  for (size_t i = 0; i < want.size(); ++i) w[i] = stored == DType::kBF16 ? bf16_bits_to_f32(f32_to_bf16_bits(want[i])) : static_cast<double>(want[i]);
  g_checks.push_back(identical_check(op, version, dt, name, out, w, "the host scheduler arithmetic"));
}

void parity_sampler_update(int v, DType dt, Rng& rng) {
  struct Case {
    const char* name;
    int64_t n, halves, copies;
    std::vector<float> coeffs;  // [kind, guidance, σ, cX, cD0, cD1, invR0, dt]
  };
  const Case cases[] = {
      {"dpm 1st order, CFG halves, 2 token copies, n 210", 210, 2, 2, {0, 4.5f, 0.8125f, 0.96f, -0.0371f, 0, 0, 0}},
      {"dpm 2nd order, CFG halves, 2 token copies, n 70001 (grid-stride)", 70001, 2, 2, {1, 4.5f, 0.61f, 0.93f, -0.052f, -0.026f, 1.17f, 0}},
      {"dpm 2nd order, one prediction, no tokens, n 333", 333, 1, 0, {1, 1, 0.3f, 0.8f, -0.2f, -0.1f, 0.9f, 0}},
      {"euler, CFG halves, 1 token copy, n 4097", 4097, 2, 1, {2, 3.0f, 0, 0, 0, 0, 0, -0.0625f}},
  };
  for (const Case& cs : cases) {
    Dev vv = randn(dt, {cs.halves, cs.n}, rng, 1.0), x = randn(DType::kF32, {cs.n}, rng, 1.0), m = randn(DType::kF32, {cs.n}, rng, 1.0);
    Vec cv(cs.coeffs.begin(), cs.coeffs.end());
    Dev coeffs = upload_values(DType::kF32, {8}, cv);
    Dev tokens = poisoned(dt, {std::max<int64_t>(cs.copies, 1), cs.n});
    SamplerUpdateArgs a;
    a.v = vv.v;
    a.coeffs = coeffs.v;
    a.x = x.v;
    a.m_state = m.ptr();
    a.tokens = cs.copies > 0 ? tokens.ptr() : nullptr;
    a.halves = cs.halves;
    std::vector<float> xw(x.h.begin(), x.h.end()), mw(m.h.begin(), m.h.end());
    sampler_update_ref(cs.coeffs, vv.h, cs.halves, xw, mw);
    Status s;
    try {
      s = cuda::sampler_update(a, v);
    } catch (const Failure& f) {
      s = f.st;
    }
    if (!s.ok()) {
      record_status("sampler-update", v, dt, cs.name, s, false);
      continue;
    }
    record_identical("sampler-update", v, dt, std::string(cs.name) + ": x", download(x.v), xw, DType::kF32);
    if (cs.coeffs[0] != 2.0f) record_identical("sampler-update", v, dt, std::string(cs.name) + ": m_state", download(m.v), mw, DType::kF32);
    for (int64_t j = 0; j < cs.copies; ++j) {
      record_identical("sampler-update", v, dt, std::string(cs.name) + ": tokens copy " + std::to_string(j), download(tokens.v, j * cs.n, cs.n), xw, dt);
    }
  }
  if (v == 0 && dt == DType::kF32) {  // refusals, and a bad kind in the device-side coefficients
    Dev vv = randn(dt, {2, 16}, rng, 1.0), x = randn(DType::kF32, {16}, rng, 1.0), xb = randn(DType::kBF16, {16}, rng, 1.0);
    Dev coeffs = upload_values(DType::kF32, {8}, {5, 1, 0, 0, 0, 0, 0, 0});
    SamplerUpdateArgs a;
    a.v = vv.v;
    a.coeffs = coeffs.v;
    a.x = x.v;
    a.halves = 2;
    record_status("sampler-update", 2, dt, "refuses an unknown version", cuda::sampler_update(a, 2), true);
    a.halves = 1;
    record_status("sampler-update", 0, dt, "refuses v of 2 × n values with halves 1", cuda::sampler_update(a, 0), true);
    a.halves = 2;
    a.x = xb.v;
    record_status("sampler-update", 0, dt, "refuses a bf16 x", cuda::sampler_update(a, 0), true);
    a.x = x.v;
    Check c;
    c.op = "sampler-update";
    c.dtype = dname(dt);
    c.name = "a kind outside 0…2 in the coefficients poisons x with NaN";
    const Status s = cuda::sampler_update(a, 0);
    const Vec out = download(x.v);
    c.pass = s.ok() && std::all_of(out.begin(), out.end(), [](double e) { return std::isnan(e); });
    c.detail = s.ok() ? "x after the update" : s.message();
    g_checks.push_back(c);
  }
}

}  // namespace sana_selftest
