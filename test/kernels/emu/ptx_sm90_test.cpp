// Checks of the host emulator's sm_90a instructions (kernels/emu/ptx_sm90.cpp) against the PTX ISA and
// the CUDA documents, with the layouts written here from the documents' own tables:
// - shared-memory placement of K-major operands from the ISA's canonical layouts (§9.7.15.5.1.2.1.3)
//   and the swizzle from the CUDA programming guide's index relation
//   "smem[y][x] <-> smem[y][((y+offset)%8)^x]", offset = (smem_ptr/128)%8 (128B; %4 for 64B, %2 for
//   32B), y = 128-byte line, x = 16-byte chunk;
// - the accumulator fragment from §9.7.15.5.1.1.1 Figure 149 (m64nNk16 D);
// - wgmma results against a float64 matmul, TMA box loads (edges, zero fill) feeding wgmma, the
//   cuTensorMapEncodeTiled refusals of the driver API documentation, and the mbarrier phase rules.
// Standalone: prints "all ptx-sm90 checks passed (N)" or exits 1 at the first failure.
#include "ptx_semantics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

using namespace sana_emu::ptx;

namespace {

int g_checks = 0;

#define CHECK(cond, ...)                                                \
  do {                                                                  \
    ++g_checks;                                                         \
    if (!(cond)) {                                                      \
      std::fprintf(stderr, "ptx-sm90 check failed (%s:%d): ", __FILE__, __LINE__); \
      std::fprintf(stderr, __VA_ARGS__);                                \
      std::fprintf(stderr, "\n");                                       \
      std::exit(1);                                                     \
    }                                                                   \
  } while (0)

// Expects fn to throw PtxError whose message contains `needle`.
void expect_ptx_error(const std::function<void()>& fn, const char* needle, const char* what) {
  ++g_checks;
  try {
    fn();
  } catch (const PtxError& e) {
    if (std::strstr(e.what(), needle) == nullptr) {
      std::fprintf(stderr, "ptx-sm90 check failed: %s: PtxError \"%s\" does not mention \"%s\"\n", what, e.what(), needle);
      std::exit(1);
    }
    return;
  }
  std::fprintf(stderr, "ptx-sm90 check failed: %s: no PtxError thrown\n", what);
  std::exit(1);
}

uint16_t f2bf(float f) {  // round to nearest even
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return uint16_t((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}
float bf2f(uint16_t b) {
  const uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::mt19937 g_rng(20240917);
// rows × cols bf16 matrix of fresh random values (never zero-filled).
std::vector<uint16_t> random_bf16(int rows, int cols) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<uint16_t> m(size_t(rows) * cols);
  for (auto& v : m) v = f2bf(u(g_rng));
  return m;
}

// Shared memory: a byte array; addresses below kLo are the emulated reserved area.
constexpr uint32_t kLo = 1024, kSmemBytes = 160 * 1024;
struct Smem {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(kSmemBytes, 0xCD);
  SmemWindow window() { return SmemWindow{bytes.data(), kSmemBytes, kLo}; }
  void put16(uint32_t addr, uint16_t v) { std::memcpy(&bytes[addr], &v, 2); }
  uint16_t get16(uint32_t addr) const {
    uint16_t v;
    std::memcpy(&v, &bytes[addr], 2);
    return v;
  }
};

// The programming guide's swizzle index relation at byte level: the 16-byte chunk x of 128-byte line
// y (absolute shared address / 128) goes to chunk ((y % lines) ^ x), lines = 8, 4, 2 for 128B, 64B, 32B.
uint32_t guide_swizzle(uint32_t addr, uint32_t span) {
  if (span == 0) return addr;
  const uint32_t y = addr / 128, x = addr % 128 / 16, lines = span / 16;
  return y * 128 + ((y % lines) ^ x) * 16 + addr % 16;
}

// Descriptor fields (§9.7.15.5.1.2.2): encode(x) = (x & 0x3FFFF) >> 4; mode 0 none, 1 128B, 2 64B, 3 32B.
uint64_t make_desc(uint32_t start, uint32_t lbo, uint32_t sbo, uint32_t mode) {
  auto enc = [](uint64_t x) { return (x & 0x3FFFF) >> 4; };
  return enc(start) | enc(lbo) << 16 | enc(sbo) << 32 | uint64_t(mode) << 62;
}

// A K-major rows × 64 bf16 operand in shared memory, and the descriptor of its k16 slice s.
struct Operand {
  uint32_t base;  // 1024-aligned
  int rows;
  uint32_t span;  // 0 = no swizzle
  uint64_t slice_desc(int s) const;
};

// Canonical layouts (§9.7.15.5.1.2.1.3), T = 8 bf16 per 16 bytes:
// - no swizzle: ((8,m),(T,2k)):((1T,SBO),(1,LBO)). Chosen here: core matrices of one 8-row group
//   contiguous along M (SBO = 128 bytes), K columns LBO = rows·16 bytes apart — not the "natural"
//   order, so a swapped LBO/SBO would show.
// - swizzled, span S: ((8,m),(T,2k)):((S/2,SBO),(1,T)) ∘ swizzle: atoms of 8 rows × S bytes,
//   SBO = 8·S; the 64 K elements (128 bytes) need 128/S atoms along K, each rows·S bytes.
uint32_t operand_linear(const Operand& o, int r, int k) {
  if (o.span == 0) return o.base + (k / 8) * (o.rows * 16) + (r / 8) * 128 + (r % 8) * 16 + (k % 8) * 2;
  const uint32_t kb = uint32_t(k) * 2;
  return o.base + (kb / o.span) * (o.rows * o.span) + (r / 8) * (8 * o.span) + (r % 8) * o.span + kb % o.span;
}
void place_operand(Smem& sm, const Operand& o, const std::vector<uint16_t>& m) {
  for (int r = 0; r < o.rows; ++r)
    for (int k = 0; k < 64; ++k) sm.put16(guide_swizzle(operand_linear(o, r, k), o.span), m[size_t(r) * 64 + k]);
}
uint64_t Operand::slice_desc(int s) const {
  if (span == 0) return make_desc(base + s * 2 * (rows * 16), rows * 16, 128, 0);
  // Slice s starts at K element 16·s: inside its atom at byte (32·s) % S ("advance the start address").
  const uint32_t kb = 32u * s;
  const uint32_t mode = span == 128 ? 1 : span == 64 ? 2 : 3;
  return make_desc(base + (kb / span) * (rows * span) + kb % span, 16, 8 * span, mode);
}

// Figure 149: thread t, register i of the m64nNk16 accumulator → (row, col).
void fragment_position(int t, int i, int& row, int& col) {
  const int warp = t / 32, lane = t % 32;
  row = warp * 16 + (i % 4 >= 2 ? 8 : 0) + lane / 4;
  col = (i / 4) * 8 + (lane % 4) * 2 + (i % 2);
}

// Runs the 4 k16 slices of D(64×n) = A(64×64)·B(n×64)ᵀ and returns D gathered by the fragment formula.
std::vector<double> run_wgmma(Smem& sm, int n, const Operand& a, const Operand& b) {
  std::vector<std::vector<float>> regs(128, std::vector<float>(size_t(n) / 2, std::nanf("")));
  float* d[128];
  for (int t = 0; t < 128; ++t) d[t] = regs[t].data();
  const SmemWindow w = sm.window();
  for (int s = 0; s < 4; ++s) wgmma_m64nNk16_bf16_f32(n, w, a.slice_desc(s), b.slice_desc(s), s > 0, d);
  std::vector<double> out(size_t(64) * n, std::nan(""));
  std::vector<int> seen(size_t(64) * n, 0);
  for (int t = 0; t < 128; ++t)
    for (int i = 0; i < n / 2; ++i) {
      int row, col;
      fragment_position(t, i, row, col);
      out[size_t(row) * n + col] = regs[t][i];
      seen[size_t(row) * n + col] += 1;
    }
  size_t bad = 0;
  for (size_t e = 0; e < seen.size(); ++e) bad += seen[e] != 1;
  CHECK(bad == 0, "N=%d: the fragment formula covers %zu D elements other than exactly once", n, bad);
  return out;
}

// ‖out − ref‖ / ‖ref‖ with ref = A·Bᵀ in float64 (A 64×64, B n×64, row-major bf16).
double rel_error(const std::vector<double>& out, const std::vector<uint16_t>& a, const std::vector<uint16_t>& b, int n, double* max_abs) {
  double num = 0, den = 0;
  *max_abs = 0;
  for (int m = 0; m < 64; ++m)
    for (int j = 0; j < n; ++j) {
      double ref = 0;
      for (int k = 0; k < 64; ++k) ref += double(bf2f(a[size_t(m) * 64 + k])) * bf2f(b[size_t(j) * 64 + k]);
      const double diff = out[size_t(m) * n + j] - ref;
      if (!std::isfinite(out[size_t(m) * n + j])) return INFINITY;
      num += diff * diff;
      den += ref * ref;
      *max_abs = std::fmax(*max_abs, std::fabs(diff));
    }
  return std::sqrt(num / den);
}

void check_wgmma(uint32_t span, int n) {
  Smem sm;
  const Operand a{kLo + 1024 * 7, 64, span}, b{kLo + 1024 * 23, n, span};  // 1024-aligned, past A
  const auto ma = random_bf16(64, 64), mb = random_bf16(n, 64);
  place_operand(sm, a, ma);
  place_operand(sm, b, mb);
  const auto out = run_wgmma(sm, n, a, b);
  double max_abs;
  const double rel = rel_error(out, ma, mb, n, &max_abs);
  CHECK(rel < 1e-6, "wgmma span %u N=%d: rel err %.3g (max abs %.3g) vs float64 matmul", span, n, rel, max_abs);
}

// ---- TMA ----------------------------------------------------------------------------------------

struct Global {  // rows × cols bf16, row pitch `pitch` elements, 128-byte aligned storage
  int rows, cols, pitch;
  std::vector<uint16_t> storage;
  uint16_t* data;
  Global(int r, int c, int p) : rows(r), cols(c), pitch(p), storage(size_t(r) * p + 64) {
    data = storage.data();
    while (reinterpret_cast<uintptr_t>(data) % 128 != 0) ++data;
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (int y = 0; y < r; ++y)
      for (int x = 0; x < p; ++x) data[size_t(y) * p + x] = f2bf(u(g_rng));
  }
  uint16_t at(int y, int x) const { return (y >= 0 && y < rows && x >= 0 && x < cols) ? data[size_t(y) * pitch + x] : 0; }
};

CUresult encode_2d(CUtensorMap* map, void* addr, uint64_t cols, uint64_t rows, uint64_t stride_bytes, uint32_t box_cols, uint32_t box_rows,
                   CUtensorMapSwizzle swizzle, CUtensorMapDataType dtype = CU_TENSOR_MAP_DATA_TYPE_BFLOAT16,
                   CUtensorMapInterleave interleave = CU_TENSOR_MAP_INTERLEAVE_NONE,
                   CUtensorMapFloatOOBfill oob = CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE, uint32_t elem_stride = 1) {
  const cuuint64_t dims[2] = {cols, rows}, strides[1] = {stride_bytes};
  const cuuint32_t box[2] = {box_cols, box_rows}, estr[2] = {1, elem_stride};
  return encode_tensor_map_tiled(map, dtype, 2, addr, dims, strides, box, estr, interleave, swizzle, CU_TENSOR_MAP_L2_PROMOTION_NONE, oob);
}

// Loads the box at (c0, c1) and checks every element against the tensor (zero outside) at the
// guide's swizzled position; bytes outside the box stay untouched.
void check_tma_box(const Global& g, const CUtensorMap* map, uint32_t dst, int box_cols, int box_rows, uint32_t span, int c0, int c1) {
  Smem sm;
  const uint32_t bytes = tma_load_2d(sm.window(), dst, map, c0, c1);
  CHECK(bytes == uint32_t(box_cols * box_rows * 2), "TMA returned %u bytes, box is %d", bytes, box_cols * box_rows * 2);
  int mismatches = 0, zeros = 0;
  for (int i = 0; i < box_rows; ++i)
    for (int j = 0; j < box_cols; ++j) {
      const uint32_t addr = guide_swizzle(dst + uint32_t(i * box_cols + j) * 2, span);
      const uint16_t want = g.at(c1 + i, c0 + j);
      if (sm.get16(addr) != want) ++mismatches;
      if (c1 + i >= g.rows || c0 + j >= g.cols || c1 + i < 0 || c0 + j < 0) ++zeros;
    }
  CHECK(mismatches == 0, "TMA box at (%d, %d) span %u: %d elements differ from the tensor/zero fill", c0, c1, span, mismatches);
  CHECK(zeros > 0 || (c0 >= 0 && c1 >= 0), "test setup: box at (%d, %d) was meant to cross the edge", c0, c1);
  bool untouched = true;
  for (uint32_t a = 0; a < kSmemBytes; ++a)
    if ((a < dst || a >= dst + bytes) && sm.bytes[a] != 0xCD) untouched = false;
  CHECK(untouched, "TMA wrote outside [dst, dst + %u)", bytes);
}

void check_tma() {
  // 100 × 72 bf16 with row pitch 80 (160 bytes: a multiple of 16, not of 128); the 8 padding columns
  // hold random values, so reading past globalDim[0] would show.
  Global g(100, 72, 80);
  CUtensorMap map128, map_none, map64;
  CHECK(encode_2d(&map128, g.data, 72, 100, 160, 64, 64, CU_TENSOR_MAP_SWIZZLE_128B) == CUDA_SUCCESS, "encode 128B swizzle map");
  CHECK(encode_2d(&map_none, g.data, 72, 100, 160, 64, 64, CU_TENSOR_MAP_SWIZZLE_NONE) == CUDA_SUCCESS, "encode unswizzled map");
  CHECK(encode_2d(&map64, g.data, 72, 100, 160, 32, 64, CU_TENSOR_MAP_SWIZZLE_64B) == CUDA_SUCCESS, "encode 64B swizzle map");

  // Edge boxes: past the right and bottom edges, negative coordinates, fully inside; a destination on a
  // 128-byte (not 1024-byte) boundary exercises the guide's (smem_ptr/128)%8 offset.
  const int coords[][2] = {{40, 60}, {-8, -3}, {0, 0}, {8, 36}, {-70, 10}};
  for (const auto& c : coords) {
    check_tma_box(g, &map128, kLo + 4096, 64, 64, 128, c[0], c[1]);
    check_tma_box(g, &map128, kLo + 4096 + 384, 64, 64, 128, c[0], c[1]);
    check_tma_box(g, &map_none, kLo + 4096 + 128, 64, 64, 0, c[0], c[1]);
    check_tma_box(g, &map64, kLo + 2048 + 640, 32, 64, 64, c[0], c[1]);
  }

  // The map is a value: a byte copy loads the same box, also at a 64-byte (not 128-byte) aligned place
  // as a kernel parameter may be.
  CUtensorMap copy;
  std::memcpy(&copy, &map128, sizeof copy);
  check_tma_box(g, &copy, kLo + 8192, 64, 64, 128, 40, 60);
  alignas(128) static uint8_t param_space[2 * sizeof(CUtensorMap)];
  std::memcpy(param_space + 64, &map128, sizeof(CUtensorMap));
  check_tma_box(g, reinterpret_cast<const CUtensorMap*>(param_space + 64), kLo + 8192, 64, 64, 128, -8, -3);

  // TMA → wgmma: A = 64 × 64 box at (8, 60) (rows 100.. zero-filled), B = 128 × 64 box at (16, 30) of
  // another tensor (columns 72.. and rows 150.. zero-filled, overlapping A's in-range columns); the smem
  // written by TMA, read through 128B-swizzle descriptors, gives the float64 product.
  Global gb(150, 72, 80);  // row stride 160 bytes
  CUtensorMap map_b;
  CHECK(encode_2d(&map_b, gb.data, 72, 150, 160, 64, 128, CU_TENSOR_MAP_SWIZZLE_128B) == CUDA_SUCCESS, "encode B map");
  Smem sm;
  const Operand a{kLo + 1024 * 3, 64, 128}, b{kLo + 1024 * 11, 128, 128};
  CHECK(tma_load_2d(sm.window(), a.base, &map128, 8, 60) == 8192, "TMA A bytes");
  CHECK(tma_load_2d(sm.window(), b.base, &map_b, 16, 30) == 16384, "TMA B bytes");
  std::vector<uint16_t> ma(64 * 64), mb(128 * 64);
  int zero_rows = 0;
  for (int m = 0; m < 64; ++m)
    for (int k = 0; k < 64; ++k) ma[size_t(m) * 64 + k] = g.at(60 + m, 8 + k);
  for (int j = 0; j < 128; ++j)
    for (int k = 0; k < 64; ++k) mb[size_t(j) * 64 + k] = gb.at(30 + j, 16 + k);
  for (int j = 0; j < 128; ++j) zero_rows += (30 + j >= 150);
  CHECK(zero_rows == 8, "test setup: B box should have 8 zero-filled rows, has %d", zero_rows);
  const auto out = run_wgmma(sm, 128, a, b);
  double max_abs;
  const double rel = rel_error(out, ma, mb, 128, &max_abs);
  CHECK(rel < 1e-6, "TMA -> wgmma: rel err %.3g (max abs %.3g)", rel, max_abs);
  // The zero-filled parts give exact zeros: rows 40.. of D (A's global rows 100..) and columns 120..
  // (B's global rows 150..).
  bool zero_ok = true;
  for (int m = 0; m < 64; ++m)
    for (int j = 0; j < 128; ++j)
      if ((m >= 40 || j >= 120) && out[size_t(m) * 128 + j] != 0.0) zero_ok = false;
  CHECK(zero_ok, "TMA -> wgmma: zero-filled rows/columns are not exactly zero");

  // Errors: misaligned destination (TMA needs 128-byte aligned shared memory), box past the window,
  // a rank-3 map, a corrupt map.
  expect_ptx_error([&] { tma_load_2d(sm.window(), kLo + 64, &map128, 0, 0); }, "128-byte aligned", "TMA dst 64 mod 128");
  expect_ptx_error([&] { tma_load_2d(sm.window(), kLo + 16, &map_none, 0, 0); }, "128-byte aligned", "TMA dst 16 mod 128, no swizzle");
  expect_ptx_error([&] { tma_load_2d(sm.window(), kSmemBytes - 4096, &map128, 0, 0); }, "outside the window", "TMA past the window");
  expect_ptx_error([&] { tma_load_2d(sm.window(), 0, &map128, 0, 0); }, "outside the window", "TMA into the reserved area");
  {
    const cuuint64_t dims[3] = {72, 10, 10}, strides[2] = {160, 1600};
    const cuuint32_t box[3] = {64, 8, 2}, estr[3] = {1, 1, 1};
    CUtensorMap map3;
    CHECK(encode_tensor_map_tiled(&map3, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 3, g.data, dims, strides, box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE,
                                  CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS,
          "encode rank-3 map");
    expect_ptx_error([&] { tma_load_2d(sm.window(), kLo + 4096, &map3, 0, 0); }, "rank", "TMA .2d with a rank-3 map");
  }
  CUtensorMap bad;
  std::memset(&bad, 0, sizeof bad);
  expect_ptx_error([&] { tma_load_2d(sm.window(), kLo + 4096, &bad, 0, 0); }, "not a tensor map", "TMA with a zeroed map");
  CUtensorMap narrow;  // 32-byte rows under a 128-byte swizzle: placement not documented
  CHECK(encode_2d(&narrow, g.data, 72, 100, 160, 16, 8, CU_TENSOR_MAP_SWIZZLE_128B) == CUDA_SUCCESS, "encode narrow-box map");
  expect_ptx_error([&] { tma_load_2d(sm.window(), kLo + 4096, &narrow, 0, 0); }, "unsupported", "TMA inner box < swizzle span");
}

// The 4-D form on an NHWC tensor (C, W, H, B innermost first), as a convolution reads it: a box of
// 64 channels × 16 pixels × 1 row × 1 image at shifted coordinates, every element checked against the
// tensor at its swizzled place, zero where any coordinate is outside (negative x/y: the padding; past
// the last row; past the channel count, whose pitch has 8 random padding channels).
void check_tma_4d() {
  const int C = 72, W = 20, H = 5, B = 2, pitch = 80;  // channel pitch 160 bytes
  Global g(B * H * W, C, pitch);
  const cuuint64_t dims[4] = {uint64_t(C), uint64_t(W), uint64_t(H), uint64_t(B)};
  const cuuint64_t strides[3] = {uint64_t(pitch) * 2, uint64_t(pitch) * 2 * W, uint64_t(pitch) * 2 * W * H};
  const cuuint32_t box[4] = {64, 16, 1, 1}, estr[4] = {1, 1, 1, 1};
  CUtensorMap map;
  CHECK(encode_tensor_map_tiled(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 4, g.data, dims, strides, box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE,
                                CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS,
        "encode the 4-D NHWC map");
  const int coords[][4] = {{0, -1, -1, 0}, {8, 5, 2, 1}, {0, 10, 4, 1}, {40, -3, 0, 0}, {0, 0, 5, 0}, {0, 0, 0, 2}};
  for (const auto& c : coords) {
    Smem sm;
    const uint32_t dst = kLo + 4096;
    CHECK(tma_load_4d(sm.window(), dst, &map, c[0], c[1], c[2], c[3]) == 64u * 16u * 2u, "4-D TMA bytes");
    int mismatches = 0;
    for (int px = 0; px < 16; ++px)
      for (int ch = 0; ch < 64; ++ch) {
        const int x = c[1] + px, y = c[2], b = c[3], k = c[0] + ch;
        const bool in = x >= 0 && x < W && y >= 0 && y < H && b >= 0 && b < B && k < C;
        const uint16_t want = in ? g.data[size_t((b * H + y) * W + x) * pitch + k] : 0;
        if (sm.get16(guide_swizzle(dst + uint32_t(px * 64 + ch) * 2, 128)) != want) ++mismatches;
      }
    CHECK(mismatches == 0, "4-D TMA box at (%d, %d, %d, %d): %d elements differ from the tensor/zero fill", c[0], c[1], c[2], c[3], mismatches);
  }
  Smem sm;
  expect_ptx_error([&] { tma_load_2d(sm.window(), kLo + 4096, &map, 0, 0); }, "rank", "TMA .2d with the rank-4 map");
  CUtensorMap map2;
  CHECK(encode_2d(&map2, g.data, 72, 100, 160, 64, 64, CU_TENSOR_MAP_SWIZZLE_128B) == CUDA_SUCCESS, "encode a 2-D map");
  expect_ptx_error([&] { tma_load_4d(sm.window(), kLo + 4096, &map2, 0, 0, 0, 0); }, "rank", "TMA .4d with a rank-2 map");
}

void check_encode_refusals() {
  Global g(100, 72, 72);
  CUtensorMap map;
  auto* bytes = reinterpret_cast<uint8_t*>(g.data);
  const auto inval = CUDA_ERROR_INVALID_VALUE;
  const auto sw128 = CU_TENSOR_MAP_SWIZZLE_128B;
  CHECK(encode_2d(&map, bytes + 8, 72, 100, 144, 64, 64, sw128) == inval, "global address 8 mod 16 accepted");
  CHECK(encode_2d(&map, bytes + 16, 72, 100, 144, 64, 64, sw128) == CUDA_SUCCESS, "global address 16 mod 128 refused");
  CHECK(encode_2d(&map, nullptr, 72, 100, 144, 64, 64, sw128) == inval, "null global address accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 150, 64, 64, sw128) == inval, "stride 150 (not a multiple of 16) accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 1ull << 40, 64, 64, sw128) == inval, "stride 2^40 accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 128, 64, sw128) == inval, "inner box 256 bytes with 128B swizzle accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 64, 64, CU_TENSOR_MAP_SWIZZLE_64B) == inval, "inner box 128 bytes with 64B swizzle accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 32, 64, CU_TENSOR_MAP_SWIZZLE_32B) == inval, "inner box 64 bytes with 32B swizzle accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 16, 64, CU_TENSOR_MAP_SWIZZLE_32B) == CUDA_SUCCESS, "inner box 32 bytes with 32B swizzle refused");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 4, 64, CU_TENSOR_MAP_SWIZZLE_NONE) == inval, "inner box 8 bytes (not a multiple of 16) accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 64, 0, sw128) == inval, "boxDim 0 accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 64, 257, sw128) == inval, "boxDim 257 accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 64, 256, sw128) == CUDA_SUCCESS, "boxDim 256 refused");
  CHECK(encode_2d(&map, g.data, 0, 100, 144, 64, 64, sw128) == inval, "globalDim 0 accepted");
  CHECK(encode_2d(&map, g.data, 72, (1ull << 32) + 1, 144, 64, 64, sw128) == inval, "globalDim 2^32+1 accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 64, 64, sw128, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, CU_TENSOR_MAP_INTERLEAVE_NONE,
                  CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE, 0) == inval,
        "elementStrides 0 accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 64, 64, sw128, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, CU_TENSOR_MAP_INTERLEAVE_NONE,
                  CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE, 9) == inval,
        "elementStrides 9 accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 64, 64, sw128, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, CU_TENSOR_MAP_INTERLEAVE_16B) == inval,
        "interleave with rank 2 accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 32, 64, CU_TENSOR_MAP_SWIZZLE_NONE, CU_TENSOR_MAP_DATA_TYPE_UINT16,
                  CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA) == inval,
        "OOB-NaN fill with an integer type accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 64, 64, CUtensorMapSwizzle(7)) == inval, "swizzle enum 7 accepted");
  CHECK(encode_2d(&map, g.data, 72, 100, 144, 64, 64, sw128, CUtensorMapDataType(16)) == inval, "data type enum 16 accepted");
  {
    const cuuint64_t dims[3] = {72, 10, 10}, strides32[2] = {160, 1600}, strides16[2] = {144, 1440};
    const cuuint32_t box[3] = {16, 8, 2}, estr[3] = {1, 1, 1};
    auto enc3 = [&](CUtensorMapInterleave il, CUtensorMapSwizzle sw, cuuint32_t rank, const cuuint64_t* strides) {
      return encode_tensor_map_tiled(&map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, rank, g.data, dims, strides, box, estr, il, sw,
                                     CU_TENSOR_MAP_L2_PROMOTION_NONE, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    };
    const auto il32 = CU_TENSOR_MAP_INTERLEAVE_32B;
    CHECK(enc3(il32, CU_TENSOR_MAP_SWIZZLE_32B, 3, strides32) == CUDA_SUCCESS, "interleave 32B + 32B swizzle, strides 32-multiples refused");
    CHECK(enc3(il32, CU_TENSOR_MAP_SWIZZLE_64B, 3, strides32) == inval, "interleave 32B without 32B swizzle accepted");
    CHECK(enc3(il32, CU_TENSOR_MAP_SWIZZLE_32B, 3, strides16) == inval, "interleave 32B with stride 144 (not a 32-multiple) accepted");
    CHECK(enc3(CU_TENSOR_MAP_INTERLEAVE_16B, CU_TENSOR_MAP_SWIZZLE_32B, 3, strides16) == CUDA_SUCCESS, "interleave 16B, rank 3 refused");
    CHECK(enc3(CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_32B, 0, strides16) == inval, "rank 0 accepted");
    CHECK(enc3(CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_32B, 6, strides16) == inval, "rank 6 accepted");
  }
  // "tensorMap address must be aligned to 64 bytes": a map placed 32 bytes into an aligned buffer.
  alignas(128) static uint8_t buffer[3 * sizeof(CUtensorMap)];
  volatile uintptr_t misaligned = reinterpret_cast<uintptr_t>(buffer) + 32;
  CHECK(encode_2d(reinterpret_cast<CUtensorMap*>(misaligned), g.data, 72, 100, 144, 64, 64, sw128) == inval, "tensor map at 32 mod 64 accepted");
}

