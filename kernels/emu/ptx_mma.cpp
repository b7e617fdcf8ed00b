// Host semantics of the sm_80 warp-level matrix instructions (see ptx_semantics.h), written from the
// PTX ISA ("Parallel Thread Execution ISA", NVIDIA, section "Warp Level Matrix Multiply-Accumulate
// Instructions"):
// - mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 — fragment layouts from "Matrix Fragments for
//   mma.m16n8k16 with floating point type" (Figures "MMA .m16n8k16 fragment layout for matrix A / B with
//   .f16/.bf16 type" and "... for accumulator matrix C/D").
// - ldmatrix.sync.aligned.m8n8.x4{.trans}.shared.b16 — "Warp-level matrix load instruction: ldmatrix"
//   (address table by .num and Figure "ldmatrix fragment layout for one 8x8 Matrix with 16-bit elements").
// Both are pure functions of the whole warp's operands: the emulator gathers the 32 lanes' registers,
// calls them once, and scatters the results.
#include "ptx_semantics.h"

#include <cstring>
#include <sstream>

namespace sana_emu::ptx {
namespace {

constexpr int kLanes = 32;

// bf16 is the upper half of an IEEE binary32, so widening is exact (NaN/Inf included).
float bf16_bits_to_float(uint16_t bits) {
  const uint32_t u = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// A .bf16x2 / .b32 register holds two 16-bit elements; the ISA lists a fragment's elements "low to
// high", so the lower-indexed element (a0 of a0,a1) is in bits 0–15 and the next in bits 16–31.
float low_bf16(uint32_t reg) { return bf16_bits_to_float(uint16_t(reg & 0xFFFFu)); }
float high_bf16(uint32_t reg) { return bf16_bits_to_float(uint16_t(reg >> 16)); }
uint32_t pack_b16(uint16_t low, uint16_t high) { return uint32_t(low) | (uint32_t(high) << 16); }

}  // namespace

// PTX ISA, "Matrix Fragments for mma.m16n8k16 with floating point type", with
//   groupID = %laneid >> 2, threadID_in_group = %laneid % 4:
// A (16×16, .row): a0..a7 in 4 .bf16x2 registers (a0,a1 | a2,a3 | a4,a5 | a6,a7);
//   row = groupID for a0,a1,a4,a5, groupID + 8 for a2,a3,a6,a7;
//   col = threadID_in_group*2 + (i & 1), plus 8 for a4..a7.
//   So register r covers row groupID + 8*(r & 1), columns 2*threadID_in_group + 8*(r >> 1) + {0, 1}.
// B (16×8, .col): b0..b3 in 2 .bf16x2 registers (b0,b1 | b2,b3);
//   row (k) = threadID_in_group*2 + (i & 1), plus 8 for b2,b3; col (n) = groupID.
//   So register r covers column groupID, rows 2*threadID_in_group + 8*r + {0, 1}.
// C/D (16×8, .f32): c0..c3; row = groupID for c0,c1, groupID + 8 for c2,c3;
//   col = threadID_in_group*2 + (i & 1).
// The ISA leaves the internal accumulation order and rounding to the hardware ("at least f32"); here
// each D element is the exact sum in double of the 16 bf16 products (exact in double) plus C, rounded
// once to f32 — the most accurate result an f32 accumulator can hold.
void mma_m16n8k16_bf16_f32(const uint32_t a[32][4], const uint32_t b[32][2], const float c[32][4], float d[32][4]) {
  float A[16][16], B[16][8], C[16][8];
  for (int lane = 0; lane < kLanes; ++lane) {
    const int group = lane >> 2, tig = lane & 3;
    for (int r = 0; r < 4; ++r) {
      const int row = group + 8 * (r & 1), col = 2 * tig + 8 * (r >> 1);
      A[row][col] = low_bf16(a[lane][r]);
      A[row][col + 1] = high_bf16(a[lane][r]);
    }
    for (int r = 0; r < 2; ++r) {
      const int k = 2 * tig + 8 * r;
      B[k][group] = low_bf16(b[lane][r]);
      B[k + 1][group] = high_bf16(b[lane][r]);
    }
    for (int i = 0; i < 4; ++i) C[group + 8 * (i >> 1)][2 * tig + (i & 1)] = c[lane][i];
  }
  // Everything is read before d is written, so d may alias c (the usual `mma d, a, b, d`).
  for (int lane = 0; lane < kLanes; ++lane) {
    const int group = lane >> 2, tig = lane & 3;
    for (int i = 0; i < 4; ++i) {
      const int m = group + 8 * (i >> 1), n = 2 * tig + (i & 1);
      double acc = C[m][n];
      for (int k = 0; k < 16; ++k) acc += double(A[m][k]) * double(B[k][n]);
      d[lane][i] = float(acc);
    }
  }
}

// PTX ISA, "Warp-level matrix load instruction: ldmatrix", for .m8n8.x4 with .b16 elements:
// - Row addresses: threads 0–7 give addr0–addr7 (the 8 rows of matrix 0), threads 8–15 those of
//   matrix 1, 16–23 matrix 2, 24–31 matrix 3. A row is 8 × b16 = 16 bytes, "a group of four
//   consecutive threads loads 16 bytes", and "the matrix addresses must be naturally aligned
//   accordingly": each row address must be 16-byte aligned (and here: inside the shared window).
// - Fragments (Figure "ldmatrix fragment layout for one 8x8 Matrix with 16-bit elements"): "each
//   thread loads fragments of a row, with thread 0 receiving the first fragment ... a group of four
//   threads loads an entire row": lane l receives row l/4, elements 2*(l%4) (low half) and
//   2*(l%4)+1 (high half); matrix i goes to destination register i.
// - .trans: "the matrix is loaded in column-major format", i.e. the same fragment rule applied to the
//   transposed matrix: lane l receives column l/4, rows 2*(l%4) (low) and 2*(l%4)+1 (high) of the
//   matrix as stored (rows = the addressed 16-byte rows).
void ldmatrix_x4(const SmemWindow& smem, const uint32_t addr[32], bool trans, uint32_t r[32][4]) {
  uint16_t mat[4][8][8];  // mat[i][row][col]: matrix i as stored, row j at addr[8i + j]
  for (int lane = 0; lane < kLanes; ++lane) {
    const uint32_t a = addr[lane];
    const bool aligned = a % 16 == 0;
    const bool inside = smem.base != nullptr && smem.contains(a, 16);
    if (!aligned || !inside) {
      std::ostringstream msg;
      msg << "ldmatrix.sync.aligned.m8n8.x4" << (trans ? ".trans" : "") << ".shared.b16: lane " << lane
          << " gives row address 0x" << std::hex << a << std::dec << " (matrix " << lane / 8 << ", row "
          << lane % 8 << "), ";
      if (!aligned) msg << "which is not 16-byte aligned";
      else msg << "whose 16-byte row is not inside the shared window [0x" << std::hex << smem.lo << ", 0x" << smem.size << ")";
      throw PtxError(msg.str());
    }
    // b16 element j of a row is at byte 2j, little-endian like the device's shared memory.
    std::memcpy(mat[lane / 8][lane % 8], smem.base + a, 16);
  }
  for (int lane = 0; lane < kLanes; ++lane) {
    const int q = lane / 4, e = 2 * (lane % 4);
    for (int i = 0; i < 4; ++i) {
      r[lane][i] = trans ? pack_b16(mat[i][e][q], mat[i][e + 1][q]) : pack_b16(mat[i][q][e], mat[i][q][e + 1]);
    }
  }
}

}  // namespace sana_emu::ptx
