// Host-side launch planning for the CUDA kernels: tile sizes, grid shapes and the limits they must
// respect. Plain C++ (no CUDA headers) so it is unit-tested on machines without a GPU
// (test/kernels/cuda/launch_plan_test.cpp); the .cu files launch exactly what these functions return.
//
// Conventions: the dimension that can grow with the image (tokens, pixels, rows) always goes on
// grid.x (limit 2³¹ − 1); grid.y / grid.z (limit 65535) only carry small counts (heads × batch,
// N tiles). Every element index inside the kernels is int64_t: a 4096² DC-AE activation at 128
// channels has 2³¹ elements.
#pragma once
#include <cstdint>

// Functions the kernels also call on the device.
#if defined(__CUDACC__)
#define SANA_HD __host__ __device__
#else
#define SANA_HD
#endif

namespace sana::cuda::plan {

constexpr int64_t kMaxGridX = 2147483647;
constexpr int64_t kMaxGridYZ = 65535;

struct Dim { int64_t x = 1, y = 1, z = 1; };
struct Launch {
  Dim grid, block;
  int64_t smem = 0;  // dynamic shared memory bytes
};

inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return cdiv(a, b) * b; }

// A launch is valid when every grid dimension is in range and nothing is empty.
inline bool fits(const Launch& l) {
  return l.grid.x >= 1 && l.grid.x <= kMaxGridX && l.grid.y >= 1 && l.grid.y <= kMaxGridYZ && l.grid.z >= 1 &&
         l.grid.z <= kMaxGridYZ && l.block.x * l.block.y * l.block.z >= 1 && l.block.x * l.block.y * l.block.z <= 1024;
}

// ---- gemm v1: SIMT, 64×64 output tile, K slices of 16, 256 threads with 4×4 outputs each ----
constexpr int kSimtBM = 64, kSimtBN = 64, kSimtBK = 16, kSimtThreads = 256;
inline Launch gemm_simt(int64_t M, int64_t N) {
  Launch l;
  l.grid = {cdiv(M, kSimtBM), cdiv(N, kSimtBN), 1};
  l.block = {kSimtThreads, 1, 1};
  return l;
}

// ---- gemm v2: mma.sync m16n8k16 bf16, 128×128 tile, K slices of 32, 4-stage cp.async pipeline ----
// A 1-D grid of m_tiles × n_tiles blocks in grouped order: blocks that run together cover a band of
// kMmaGroupM m-tiles × a run of n-tiles, so both the activation rows and the weight columns they read
// are reused from L2 (with plain row-major order one wave would stream all of A — 75 MB at the 0.6B
// QKV shape at 4096², more than the 50 MB L2 — once per n-tile).
constexpr int kMmaBM = 128, kMmaBN = 128, kMmaBK = 32, kMmaStages = 4, kMmaThreads = 256, kMmaGroupM = 8;
constexpr int64_t kMmaSmemBytes = int64_t{kMmaStages} * (kMmaBM + kMmaBN) * kMmaBK * 2;  // 64 KiB
inline Launch gemm_mma(int64_t M, int64_t N) {
  Launch l;
  l.grid = {cdiv(M, kMmaBM) * cdiv(N, kMmaBN), 1, 1};
  l.block = {kMmaThreads, 1, 1};
  l.smem = kMmaSmemBytes;
  return l;
}
// Block id → (m tile, n tile): groups of kMmaGroupM m-tiles (the last group may be narrower), m fastest
// inside a group. A bijection from [0, m_tiles·n_tiles) (tested on the host).
SANA_HD inline void gemm_tile_of(int64_t bid, int64_t m_tiles, int64_t n_tiles, int64_t* mt, int64_t* nt) {
  const int64_t per_group = int64_t{kMmaGroupM} * n_tiles;
  const int64_t group = bid / per_group, first_m = group * kMmaGroupM;
  const int64_t rows = m_tiles - first_m < kMmaGroupM ? m_tiles - first_m : kMmaGroupM;
  const int64_t r = bid - group * per_group;
  *mt = first_m + r % rows;
  *nt = r / rows;
}
// What the tensor-core gemm needs from its operands (16-byte cp.async rows): K, lda and ldb
// multiples of 8 elements; the pointers 16-byte aligned (checked separately).
inline bool gemm_mma_shapes_ok(int64_t K, int64_t lda, int64_t ldb) { return K % 8 == 0 && lda % 8 == 0 && ldb % 8 == 0 && K > 0; }

