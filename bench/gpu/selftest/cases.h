// The self-test's modes and parity cases, one file each (bench/gpu/selftest/*.cu); cuda_selftest.cu's main
// runs the modes, parity.cu runs the cases in a fixed order (one random stream: the inputs do not depend
// on how the cases are split into files).
#pragma once
#include <set>
#include <string>
#include <vector>

#include "harness.h"

namespace sana_selftest {

// Modes (cuda_selftest.cu's --parity, --big, --bench).
void run_parity(const std::set<std::string>& only, uint64_t seed);
void run_big(uint64_t seed);
std::string run_bench(const std::vector<int64_t>& res_list, int64_t B, double budget_s, uint64_t seed, std::string* ceil_json);
extern int g_ceilings_gemm_version;  // --ceilings-gemm-version (bench.cu; 0 = the default version)

// Parity cases of one op at version v (0 = the default) and dtype dt; failures are appended to g_checks.
void parity_gemm(int v, DType dt, Rng& rng);                        // parity_gemm.cu
void parity_gemm_v3(DType dt, Rng& rng);                            //   gemm v3 (run last by parity.cu)
void parity_gemm_v3_split(DType dt, Rng& rng);                      //   gemm v3 split-K
void parity_linear_attention(int v, DType dt, Rng& rng);            // parity_linear_attention.cu
void parity_linear_attention_block(int v, DType dt, Rng& rng);
void parity_mix_ffn(int v, DType dt, Rng& rng);                     // parity_mix_ffn.cu
void parity_cross_attention(int v, DType dt, Rng& rng);             // parity_cross_attention.cu
void parity_layernorm_modulate(int v, DType dt, Rng& rng);          // parity_norms.cu
void parity_rmsnorm(int v, DType dt, Rng& rng);
void parity_dit_block(int v, DType dt, Rng& rng);                   // parity_dit_block.cu
void parity_conv3x3(int v, DType dt, Rng& rng);                     // parity_dcae_conv.cu
void parity_dcae_resblock(int v, DType dt, Rng& rng);
void parity_dcae_upsample(int v, DType dt, Rng& rng);
void parity_dcae_head(int v, DType dt, Rng& rng);
void parity_lite_mla(int v, DType dt, Rng& rng);                    // parity_dcae_evit.cu
void parity_dcae_evit_block(int v, DType dt, Rng& rng);
void parity_sampler_update(int v, DType dt, Rng& rng);              // parity_sampler_update.cu
void parity_errors(Rng& rng);                                       // parity.cu

// The dcae-resblock arguments over these tensors (parity_dcae_conv.cu; bench.cu times the same call).
DcaeResBlockArgs resblock_args(const Dev& x, const Dev& w1, const Dev& b1, const Dev& w2, const Dev& nw, const Dev& nb, const Dev& out);

}  // namespace sana_selftest
