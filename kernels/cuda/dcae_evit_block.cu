// Op `dcae-evit-block`: one DC-AE EfficientViT block (diffusers EfficientViTBlock, "EViTS5_GLU") on
// NHWC x (B, H, W, C), composed from the CUDA ops as the CPU backend composes it
// (kernels/cpu/dcae_evit_block.cpp; the calls: sana/dcae_evit_calls.h), intermediates in the op's dtype
// (M = B·H·W pixels):
//   a   = lite-mla(x)                        = x + RMSNorm2d(LiteMLA(x))            → scratch (M × C)
//   g   = mix-ffn(a)                         GLUMBConv (expand 4, no norm) on a viewed as (B, H·W, C) → scratch
//   out = a + RMSNorm2d(g; w, b)             rmsnorm rows with the residual fused
// FLOPs: lite-mla's + mix-ffn's (see lite_mla.cu, mix_ffn.cu) + ≈ 5·M·C; minimal bytes 2·M·C·sizeof(T)
// + weights; this composition also writes and reads a and g (+ 4·M·C), besides the sub-ops' own
// intermediates.
// Versions: v1 = every inner op at its version 1 (lite-mla v1, mix-ffn v1, rmsnorm v1; the gemms at the
// dtype's default); v2 = every inner op at its default (fastest) version.
#include "sana/cuda/common.cuh"
#include "sana/cuda/internal.h"
#include "sana/dcae_evit_calls.h"

namespace sana::cuda {

Status dcae_evit_block(const DcaeEvitBlockArgs& a, int version) {
  const char* op = "dcae-evit-block";
  version = default_version_override(op, version);  // SANA_LAB_CUDA_DEFAULTS
  DcaeEvitBlockSizes sz;
  SANA_RETURN_IF_ERROR(check_dcae_evit_block_args(Device::kCuda, a, &sz));
  if (version < 0 || version > 2) return unknown_version(op, version, 2);
  const int inner = version == 1 ? 1 : 0;
  const DType dt = a.x.dtype;
  const int64_t B = sz.B, H = sz.H, W = sz.W, C = sz.C, M = B * H * W;

  // The sub-ops' arguments are checked before anything runs (their own messages), on out's storage
  // standing in for the scratches (same shape, dtype and device), and a version the attention core
  // cannot run is refused under this op's name.
  const DcaeEvitCalls checked(a, a.out.data, a.out.data);
  LiteMlaSizes lsz;
  SANA_RETURN_IF_ERROR(check_lite_mla_args(Device::kCuda, checked.attn, &lsz));
  if (H * W > lsz.d) SANA_RETURN_IF_ERROR(la_check_version(op, inner, lsz.d, true));
  MixFfnSizes fsz;
  SANA_RETURN_IF_ERROR(check_mix_ffn_args(Device::kCuda, checked.ffn, &fsz));
  RmsNormSizes rsz;
  SANA_RETURN_IF_ERROR(check_rmsnorm_args(Device::kCuda, checked.norm, &rsz));

  OpScope scope(op);
  SANA_RETURN_IF_ERROR(scope.begin());
  Status s = [&]() -> Status {
    Scratch scratch(op);
    void *ap = nullptr, *gp = nullptr;
    SANA_RETURN_IF_ERROR(scratch.alloc(M * C * dtype_bytes(dt), &ap));
    SANA_RETURN_IF_ERROR(scratch.alloc(M * C * dtype_bytes(dt), &gp));
    const DcaeEvitCalls c(a, ap, gp);
    SANA_RETURN_IF_ERROR(lite_mla(c.attn, inner));
    SANA_RETURN_IF_ERROR(mix_ffn(c.ffn, inner));
    const RmsNormArgs& n = c.norm;
    return rms_rows(op, inner, dt, n.x.data, M, C, n.weight->data, n.bias->data, n.eps, n.residual->data, n.out.data);
  }();
  return scope.finish(s);
}

}  // namespace sana::cuda