// ---- gemm v3: Hopper wgmma + TMA (gemm_wgmma.cu): 128 × BN output tiles, K slices of 64 ----
// 288 threads: 2 consumer warpgroups (warps 0–7, 64 tile rows each) + 1 producer warp (warp 8, one
// thread issues the TMA loads). Three tile widths: BN = 256 (4 stages of 48 KiB, 1 block per SM,
// ≤ 224 registers per thread), BN = 192 (4 stages of 40 KiB, 1 block per SM) and BN = 128 (3 stages
// of 32 KiB, 2 blocks per SM, ≤ 112 registers). The epilogue re-uses the stage memory as a
// 128 × (BN + 8) f32 staging tile.
constexpr int kWgBM = 128, kWgBK = 64, kWgConsumerWarps = 8, kWgThreads = 288;
constexpr int wg_stages(int bn) { return bn == 128 ? 3 : 4; }
constexpr int wg_blocks_per_sm(int bn) { return bn == 128 ? 2 : 1; }
constexpr int64_t wg_a_bytes() { return int64_t{kWgBM} * kWgBK * 2; }                  // 16 KiB: 128 rows × 128 B
constexpr int64_t wg_b_bytes(int bn) { return int64_t{bn} * kWgBK * 2; }                // bn rows × 128 B
constexpr int64_t wg_stage_bytes(int bn) { return wg_a_bytes() + wg_b_bytes(bn); }     // TMA bytes per stage
constexpr int64_t wg_staging_pitch(int bn) { return bn + 8; }                          // f32 per staging row (≡ 8 mod 32 banks)
constexpr int64_t wg_staging_bytes(int bn) { return int64_t{kWgBM} * wg_staging_pitch(bn) * 4; }
// stages, then 2 mbarriers (8 B) per stage, plus 1 KiB to round the base up to the 1024-byte swizzle atom.
constexpr int64_t wg_smem_bytes(int bn) { return wg_stages(bn) * wg_stage_bytes(bn) + 16 * wg_stages(bn) + 1024; }
// The tile widths the plan may choose (a bit set). 192 is opt-in (SANA_LAB_GEMM_TILES, see
// gemm_launch.h) until a GPU has timed it: written 2026-11 for SANA-0.6B, whose N (1152, 3456, 5760) are
// multiples of 192 and of no 256, so a 256-wide grid runs a half-empty last column of tiles.
constexpr int kWgTile128 = 1, kWgTile192 = 2, kWgTile256 = 4;
constexpr int kWgTilesDefault = kWgTile128 | kWgTile256, kWgTilesAll = kWgTile128 | kWgTile192 | kWgTile256;
constexpr int wg_tile_bit(int bn) { return bn == 128 ? kWgTile128 : bn == 192 ? kWgTile192 : bn == 256 ? kWgTile256 : 0; }
// The tile width for M × N on `sms` SMs among `allowed` (a crude model, to be tuned with the bench's
// forced-width records): the busiest SM runs ⌈tiles/sms⌉ tiles, each worth its width in time (two
// 128-wide tiles share an SM, a 192- or 256-wide tile has it alone), and narrower tiles are taken to be
// less efficient per FLOP (more epilogue and shared-memory traffic per MAC): 128 by 10%, 192 by 5%. So
// 128 wins on grids of about one wave or less and when N sits just above a multiple of 256; 256 on large
// problems; 192 where N is a multiple of 192 but not of 256 (SANA-0.6B's 1152: one wave of 96 tiles at
// M 2048 where 256 runs 80 tiles in the same wave of 18 slices each and a quarter more time per tile;
// 12 waves of 192 against 10 of 256 at M 32768). Ties go to the wider tile; an empty set means the default.
inline int gemm_wgmma_tile_n(int64_t M, int64_t N, int64_t sms, int allowed = kWgTilesDefault) {
  if (sms < 1) sms = 1;
  if ((allowed & kWgTilesAll) == 0) allowed = kWgTilesDefault;
  const int64_t mt = cdiv(M, kWgBM);
  struct Width {
    int bn, bit;
    int64_t per_flop;  // ×20: 128 → 22, 192 → 21, 256 → 20
  };
  const Width widths[] = {{256, kWgTile256, 20}, {192, kWgTile192, 21}, {128, kWgTile128, 22}};
  int best = 0;
  int64_t best_cost = 0;
  for (const Width& w : widths) {
    if ((allowed & w.bit) == 0) continue;
    const int64_t cost = w.per_flop * w.bn * cdiv(mt * cdiv(N, int64_t{w.bn}), sms);
    if (best == 0 || cost < best_cost) {
      best = w.bn;
      best_cost = cost;
    }
  }
  return best;
}
// grid.x = the tiles (grouped order), grid.y = the k-splits (1 without split-K; ≤ kWgSplitMax). With
// clusters of `cluster` blocks (TMA multicast of B, below) grid.x counts whole clusters: m-tiles are taken
// in runs of `cluster`, the last run padded with blocks past M (they load and multicast their share of
// B for the others and store nothing).
inline Launch gemm_wgmma(int64_t M, int64_t N, int bn, int splits = 1, int cluster = 1) {
  Launch l;
  l.grid = {cdiv(cdiv(M, kWgBM), cluster) * cluster * cdiv(N, bn), splits, 1};
  l.block = {kWgThreads, 1, 1};
  l.smem = wg_smem_bytes(bn);
  return l;
}
// Clusters with TMA multicast (opt-in: SANA_LAB_GEMM_CLUSTER=2, set_gemm_wgmma_cluster; see gemm_wgmma.cu).
// Two blocks of a cluster compute vertically adjacent 128 × bn tiles (the same n-tile): each loads its
// own A tile and half of the shared B tile, which the copy engine writes into both blocks' shared memory,
// so L2 → shared-memory traffic per block and k-slice drops from (128 + bn)·128 to (128 + bn/2)·128 bytes.
constexpr int kWgClusterMax = 2;
// Bench-only probes of gemm v3's main loop (set_gemm_wgmma_probe): none, the operand feed alone (TMA loads
// and barriers, no wgmma), the tensor cores alone (wgmma on stale shared memory, no loads).
constexpr int kWgProbeNone = 0, kWgProbeFeed = 1, kWgProbeMath = 2;
// Block `bid` of a clustered grid → (m tile, n tile): clusters in v2's grouped order over runs of
// `cluster` m-tiles, then rank r takes the run's r-th m-tile (≥ m_tiles for the padding blocks).
SANA_HD inline void gemm_cluster_tile_of(int64_t bid, int64_t m_tiles, int64_t n_tiles, int cluster, int64_t* mt, int64_t* nt) {
  int64_t run = 0;
  gemm_tile_of(bid / cluster, (m_tiles + cluster - 1) / cluster, n_tiles, &run, nt);
  *mt = run * cluster + bid % cluster;
}
// The cluster size a launch uses for `mode` (gemm_wgmma_cluster_mode(): 1 = none, 2 = pairs): none for
// split-K launches (their grids are small and their partials are per block), a single m-tile (the
// second block would only pad) or M within a padding block of 2^31 (its TMA row coordinate is 32-bit).
inline int gemm_wgmma_cluster(int mode, int64_t M, int splits) {
  const bool fits = M <= (int64_t{1} << 31) - int64_t{kWgClusterMax} * kWgBM;
  return mode >= 2 && splits <= 1 && cdiv(M, kWgBM) >= 2 && fits ? kWgClusterMax : 1;
}
// Split-K (grids that leave SMs idle, e.g. the DiT gemms at 512²: M = 512, N = 1152 is 36 tiles of
// 128 × 128 on 132 SMs): S blocks per tile, block (tile, s) running the k-slices [begin(s), begin(s + 1))
// with begin(s) = ⌊s·KT/S⌋ (KT = ⌈K/64⌉; every split gets ⌊KT/S⌋ or ⌈KT/S⌉ slices, ≥ 1 when S ≤ KT) and
// writing its f32 partial tile to a workspace of S·M·N floats; a second kernel sums the S partials in
// the order s = 0 … S − 1 (deterministic) and applies the fused epilogue.
constexpr int kWgSplitMax = 8;              // forced counts (set_gemm_wgmma_split_k, SANA_LAB_GEMM_SPLIT_K)
constexpr int kWgSplitAutoMax = 4;          // the plan's
constexpr int kWgSplitMinSlices = 4;        // the plan's: each split ≥ 4 slices of 64 (the 3–4-stage ring fills)
constexpr int64_t kWgSplitMaxWorkspace = int64_t{64} << 20;  // the plan's: S·M·N·4 bytes
SANA_HD inline int64_t wg_split_begin(int64_t KT, int64_t s, int64_t S) { return KT * s / S; }
// Whether S·M·N floats stay within the plan's workspace cap (no overflow for any M, N < 2³¹).
inline bool wg_split_workspace_ok(int64_t M, int64_t N, int S) {
  return M <= 0 || N <= 0 || M <= kWgSplitMaxWorkspace / (int64_t{4} * S) / N;
}
// The wave model's time of S splits, in k-slices of one 256-wide tile on one SM (the unit of
// gemm_wgmma_tile_n's model: a slice costs its width on its SM; two 128-wide blocks share an SM, so
// the busiest SM's time is ⌈blocks/sms⌉ blocks × their slices × width/256), plus for S > 1 the price of
// the split: the reduce launch (≈ 2 slice-times, ~1 µs) and the partials written and read back,
// S·M·N·8 bytes at ≈ 4 MiB per slice-time (a 128 × 256 × 64 slice is ≈ 0.56 µs at the H200's
// 989 TFLOP/s over 132 SMs; 4 MiB in that time is ≈ 7 TB/s, between HBM's 4.8 and L2's, where
// partials of ≤ 64 MiB mostly stay). ×256 so that everything is an integer.
inline int64_t wg_split_cost(int64_t M, int64_t N, int64_t K, int64_t sms, int bn, int S) {
  const int64_t tiles = cdiv(M, kWgBM) * cdiv(N, bn), KT = cdiv(K, kWgBK);
  int64_t cost = cdiv(tiles * S, sms) * cdiv(KT, S) * bn;
  if (S > 1) cost += 2 * 256 + int64_t{S} * (M * N / 2048);  // S·M·N·8 bytes / 4 MiB × 256 (M·N < 2⁶²: no overflow)
  return cost;
}
// The plan's split count for an M × N × K gemm at tile width bn on `sms` SMs (1 = no split). S = 1 when
// the tiles already fill the SM slots (sms × blocks per SM): a split then only adds work. Otherwise the
// S ≤ kWgSplitAutoMax of least wave-model time whose splits keep ≥ kWgSplitMinSlices slices each and
// whose workspace stays ≤ 64 MiB, taken only when it beats no split by ≥ 10 % (the model is crude and
// untimed: the bench records split off / auto / forced at the small-M DiT shapes to tune it). On an
// H200 (132 SMs) at 512², batch 2 (M = 512): 3 for Sana-0.6B's FFN point-wise gemm (N 1152, K 2880:
// 36 tiles) and Sana-1.6B's (N 2240, K 5600), 1 for the others (a split would put a second block on
// the busiest SM, or its partials' traffic eats the gain); 1 for every DiT gemm at 1024² and 4096², batch 2.
inline int gemm_wgmma_split_k(int64_t M, int64_t N, int64_t K, int64_t sms, int bn) {
  if (sms < 1) sms = 1;
  if (M <= 0 || N <= 0 || K <= 0) return 1;
  const int64_t tiles = cdiv(M, kWgBM) * cdiv(N, bn), KT = cdiv(K, kWgBK);
  if (tiles >= sms * wg_blocks_per_sm(bn)) return 1;
  const int64_t unsplit = wg_split_cost(M, N, K, sms, bn, 1);
  int best = 1;
  int64_t best_cost = unsplit;
  for (int S = 2; S <= kWgSplitAutoMax; ++S) {
    if (KT / S < kWgSplitMinSlices || !wg_split_workspace_ok(M, N, S)) break;
    const int64_t c = wg_split_cost(M, N, K, sms, bn, S);
    if (c < best_cost) {
      best = S;
      best_cost = c;
    }
  }
  return 10 * best_cost <= 9 * unsplit ? best : 1;
}
// The split count a launch uses for `mode` (gemm_wgmma_split_k_mode(): −1 = the plan's, 0 or 1 = none,
// 2 … kWgSplitMax = forced): a conv A (implicit im2col) never splits, and a forced count is capped at KT
// so that no split is ever empty (K = 96 forced to 4 runs 2 splits of 1 slice).
inline int gemm_wgmma_splits(int mode, int64_t M, int64_t N, int64_t K, int64_t sms, int bn, bool a_conv) {
  if (a_conv || K <= 0) return 1;
  const int64_t KT = cdiv(K, kWgBK);
  int S = mode < 0 ? gemm_wgmma_split_k(M, N, K, sms, bn) : mode > kWgSplitMax ? kWgSplitMax : mode < 1 ? 1 : mode;
  if (S > KT) S = static_cast<int>(KT);
  return S;
}
// The reduce: one thread per 8 columns of a row (16-byte loads/stores where the epilogue is vectorised),
// a grid-stride loop over M·⌈N/8⌉ such units with the grid capped like elementwise launches.
constexpr int kWgReduceThreads = 256;
inline Launch gemm_splitk_reduce(int64_t M, int64_t N) {
  Launch l;
  int64_t blocks = cdiv(M * cdiv(N, 8), kWgReduceThreads);
  if (blocks > 65536 * 8) blocks = 65536 * 8;
  if (blocks < 1) blocks = 1;
  l.grid = {blocks, 1, 1};
  l.block = {kWgReduceThreads, 1, 1};
  return l;
}
// What v3 needs from its operands (TMA: row strides multiples of 16 bytes; 32-bit TMA coordinates).
inline bool gemm_wgmma_shapes_ok(int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb) {
  return K > 0 && K % 8 == 0 && lda % 8 == 0 && ldb % 8 == 0 && M <= 2147483647 && N <= 2147483647 && K <= 2147483647;
}

