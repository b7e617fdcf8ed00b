// Host semantics of the PTX instructions the CUDA kernels use through inline assembly, as pure
// functions over a whole warp (32 lanes) or warpgroup (128 threads) and an emulated shared-memory
// window. Written from the PTX ISA ("Parallel Thread Execution ISA", NVIDIA), independently of the
// kernels that use them, so that running the kernels on the host emulator (kernels/emu/) checks the
// kernels' fragment layouts, descriptors and swizzles against the ISA as written here.
//
// Conventions
// - A shared-memory address is a byte offset into the block's shared window (`SmemWindow`), as
//   __cvta_generic_to_shared returns it on the device. Every access is bounds- and alignment-checked;
//   a violation throws `PtxError` naming the instruction (the emulator turns it into a launch failure).
// - Registers are the b32/f32 values each lane passes to the instruction, indexed [lane][register] in
//   the PTX operand order.
#pragma once

#include <cuda.h>  // CUtensorMap, CUresult and the cuTensorMapEncodeTiled enums (types only)

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace sana_emu::ptx {

struct PtxError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct SmemWindow {
  uint8_t* base = nullptr;  // shared address a ↔ base + a
  uint32_t size = 0;        // valid addresses [lo, size)
  uint32_t lo = 0;          // first valid address (below it: the emulated reserved area)
  // A second valid range, [static_lo, static_hi): the block's static __shared__ variables (the emulator
  // keeps them at the top of its arena, apart from the dynamic shared memory); empty by default.
  uint32_t static_lo = 0, static_hi = 0;
  // Whether [addr, addr + bytes) lies inside one valid range.
  bool contains(uint64_t addr, uint64_t bytes) const {
    return (addr >= lo && addr + bytes <= size) || (addr >= static_lo && addr + bytes <= static_hi);
  }
};

// ---- sm_80 warp-level (kernels/emu/ptx_mma.cpp) ----

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 d, a, b, c: lane l supplies a[l][0..3]
// (4 × b32 = 8 bf16 of A, 16×16 row-major), b[l][0..1] (2 × b32 = 4 bf16 of B, 16×8 column-major),
// c[l][0..3] (f32 of C, 16×8); returns d[l][0..3]. Accumulation in at least f32.
void mma_m16n8k16_bf16_f32(const uint32_t a[32][4], const uint32_t b[32][2], const float c[32][4], float d[32][4]);

// ldmatrix.sync.aligned.m8n8.x4{.trans}.shared.b16 {r0, r1, r2, r3}, [addr]: lanes 8i … 8i+7 give the
// row addresses of matrix i (16-byte rows of 8 b16, 16-byte aligned); returns r[l][i] = the b32 that
// lane l holds of matrix i (transposed with .trans).
void ldmatrix_x4(const SmemWindow& smem, const uint32_t addr[32], bool trans, uint32_t r[32][4]);

// ---- sm_90a (kernels/emu/ptx_sm90.cpp) ----

// wgmma.mma_async.sync.aligned.m64n{N}k16.f32.bf16.bf16 d, desc-a, desc-b, scale-d, 1, 1, 0, 0:
// A (64 × 16) and B (N × 16, i.e. B of the K × N product stored K-major) read from shared memory
// through matrix descriptors (any swizzle mode the descriptor names; unsupported encodings throw),
// imm-scale-a = imm-scale-b = 1, imm-trans-a = imm-trans-b = 0. d[t] points at thread t's N/2
// accumulator registers (t = 0 … 127 of the warpgroup); d = A·Bᵀ + (scale_d ? d : 0).
void wgmma_m64nNk16_bf16_f32(int n, const SmemWindow& smem, uint64_t desc_a, uint64_t desc_b, bool scale_d, float* const d[128]);

// cuTensorMapEncodeTiled with the driver's signature and argument checks (CUDA_ERROR_INVALID_VALUE
// on what the driver would refuse). The map stores a handle to the parameters (host emulation only).
CUresult encode_tensor_map_tiled(CUtensorMap* map, CUtensorMapDataType dtype, cuuint32_t rank, void* global_address,
                                 const cuuint64_t* global_dim, const cuuint64_t* global_strides, const cuuint32_t* box_dim,
                                 const cuuint32_t* element_strides, CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
                                 CUtensorMapL2promotion l2_promotion, CUtensorMapFloatOOBfill oob_fill);

// cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [dst], [map, {c0, c1}], [bar]:
// copies the box at coordinates (c0 innermost, c1) into shared memory at dst with the map's swizzle,
// out-of-range elements zero-filled; returns the bytes to complete on the mbarrier (the whole box).
uint32_t tma_load_2d(const SmemWindow& smem, uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1);
uint32_t tma_load_4d(const SmemWindow& smem, uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1, int32_t c2, int32_t c3);

// mbarrier objects (64-bit, 8-byte aligned, in shared memory; the state lives in those 8 bytes, so a
// kernel that overwrites a live barrier corrupts it as it would on the device).
void mbarrier_init(const SmemWindow& smem, uint32_t addr, uint32_t count);
// arrive (count 1) and, with expect_tx_bytes > 0, expect_tx first (mbarrier.arrive.expect_tx).
void mbarrier_arrive(const SmemWindow& smem, uint32_t addr, uint32_t expect_tx_bytes);
// the complete_tx a finished bulk copy performs.
void mbarrier_complete_tx(const SmemWindow& smem, uint32_t addr, uint32_t bytes);
// mbarrier.test_wait.parity / try_wait.parity: true when the phase with this parity has completed.
bool mbarrier_test_wait_parity(const SmemWindow& smem, uint32_t addr, uint32_t parity);

}  // namespace sana_emu::ptx
