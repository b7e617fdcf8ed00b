// Checks kernels/emu/ptx_mma.cpp (mma.m16n8k16 bf16→f32 and ldmatrix.m8n8.x4{.trans}.b16) against the
// PTX ISA. The fragment layouts below are written here a second time, literally as the ISA's
// "Matrix Fragments for mma.m16n8k16 with floating point type" and "ldmatrix" sections state them
// (row/col of element i as a function of %laneid), and spot-checked against cells of the ISA figures,
// so the distribution / gathering here does not reuse the implementation's own indexing.
// Build (from the repository root; test/kernels/emu/ptx-mma.test.ts does this):
//   g++ -std=c++17 -O1 -Wall -Wextra -Werror -I kernels/emu -I <cuda>/include
//       test/kernels/emu/ptx_mma_test.cpp kernels/emu/ptx_mma.cpp
#include "ptx_semantics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace sana_emu::ptx;

namespace {

int g_checks = 0;

void check(bool ok, const std::string& what) {
  ++g_checks;
  if (!ok) {
    std::printf("FAILED: %s\n", what.c_str());
    std::fflush(stdout);
    std::exit(1);
  }
}

// ---- bf16 helpers ----
float bf16_to_float(uint16_t bits) {
  const uint32_t u = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
// Only used on values that are exactly representable in bf16 (small integers) or on random floats
// where truncation is fine (the test only needs some bf16 value).
uint16_t float_to_bf16_trunc(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return uint16_t(u >> 16);
}
uint16_t bf16_exact(float f) {
  const uint16_t b = float_to_bf16_trunc(f);
  check(bf16_to_float(b) == f, "test constant " + std::to_string(f) + " is exact in bf16");
  return b;
}

// ---- the ISA's layout formulas (section "Matrix Fragments for mma.m16n8k16 with floating point type") ----
int group_id(int lane) { return lane >> 2; }           // groupID = %laneid >> 2
int thread_in_group(int lane) { return lane % 4; }     // threadID_in_group = %laneid % 4

// Multiplicand A, .bf16, elements a0..a7 (Figure "MMA .m16n8k16 fragment layout for matrix A"):
//   row = groupID for ai where 0 <= i < 2 || 4 <= i < 6, groupID + 8 otherwise
//   col = (threadID_in_group * 2) + (i & 0x1) for i < 4, ... + 8 for i >= 4
int a_row(int lane, int i) { return ((0 <= i && i < 2) || (4 <= i && i < 6)) ? group_id(lane) : group_id(lane) + 8; }
int a_col(int lane, int i) { return thread_in_group(lane) * 2 + (i & 0x1) + (i >= 4 ? 8 : 0); }
// Multiplicand B, .bf16, elements b0..b3:
//   row = (threadID_in_group * 2) + (i & 0x1) for i < 2, ... + 8 for i >= 2; col = groupID
int b_row(int lane, int i) { return thread_in_group(lane) * 2 + (i & 0x1) + (i >= 2 ? 8 : 0); }
int b_col(int lane, int /*i*/) { return group_id(lane); }
// Accumulators C/D, .f32, c0..c3: row = groupID for i < 2, groupID + 8 for i >= 2;
//   col = (threadID_in_group * 2) + (i & 0x1)
int c_row(int lane, int i) { return i < 2 ? group_id(lane) : group_id(lane) + 8; }
int c_col(int lane, int i) { return thread_in_group(lane) * 2 + (i & 0x1); }
// Element i of A/B lives in register i/2, low half for even i ("Elements (low to high)").

struct Operands {
  uint16_t A[16][16];  // bf16 bits, A[m][k]
  uint16_t B[16][8];   // bf16 bits, B[k][n]
  float C[16][8];
};

void distribute(const Operands& op, uint32_t a[32][4], uint32_t b[32][2], float c[32][4]) {
  for (int lane = 0; lane < 32; ++lane) {
    for (int r = 0; r < 4; ++r) a[lane][r] = 0;
    for (int r = 0; r < 2; ++r) b[lane][r] = 0;
    for (int i = 0; i < 8; ++i) a[lane][i / 2] |= uint32_t(op.A[a_row(lane, i)][a_col(lane, i)]) << (16 * (i % 2));
    for (int i = 0; i < 4; ++i) b[lane][i / 2] |= uint32_t(op.B[b_row(lane, i)][b_col(lane, i)]) << (16 * (i % 2));
    for (int i = 0; i < 4; ++i) c[lane][i] = op.C[c_row(lane, i)][c_col(lane, i)];
  }
}

void gather_d(const float d[32][4], float D[16][8]) {
  for (int lane = 0; lane < 32; ++lane)
    for (int i = 0; i < 4; ++i) D[c_row(lane, i)][c_col(lane, i)] = d[lane][i];
}

void run_mma(const Operands& op, float D[16][8]) {
  uint32_t a[32][4], b[32][2];
  float c[32][4], d[32][4];
  distribute(op, a, b, c);
  for (auto& row : d)
    for (float& x : row) x = std::nanf("");
  mma_m16n8k16_bf16_f32(a, b, c, d);
  gather_d(d, D);
}

// ‖D − ref‖ / ‖ref‖ over a 16×N tile, ref in float64.
double rel_err(const float* D, const double* ref, int count) {
  double num = 0, den = 0;
  for (int i = 0; i < count; ++i) {
    if (!std::isfinite(D[i])) return INFINITY;
    num += (D[i] - ref[i]) * (D[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return std::sqrt(num / den);
}

// ---- spot checks of the formulas against cells of the ISA figures ----
void check_layout_formulas() {
  // Figure for A: T0 holds {a0,a1} = (0,0),(0,1); {a2,a3} = (8,0),(8,1); {a4,a5} = (0,8),(0,9); {a6,a7} = (8,8),(8,9).
  const int t0[8][2] = {{0, 0}, {0, 1}, {8, 0}, {8, 1}, {0, 8}, {0, 9}, {8, 8}, {8, 9}};
  for (int i = 0; i < 8; ++i) check(a_row(0, i) == t0[i][0] && a_col(0, i) == t0[i][1], "A figure cell T0 a" + std::to_string(i));
  // T31 (groupID 7, threadID_in_group 3): a0 = (7,6), a3 = (15,7), a7 = (15,15).
  check(a_row(31, 0) == 7 && a_col(31, 0) == 6 && a_row(31, 3) == 15 && a_col(31, 3) == 7 && a_row(31, 7) == 15 && a_col(31, 7) == 15,
        "A figure cells T31");
  // Figure for B: T0 holds rows 0,1 (b0,b1) and 8,9 (b2,b3) of column 0; T5 (group 1, tig 1): b0 = (2,1), b3 = (11,1).
  check(b_row(0, 0) == 0 && b_row(0, 1) == 1 && b_row(0, 2) == 8 && b_row(0, 3) == 9 && b_col(0, 0) == 0, "B figure cells T0");
  check(b_row(5, 0) == 2 && b_col(5, 0) == 1 && b_row(5, 3) == 11, "B figure cells T5");
  // Figure for C/D: T0 c0..c3 = (0,0),(0,1),(8,0),(8,1); T6 (group 1, tig 2): c0 = (1,4), c3 = (9,5).
  check(c_row(0, 2) == 8 && c_col(0, 3) == 1 && c_row(6, 0) == 1 && c_col(6, 0) == 4 && c_row(6, 3) == 9 && c_col(6, 3) == 5,
        "C/D figure cells");
  // Each layout covers its matrix exactly once.
  int seenA[16][16] = {}, seenB[16][8] = {}, seenC[16][8] = {};
  for (int lane = 0; lane < 32; ++lane) {
    for (int i = 0; i < 8; ++i) ++seenA[a_row(lane, i)][a_col(lane, i)];
    for (int i = 0; i < 4; ++i) ++seenB[b_row(lane, i)][b_col(lane, i)], ++seenC[c_row(lane, i)][c_col(lane, i)];
  }
  bool once = true;
  for (int m = 0; m < 16; ++m) {
    for (int k = 0; k < 16; ++k) once = once && seenA[m][k] == 1;
    for (int n = 0; n < 8; ++n) once = once && seenB[m][n] == 1 && seenC[m][n] == 1;
  }
  check(once, "A, B and C/D layouts each cover their matrix exactly once");
}

// ---- mma: random operands against a float64 matmul ----
void check_mma_random() {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uni(-2.0f, 2.0f);
  for (int trial = 0; trial < 20; ++trial) {
    Operands op;
    for (auto& row : op.A)
      for (auto& x : row) x = float_to_bf16_trunc(uni(rng));
    for (auto& row : op.B)
      for (auto& x : row) x = float_to_bf16_trunc(uni(rng));
    for (auto& row : op.C)
      for (auto& x : row) x = uni(rng);
    float D[16][8];
    run_mma(op, D);
    double ref[16][8];
    for (int m = 0; m < 16; ++m)
      for (int n = 0; n < 8; ++n) {
        double acc = op.C[m][n];
        for (int k = 0; k < 16; ++k) acc += double(bf16_to_float(op.A[m][k])) * double(bf16_to_float(op.B[k][n]));
        ref[m][n] = acc;
      }
    const double err = rel_err(&D[0][0], &ref[0][0], 128);
    check(err < 1e-6, "mma random trial " + std::to_string(trial) + ": rel err " + std::to_string(err) + " >= 1e-6");
  }
}

// ---- mma: one-hot operands whose result is known by hand (a transposed layout gives other numbers) ----
void check_mma_one_hot() {
  // A selects a row of B: A[m][k] = 1 iff k = (5m + 3) mod 16; B[k][n] = 8k + n + 1 (distinct, exact);
  // C[m][n] = 1000(m + 1). So D[m][n] = 8·((5m + 3) mod 16) + n + 1 + 1000(m + 1).
  Operands op;
  for (int m = 0; m < 16; ++m)
    for (int k = 0; k < 16; ++k) op.A[m][k] = bf16_exact(k == (5 * m + 3) % 16 ? 1.0f : 0.0f);
  for (int k = 0; k < 16; ++k)
    for (int n = 0; n < 8; ++n) op.B[k][n] = bf16_exact(float(8 * k + n + 1));
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) op.C[m][n] = float(1000 * (m + 1));
  float D[16][8];
  run_mma(op, D);
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      const float want = float(8 * ((5 * m + 3) % 16) + n + 1 + 1000 * (m + 1));
      check(D[m][n] == want, "mma one-hot A: D[" + std::to_string(m) + "][" + std::to_string(n) + "] = " + std::to_string(D[m][n]) +
                                 ", want " + std::to_string(want));
    }
  // B selects a column of A: B[k][n] = 1 iff k = (3n + 7) mod 16; A[m][k] = 16m + k + 1 (1…256, exact); C = 0.5.
  for (int m = 0; m < 16; ++m)
    for (int k = 0; k < 16; ++k) op.A[m][k] = bf16_exact(float(16 * m + k + 1));
  for (int k = 0; k < 16; ++k)
    for (int n = 0; n < 8; ++n) op.B[k][n] = bf16_exact(k == (3 * n + 7) % 16 ? 1.0f : 0.0f);
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) op.C[m][n] = 0.5f;
  run_mma(op, D);
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 8; ++n) {
      const float want = float(16 * m + (3 * n + 7) % 16 + 1) + 0.5f;
      check(D[m][n] == want, "mma one-hot B: D[" + std::to_string(m) + "][" + std::to_string(n) + "] = " + std::to_string(D[m][n]) +
                                 ", want " + std::to_string(want));
    }
}

// d may alias c (mma d, a, b, d): the result must be the same as into a separate d.
void check_mma_in_place() {
  std::mt19937 rng(99);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  uint32_t a[32][4], b[32][2];
  float c[32][4], d[32][4];
  for (int l = 0; l < 32; ++l) {
    for (int r = 0; r < 4; ++r) a[l][r] = (uint32_t(float_to_bf16_trunc(uni(rng))) << 16) | float_to_bf16_trunc(uni(rng));
    for (int r = 0; r < 2; ++r) b[l][r] = (uint32_t(float_to_bf16_trunc(uni(rng))) << 16) | float_to_bf16_trunc(uni(rng));
    for (int i = 0; i < 4; ++i) c[l][i] = uni(rng);
  }
  mma_m16n8k16_bf16_f32(a, b, c, d);
  mma_m16n8k16_bf16_f32(a, b, c, c);
  check(std::memcmp(c, d, sizeof d) == 0, "mma with d aliasing c equals mma into a separate d");
}

// ---- ldmatrix ----
constexpr uint32_t kWindowSize = 4096, kWindowLo = 64;

struct Window {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(kWindowSize);
  SmemWindow smem;
  Window() {
    smem.base = bytes.data();
    smem.size = kWindowSize;
    smem.lo = kWindowLo;
  }
  uint16_t b16(uint32_t address) const {
    uint16_t v;
    std::memcpy(&v, bytes.data() + address, 2);
    return v;
  }
  void set_b16(uint32_t address, uint16_t v) { std::memcpy(bytes.data() + address, &v, 2); }
};

bool throws_ptx_error(const Window& w, const uint32_t addr[32], bool trans, const std::string& must_contain) {
  uint32_t r[32][4];
  try {
    ldmatrix_x4(w.smem, addr, trans, r);
  } catch (const PtxError& e) {
    const std::string msg = e.what();
    return msg.find("ldmatrix") != std::string::npos && msg.find(must_contain) != std::string::npos;
  }
  return false;
}

void check_ldmatrix() {
  Window w;
  for (uint32_t x = 0; x < kWindowSize; x += 2) w.set_b16(x, uint16_t(x / 2));  // value = address / 2
  // Row j of matrix i (provided by lane 8i + j, per the ISA's .x4 address table) at scattered,
  // non-contiguous 16-byte rows: slot (7·lane mod 40), all distinct and inside [lo, size).
  auto row_addr = [](int lane) { return kWindowLo + 16u * uint32_t((7 * lane) % 40) + 256u; };
  uint32_t addr[32];
  for (int lane = 0; lane < 32; ++lane) addr[lane] = row_addr(lane);
  for (int trans = 0; trans < 2; ++trans) {
    uint32_t r[32][4];
    ldmatrix_x4(w.smem, addr, trans != 0, r);
    for (int lane = 0; lane < 32; ++lane)
      for (int i = 0; i < 4; ++i) {
        // Element (row, col) of matrix i as stored: row `row` is at addr[8i + row], b16 `col` at byte 2·col.
        auto elem = [&](int row, int col) { return w.b16(addr[8 * i + row] + 2 * col); };
        // Non-trans: lane holds row lane/4, cols 2(lane%4), 2(lane%4)+1 (low, high).
        // .trans: the same rule on the transposed matrix: col lane/4, rows 2(lane%4), 2(lane%4)+1.
        const int q = lane / 4, e = 2 * (lane % 4);
        const uint16_t lo = trans ? elem(e, q) : elem(q, e);
        const uint16_t hi = trans ? elem(e + 1, q) : elem(q, e + 1);
        check(r[lane][i] == (uint32_t(lo) | (uint32_t(hi) << 16)),
              std::string("ldmatrix") + (trans ? ".trans" : "") + " lane " + std::to_string(lane) + " reg " + std::to_string(i));
      }
    // One lane written out by hand: lane 13 (matrix 1 row 5 provider; fragment row 3, cols 2,3).
    // Non-trans r[13][1] = row 3 of matrix 1 (addr[11]) elements 2, 3 → values addr[11]/2 + 2, + 3.
    if (!trans) check(r[13][1] == ((addr[11] / 2 + 2) | ((addr[11] / 2 + 3) << 16)), "ldmatrix lane 13 reg 1 by hand");
    // .trans r[13][1] = column 3 of matrix 1, rows 2, 3 → addr[10]/2 + 3, addr[11]/2 + 3.
    else check(r[13][1] == ((addr[10] / 2 + 3) | ((addr[11] / 2 + 3) << 16)), "ldmatrix.trans lane 13 reg 1 by hand");
  }
  // The last full row of the window and the first above the reserved area are valid.
  uint32_t edge[32];
  for (int lane = 0; lane < 32; ++lane) edge[lane] = addr[lane];
  edge[0] = kWindowSize - 16;
  edge[31] = kWindowLo;
  uint32_t r[32][4];
  bool edge_ok = true;
  try {
    ldmatrix_x4(w.smem, edge, false, r);
  } catch (const PtxError&) {
    edge_ok = false;
  }
  check(edge_ok, "ldmatrix accepts rows [size-16, size) and [lo, lo+16)");
  check(r[0][0] == ((kWindowSize - 16) / 2 | ((kWindowSize - 16) / 2 + 1) << 16), "ldmatrix reads the last row of the window");
  // Bad addresses throw PtxError naming the instruction and the lane.
  const struct {
    int lane;
    uint32_t address;
    const char* why;
  } bad[] = {
      {13, row_addr(13) + 2, "misaligned by 2"},
      {20, row_addr(20) + 8, "misaligned by 8"},
      {5, kWindowLo - 16, "in the reserved area below lo"},
      {31, kWindowSize, "at the window end"},
      {0, kWindowSize + 4096, "past the window"},
      {7, 0xFFFFFFF0u, "near 2^32 (no wrap-around)"},
  };
  for (const auto& t : bad)
    for (int trans = 0; trans < 2; ++trans) {
      uint32_t wrong[32];
      for (int lane = 0; lane < 32; ++lane) wrong[lane] = addr[lane];
      wrong[t.lane] = t.address;
      check(throws_ptx_error(w, wrong, trans != 0, "lane " + std::to_string(t.lane) + " "),
            std::string("ldmatrix throws PtxError naming lane ") + std::to_string(t.lane) + " for an address " + t.why);
    }
  // A window whose size is not a multiple of 16: an aligned row starting 8 bytes before its end
  // runs past it (all 16 bytes of a row must be inside).
  Window odd;
  odd.smem.size = kWindowSize - 8;
  uint32_t tail[32];
  for (int lane = 0; lane < 32; ++lane) tail[lane] = addr[lane];
  tail[9] = kWindowSize - 16;
  check(throws_ptx_error(odd, tail, false, "lane 9 "), "ldmatrix throws for a row that starts inside the window but ends past it");
}

// ---- composition: ldmatrix_x4 feeding mma as CUDA GEMMs do ----
// A (16×16, row-major, row stride 24 bf16 = 48 bytes) loaded by ldmatrix.x4 with lane l giving row
// l % 16, column 8·(l / 16): matrices = A[0:8][0:8], A[8:16][0:8], A[0:8][8:16], A[8:16][8:16] →
// registers a0a1, a2a3, a4a5, a6a7 of the mma A fragment. B (K = 16 × N = 16) for two n-tiles of 8:
// (1) .trans from row-major B[k][n]: lane l gives row k = l % 16, column n = 8·(l / 16);
// (2) non-trans from Bᵀ stored [n][k]: lane l (matrix i = l / 8, row j = l % 8) gives row
//     n = 8·(i / 2) + j, column k = 8·(i % 2).
// Either way registers {0, 1} are the B fragment of n-tile 0 and {2, 3} that of n-tile 1.
void check_composition() {
  Window w;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uni(-1.5f, 1.5f);
  const uint32_t baseA = 128, strideA = 48, baseB = 1024, strideB = 48, baseBt = 2048, strideBt = 32;
  uint16_t A[16][16], B[16][16];
  for (int m = 0; m < 16; ++m)
    for (int k = 0; k < 16; ++k) A[m][k] = float_to_bf16_trunc(uni(rng));
  for (int k = 0; k < 16; ++k)
    for (int n = 0; n < 16; ++n) B[k][n] = float_to_bf16_trunc(uni(rng));
  for (int m = 0; m < 16; ++m)
    for (int k = 0; k < 16; ++k) w.set_b16(baseA + m * strideA + 2 * k, A[m][k]);
  for (int k = 0; k < 16; ++k)
    for (int n = 0; n < 16; ++n) {
      w.set_b16(baseB + k * strideB + 2 * n, B[k][n]);
      w.set_b16(baseBt + n * strideBt + 2 * k, B[k][n]);
    }
  uint32_t addrA[32], addrB[32], addrBt[32];
  for (int l = 0; l < 32; ++l) {
    addrA[l] = baseA + (l % 16) * strideA + 2 * 8 * (l / 16);
    addrB[l] = baseB + (l % 16) * strideB + 2 * 8 * (l / 16);
    const int i = l / 8, j = l % 8;
    addrBt[l] = baseBt + (8 * (i / 2) + j) * strideBt + 2 * 8 * (i % 2);
  }
  uint32_t a[32][4], bt[32][4], bn[32][4];
  ldmatrix_x4(w.smem, addrA, false, a);
  ldmatrix_x4(w.smem, addrB, true, bt);
  ldmatrix_x4(w.smem, addrBt, false, bn);
  check(std::memcmp(bt, bn, sizeof bt) == 0, "B fragments from ldmatrix.trans (K×N) and ldmatrix (N×K) agree");

  std::mt19937 crng(8);
  float Cfull[16][16];
  for (auto& row : Cfull)
    for (float& x : row) x = uni(crng);
  float D[16][16];
  for (int tile = 0; tile < 2; ++tile) {
    uint32_t b[32][2];
    float c[32][4], d[32][4];
    for (int l = 0; l < 32; ++l) {
      b[l][0] = bt[l][2 * tile];
      b[l][1] = bt[l][2 * tile + 1];
      for (int i = 0; i < 4; ++i) c[l][i] = Cfull[c_row(l, i)][8 * tile + c_col(l, i)];
    }
    mma_m16n8k16_bf16_f32(a, b, c, d);
    for (int l = 0; l < 32; ++l)
      for (int i = 0; i < 4; ++i) D[c_row(l, i)][8 * tile + c_col(l, i)] = d[l][i];
  }
  double ref[16][16];
  for (int m = 0; m < 16; ++m)
    for (int n = 0; n < 16; ++n) {
      double acc = Cfull[m][n];
      for (int k = 0; k < 16; ++k) acc += double(bf16_to_float(A[m][k])) * double(bf16_to_float(B[k][n]));
      ref[m][n] = acc;
    }
  const double err = rel_err(&D[0][0], &ref[0][0], 256);
  check(err < 1e-6, "ldmatrix → mma composition equals A·B + C: rel err " + std::to_string(err));
  // And the ldmatrix A fragment is exactly the ISA's A fragment (by the formulas above).
  bool same = true;
  for (int l = 0; l < 32; ++l)
    for (int i = 0; i < 8; ++i) same = same && uint16_t(a[l][i / 2] >> (16 * (i % 2))) == A[a_row(l, i)][a_col(l, i)];
  check(same, "ldmatrix.x4 A fragment equals the mma A layout element by element");
}

}  // namespace

int main() {
  check_layout_formulas();
  check_mma_random();
  check_mma_one_hot();
  check_mma_in_place();
  check_ldmatrix();
  check_composition();
  std::printf("all ptx-mma checks passed (%d)\n", g_checks);
  return 0;
}
