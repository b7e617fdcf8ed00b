// Op `dcae-evit-block`: one DC-AE EfficientViT block (diffusers EfficientViTBlock, "EViTS5_GLU") on NHWC
// x (B, H, W, C), as a sequence of the CPU ops on tensors that never leave native memory:
//   a   = lite-mla(x)                                    a = x + RMSNorm2d(LiteMLA(x))      → scratch (T)
//   out = mix-ffn(a)                                     GLUMBConv (expand 4, no norm) on a viewed as (B, H·W, C)
//   out = rmsnorm(out; w, b, residual = a)               a + RMSNorm2d(GLUMBConv(a)), in place
// The views are plain TensorView reshapes (NHWC is the token-major layout mix-ffn takes).
// FLOPs: lite-mla's + mix-ffn's + ~5·M·C; scratch M·C·sizeof(T) + the sub-ops' scratch.
#include "sana/cpu/common.h"
#include "sana/cpu/ops_cpu.h"

namespace sana::cpu {

Status dcae_evit_block(const DcaeEvitBlockArgs& a) {
  const char* op = "dcae-evit-block";
  const DType dt = a.x.dtype;
  SANA_RETURN_IF_ERROR(check_float_dtype(op, "x", dt));
  SANA_RETURN_IF_ERROR(check_floats_on(Device::kCpu, op, dt, {{&a.x, "x"}, {&a.out, "out"}}));
  if (a.x.ndim != 4 || !same_shape(a.x, a.out)) return InvalidArgument("dcae-evit-block: want x and out (B, H, W, C) NHWC, got " + shp(a.x) + ", " + shp(a.out));
  if (a.out.data == a.x.data) return InvalidArgument("dcae-evit-block: out must not be x");
  const int64_t H = a.x.shape[1], W = a.x.shape[2], C = a.x.shape[3];
  return guarded(op, [&]() -> Status {
    Buffer<uint8_t> scratch = alloc_buffer<uint8_t>(a.x.bytes());
    TensorView av = a.x;
    av.data = scratch.get();
    LiteMlaArgs la;
    la.x = a.x;
    la.wq = a.wq;
    la.wk = a.wk;
    la.wv = a.wv;
    la.w_dw = a.w_dw;
    la.w_group = a.w_group;
    la.w_out = a.w_out;
    la.norm_w = a.attn_norm_w;
    la.norm_b = a.attn_norm_b;
    la.head_dim = a.head_dim;
    la.eps = a.eps;
    la.norm_eps = a.norm_eps;
    la.out = av;
    SANA_RETURN_IF_ERROR(lite_mla(la));

    TensorView a3 = av, o3 = a.out;  // (B, H·W, C) views
    a3.ndim = o3.ndim = 3;
    a3.shape[1] = o3.shape[1] = H * W;
    a3.shape[2] = o3.shape[2] = C;
    a3.shape[3] = o3.shape[3] = 0;
    MixFfnArgs ff;
    ff.x = a3;
    ff.w_inv = a.ff_w_inv;
    ff.b_inv = a.ff_b_inv;
    ff.w_dw = a.ff_w_dw;
    ff.b_dw = a.ff_b_dw;
    ff.w_point = a.ff_w_point;
    ff.height = H;
    ff.width = W;
    ff.out = o3;
    SANA_RETURN_IF_ERROR(mix_ffn(ff));

    RmsNormArgs rn;
    rn.x = a.out;
    rn.weight = &a.ff_norm_w;
    rn.bias = &a.ff_norm_b;
    rn.eps = a.norm_eps;
    rn.residual = &av;
    rn.out = a.out;
    return rmsnorm(rn);
  });
}

}  // namespace sana::cpu