// ---- linear attention: the (d+1)×d f32 state per (batch, head), then the apply pass ----
// State pass: blocks of 256 threads over (token chunks, B·heads). Chunks are multiples of the
// 64-token tile, sized so that about `target_blocks` blocks run (≥ 4 waves of 132 SMs) but a chunk
// never goes below one tile.
constexpr int kLaTile = 64, kLaThreads = 256;
inline int64_t la_chunk_tokens(int64_t BH, int64_t M, int64_t target_blocks = 2048) {
  int64_t chunks = cdiv(target_blocks, BH < 1 ? 1 : BH);
  const int64_t max_chunks = cdiv(M, kLaTile);
  if (chunks > max_chunks) chunks = max_chunks;
  if (chunks < 1) chunks = 1;
  return round_up(cdiv(M, chunks), kLaTile);
}
inline Launch la_state(int64_t BH, int64_t M, int64_t chunk) {
  Launch l;
  l.grid = {cdiv(M, chunk), BH, 1};
  l.block = {kLaThreads, 1, 1};
  return l;
}
// Apply pass v1: 256 threads over a tile of 256 / d… tokens, one thread per (token, channel).
inline Launch la_apply_v1(int64_t BH, int64_t N, int64_t d) {
  const int64_t tokens = kLaThreads / d < 1 ? 1 : kLaThreads / d;
  Launch l;
  l.grid = {cdiv(N, tokens), BH, 1};
  l.block = {kLaThreads, 1, 1};
  return l;
}
// Apply pass v2 (d = 32): 4 threads per token (8 channels each), 64 tokens per round, 4 rounds per block.
constexpr int kLaApplyTokens = 64, kLaApplyRounds = 4;
inline Launch la_apply_v2(int64_t BH, int64_t N) {
  Launch l;
  l.grid = {cdiv(N, int64_t{kLaApplyTokens} * kLaApplyRounds), BH, 1};
  l.block = {kLaApplyTokens * 4, 1, 1};
  return l;
}
// Core v3 (bf16, d = 32, tensor cores): 128 threads = 4 warps, each multiplying 16 tokens of every
// 64-token tile; kLa3Stages tiles staged by cp.async (3 in flight while one is multiplied). State: v2's
// chunks (la_chunk_tokens, multiples of the tile). Apply: kLa3ApplyTokens tokens per block, so the
// block's one-time state load (33 × 32 f32 → bf16 hi/lo fragments) is amortised over 8 tiles.
// Dynamic shared memory (cp.async / ldmatrix address it), under 48 KB: staged rows of 32 bf16 + 16
// bytes of padding; state: k and v stages (40 KB); apply: q stages, a 16-row output tile per warp and
// the (33 × 36) f32 state (≈ 30 KB).
constexpr int kLa3Threads = 128, kLa3Stages = 4, kLa3ApplyTokens = 512, kLa3RowBytes = (32 + 8) * 2;
constexpr int64_t kLa3StateSmem = 2 * kLa3Stages * kLaTile * kLa3RowBytes;
constexpr int64_t kLa3ApplySmem = kLa3Stages * kLaTile * kLa3RowBytes + (kLa3Threads / 32) * 16 * kLa3RowBytes + 33 * 36 * 4;
inline Launch la_state_v3(int64_t BH, int64_t M, int64_t chunk) {
  Launch l;
  l.grid = {cdiv(M, chunk), BH, 1};
  l.block = {kLa3Threads, 1, 1};
  l.smem = kLa3StateSmem;
  return l;
}
inline Launch la_apply_v3(int64_t BH, int64_t N) {
  Launch l;
  l.grid = {cdiv(N, kLa3ApplyTokens), BH, 1};
  l.block = {kLa3Threads, 1, 1};
  l.smem = kLa3ApplySmem;
  return l;
}

