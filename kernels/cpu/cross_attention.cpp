// Op `cross-attention`: SANA's text cross-attention module (diffusers attn2), heads of d = C / heads:
//   q = x·Wqᵀ + bq (B·N × C), k = y·Wkᵀ + bk, v = y·Wvᵀ + bv (B·L × C)            three gemms → f32
//   o_n = Σ_m softmax_m(q_n·k_m / √d + mask_bias[b, m]) v_m   per head           fused core → f32
//   out = residual + o·Woᵀ + bo                                                   gemm, residual fused
// The core works per (batch, head, 64-query block): the head's Kᵀ is copied once (d × L, so the logits
// of one query are a lane-parallel axpy over keys), softmax with the branch-free exp_f.
// FLOPs 2·B·(N·C·C·2 + L·Cy·C·2) + 4·B·N·L·C; minimal bytes (B·N·C·2 + B·L·Cy)·sizeof(T) + weights.
#include <algorithm>
#include <cmath>
#include <tuple>

#include "sana/cpu/gemm.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/thread_pool.h"

namespace sana::cpu {
namespace {

constexpr int64_t kQueryBlock = 64;

// One query: s = q·Kᵀ·scale + bias; p = softmax(s); o = Σ_m p_m v_m.
SANA_VECTORIZE void attend_query(const float* __restrict q, const float* __restrict kt, int64_t L, int64_t d, const float* __restrict v,
                                 int64_t ldv, const float* __restrict bias, float scale, float* __restrict s, float* __restrict o) {
  for (int64_t m = 0; m < L; ++m) s[m] = 0.0f;
  for (int64_t j = 0; j < d; ++j) {
    const float qj = q[j];
    const float* __restrict kr = kt + j * L;
    for (int64_t m = 0; m < L; ++m) s[m] += qj * kr[m];
  }
  float mx = -INFINITY;
  for (int64_t m = 0; m < L; ++m) {
    s[m] = s[m] * scale + (bias ? bias[m] : 0.0f);
    mx = std::max(mx, s[m]);
  }
  float sum = 0.0f;
  for (int64_t m = 0; m < L; ++m) {
    s[m] = exp_f(s[m] - mx);
    sum += s[m];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < d; ++i) o[i] = 0.0f;
  for (int64_t m = 0; m < L; ++m) {
    const float p = s[m] * inv;
    const float* __restrict vm = v + m * ldv;
    for (int64_t i = 0; i < d; ++i) o[i] += p * vm[i];
  }
}

template <typename T>
void run(const CrossAttentionArgs& a, int64_t B, int64_t N, int64_t C, int64_t L, int64_t Cy, int64_t Cout, int64_t H, int64_t bias_stride) {
  const int64_t d = C / H;
  Buffer<float> q = alloc_buffer<float>(B * N * C);
  Buffer<float> k = alloc_buffer<float>(B * L * C);
  Buffer<float> v = alloc_buffer<float>(B * L * C);
  Buffer<float> o = alloc_buffer<float>(B * N * C);
  auto project = [&](const T* src, int64_t rows, int64_t K, const TensorView& w, const TensorView* bias, float* dst) {
    DenseA<T> A(src, rows, K, K);
    LinearWeightB<T> Bw(w.as<T>(), C, K);
    Epilogue<T, float> ep;
    ep.out = dst;
    ep.ldo = C;
    ep.bias = bias ? bias->as<T>() : nullptr;
    gemm_run<T, float>(A, Bw, ep);
  };
  project(a.x.as<T>(), B * N, C, a.wq, a.bq, q.get());
  project(a.y.as<T>(), B * L, Cy, a.wk, a.bk, k.get());
  project(a.y.as<T>(), B * L, Cy, a.wv, a.bv, v.get());
  Buffer<float> mask;
  if (a.mask_bias) {
    mask = alloc_buffer<float>(B * L);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t m = 0; m < L; ++m) mask[b * L + m] = load_f(a.mask_bias->as<T>()[b * bias_stride + m]);
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  const int64_t qblocks = (N + kQueryBlock - 1) / kQueryBlock;
  parallel_for(B * H * qblocks, [&](int64_t task) {
    const int64_t b = task / (H * qblocks), h = (task / qblocks) % H, qb = task % qblocks;
    Buffer<float> buf = alloc_buffer<float>(d * L + L);
    float* kt = buf.get();
    float* s = kt + d * L;
    for (int64_t m = 0; m < L; ++m)
      for (int64_t j = 0; j < d; ++j) kt[j * L + m] = k[(b * L + m) * C + h * d + j];
    const float* vb = v.get() + b * L * C + h * d;
    const float* bias = mask ? mask.get() + b * L : nullptr;
    const int64_t n1 = std::min(N, (qb + 1) * kQueryBlock);
    for (int64_t n = qb * kQueryBlock; n < n1; ++n) {
      const int64_t row = (b * N + n) * C + h * d;
      attend_query(q.get() + row, kt, L, d, vb, C, bias, scale, s, o.get() + row);
    }
  });
  DenseA<float> A(o.get(), B * N, C, C);
  LinearWeightB<T> Bw(a.wo.as<T>(), Cout, C);
  Epilogue<T, T> ep;
  ep.out = a.out.as<T>();
  ep.ldo = Cout;
  ep.bias = a.bo ? a.bo->as<T>() : nullptr;
  if (a.residual) {
    ep.residual = a.residual->as<T>();
    ep.res_ld = Cout;
  }
  gemm_run<T, T>(A, Bw, ep);
}

}  // namespace

Status cross_attention(const CrossAttentionArgs& a) {
  const char* op = "cross-attention";
  const DType dt = a.x.dtype;
  if (dt != DType::kF32 && dt != DType::kBF16) return InvalidArgument("cross-attention: x must be f32 or bf16");
  for (auto [t, name] : {std::pair{&a.x, "x"}, {&a.y, "y"}, {&a.wq, "wq"}, {&a.wk, "wk"}, {&a.wv, "wv"}, {&a.wo, "wo"}, {&a.out, "out"}}) {
    SANA_RETURN_IF_ERROR(check_float(op, name, *t, dt));
  }
  if (a.x.ndim != 3 || a.y.ndim != 3 || a.y.shape[0] != a.x.shape[0]) {
    return InvalidArgument("cross-attention: want x (B, N, C) and y (B, L, Cy), got " + shp(a.x) + " and " + shp(a.y));
  }
  const int64_t B = a.x.shape[0], N = a.x.shape[1], C = a.x.shape[2], L = a.y.shape[1], Cy = a.y.shape[2];
  if (!is_shape(a.wq, {C, C}) || !is_shape(a.wk, {C, Cy}) || !is_shape(a.wv, {C, Cy}) || a.wo.ndim != 2 || a.wo.shape[1] != C) {
    return InvalidArgument("cross-attention: weights wq " + shp(a.wq) + ", wk " + shp(a.wk) + ", wv " + shp(a.wv) + ", wo " + shp(a.wo) +
                           " do not fit x " + shp(a.x) + " and y " + shp(a.y));
  }
  const int64_t Cout = a.wo.shape[0];
  for (auto [t, n, name] : {std::tuple{a.bq, C, "bq"}, {a.bk, C, "bk"}, {a.bv, C, "bv"}, {a.bo, Cout, "bo"}}) {
    if (!t) continue;
    SANA_RETURN_IF_ERROR(check_float(op, name, *t, dt));
    if (!is_vector(*t, n)) return InvalidArgument(std::string("cross-attention: ") + name + " " + shp(*t) + " is not a vector of " + std::to_string(n));
  }
  if (a.heads < 1 || C % a.heads != 0) return InvalidArgument("cross-attention: " + std::to_string(C) + " channels cannot be split into " + std::to_string(a.heads) + " heads");
  if (!is_shape(a.out, {B, N, Cout})) return InvalidArgument("cross-attention: out " + shp(a.out) + " is not (B, N, Cout)");
  if (a.mask_bias) {
    SANA_RETURN_IF_ERROR(check_float(op, "maskBias", *a.mask_bias, dt));
    if (!is_shape(*a.mask_bias, {B, L}) && !is_shape(*a.mask_bias, {B, 1, L})) {
      return InvalidArgument("cross-attention: maskBias " + shp(*a.mask_bias) + " is not (B, L) or (B, 1, L) for y " + shp(a.y));
    }
  }
  if (a.residual) {
    SANA_RETURN_IF_ERROR(check_float(op, "residual", *a.residual, dt));
    if (!same_shape(*a.residual, a.out)) return InvalidArgument("cross-attention: residual " + shp(*a.residual) + " differs from out " + shp(a.out));
  }
  return guarded(op, [&] {
    if (dt == DType::kF32) run<float>(a, B, N, C, L, Cy, Cout, a.heads, L);
    else run<bf16_t>(a, B, N, C, L, Cy, Cout, a.heads, L);
    return Status::Ok();
  });
}

}  // namespace sana::cpu
