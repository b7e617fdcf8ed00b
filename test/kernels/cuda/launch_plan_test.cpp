// Host-side checks of the CUDA launch planning (kernels/include/sana/cuda/launch_plan.h), run on
// machines without a GPU: at every SANA / DC-AE benchmark shape the grids the .cu files launch are
// inside CUDA's limits, cover every element exactly once (no tile short, at most one partial tile),
// and the index ranges that need 64-bit arithmetic are the ones the kernels compute in int64.
// Built and run by launch-plan.test.ts; prints "all launch-plan checks passed" and exits 0.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "sana/cuda/launch_plan.h"

using namespace sana::cuda::plan;

static int g_failed = 0, g_checks = 0;
#define CHECK(cond, what)                                                     \
  do {                                                                        \
    ++g_checks;                                                               \
    if (!(cond)) {                                                            \
      ++g_failed;                                                             \
      std::printf("FAIL %s:%d: %s  [%s]\n", __FILE__, __LINE__, #cond, (what).c_str()); \
    }                                                                         \
  } while (0)

static std::string ctx(const char* name, int64_t a, int64_t b = -1, int64_t c = -1) {
  return std::string(name) + " " + std::to_string(a) + " " + std::to_string(b) + " " + std::to_string(c);
}

// grid·tile covers n with at most one partial tile
static bool covers(int64_t grid, int64_t tile, int64_t n) { return grid * tile >= n && (grid - 1) * tile < n; }

struct Dit {
  const char* name;
  int64_t C, heads_x, ffn;
};

int main() {
  const Dit dits[] = {{"0.6b", 1152, 16, 2880}, {"1.6b", 2240, 20, 5600}};
  const int64_t L = 300;
  for (int64_t res : {256, 512, 1024, 2048, 4096}) {
    for (int64_t B : {1, 2}) {
      const int64_t hw = res / 32, N = hw * hw, M = B * N;
      for (const Dit& m : dits) {
        const std::string w = ctx(m.name, res, B);
        // gemms of the DiT block: QKV (3 × C), out proj, FFN inverted (2h) and point (C)
        for (int64_t n_out : {m.C, 3 * m.C, 2 * m.ffn}) {
          Launch s = gemm_simt(M, n_out), t = gemm_mma(M, n_out);
          CHECK(fits(s) && fits(t), w);
          CHECK(covers(s.grid.x, kSimtBM, M) && covers(s.grid.y, kSimtBN, n_out), w);
          CHECK(t.grid.x == cdiv(M, kMmaBM) * cdiv(n_out, kMmaBN) && t.grid.y == 1, w);
          CHECK(t.smem == 65536 && t.block.x == 256, w);
        }
        CHECK(gemm_mma_shapes_ok(m.C, m.C, m.C) && gemm_mma_shapes_ok(m.ffn, m.ffn, m.ffn), w);
        // linear attention, heads of 32
        const int64_t BH = B * m.C / 32;
        const int64_t chunk = la_chunk_tokens(BH, N);
        CHECK(chunk % kLaTile == 0 && chunk >= kLaTile, w);
        const Launch st = la_state(BH, N, chunk);
        CHECK(fits(st) && covers(st.grid.x, chunk, N) && st.grid.y == BH, w);
        CHECK(st.grid.x * st.grid.y >= 264 || chunk == kLaTile, w);  // ≥ 2 blocks per SM of an H100, or tiles can't shrink
        const Launch a1 = la_apply_v1(BH, N, 32), a2 = la_apply_v2(BH, N);
        CHECK(fits(a1) && covers(a1.grid.x, 256 / 32, N), w);
        CHECK(fits(a2) && covers(a2.grid.x, int64_t{kLaApplyTokens} * kLaApplyRounds, N) && a2.block.x == 256, w);
        // cross-attention core
        const int64_t d = m.C / m.heads_x;
        const Launch x1 = xattn_v1(B * m.heads_x, N), x2 = xattn_v2(B * m.heads_x, N, d);
        CHECK(fits(x1) && covers(x1.grid.x, 8, N), w);
        CHECK(fits(x2) && covers(x2.grid.x, kXaQueries, N) && d <= kXaMaxHeadDim && d % 8 == 0, w);
        CHECK(x2.smem == (64 + 128) * (xattn_padded_dim(d) + 8) * 2 && x2.smem <= 227 * 1024, w);
        // norms over C
        CHECK(rows_v2_ok(m.C) && fits(rows_v2(M, m.C)) && fits(rows_v1(M)), w);
        const int tpr = row_threads(m.C);
        CHECK(tpr == 32 && covers(rows_v2(M, m.C).grid.x, 256 / tpr, M), w);
        // depthwise + GLU
        const Launch dw = dw_glu_v2(B, hw, hw, m.ffn);
        CHECK(fits(dw) && m.ffn % 8 == 0 && covers(dw.grid.x, 128, B * hw * cdiv(hw, kDwRun) * (m.ffn / 8)), w);
        CHECK(fits(elementwise(M * m.ffn)), w);
        (void)L;
      }
    }
    // DC-AE decoder stages 0–2 (ResBlocks) at this resolution, batch 1 and 2
    const int64_t stages[][2] = {{128, 1}, {256, 2}, {512, 4}};
    for (const auto& s : stages) {
      for (int64_t B : {1, 2}) {
        const int64_t C = s[0], H = res / s[1], M = B * H * H;
        const std::string w = ctx("dcae", res, C, B);
        const Launch g = gemm_mma(M, C), g1 = gemm_simt(M, C);
        CHECK(fits(g) && fits(g1) && g.grid.x == cdiv(M, kMmaBM) * cdiv(C, kMmaBN), w);
        CHECK(gemm_mma_shapes_ok(9 * C, 9 * C, 9 * C), w);
        CHECK(fits(rows_v2(M, C)) && rows_v2_ok(C) && covers(rows_v2(M, C).grid.x, 256 / row_threads(C), M), w);
        CHECK(fits(elementwise(M * C)) && fits(rows_v1(M)), w);
        // upsampling conv from H/2: the output size is H
        CHECK(conv_out(H / 2, 1, 2) == H && conv_out(H, 2) == H / 2, w);
      }
    }
  }
  // 64-bit indexing: DC-AE stage 0 at 4096² (batch 2) has 2³² elements per activation; a 32-bit
  // element index would wrap, a 32-bit grid.x would not (it counts tiles).
  {
    const int64_t M = 2 * 4096 * 4096, C = 128;
    CHECK(M * C == (int64_t{1} << 32), std::string("stage-0 numel"));
    CHECK(M * C > INT32_MAX && gemm_mma(M, C).grid.x < INT32_MAX, std::string("conv grid"));
    CHECK(rows_v2(M, C).grid.x == M / (256 / row_threads(C)), std::string("rms grid"));
  }
  // the grouped block order of the tensor-core gemm visits every (m, n) tile exactly once
  for (int64_t mtiles : {1, 3, 8, 9, 17, 256}) {
    for (int64_t ntiles : {1, 2, 9, 27, 88}) {
      std::vector<int> seen(mtiles * ntiles, 0);
      bool in_range = true;
      for (int64_t bid = 0; bid < mtiles * ntiles; ++bid) {
        int64_t mt = -1, nt = -1;
        gemm_tile_of(bid, mtiles, ntiles, &mt, &nt);
        if (mt < 0 || mt >= mtiles || nt < 0 || nt >= ntiles) in_range = false;
        else ++seen[mt * ntiles + nt];
      }
      bool once = in_range;
      for (int v : seen) once = once && v == 1;
      CHECK(once, ctx("gemm_tile_of", mtiles, ntiles));
    }
  }
  {  // consecutive blocks share m-tiles: the first wave (2 blocks × 132 SMs, 27 n-tiles) spans ≤ 2 groups
    int64_t max_mt = 0;
    for (int64_t bid = 0; bid < 264; ++bid) {
      int64_t mt, nt;
      gemm_tile_of(bid, 256, 27, &mt, &nt);
      max_mt = mt > max_mt ? mt : max_mt;
    }
    CHECK(max_mt < 2 * kMmaGroupM, ctx("grouped order", max_mt));
  }
  // small-shape details and limits
  CHECK(row_threads(128) == 16 && row_threads(8) == 1 && row_threads(36) == 8 && row_threads(1000) == 32, std::string("row_threads"));
  CHECK(rows_v2_ok(3072) && !rows_v2_ok(3080) && !rows_v2_ok(100) && !rows_v2_ok(36), std::string("rows_v2_ok"));
  CHECK(!fits(gemm_simt(64, int64_t{65536} * kSimtBN)), std::string("grid.y limit"));
  CHECK(fits(gemm_simt(64, int64_t{65535} * kSimtBN)), std::string("grid.y at the limit"));
  CHECK(!fits(la_state(65536, 64, 64)), std::string("B·heads on grid.y"));
  CHECK(conv_out(9, 2) == 5 && conv_out(10, 2) == 5 && conv_out(5, 1, 2) == 10 && conv_out(7, 1) == 7, std::string("conv_out"));
  CHECK(xattn_padded_dim(72) == 80 && xattn_padded_dim(112) == 112 && xattn_padded_dim(8) == 16, std::string("padded dim"));
  CHECK(la_chunk_tokens(72, 16384) % 64 == 0 && la_chunk_tokens(1, 10) == 64 && la_chunk_tokens(100000, 1 << 20) == (1 << 20) && la_chunk_tokens(1, 1 << 20) == 512, std::string("chunks"));
  CHECK(elementwise(int64_t{1} << 40).grid.x == 65536 * 8 && elementwise(1).grid.x == 1, std::string("elementwise cap"));
  CHECK(!gemm_mma_shapes_ok(30, 30, 30) && gemm_mma_shapes_ok(40, 40, 48), std::string("mma shapes"));

  if (g_failed) {
    std::printf("%d of %d launch-plan checks failed\n", g_failed, g_checks);
    return 1;
  }
  std::printf("all launch-plan checks passed (%d)\n", g_checks);
  return 0;
}