// ---- cross-attention core ----
// v1: one warp per (query, batch·head), 8 warps per block over queries.
inline Launch xattn_v1(int64_t BH, int64_t N) {
  Launch l;
  l.grid = {cdiv(N, 8), BH, 1};
  l.block = {256, 1, 1};
  return l;
}
// v2: flash-style on tensor cores: 4 warps × 16 queries, key blocks of 64; head dim padded to 16.
constexpr int kXaQueries = 64, kXaKeys = 64, kXaMaxHeadDim = 128;
inline int64_t xattn_padded_dim(int64_t d) { return round_up(d, 16); }
inline int64_t xattn_v2_smem(int64_t d) { return int64_t{kXaQueries + 2 * kXaKeys} * (xattn_padded_dim(d) + 8) * 2; }
inline Launch xattn_v2(int64_t BH, int64_t N, int64_t d) {
  Launch l;
  l.grid = {cdiv(N, kXaQueries), BH, 1};
  l.block = {128, 1, 1};
  l.smem = xattn_v2_smem(d);
  return l;
}
// v3: 8 warps × 16 = 128 queries per block; every key and value of the (batch, head) resident in shared
// memory for the whole block (L rounded up to 16 keys, rows of the padded head dim + 8 elements so that
// ldmatrix is conflict-free), then the mask bias × log₂e as f32 (−∞ on the padding keys). The online
// softmax walks the keys in steps of 64 with no barrier between them. Up to the device's opt-in shared
// memory per block (227 KiB on sm_90: L ≤ 416 at d = 128, L ≤ 640 at d = 72).
constexpr int kXaV3Queries = 128, kXaV3Threads = 256, kXaV3Step = 64;
inline int64_t xattn_v3_keys(int64_t L) { return round_up(L, 16); }
inline int64_t xattn_v3_smem(int64_t L, int64_t d) {
  return 2 * xattn_v3_keys(L) * (xattn_padded_dim(d) + 8) * 2 + xattn_v3_keys(L) * 4;
}
inline Launch xattn_v3(int64_t BH, int64_t N, int64_t L, int64_t d) {
  Launch l;
  l.grid = {cdiv(N, kXaV3Queries), BH, 1};
  l.block = {kXaV3Threads, 1, 1};
  l.smem = xattn_v3_smem(L, d);
  return l;
}

