// Op `sampler-update` (kernels/include/sana/ops.h): one sampling step's elementwise tail — classifier-free
// guidance, the Flow-DPM-Solver++ / Flow-Euler update, and the next model input — so that a denoising
// loop keeps its latents on the backend. Each element's float32 operations run in the order of the
// reference schedulers (reference/schedulers/flow-update.ts) and are never fused into multiply-adds
// (this file is compiled with -ffp-contract=off, CMakeLists.txt), so the result is theirs bit for bit.
// FLOPs ≈ 3 (guidance) + 7 (2nd-order update) per element; bytes (halves·s + 4 + 8 + copies·s)·n with
// s the model dtype's size: bandwidth-bound, and latent-sized (2·32·128² values at 4096²).
#include <algorithm>

#include "sana/cpu/common.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/thread_pool.h"

namespace sana::cpu {
namespace {

constexpr int64_t kChunk = 1 << 14;

struct Coeffs {
  float kind, guidance, sigma, cX, cD0, cD1, invR0, dt;
};

template <typename T>
void update(const T* v, int64_t halves, const Coeffs& c, float* x, float* m_state, T* tokens, int64_t copies, int64_t n) {
  parallel_for((n + kChunk - 1) / kChunk, [&](int64_t task) {
    const int64_t k1 = std::min(n, (task + 1) * kChunk);
    for (int64_t k = task * kChunk; k < k1; ++k) {
      float g = load_f(v[k]);
      if (halves == 2) {
        const float d = load_f(v[n + k]) - g;
        const float gd = c.guidance * d;
        g = g + gd;
      }
      const float xk = x[k];
      float xn;
      if (c.kind == 2.0f) {
        const float step = c.dt * g;
        xn = xk + step;
      } else {
        const float sg = c.sigma * g;
        const float m = xk - sg;
        const float a = c.cX * xk;
        const float b = c.cD0 * m;
        xn = a - b;
        if (c.kind == 1.0f) {
          const float diff = m - m_state[k];
          const float d1 = c.invR0 * diff;
          const float e = c.cD1 * d1;
          xn = xn - e;
        }
        m_state[k] = m;
      }
      x[k] = xn;
      for (int64_t j = 0; j < copies; ++j) tokens[j * n + k] = store_f<T>(xn);
    }
  });
}

}  // namespace

Status sampler_update(const SamplerUpdateArgs& a) {
  SamplerUpdateSizes s;
  SANA_RETURN_IF_ERROR(check_sampler_update_args(Device::kCpu, a, &s));
  const float* cf = a.coeffs.as<float>();
  const Coeffs c{cf[0], cf[1], cf[2], cf[3], cf[4], cf[5], cf[6], cf[7]};
  SANA_RETURN_IF_ERROR(check_sampler_kind(c.kind, a.m_state != nullptr));
  float* m = a.m_state ? a.m_state->as<float>() : nullptr;
  if (a.v.dtype == DType::kF32) {
    update(a.v.as<float>(), s.halves, c, a.x.as<float>(), m, a.tokens ? a.tokens->as<float>() : nullptr, s.copies, s.n);
  } else {
    update(a.v.as<bf16_t>(), s.halves, c, a.x.as<float>(), m, a.tokens ? a.tokens->as<bf16_t>() : nullptr, s.copies, s.n);
  }
  return Status::Ok();
}

}  // namespace sana::cpu
