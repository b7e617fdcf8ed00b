// Host-side checks of the CUDA launch planning (kernels/include/sana/cuda/launch_plan.h), run on
// machines without a GPU: at every SANA / DC-AE benchmark shape the grids the .cu files launch are
// inside CUDA's limits, cover every element exactly once (no tile short, at most one partial tile),
// and the index ranges that need 64-bit arithmetic are the ones the kernels compute in int64; the DC-AE
// layout kernels' index maps (sana/cuda/dcae_maps.h) equal their torch definitions.
// Built and run by launch-plan.test.ts; prints "all launch-plan checks passed" and exits 0.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "sana/cuda/dcae_maps.h"
#include "sana/cuda/launch_plan.h"

using namespace sana::cuda::plan;
namespace maps = sana::cuda::maps;

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

// ---- DC-AE layout maps against their torch definitions (NCHW semantics, NHWC storage) ----
static maps::Upsample upsample_geom(int64_t B, int64_t H, int64_t W, int64_t C, int64_t Co, int64_t f) {
  maps::Upsample g;
  g.B = B;
  g.H = H;
  g.W = W;
  g.C = C;
  g.Co = Co;
  g.f = f;
  g.r = Co * f * f / C;
  return g;
}

static void check_dcae_maps() {
  // (B, H, W, C, Co, f): r = Co·f²/C = 1, 2, 3, 4, 32; f = 1 (decoder conv_in) and 2 (up blocks)
  const int64_t geoms[][6] = {{2, 3, 5, 16, 8, 2}, {1, 4, 3, 32, 8, 2}, {1, 2, 3, 8, 8, 2}, {2, 3, 2, 32, 24, 2},
                              {1, 3, 4, 2, 64, 1}, {2, 2, 5, 16, 16, 1}, {1, 3, 3, 8, 24, 1}, {1, 2, 2, 12, 6, 2}};
  for (const auto& gg : geoms) {
    const maps::Upsample g = upsample_geom(gg[0], gg[1], gg[2], gg[3], gg[4], gg[5]);
    const std::string w = ctx("upsample map", g.C, g.Co, g.f);
    CHECK(g.r * g.C == g.Co * g.f * g.f, w);
    const int64_t Ho = g.H * g.f, Wo = g.W * g.f, n = g.out_numel();
    CHECK(n == g.B * Ho * Wo * g.Co, w);
    // torch: rep = repeat_interleave(x, r, dim=1): rep[b, c'] = x[b, c' / r];
    //        out = pixel_shuffle(rep, f): out[b, o, y·f + i, x·f + j] = rep[b, o·f² + i·f + j, y, x]
    std::vector<int64_t> want(n, -1);
    for (int64_t b = 0; b < g.B; ++b)
      for (int64_t o = 0; o < g.Co; ++o)
        for (int64_t y = 0; y < g.H; ++y)
          for (int64_t x = 0; x < g.W; ++x)
            for (int64_t i = 0; i < g.f; ++i)
              for (int64_t j = 0; j < g.f; ++j) {
                const int64_t rep_c = o * g.f * g.f + i * g.f + j, xc = rep_c / g.r;
                want[((b * Ho + y * g.f + i) * Wo + x * g.f + j) * g.Co + o] = ((b * g.H + y) * g.W + x) * g.C + xc;
              }
    bool scalar_ok = true;
    for (int64_t e = 0; e < n; ++e) scalar_ok = scalar_ok && want[e] >= 0 && maps::shortcut_src(g, e) == want[e];
    CHECK(scalar_ok, w + " shortcut_src");
    if (g.Co % 8 == 0) {
      bool vec_ok = true;
      for (int64_t it = 0; it < n / 8; ++it) {
        int64_t src[8];
        const int64_t e0 = maps::shortcut_src8(g, it, src);
        vec_ok = vec_ok && e0 == it * 8;
        for (int k = 0; k < 8; ++k) vec_ok = vec_ok && src[k] == want[e0 + k];
      }
      CHECK(vec_ok, w + " shortcut_src8");
    }
    if (g.f == 2) {
      // pixel-shuffle mode: t (B, 4·Co, H, W) = the conv; out[b, o, 2y + i, 2x + j] = t[b, 4o + 2i + j, y, x] (+ the shortcut)
      bool ps_ok = true;
      for (int64_t b = 0; b < g.B; ++b)
        for (int64_t o = 0; o < g.Co; ++o)
          for (int64_t y = 0; y < g.H; ++y)
            for (int64_t x = 0; x < g.W; ++x)
              for (int64_t i = 0; i < 2; ++i)
                for (int64_t j = 0; j < 2; ++j) {
                  const int64_t e = ((b * Ho + 2 * y + i) * Wo + 2 * x + j) * g.Co + o;
                  int64_t ts = -1, xs = -1;
                  maps::pixel_shuffle_src(g, e, &ts, &xs);
                  ps_ok = ps_ok && ts == ((b * g.H + y) * g.W + x) * 4 * g.Co + 4 * o + 2 * i + j && xs == want[e];
                }
      CHECK(ps_ok, w + " pixel_shuffle_src");
    }
  }
  {  // NHWC (B, HW, Cout) → NCHW (B, Cout, HW)
    const int64_t B = 2, HW = 35, Cout = 3;
    bool ok = true;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t o = 0; o < Cout; ++o)
        for (int64_t p = 0; p < HW; ++p) ok = ok && maps::nchw_src(HW, Cout, (b * Cout + o) * HW + p) == (b * HW + p) * Cout + o;
    CHECK(ok, std::string("nchw_src"));
  }
  {  // 4096², batch 2: SANA's stage-0 up block (256 ch at 2048² → 128 at 4096²) writes 2³² elements
    const maps::Upsample g = upsample_geom(2, 2048, 2048, 256, 128, 2);
    const int64_t n = g.out_numel(), x_n = g.B * g.H * g.W * g.C;
    CHECK(n == (int64_t{1} << 32) && g.r == 2, std::string("stage-0 up block size"));
    CHECK(maps::shortcut_src(g, n - 1) == x_n - 1 && maps::shortcut_src(g, 0) == 0, std::string("stage-0 last element"));
    int64_t src[8];
    // last pixel, phase 3: channels 120..127 read repeated channels 4o + 3, i.e. x channels 241, 243, …, 255
    CHECK(maps::shortcut_src8(g, n / 8 - 1, src) == n - 8 && src[7] == x_n - 1 && src[0] == x_n - 15, std::string("stage-0 last group"));
    // past 2³¹ (a 32-bit index would wrap): output (b 1, oy 2048, ox 5, o 7), phase 1 → repeated channel 29 → x (1, 1024, 2, 14)
    const int64_t e = (int64_t{1} << 31) + (2048 * int64_t{4096} + 5) * 128 + 7;
    CHECK(maps::shortcut_src(g, e) == ((int64_t{1} * 2048 + 1024) * 2048 + 2) * 256 + 14, std::string("stage-0 past 2³¹"));
    CHECK(fits(elementwise(n)) && fits(elementwise(n / 8)), std::string("stage-0 shortcut launches"));
    // the head: (2, 3, 4096, 4096) NCHW from (2, 4096², 3); its input (2, 4096, 4096, 128) has 2³² elements
    const int64_t HW = int64_t{4096} * 4096;
    CHECK(maps::nchw_src(HW, 3, 2 * 3 * HW - 1) == 2 * HW * 3 - 1 && maps::nchw_src(HW, 3, 3 * HW) == HW * 3, std::string("head NCHW at 4096²"));
    CHECK(fits(elementwise(2 * HW * 128 / 8)) && fits(elementwise(2 * HW * 128)), std::string("head act launches"));
  }
}