// ---- row-wise norms (layernorm-modulate, rmsnorm / rmsnorm2d) ----
// v1: one 256-thread block per row.
inline Launch rows_v1(int64_t rows) {
  Launch l;
  l.grid = {rows, 1, 1};
  l.block = {256, 1, 1};
  return l;
}
// v2: a power-of-two group of `threads_per_row` ≤ 32 lanes per row, 8 elements (16 bytes of bf16)
// per lane per step, the row held in registers (at most kRowMaxVec vectors per lane).
constexpr int kRowMaxVec = 12;
inline int row_threads(int64_t C) {
  int t = 1;
  while (t < 32 && t * 8 < C) t *= 2;
  return t;
}
inline bool rows_v2_ok(int64_t C) { return C % 8 == 0 && cdiv(C / 8, row_threads(C)) <= kRowMaxVec; }
// The kernel's register budget for rows of C: the smallest instantiated vector count per lane that holds
// a row. Registers are allocated for the budget, not for C, and occupancy follows them: with the budget
// 12 a lane holds 96 floats (ptxas sm_90a, bf16: 127 registers for layernorm-modulate, 177 for rmsnorm:
// 16 or 8 warps per SM), so SANA's rows (C 1152 → 4.5 vectors per lane, 2240 → 8.75) get budgets of
// their own (5: 64 registers, 32 warps per SM).
constexpr int kRowBudgets[] = {2, 5, 9, kRowMaxVec};
inline int row_vectors(int64_t C) {
  const int64_t need = cdiv(C / 8, row_threads(C));
  for (int b : kRowBudgets) {
    if (need <= b) return b;
  }
  return kRowMaxVec;
}
inline Launch rows_v2(int64_t rows, int64_t C) {
  const int tpr = row_threads(C);
  Launch l;
  l.grid = {cdiv(rows, 256 / tpr), 1, 1};
  l.block = {256, 1, 1};
  return l;
}

