// Op `dcae-evit-block`: one DC-AE EfficientViT block (diffusers EfficientViTBlock, "EViTS5_GLU") on NHWC
// x (B, H, W, C), as a sequence of the CPU ops on tensors that never leave native memory (the calls:
// sana/dcae_evit_calls.h, shared with the CUDA entry):
//   a   = lite-mla(x)                                    a = x + RMSNorm2d(LiteMLA(x))      → scratch (T)
//   out = mix-ffn(a)                                     GLUMBConv (expand 4, no norm) on a viewed as (B, H·W, C)
//   out = rmsnorm(out; w, b, residual = a)               a + RMSNorm2d(GLUMBConv(a)), in place
// FLOPs: lite-mla's + mix-ffn's + ~5·M·C; scratch M·C·sizeof(T) + the sub-ops' scratch.
#include "sana/cpu/common.h"
#include "sana/cpu/ops_cpu.h"
#include "sana/dcae_evit_calls.h"

namespace sana::cpu {

Status dcae_evit_block(const DcaeEvitBlockArgs& a) {
  const char* op = "dcae-evit-block";
  DcaeEvitBlockSizes z;
  SANA_RETURN_IF_ERROR(check_dcae_evit_block_args(Device::kCpu, a, &z));
  return guarded(op, [&]() -> Status {
    Buffer<uint8_t> scratch = alloc_buffer<uint8_t>(a.x.bytes());
    const DcaeEvitCalls c(a, scratch.get(), a.out.data);  // the GLUMBConv writes out, normed in place
    SANA_RETURN_IF_ERROR(lite_mla(c.attn));
    SANA_RETURN_IF_ERROR(mix_ffn(c.ffn));
    return rmsnorm(c.norm);
  });
}

}  // namespace sana::cpu