struct Dit {
  const char* name;
  int64_t C, heads_x, ffn;
};

// gemm v3 split-K: the plan's count at the DiT gemms on an H200 (132 SMs): > 1 only at 512² (M = B·256)
// where few tiles meet a long K, 1 at 1024² and 4096² (batch 2); every
// split non-empty, the k ranges a partition of the slices, conv never split, grids and workspace in range.
static void check_split_k() {
  struct Shape {
    const char* name;
    int64_t M, N, K;
    int want;  // the plan's S (132 SMs)
  };
  const Shape shapes[] = {
      // Sana-0.6B (C 1152, FFN hidden 2880) and 1.6B (C 2240, hidden 5600) at 512², batch 2: M = 512
      {"0.6b 512² qkv", 512, 3456, 1152, 1},    {"0.6b 512² proj", 512, 1152, 1152, 1},  {"0.6b 512² ffn-inv", 512, 5760, 1152, 1},
      {"0.6b 512² ffn-pw", 512, 1152, 2880, 3}, {"1.6b 512² qkv", 512, 6720, 2240, 1},   {"1.6b 512² proj", 512, 2240, 2240, 1},
      {"1.6b 512² ffn-inv", 512, 11200, 2240, 1}, {"1.6b 512² ffn-pw", 512, 2240, 5600, 3},
      {"0.6b cross-kv (2 × 300 tokens)", 600, 2304, 1152, 1},
  };
  for (const Shape& s : shapes) {
    const int bn = gemm_wgmma_tile_n(s.M, s.N, 132);
    CHECK(gemm_wgmma_split_k(s.M, s.N, s.K, 132, bn) == s.want, ctx(s.name, gemm_wgmma_split_k(s.M, s.N, s.K, 132, bn), bn));
  }
  // 1024² and 4096² at batch 2 (M = 2048, 32768): no split for any DiT gemm (the tiles fill the SMs' slots,
  // or, at 1024² N 1152: 80 tiles of 256, a split's second wave would cost what it saves)
  const int64_t dit_widths[][2] = {{1152, 2880}, {2240, 5600}};  // C, FFN hidden
  for (int64_t M : {2048, 32768}) {
    for (const auto& d : dit_widths) {
      const int64_t C = d[0], h = d[1];
      const int64_t nk[][2] = {{3 * C, C}, {C, C}, {2 * h, C}, {C, h}, {2 * C, C}};
      for (const auto& g : nk) {
        const int bn = gemm_wgmma_tile_n(M, g[0], 132);
        CHECK(gemm_wgmma_split_k(M, g[0], g[1], 132, bn) == 1, ctx("split 1024²/4096²", M, g[0], g[1]));
      }
    }
  }
  // every mode × shape: 1 ≤ S ≤ KT (no empty split), the splits partition [0, KT), the plan's own S within its
  // caps (≤ 4, ≥ 4 slices each, ≤ 64 MiB of partials), conv never split; the grids fit
  for (int64_t M : {1, 70, 130, 512, 600, 2048}) {
    for (int64_t N : {8, 77, 1152, 5760}) {
      for (int64_t K : {8, 64, 96, 200, 520, 1152, 2880, 5600}) {
        const int64_t KT = cdiv(K, kWgBK);
        for (int mode : {-1, 0, 1, 2, 3, 4, 5, 8, 9}) {
          for (int bn : {128, 192, 256}) {
            const std::string w = ctx("split", M, N, K) + " mode " + std::to_string(mode) + " bn " + std::to_string(bn);
            const int S = gemm_wgmma_splits(mode, M, N, K, 132, bn, false);
            CHECK(S >= 1 && S <= KT && S <= kWgSplitMax, w);
            CHECK(gemm_wgmma_splits(mode, M, N, K, 132, bn, true) == 1, w);
            if (mode >= 2) CHECK(S == (mode > kWgSplitMax ? kWgSplitMax : mode) || S == KT, w);
            if (mode == 0 || mode == 1) CHECK(S == 1, w);
            if (mode == -1 && S > 1) {
              CHECK(S <= kWgSplitAutoMax && KT / S >= kWgSplitMinSlices && int64_t{S} * M * N * 4 <= kWgSplitMaxWorkspace, w);
              CHECK(cdiv(M, kWgBM) * cdiv(N, bn) < 132 * wg_blocks_per_sm(bn), w);
            }
            bool partition = wg_split_begin(KT, 0, S) == 0 && wg_split_begin(KT, S, S) == KT;
            for (int s = 0; s < S; ++s) partition = partition && wg_split_begin(KT, s + 1, S) > wg_split_begin(KT, s, S);
            CHECK(partition, w);
            const Launch g = gemm_wgmma(M, N, bn, S), r = gemm_splitk_reduce(M, N);
            CHECK(fits(g) && g.grid.y == S && g.grid.x == cdiv(M, kWgBM) * cdiv(N, bn), w);
            CHECK(fits(r) && r.block.x == kWgReduceThreads && (r.grid.x * kWgReduceThreads >= M * cdiv(N, 8) || r.grid.x == 65536 * 8), w);
          }
        }
      }
    }
  }
  // the workspace cap and 64-bit sizes: no split past 64 MiB of partials, and none for huge (overflowing) M × N
  CHECK(wg_split_workspace_ok(512, 1152, 4) && !wg_split_workspace_ok(4096, 4096, 2) && !wg_split_workspace_ok(2147483647, 2147483647, 2),
        std::string("split workspace cap"));
  CHECK(gemm_wgmma_split_k(2147483647, 2147483647, 2147483647, 132, 256) == 1 && gemm_wgmma_split_k(0, 8, 64, 132, 128) == 1,
        std::string("split extremes"));
  CHECK(gemm_wgmma_split_k(128, 128, 64 * 16, 132, 128) == 4 && gemm_wgmma_split_k(128, 128, 64 * 15, 132, 128) == 3,
        std::string("split one tile"));  // ≥ 4 slices per split: KT 16 → 4, KT 15 → 3
  CHECK(fits(gemm_splitk_reduce(int64_t{1} << 31, int64_t{1} << 20)) && gemm_splitk_reduce(0, 0).grid.x == 1, std::string("reduce grid cap"));
}

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
        // gemm v3 (wgmma): every DiT gemm (K = C or the FFN hidden width) is TMA-aligned; both tile widths
        // launch valid grids that cover M × N with at most one partial tile per dimension.
        CHECK(gemm_wgmma_shapes_ok(M, 3 * m.C, m.C, m.C, m.C) && gemm_wgmma_shapes_ok(M, m.C, m.ffn, m.ffn, m.ffn), w);
        for (int64_t n_out : {m.C, 3 * m.C, 2 * m.ffn}) {
          const int bn = gemm_wgmma_tile_n(M, n_out, 132);
          CHECK(bn == 128 || bn == 256, w);  // the default set never picks the opt-in 192
          const int bn3 = gemm_wgmma_tile_n(M, n_out, 132, kWgTilesAll);
          CHECK(bn3 == 128 || bn3 == 192 || bn3 == 256, w);
          for (int t : {128, 192, 256}) {
            const Launch g = gemm_wgmma(M, n_out, t);
            CHECK(fits(g) && g.block.x == kWgThreads && g.smem == wg_smem_bytes(t), w);
            const int64_t mt = cdiv(M, kWgBM), nt = cdiv(n_out, t);
            CHECK(g.grid.x == mt * nt && covers(mt, kWgBM, M) && covers(nt, t, n_out), w);
          }
        }
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
        // core v3: v2's chunks (whole 64-token tiles), 4-warp blocks, shared memory within the 48 KB default
        const Launch s3 = la_state_v3(BH, N, chunk), a3 = la_apply_v3(BH, N);
        CHECK(fits(s3) && covers(s3.grid.x, chunk, N) && s3.grid.y == BH && s3.block.x == kLa3Threads && s3.smem <= 48 * 1024, w);
        CHECK(fits(a3) && covers(a3.grid.x, kLa3ApplyTokens, N) && a3.grid.y == BH && a3.block.x == kLa3Threads && a3.smem <= 48 * 1024, w);
        // cross-attention core
        const int64_t d = m.C / m.heads_x;
        const Launch x1 = xattn_v1(B * m.heads_x, N), x2 = xattn_v2(B * m.heads_x, N, d);
        CHECK(fits(x1) && covers(x1.grid.x, 8, N), w);
        CHECK(fits(x2) && covers(x2.grid.x, kXaQueries, N) && d <= kXaMaxHeadDim && d % 8 == 0, w);
        CHECK(x2.smem == (64 + 128) * (xattn_padded_dim(d) + 8) * 2 && x2.smem <= 227 * 1024, w);
        // core v3: a head's K and V (L = 300 keys, padded to 16) resident in shared memory, within an
        // sm_90 block's 227 KiB; two blocks per SM at Sana-0.6B's d = 72 (108,224 bytes each)
        const Launch x3 = xattn_v3(B * m.heads_x, N, L, d);
        CHECK(fits(x3) && covers(x3.grid.x, kXaV3Queries, N) && x3.block.x == kXaV3Threads && xattn_v3_keys(L) == 304, w);
        CHECK(x3.smem == xattn_v3_smem(L, d) && x3.smem <= 227 * 1024 && (d != 72 || x3.smem == 108224), w);
        // norms over C
        CHECK(rows_v2_ok(m.C) && fits(rows_v2(M, m.C)) && fits(rows_v1(M)), w);
        const int tpr = row_threads(m.C);
        CHECK(tpr == 32 && covers(rows_v2(M, m.C).grid.x, 256 / tpr, M), w);
        // the register budget holds the row and is the smallest that does: 5 vectors per lane at C 1152
        // (4.5 needed), 9 at 2240 (8.75)
        CHECK(row_vectors(m.C) * 8 * tpr >= m.C && row_vectors(m.C) == (m.C == 1152 ? 5 : 9), w);
        // depthwise + GLU
        const Launch dw = dw_glu_v2(B, hw, hw, m.ffn);
        CHECK(fits(dw) && m.ffn % 8 == 0 && covers(dw.grid.x, 128, B * hw * cdiv(hw, kDwRun) * (m.ffn / 8)), w);
        // v3: one block per 8 × 16 tile × 32-channel slice × image; every thread owns 8 channels × 2 pixels
        // of its tile; the halo tile and the taps fit the 48 KiB a launch gets without opting in
        const Launch dw3 = dw_glu_v3(B, hw, hw, m.ffn);
        CHECK(fits(dw3) && dw3.grid.x == cdiv(hw, kDw3Rows) * cdiv(hw, kDw3Cols) && dw3.grid.y == cdiv(m.ffn, kDw3Chan) && dw3.grid.z == B, w);
        CHECK(dw3.block.x == kDw3Threads && kDw3Threads == (kDw3Rows * kDw3Cols / 2) * (kDw3Chan / 8) && dw3.smem == kDw3Smem && kDw3Smem <= 48 * 1024, w);
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
    // DC-AE stages 3–5 (EfficientViT, lite-mla v3: 3h groups of 32 channels, I = C): every pixel of a
    // row in exactly one block run, every group one grid row, batch 1 and 2
    const int64_t evit[][2] = {{512, 8}, {1024, 16}, {1024, 32}};
    for (const auto& s : evit) {
      for (int64_t B : {1, 2}) {
        const int64_t C = s[0], H = res / s[1], groups = 3 * C / 32;
        const std::string w = ctx("lite-mla v3", res, C, B);
        const Launch l = lite_mla_dw_group_v3(B, H, H, groups);
        const int64_t run = lite_mla_v3_run(H);
        CHECK(fits(l) && l.block.x == run && run % 32 == 0 && run <= kMlaRun, w);
        CHECK(l.grid.x == B * H * cdiv(H, run) && covers(cdiv(H, run), run, H) && l.grid.y == groups, w);
      }
    }
  }
  // The norms' register budget for every row width v2 takes: it holds the row, and the next smaller
  // budget would not (so no row runs with more registers than it needs).
  for (int64_t C = 8; rows_v2_ok(C); C += 8) {
    const int64_t need = cdiv(C / 8, row_threads(C));
    int smaller = 0;
    for (int b : kRowBudgets) {
      if (b < row_vectors(C)) smaller = b;
    }
    CHECK(row_vectors(C) >= need && smaller < need, ctx("row budget", C));
  }
  // 64-bit indexing: DC-AE stage 0 at 4096² (batch 2) has 2³² elements per activation; a 32-bit
  // element index would wrap, a 32-bit grid.x would not (it counts tiles).
  {
    const int64_t M = 2 * 4096 * 4096, C = 128;
    CHECK(M * C == (int64_t{1} << 32), std::string("stage-0 numel"));
    CHECK(M * C > INT32_MAX && gemm_mma(M, C).grid.x < INT32_MAX, std::string("conv grid"));
    CHECK(rows_v2(M, C).grid.x == M / (256 / row_threads(C)), std::string("rms grid"));
  }
  // gemm v3 (wgmma) shared-memory budget and layout: every tile on a 1024-byte swizzle atom, the f32
  // epilogue tile fits in the stage memory, blocks per SM as planned within 227 KiB per block / 228 KiB
  // per SM (1 KiB of each block's share reserved by the hardware), the staging pitch bank-conflict-free.
  for (int t : {128, 192, 256}) {
    const std::string w = ctx("wgmma smem", t);
    CHECK(wg_a_bytes() % 1024 == 0 && wg_stage_bytes(t) % 1024 == 0, w);
    CHECK(wg_stage_bytes(t) == int64_t{kWgBM + t} * kWgBK * 2 && kWgBK * 2 == 128, w);
    CHECK(wg_staging_bytes(t) <= wg_stages(t) * wg_stage_bytes(t), w);
    CHECK(wg_smem_bytes(t) <= 227 * 1024, w);
    CHECK(wg_blocks_per_sm(t) * (wg_smem_bytes(t) + 1024) <= 228 * 1024, w);
    CHECK(wg_staging_pitch(t) % 32 == 8 && wg_staging_pitch(t) % 4 == 0, w);
    CHECK(kWgThreads == kWgConsumerWarps * 32 + 32 && kWgConsumerWarps == 8 && kWgBM == 2 * 64, w);
    // registers: 288 threads × blocks per SM leave at least the ptxas count (154 / 90 with CUDA 13.0) room
    CHECK(65536 / (kWgThreads * wg_blocks_per_sm(t)) >= (t == 128 ? 96 : 160), w);
  }
  CHECK(wg_smem_bytes(256) == 4 * 49152 + 64 + 1024 && wg_smem_bytes(192) == 4 * 40960 + 64 + 1024 && wg_smem_bytes(128) == 3 * 32768 + 48 + 1024,
        std::string("wgmma smem sizes"));
  // tile width choice on 132 SMs: 128 for grids of about a wave or less, 256 for the large DiT gemms
  CHECK(gemm_wgmma_tile_n(1024, 1152, 132) == 128 && gemm_wgmma_tile_n(1, 1, 132) == 128, std::string("tile_n small"));  // 40 vs 72 blocks
  CHECK(gemm_wgmma_tile_n(32768, 3456, 132) == 256, std::string("tile_n QKV 0.6b 4096² B2"));  // 28 × 256 vs 53 × 128 × 1.1
  CHECK(gemm_wgmma_tile_n(32768, 8192, 132) == 256 && gemm_wgmma_tile_n(8192, 8192, 132) == 256, std::string("tile_n large"));
  CHECK(gemm_wgmma_tile_n(128 * 132 * 4, 264, 132) == 128, std::string("tile_n N 264"));  // 8 × 256 vs 12 × 128 × 1.1
  // with the opt-in 192 (SANA_LAB_GEMM_TILES=128,192,256): Sana-0.6B's N 1152 at 1024² and 4096², batch 2, takes
  // 192 (M 2048: 96 tiles in one wave vs 80 of 256 at 4/3 the time each; M 32768: 12 waves × 192 × 1.05 vs
  // 10 × 256); QKV at 1024² (224 tiles of 256 in 2 waves vs 288 of 192 in 3) and FFN-inverted (5760: 3 vs 4
  // waves) stay 256; M 1024 stays 128; the default set, or an empty one, never returns 192; a set of one
  // width returns it.
  CHECK(gemm_wgmma_tile_n(2048, 1152, 132, kWgTilesAll) == 192 && gemm_wgmma_tile_n(32768, 1152, 132, kWgTilesAll) == 192,
        std::string("tile_n 192 for N 1152"));
  CHECK(gemm_wgmma_tile_n(2048, 3456, 132, kWgTilesAll) == 256 && gemm_wgmma_tile_n(2048, 5760, 132, kWgTilesAll) == 256,
        std::string("tile_n 256 kept at 1024² QKV / FFN-inverted"));
  CHECK(gemm_wgmma_tile_n(1024, 1152, 132, kWgTilesAll) == 128, std::string("tile_n 128 kept at M 1024"));
  CHECK(gemm_wgmma_tile_n(2048, 1152, 132) == 256 && gemm_wgmma_tile_n(2048, 1152, 132, 0) == 256, std::string("tile_n default set"));
  CHECK(gemm_wgmma_tile_n(2048, 3456, 132, kWgTile192) == 192 && gemm_wgmma_tile_n(1, 1, 132, kWgTile256) == 256, std::string("tile_n one width"));
  CHECK(wg_tile_bit(128) == kWgTile128 && wg_tile_bit(192) == kWgTile192 && wg_tile_bit(256) == kWgTile256 && wg_tile_bit(64) == 0,
        std::string("tile bits"));
  CHECK(!gemm_wgmma_shapes_ok(64, 64, 30, 30, 30) && !gemm_wgmma_shapes_ok(64, 64, 0, 0, 0) && !gemm_wgmma_shapes_ok(int64_t{1} << 31, 64, 64, 64, 64) &&
            gemm_wgmma_shapes_ok(64, 64, 40, 40, 48),
        std::string("wgmma shapes"));
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
  // gemm v3 in clusters of 2: the grid counts whole clusters; every real (m, n) tile exactly once, the two
  // blocks of a cluster on the same n-tile and adjacent m-tiles (rank = blockIdx.x % 2), and the only
  // blocks past M are the padding ranks of the last run of an odd m-tile count
  for (int64_t M : {129, 256, 257, 1000, 2048, 32768}) {
    for (int64_t N : {77, 1152, 3456}) {
      for (int bn : {128, 192, 256}) {
        const int64_t mtiles = cdiv(M, kWgBM), ntiles = cdiv(N, bn);
        const Launch l = gemm_wgmma(M, N, bn, 1, 2);
        std::vector<int> seen(mtiles * ntiles, 0);
        bool ok = l.grid.x % 2 == 0 && l.grid.x == cdiv(mtiles, 2) * 2 * ntiles && l.grid.y == 1;
        int64_t padding = 0;
        for (int64_t bid = 0; bid < l.grid.x; ++bid) {
          int64_t mt = -1, nt = -1, mt0 = -1, nt0 = -1;
          gemm_cluster_tile_of(bid, mtiles, ntiles, 2, &mt, &nt);
          gemm_cluster_tile_of(bid - bid % 2, mtiles, ntiles, 2, &mt0, &nt0);
          ok = ok && nt == nt0 && mt == mt0 + bid % 2 && mt0 % 2 == 0 && nt >= 0 && nt < ntiles;
          if (mt >= mtiles) ++padding;
          else if (mt >= 0) ++seen[mt * ntiles + nt];
          else ok = false;
        }
        for (int v : seen) ok = ok && v == 1;
        CHECK(ok && padding == (mtiles % 2) * ntiles, ctx("gemm_cluster_tile_of", M, N, bn));
      }
    }
  }
  CHECK(gemm_wgmma(1000, 1152, 256).grid.x == 8 * 5 && gemm_wgmma(1000, 1152, 256, 1, 1).grid.x == 8 * 5, std::string("wgmma grid without clusters"));
  // the cluster size: opt-in mode 2, never with split-K, a single m-tile, or M near 2^31 (32-bit TMA rows)
  CHECK(gemm_wgmma_cluster(2, 256, 1) == 2 && gemm_wgmma_cluster(2, 32768, 1) == 2 && gemm_wgmma_cluster(1, 32768, 1) == 1 &&
            gemm_wgmma_cluster(2, 32768, 3) == 1 && gemm_wgmma_cluster(2, 128, 1) == 1 && gemm_wgmma_cluster(2, 129, 1) == 2 &&
            gemm_wgmma_cluster(2, (int64_t{1} << 31) - 256, 1) == 2 && gemm_wgmma_cluster(2, (int64_t{1} << 31) - 255, 1) == 1,
        std::string("gemm_wgmma_cluster"));
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

  check_dcae_maps();
  check_split_k();

  if (g_failed) {
    std::printf("%d of %d launch-plan checks failed\n", g_failed, g_checks);
    return 1;
  }
  std::printf("all launch-plan checks passed (%d)\n", g_checks);
  return 0;
}