// ---- elementwise / pixel kernels ----
// Grid-stride launches over n items, capped so grid.x stays small; blocks of 256.
inline Launch elementwise(int64_t n, int64_t max_blocks = 65536 * 8) {
  Launch l;
  int64_t blocks = cdiv(n, 256);
  if (blocks > max_blocks) blocks = max_blocks;
  if (blocks < 1) blocks = 1;
  l.grid = {blocks, 1, 1};
  l.block = {256, 1, 1};
  return l;
}
// Depthwise 3×3 + GLU v2: a thread owns 8 channels × kDwRun pixels of one image row.
constexpr int kDwRun = 4;
inline Launch dw_glu_v2(int64_t B, int64_t H, int64_t W, int64_t h) {
  const int64_t groups = h / 8, runs = cdiv(W, kDwRun);
  Launch l;
  l.block = {128, 1, 1};
  l.grid = {cdiv(B * H * runs * groups, 128), 1, 1};
  return l;
}
// Depthwise 3×3 + GLU v3 (bf16): a block is a kDw3Rows × kDw3Cols output tile of one image for a slice of
// kDw3Chan channels of each GLU half (grid.x the tiles, grid.y the slices, grid.z the batch). Its input
// (the tile plus a one-pixel halo, both halves) is staged in shared memory, kDw3Pitch bytes per pixel:
// 2 × 64 bytes + 16 of padding, which spreads a warp's reads over every bank. 256 threads, each 8
// channels × 2 adjacent pixels. Shared memory: the halo tile + the slice's taps and biases in f32.
constexpr int kDw3Rows = 8, kDw3Cols = 16, kDw3Chan = 32, kDw3Threads = 256, kDw3Pitch = 144;
constexpr int64_t kDw3Smem = int64_t{(kDw3Rows + 2) * (kDw3Cols + 2) * kDw3Pitch} + 10 * 2 * kDw3Chan * 4;
inline Launch dw_glu_v3(int64_t B, int64_t H, int64_t W, int64_t h) {
  Launch l;
  l.block = {kDw3Threads, 1, 1};
  l.grid = {cdiv(H, kDw3Rows) * cdiv(W, kDw3Cols), cdiv(h, kDw3Chan), B};
  l.smem = kDw3Smem;
  return l;
}

// lite-mla v3 (depthwise k×k + grouped 1×1 fused, groups of 32 channels): a block is a run of
// consecutive pixels of one image row, one pixel per thread, for one group (grid.y = 3h groups). The
// run is W rounded up to a warp, at most kMlaRun, so narrow maps do not leave most threads idle.
constexpr int kMlaRun = 128;
inline int64_t lite_mla_v3_run(int64_t W) { return W >= kMlaRun ? kMlaRun : round_up(W < 1 ? 1 : W, 32); }
inline Launch lite_mla_dw_group_v3(int64_t B, int64_t H, int64_t W, int64_t groups) {
  const int64_t run = lite_mla_v3_run(W);
  Launch l;
  l.block = {run, 1, 1};
  l.grid = {B * H * cdiv(W, run), groups, 1};
  return l;
}

// conv3x3 output size with zero padding 1 (torch): floor((H + 2 − 3) / s) + 1 on the (upsampled) input.
inline int64_t conv_out(int64_t H, int stride, int upsample = 1) { return (H * upsample - 1) / stride + 1; }

}  // namespace sana::cuda::plan
