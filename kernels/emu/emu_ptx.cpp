// Lane-level entry points of the emulated PTX: each thread's operands are gathered into the warp
// (or warpgroup) collective, and the last thread to arrive evaluates the instruction with the
// ISA-level functions of ptx_semantics.h.
#include <string>

#include "emu_core.h"

namespace sana_emu {

void ldmatrix_x4(uint32_t* r, uint32_t addr, bool trans) {
  struct P {
    uint32_t addr;
    bool trans;
    uint32_t* r;
  } p{addr, trans, r};
  static const std::function<void(void* const*)> op = [](void* const* ps) {
    uint32_t addrs[32], out[32][4];
    for (int l = 0; l < 32; ++l) {
      if (ps[l] == nullptr) throw KernelFault(cudaErrorIllegalInstruction, "ldmatrix with lane " + std::to_string(l) + " exited");
      addrs[l] = static_cast<const P*>(ps[l])->addr;
      if (static_cast<const P*>(ps[l])->trans != static_cast<const P*>(ps[0])->trans) throw KernelFault(cudaErrorIllegalInstruction, "ldmatrix .trans differs between lanes");
    }
    ptx::ldmatrix_x4(smem_window(), addrs, static_cast<const P*>(ps[0])->trans, out);
    for (int l = 0; l < 32; ++l) {
      uint32_t* dst = static_cast<const P*>(ps[l])->r;
      for (int i = 0; i < 4; ++i) dst[i] = out[l][i];
    }
  };
  warp_collective(trans ? "ldmatrix.x4.trans" : "ldmatrix.x4", &p, op);
}

void mma_m16n8k16_bf16(float* c, const uint32_t* a, uint32_t b0, uint32_t b1) {
  struct P {
    float* c;
    uint32_t a[4], b[2];
  } p{c, {a[0], a[1], a[2], a[3]}, {b0, b1}};
  static const std::function<void(void* const*)> op = [](void* const* ps) {
    uint32_t A[32][4], B[32][2];
    float C[32][4], D[32][4];
    for (int l = 0; l < 32; ++l) {
      if (ps[l] == nullptr) throw KernelFault(cudaErrorIllegalInstruction, "mma.sync with lane " + std::to_string(l) + " exited");
      const P* q = static_cast<const P*>(ps[l]);
      for (int i = 0; i < 4; ++i) A[l][i] = q->a[i], C[l][i] = q->c[i];
      B[l][0] = q->b[0];
      B[l][1] = q->b[1];
    }
    ptx::mma_m16n8k16_bf16_f32(A, B, C, D);
    for (int l = 0; l < 32; ++l) {
      float* dst = static_cast<const P*>(ps[l])->c;
      for (int i = 0; i < 4; ++i) dst[i] = D[l][i];
    }
  };
  warp_collective("mma.sync.m16n8k16", &p, op);
}

void mbar_init(uint32_t bar, uint32_t count) {
  ptx::mbarrier_init(smem_window(), bar, count);
  progress();
}

void mbar_arrive(uint32_t bar, uint32_t expect_tx_bytes) {
  ptx::mbarrier_arrive(smem_window(), bar, expect_tx_bytes);
  progress();
}

bool mbar_try_wait(uint32_t bar, uint32_t parity) {
  if (ptx::mbarrier_test_wait_parity(smem_window(), bar, parity)) return true;
  spin_yield();
  return false;
}

void tma_load_2d(uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1, uint32_t bar) {
  check_dependency("cp.async.bulk.tensor.2d");
  const uint32_t bytes = ptx::tma_load_2d(smem_window(), dst, map, c0, c1);
  ptx::mbarrier_complete_tx(smem_window(), bar, bytes);
  progress();
}

void prefetch_tensormap(const CUtensorMap* map) {
  if (map == nullptr) throw KernelFault(cudaErrorIllegalAddress, "prefetch.tensormap of a null address");
}

void tma_load_4d(uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1, int32_t c2, int32_t c3, uint32_t bar) {
  check_dependency("cp.async.bulk.tensor.4d");
  const uint32_t bytes = ptx::tma_load_4d(smem_window(), dst, map, c0, c1, c2, c3);
  ptx::mbarrier_complete_tx(smem_window(), bar, bytes);
  progress();
}

}  // namespace sana_emu
