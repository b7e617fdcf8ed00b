// The CPU backend's OpTable: host memory (64-byte aligned) and the op entry points.
#include <cstdlib>
#include <cstring>

#include "sana/cpu/host_memory.h"
#include "sana/cpu/ops_cpu.h"

namespace sana {
namespace cpu {
Status dcae_upsample(const DcaeUpsampleArgs&);  // dcae_upsample.cpp
Status dcae_head(const DcaeHeadArgs&);          // dcae_head.cpp
Status dcae_evit_block(const DcaeEvitBlockArgs&);  // dcae_evit_block.cpp
}  // namespace cpu
namespace {

Status host_copy(void* dst, const void* src, int64_t bytes) {
  if (bytes > 0) std::memcpy(dst, src, static_cast<size_t>(bytes));
  return Status::Ok();
}

const OpTable kCpuOps = {
    "cpu",
    Device::kCpu,
    cpu::host_alloc,
    cpu::host_free,
    host_copy,
    host_copy,
    cpu::gemm,
    cpu::linear_attention,
    cpu::linear_attention_block,
    cpu::mix_ffn,
    cpu::cross_attention,
    cpu::layernorm_modulate,
    cpu::rmsnorm,
    cpu::conv3x3,
    cpu::dcae_resblock,
    cpu::lite_mla,
    cpu::dit_block,
    cpu::dcae_upsample,
    cpu::dcae_head,
    cpu::dcae_evit_block,
    cpu::sampler_update,
};

}  // namespace

const OpTable* cpu_ops() { return &kCpuOps; }

}  // namespace sana