// ---- mbarrier -----------------------------------------------------------------------------------

void check_mbarrier() {
  Smem sm;
  const SmemWindow w = sm.window();
  const uint32_t bar = kLo + 64;
  mbarrier_init(w, bar, 2);
  CHECK(sm.bytes[bar - 1] == 0xCD && sm.bytes[bar + 8] == 0xCD, "mbarrier.init wrote outside its 8 bytes");
  // Fresh barrier: current phase 0 is incomplete; parity 1 names the "immediately preceding phase",
  // complete ("The current phase is incomplete and all prior phases are complete", §9.7.13.15.4).
  CHECK(!mbarrier_test_wait_parity(w, bar, 0), "fresh barrier: parity 0 complete");
  CHECK(mbarrier_test_wait_parity(w, bar, 1), "fresh barrier: parity 1 (preceding phase) not complete");

  // Phase 0: an arrive.expect_tx of 4096 bytes, a plain arrive, then the bytes in two parts.
  mbarrier_arrive(w, bar, 4096);
  CHECK(!mbarrier_test_wait_parity(w, bar, 0), "phase 0 complete after 1 of 2 arrivals");
  mbarrier_arrive(w, bar, 0);
  CHECK(!mbarrier_test_wait_parity(w, bar, 0), "phase 0 complete with 4096 tx bytes outstanding");
  mbarrier_complete_tx(w, bar, 4000);
  CHECK(!mbarrier_test_wait_parity(w, bar, 0), "phase 0 complete with 96 tx bytes outstanding");
  mbarrier_complete_tx(w, bar, 96);
  CHECK(mbarrier_test_wait_parity(w, bar, 0), "phase 0 not complete after all arrivals and bytes");
  CHECK(!mbarrier_test_wait_parity(w, bar, 1), "phase 1 complete right after it began");

  // Phase 1: the copy completes before expect_tx (tx-count goes negative, allowed down to -(2^20-1)).
  mbarrier_complete_tx(w, bar, 100);
  CHECK(!mbarrier_test_wait_parity(w, bar, 1), "phase 1 complete with tx-count -100");
  mbarrier_arrive(w, bar, 100);
  CHECK(!mbarrier_test_wait_parity(w, bar, 1), "phase 1 complete after 1 of 2 arrivals");
  mbarrier_arrive(w, bar, 0);
  CHECK(mbarrier_test_wait_parity(w, bar, 1), "phase 1 not complete");
  CHECK(!mbarrier_test_wait_parity(w, bar, 0), "phase 2 (parity 0) complete right after it began");

  // The state is the 8 bytes: a byte copy of the barrier is the same barrier.
  const uint32_t bar2 = kLo + 128;
  std::memcpy(&sm.bytes[bar2], &sm.bytes[bar], 8);
  mbarrier_arrive(w, bar2, 0);
  mbarrier_arrive(w, bar2, 0);
  CHECK(mbarrier_test_wait_parity(w, bar2, 0) && !mbarrier_test_wait_parity(w, bar, 0), "copied barrier state");

  // Misuse.
  const uint32_t one = kLo + 256;
  mbarrier_init(w, one, 1);
  mbarrier_arrive(w, one, 16);  // pending 0, 16 bytes outstanding: phase still open
  CHECK(!mbarrier_test_wait_parity(w, one, 0), "phase complete with bytes outstanding");
  expect_ptx_error([&] { mbarrier_arrive(w, one, 0); }, "no pending arrivals", "arrive beyond the expected count");
  expect_ptx_error([&] { mbarrier_complete_tx(w, one, (1u << 21)); }, "tx-count", "complete_tx far past the range");
  expect_ptx_error([&] { mbarrier_arrive(w, kLo + 512, 1u << 20); }, "no initialized mbarrier", "arrive on uninitialized memory");
  mbarrier_init(w, kLo + 512, 1);
  expect_ptx_error([&] { mbarrier_arrive(w, kLo + 512, 1u << 20); }, "tx-count", "expect_tx of 2^20 bytes");
  expect_ptx_error([&] { mbarrier_init(w, kLo + 4, 1); }, "8-byte aligned", "init at 4 mod 8");
  expect_ptx_error([&] { mbarrier_arrive(w, bar + 4, 0); }, "8-byte aligned", "arrive at 4 mod 8");
  expect_ptx_error([&] { mbarrier_init(w, kSmemBytes - 4, 1); }, "8-byte aligned", "init at the window end");
  expect_ptx_error([&] { mbarrier_init(w, kSmemBytes, 1); }, "outside the window", "init past the window");
  expect_ptx_error([&] { mbarrier_init(w, kLo - 8, 1); }, "outside the window", "init in the reserved area");
  expect_ptx_error([&] { mbarrier_init(w, kLo + 576, 0); }, "count", "init count 0");
  expect_ptx_error([&] { mbarrier_init(w, kLo + 576, 1u << 20); }, "count", "init count 2^20");
  expect_ptx_error([&] { mbarrier_test_wait_parity(w, bar, 2); }, "phaseParity", "parity 2");
  mbarrier_init(w, kLo + 576, (1u << 20) - 1);
  CHECK(!mbarrier_test_wait_parity(w, kLo + 576, 0), "init with the maximum count");
}

