// `linear-attention`, unfused variant: the same math composed the way a framework runs it
// (diffusers' SanaLinearAttnProcessor2_0 on the CPU), one materialised tensor per step:
//   1. φK = ReLU(K), φQ = ReLU(Q)                    two full passes → f32 (B, N, C) each
//   2. Ṽ  = pad(Vᵀ, ones row) per head               (B, H, M, d+1) f32
//   3. VK = Ṽᵀ · φK_h                                 one small gemm per (batch, head) → (d+1) × d
//   4. O  = VK · φQ_hᵀ                                one gemm per (batch, head) → (d+1) × N materialised
//      (steps 3–4 as a batched matmul: (batch, head) pairs in parallel, our packed gemm in each)
//   5. out = O[:d] / (O[d] + eps)                     a final pass, transposed back to (B, N, C)
// It exists as the baseline the fused kernel is measured against (bench), and is parity-tested like
// any other variant. FLOPs as the fused core; bytes ≈ (6 + 2·(d+1)/d)·B·N·C·4 plus per-step launches.
#include <algorithm>

#include "sana/cpu/gemm.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/thread_pool.h"

namespace sana::cpu {
namespace {

template <typename T>
void run(const LinearAttentionArgs& a, int64_t B, int64_t N, int64_t M, int64_t C, int64_t d) {
  const int64_t H = C / d, d1 = d + 1;
  Buffer<float> kr = alloc_buffer<float>(B * M * C);
  Buffer<float> qr = alloc_buffer<float>(B * N * C);
  Buffer<float> vpad = alloc_buffer<float>(B * H * M * d1);
  Buffer<float> vk = alloc_buffer<float>(B * H * d1 * d);
  Buffer<float> o = alloc_buffer<float>(B * H * d1 * N);
  const T* k = a.k.as<T>();
  const T* q = a.q.as<T>();
  const T* v = a.v.as<T>();
  parallel_for(B * M, [&](int64_t r) {
    for (int64_t c = 0; c < C; ++c) kr[r * C + c] = relu_f(load_f(k[r * C + c]));
  });
  parallel_for(B * N, [&](int64_t r) {
    for (int64_t c = 0; c < C; ++c) qr[r * C + c] = relu_f(load_f(q[r * C + c]));
  });
  parallel_for(B * H, [&](int64_t bh) {
    const int64_t b = bh / H, h = bh % H;
    for (int64_t m = 0; m < M; ++m) {
      float* dst = vpad.get() + (bh * M + m) * d1;
      for (int64_t i = 0; i < d; ++i) dst[i] = load_f(v[(b * M + m) * C + h * d + i]);
      dst[d] = 1.0f;
    }
  });
  // The per-head products run as one batched matmul does: (batch, head) pairs spread over the pool,
  // each a single-threaded gemm (a parallel_for inside a pool task runs serially).
  parallel_for(B * H, [&](int64_t bh) {
    const int64_t b = bh / H, h = bh % H;
    {  // VK (d+1 × d) = Ṽᵀ (d+1 × M) · φK_h (M × d)
      TransposedA<float> A(vpad.get() + bh * M * d1, d1, M, d1);
      DenseB<float> Bk(kr.get() + b * M * C + h * d, M, d, C);
      Epilogue<float, float> ep;
      ep.out = vk.get() + bh * d1 * d;
      ep.ldo = d;
      gemm_run<float, float>(A, Bk, ep);
    }
    {  // O (d+1 × N) = VK (d+1 × d) · φQ_hᵀ (d × N)
      DenseA<float> A(vk.get() + bh * d1 * d, d1, d, d);
      LinearWeightB<float> Bq(qr.get() + b * N * C + h * d, N, d, C);
      Epilogue<float, float> ep;
      ep.out = o.get() + bh * d1 * N;
      ep.ldo = N;
      gemm_run<float, float>(A, Bq, ep);
    }
  });
  T* out = a.out.as<T>();
  parallel_for(B * N, [&](int64_t r) {
    const int64_t b = r / N, n = r % N;
    for (int64_t h = 0; h < H; ++h) {
      const float* oh = o.get() + (b * H + h) * d1 * N;
      const float den = oh[d * N + n] + a.eps;
      for (int64_t i = 0; i < d; ++i) out[r * C + h * d + i] = store_f<T>(oh[i * N + n] / den);
    }
  });
}

}  // namespace

Status linear_attention_unfused(const LinearAttentionArgs& a) {
  LinearAttentionSizes z;  // the fused entry's checks and messages: the same op
  SANA_RETURN_IF_ERROR(check_linear_attention_args(Device::kCpu, a, &z));
  return guarded("linear-attention (unfused)", [&] {
    if (a.q.dtype == DType::kF32) run<float>(a, z.B, z.N, z.M, z.C, a.head_dim);
    else run<bf16_t>(a, z.B, z.N, z.M, z.C, a.head_dim);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