// ---- wgmma descriptor errors ---------------------------------------------------------------------

void check_wgmma_errors() {
  Smem sm;
  const SmemWindow w = sm.window();
  std::vector<float> regs(128 * 128, 0.f);
  float* d[128];
  for (int t = 0; t < 128; ++t) d[t] = &regs[size_t(t) * 128];
  const uint64_t a = make_desc(kLo + 8192, 16, 1024, 1), b = make_desc(kLo + 16384, 16, 1024, 1);
  wgmma_m64nNk16_bf16_f32(64, w, a, b, false, d);  // valid (contents are the 0xCD fill)
  ++g_checks;
  expect_ptx_error([&] { wgmma_m64nNk16_bf16_f32(12, w, a, b, false, d); }, "N 12", "N not a multiple of 8");
  expect_ptx_error([&] { wgmma_m64nNk16_bf16_f32(264, w, a, b, false, d); }, "N 264", "N 264");
  expect_ptx_error([&] { wgmma_m64nNk16_bf16_f32(64, w, a | (1ull << 49), b, false, d); }, "base offset", "non-zero base offset");
  expect_ptx_error([&] { wgmma_m64nNk16_bf16_f32(64, w, a, b | (1ull << 46), false, d); }, "reserved", "sm_100-style bit 46 set");
  expect_ptx_error([&] { wgmma_m64nNk16_bf16_f32(64, w, make_desc(kLo - 1024, 16, 1024, 1), b, false, d); }, "outside the window",
                   "A in the reserved area");
  expect_ptx_error([&] { wgmma_m64nNk16_bf16_f32(256, w, a, make_desc(kSmemBytes - 16384, 16, 1024, 1), false, d); }, "outside the window",
                   "B past the window end");
}

}  // namespace

int main() {
  try {
    for (int n : {8, 128, 256}) check_wgmma(128, n);  // K-major, 128B swizzle
    for (int n : {8, 128, 256}) check_wgmma(0, n);    // K-major, no swizzle (explicit LBO/SBO)
    check_wgmma(64, 64);
    check_wgmma(32, 40);
    check_wgmma_errors();
    check_tma();
    check_tma_4d();
    check_encode_refusals();
    check_mbarrier();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ptx-sm90 check failed: unexpected exception: %s\n", e.what());
    return 1;
  }
  std::printf("all ptx-sm90 checks passed (%d)\n", g_checks);
  return 0;
}
