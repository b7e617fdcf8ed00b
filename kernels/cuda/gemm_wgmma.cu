// gemm v3: bf16 GEMM for Hopper (sm_90a) on wgmma, operands brought in by TMA, fused epilogue.
// See gemm.cu for the op (out = residual + gate ⊙ act(x · wᵀ + bias)) and versions 1–2.
//
// Idea. One block computes a 128 × BN tile of C = A·Bᵀ (A = x, M × K; B = w, N × K, both K-major).
// A producer warp streams K slices of 64 through an S-stage ring in shared memory with the copy
// engine (cp.async.bulk.tensor, 2-D tiled tensor maps, 128-byte swizzle, out-of-range rows and K
// columns zero-filled by the hardware, so ragged M, N and K need no special path); two consumer
// warpgroups multiply them with wgmma (m64nBNk16, A and B read from shared memory through matrix
// descriptors, f32 accumulators in registers), each owning 64 of the 128 tile rows. Full/empty
// mbarriers per stage hand the stages back and forth. The epilogue stages the f32 tile in the (then
// idle) stage memory and applies bias, activation, gate and residual with the same Epilogue as v1/v2,
// 8 columns per thread, with 16-byte loads and stores when every operand row is 16-byte aligned.
//
// Tiles: BM = 128, BK = 64, BN = 256 (4 stages × 48 KiB, 1 block per SM, wgmma m64n256k16, 128
// accumulators per consumer thread), BN = 192 (4 stages × 40 KiB, 1 block per SM, m64n192k16, 96
// accumulators) or BN = 128 (3 stages × 32 KiB, 2 blocks per SM, m64n128k16, 64 accumulators);
// plan::gemm_wgmma_tile_n picks one by a wave-count model, among 128 and 256 unless SANA_LAB_GEMM_TILES
// adds 192 (opt-in until timed on a GPU). Why 192: SANA-0.6B's N (1152, 3456, 5760) are multiples of
// 192 and of no 256. At M 2048 (1024², CFG batch 2) an N 1152 gemm is 80 tiles of 256 — one partial
// wave in which every block walks all of K — or 96 tiles of 192, still one wave, each tile 3/4 of the
// work: ≈ 25% less time if a 192-wide slice costs 3/4 of a 256-wide one (the H200 run: one-wave grids
// take ≈ 1 µs per 256-wide slice: 18 µs at K 1152 for M 1024 and M 2048 alike). At M 32768 (4096²) the
// last column of 256-wide tiles is half empty: 10 waves of 256 against 12 of 192 (= 9 of 256's time).
// Block = 288 threads: warps 0–7 the consumers (warpgroups start at warps 0 and 4), warp 8 the producer
// (one thread issues every TMA; no setmaxnreg: 288 threads leave ≤ 224 (BN 192, 256) / ≤ 112 (BN 128)
// registers per thread).
// Blocks are visited in v2's grouped order (plan::gemm_tile_of) for L2 reuse. Not persistent: the
// epilogue of one tile overlaps another block's main loop only with BN = 128 (2 blocks per SM).
//
// FLOPs 2·M·N·K (+ ≤ 4·M·N epilogue). Bytes: minimal (M·K + N·K + M·N)·2 (+ epilogue operands); as
// issued, each A tile is read ⌈N/BN⌉ times and each B tile ⌈M/128⌉ times (from L2 in the grouped
// order). Per k-slice a block moves (128 + BN)·64·2 bytes for 128·BN·64 MACs: 85 (BN 256), 77 (BN 192) or 64
// (BN 128) FLOP per byte of shared memory filled; each consumer warpgroup's wgmma reads 64·16·2 bytes
// of A and BN·16·2 of B per 64·BN·16 MACs. At the Sana QKV shape (M 32768, N 3456, K 1152) the
// whole gemm is 261 GFLOP over ≥ 0.33 GB: compute-bound (≈ 0.26 ms at 989 TFLOP/s).
//
// PTX facts relied on (PTX ISA 8.x; section names from the "Parallel Thread Execution ISA" guide):
// - "Asynchronous Warpgroup Level Matrix Multiply-Accumulate Instructions" (wgmma): a warpgroup is 4
//   consecutive warps whose first warp index is a multiple of 4; wgmma.mma_async needs sm_90a.
//   .m64nNk16.f32.bf16.bf16 with both operands as descriptors and imm-trans-a = imm-trans-b = 0
//   means A (M × K) and B (stored N × K) are both K-major; scale-d (a predicate) = 1 adds to D.
// - "Register Fragments" (Matrix Fragments for wgmma.mma_async.m64nNk16), accumulator D, f32: N/2
//   registers per thread; register i of thread t (warp w = t / 32 % 4, lane l) holds row
//   16·w + l/4 + 8·((i/2)%2), column 8·(i/4) + 2·(l%4) + (i%2): the mma.sync m16n8 layout repeated
//   over the N/8 column blocks.
// - "Matrix Descriptor Format" (Asynchronous Warpgroup Level Matrix Shared Memory Layout): bits 0–13
//   start address >> 4; 16–29 leading-dimension byte offset >> 4 (not used for K-major swizzled
//   layouts; set to 1); 32–45 stride-dimension byte offset >> 4 (1024 B: the next group of 8 rows of
//   128 B); 49–51 base offset ((start >> 7) & 7 for a matrix that does not start on the 1024-byte
//   pattern boundary: 0 here, every tile is 1024-aligned and the k offsets 32/64/96 stay below 128);
//   62–63 swizzle mode (1 = 128-byte swizzle). The k-th 16-wide slice of a 64-wide (128-byte)
//   swizzled row starts 32·k bytes further: the descriptor's start address advances by 2 per k step.
// - "Tensors" (tiled mode, bounding box, "Swizzling Modes"; cuTensorMapEncodeTiled in cuda.h): with
//   CU_TENSOR_MAP_SWIZZLE_128B and a 128-byte inner box, TMA stores row r of a box at r·128 with its
//   16-byte chunk c at chunk c ^ (r % 8): exactly the 128-byte-swizzle K-major layout the descriptor
//   above describes (groups of 8 rows on 1024-byte boundaries).
// - "cp.async.bulk.tensor": .2d.shared::cluster.global.mbarrier::complete_tx::bytes, coordinates
//   {inner (k), outer (row)} as s32; the bytes of the whole box (zero-filled parts included) count
//   toward the mbarrier's tx-count. The tensor map is a __grid_constant__ kernel parameter.
// - "Parallel Synchronization and Communication Instructions: mbarrier" ("Phase Completion of the
//   mbarrier object", tx-count): init with the expected arrival count; arrive.expect_tx adds the
//   stage's bytes to the tx-count and arrives; a phase completes when the pending arrivals and the
//   tx-count both reach 0. try_wait.parity P waits for the completion of the phase with parity P: on
//   a fresh barrier the "preceding" phase (parity 1) counts as complete, so the producer's first pass
//   over the ring (waiting on empty[s] with parity 1) does not block. fence.mbarrier_init orders the
//   inits before the copy engine's complete_tx.
// - "wgmma.fence": before the first wgmma of a batch and after any other access to the accumulator
//   registers; "wgmma.commit_group" / "wgmma.wait_group N": after the wait at most N groups are
//   pending; the others have written their accumulators and finished reading shared memory (so their
//   stages can be refilled). Successive wgmma into the same accumulators execute in issue order, so a
//   new batch may be issued while the previous one is in flight.
// - "Memory Consistency Model" (proxies): TMA writes and wgmma reads are async-proxy accesses ordered
//   by the mbarriers; the epilogue's ordinary stores into the same shared memory follow a
//   fence.proxy.async.shared::cta and a consumer-only named barrier (bar.sync 1, 256).
// Pipeline protocol (stage s = kt % S, use n = kt / S of that stage):
//   producer: wait empty[s] parity (n & 1) ^ 1 → arrive.expect_tx(full[s], stage bytes) → TMA A, B.
//   consumer: wait full[s] parity n & 1 → wgmma.fence → 4 × wgmma → commit → wait_group 1 (the
//   previous slice's batch is done, this one stays in flight) → each of the 8 consumer warps arrives
//   once on empty[(kt − 1) % S] (count 8); after the loop, wait_group 0. A stage is thus held for two
//   slices, so S ≥ 3 keeps one stage loading while two are read.
// A wait that has not completed after ~2³⁴ cycles (≈ 10 s) traps instead of hanging the process.
//
// Clusters of two with TMA multicast (opt-in: SANA_LAB_GEMM_CLUSTER=2 or set_gemm_wgmma_cluster(2); plan::
// gemm_wgmma_cluster; kCluster = 2). Why: the H200 records imply ≈ 6.8–7.9 TB/s of L2 → shared-memory traffic
// in the one-block version at the DiT's largest shapes (every block refills (128 + BN)·128 bytes per k-slice:
// 48 KiB at BN 256), which may be the L2's ceiling (bench/gpu/NOTES.md). Two blocks of a cluster (launched
// with cudaLaunchKernelEx and a cluster dimension attribute; rank = %cluster_ctarank) compute vertically
// adjacent tiles of the same n-tile (plan::gemm_cluster_tile_of), so they need the same B tile: each loads
// its own A tile as before and BN/2 rows of B with the .multicast::cluster form of the TMA load, which
// writes them into both blocks' shared memory at the same offset and completes their bytes on both
// blocks' full barriers. Per k-slice a block then refills (128 + BN/2)·128 bytes from L2 (32 KiB at BN 256:
// −33%), for the same MACs. What changes in the protocol:
// - each block's full[s] still expects the whole stage (A + all of B): its own producer's A and B half and
//   the other block's B half;
// - empty[s] counts the consumer warps of both blocks (16): a producer refills part of the other block's
//   stage too, so both blocks' consumers must be done with it; each consumer warp arrives on the empty
//   barrier of every block of the cluster (mapa + mbarrier.arrive.shared::cluster);
// - a cluster barrier after the barrier inits (before any block multicasts into or arrives on another),
//   and one before exit (barrier.cluster.arrive once a thread is done with the other block's shared memory,
//   .wait as its last act), so no block's shared memory disappears while the other can still reach it;
// - an odd m-tile count pads the last pair with a block past M: its A box reads as zeros, it multicasts
//   its half of B for its partner and stores nothing.
// Never with split-K (small grids, per-block partials): kCluster = 2 is only instantiated with kSplit = false.
// Same registers as kCluster = 1 (ptxas sm_90a: 154 / 122 / 90 at BN 256 / 192 / 128, no spills).
//
// Main-loop probes (bench only: set_gemm_wgmma_probe; the output is NOT the product). kProbe = feed: the
// producer's loads and every full/empty handshake, the consumers issue no wgmma (what moving the operands
// L2 → shared memory costs alone); kProbe = math: the wgmma batches on whatever the stages hold, the
// producer loads nothing and arrives on each full barrier at once (what the tensor cores and handshakes
// cost alone). The full kernel's time beside the two says what bounds it (compare.py "gemm v3 main loop").
//
// Split-K (grids that leave SMs idle; plan::gemm_wgmma_split_k; off by default, see
// set_gemm_wgmma_split_k). At M = 512 (Sana at 512², batch 2) an N = 1152 gemm is 36 tiles of 128 × 128
// on 132 SMs, each block walking all of K alone. With S splits (S here is the split count, not the stage
// count above) the grid gets a second dimension: block (tile, s) runs only the k-slices
// [⌊s·KT/S⌋, ⌊(s + 1)·KT/S⌋) through the same pipeline (its stage and parity counters start at 0: the
// ring is per block) and stores its raw f32 tile to a workspace of S·M·N floats (a Scratch local to the
// launch) instead of applying the epilogue; then gemm_splitk_reduce_kernel (gemm_splitk_reduce.cu) sums
// the S partials of each element in the order s = 0 … S − 1 (the result does not depend on which block
// finished first) and applies the same Epilogue (bias, activation, gate, residual; 16-byte loads and
// stores where `vec`). Extra bytes: the partials written and read back, 2·S·M·N·4 (mostly from L2 at
// these sizes); extra FLOPs: (S − 1)·M·N adds; one more launch. It pays when the ⌈KT/S⌉ instead of KT
// slices per block save more than that: few tiles and a long K (at 512², Sana-0.6B's FFN point-wise gemm,
// K = 2880, 36 tiles: S = 3 in the plan's wave model); never when the tiles already fill the SM slots.
// Dense A only: a conv's im2col A never splits. The S = 1 path is its own instantiation (kSplit = false)
// with the code and registers it had before (the reduce lives in another file: beside these kernels it
// changed NVVM's inlining in their scalar epilogue).
#include <cuda.h>          // CUtensorMap and its enums (types only; the function comes from the driver at run time)
#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled_v12000

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "sana/cuda/common.cuh"
#include "sana/cuda/gemm_launch.h"
#include "sana/cuda/ptx.cuh"

// The wgmma code exists only in the sm_90a device pass; elsewhere (host pass, sm_80 pass) the kernel
// body is empty and the probe kernel reports 0, so the host refuses version 3 instead of running it.
#define SANA_WGMMA_DEVICE SANA_PTX_SM90A

namespace sana::cuda {
namespace {

struct WgArgs {
  int64_t M, N, K;
  bool vec;  // N % 8 == 0 and every epilogue operand 16-byte aligned: 16-byte epilogue loads/stores
  // Implicit-gemm 3×3 convolution (conv3x3 v4), when conv_cb > 0: A = im2col(x) read by 4-D TMA boxes
  // of the NHWC x (64 channels × 128 pixels of one row); conv_cb = Cin / 64 channel blocks per tap.
  int conv_cb;
  int64_t conv_h, conv_w;
  // dcae-upsample v3 (GemmProblem::conv_phase): ≥ 0 = sub-pixel phase 2a + b of a conv over the nearest-2×
  // x: tap t of 4 reads x at offset (a − 1 + t / 2, b − 1 + t % 2) and tile row r is stored at output
  // pixel (2y + a, 2(x0 + r) + b) of the (B, 2H, 2W) image; −1 = the plain 3×3 im2col above.
  int conv_phase;
  // Split-K (kSplit instantiation only): the number of splits S (grid.y) and the workspace of S partial
  // M × N f32 tiles, split s at partial + s·M·N, row pitch N.
  int splits;
  float* partial;
};

// 1 when this module's code for the running device was compiled with wgmma (sm_90a).
__device__ int g_wgmma_built = -1;
__global__ void wgmma_probe_kernel() { g_wgmma_built = SANA_WGMMA_DEVICE; }

#if SANA_WGMMA_DEVICE
using ptx::smem_u32;
using namespace ptx::sm90;

// Waits for the completion of the phase with this parity; traps after ~2³⁴ cycles (a broken pipeline
// then fails the op with a launch error within seconds instead of hanging the process).
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
  if (mbar_try_wait(bar, parity)) return;
  const long long start = clock64();
  while (!mbar_try_wait(bar, parity)) {
    if (clock64() - start > (1ll << 34)) __trap();
  }
}

// Descriptor of a K-major bf16 tile in shared memory written by TMA with the 128-byte swizzle:
// rows of 64 elements (128 bytes), groups of 8 rows 1024 bytes apart, `saddr` 1024-byte aligned
// (plus 32·k for the k-th 16-wide slice).
__device__ __forceinline__ uint64_t sw128_desc(uint32_t saddr) {
  return static_cast<uint64_t>((saddr & 0x3FFFFu) >> 4)  // bits 0–13: start address >> 4
         | (uint64_t{1} << 16)                          // bits 16–29: leading byte offset >> 4 (unused here)
         | (uint64_t{1024 >> 4} << 32)                  // bits 32–45: stride byte offset >> 4 (8 rows × 128 B)
         | (uint64_t{1} << 62);                         // bits 62–63: 1 = 128-byte swizzle; base offset (49–51) 0
}
// The last thing every thread of a clustered block does: wait until every thread of the cluster has
// arrived on the cluster barrier, which each does once it is done with the other blocks' shared memory
// (its last multicast issued, its last remote arrive made). A block whose threads have all exited has no
// shared memory left for the others' copies and arrivals to land in.
__device__ __forceinline__ void cluster_wait_before_exit() { cluster_wait(); }
__device__ __forceinline__ void consumer_barrier() { ptx::bar_sync<1, plan::kWgConsumerWarps * 32>(); }
template <int BN> __device__ __forceinline__ void wgmma_slice(float (&d)[BN / 2], uint64_t desc_a, uint64_t desc_b) {
  if constexpr (BN == 256) {
    wgmma_m64n256k16(d, desc_a, desc_b);
  } else if constexpr (BN == 192) {
    wgmma_m64n192k16(d, desc_a, desc_b);
  } else {
    wgmma_m64n128k16(d, desc_a, desc_b);
  }
}
#endif  // SANA_WGMMA_DEVICE

template <int BN, bool kSplit, int kCluster, int kProbe = plan::kWgProbeNone>
__global__ void __launch_bounds__(plan::kWgThreads, plan::wg_blocks_per_sm(BN))
    gemm_wgmma_kernel(const __grid_constant__ CUtensorMap tma_a, const __grid_constant__ CUtensorMap tma_b, WgArgs p, Epilogue<bf16> ep) {
#if SANA_WGMMA_DEVICE
  constexpr int BM = plan::kWgBM, BK = plan::kWgBK, S = plan::wg_stages(BN);
  constexpr uint32_t kABytes = plan::wg_a_bytes(), kStageBytes = plan::wg_stage_bytes(BN);
  constexpr int P = plan::wg_staging_pitch(BN);
  constexpr int kConsumers = plan::kWgConsumerWarps * 32;
  static_assert(BK * 2 == 128, "a K slice is one 128-byte swizzle row");
  static_assert(kABytes % 1024 == 0 && kStageBytes % 1024 == 0, "every tile starts on a swizzle-atom (1024-byte) boundary");
  static_assert(plan::wg_staging_bytes(BN) <= int64_t{S} * kStageBytes, "the epilogue tile fits in the stage memory");
  static_assert(BM == 2 * 64 && kConsumers == 256, "two consumer warpgroups of 64 rows");
  static_assert(S >= 3, "a stage is held for two slices (one wgmma batch in flight) while another loads");
  static_assert(P % 32 == 8, "staging pitch ≡ 8 (mod 32) words: conflict-free float2 fragment stores");
  static_assert(kCluster == 1 || (kCluster == 2 && !kSplit), "pairs of blocks, and never with split-K");
  static_assert(kProbe == plan::kWgProbeNone || (!kSplit && (kProbe == plan::kWgProbeFeed || kCluster == 1)), "probes: no split; math alone");
  constexpr int kBRows = BN / kCluster;  // the B rows this block loads (and, in a cluster, multicasts)
  static_assert(kBRows * 128 % 1024 == 0, "each block's share of B starts on a swizzle-atom boundary");

  extern __shared__ uint8_t smem_raw[];
  const uint32_t raw = smem_u32(smem_raw);
  const uint32_t base = (raw + 1023u) & ~1023u;  // the host allocates 1 KiB extra for this
  uint8_t* smem = smem_raw + (base - raw);
  const uint32_t full0 = base + S * kStageBytes, empty0 = full0 + 8 * S;  // S mbarriers each
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;

  // In a cluster, rank r takes the r-th m-tile of its cluster's run (past M for a padding block: its A box
  // reads as zeros and its epilogue stores nothing, but it loads and multicasts its share of B).
  const uint32_t rank = kCluster > 1 ? cluster_ctarank() : 0;
  int64_t tile_m, tile_n;
  plan::gemm_cluster_tile_of(blockIdx.x, (p.M + BM - 1) / BM, (p.N + BN - 1) / BN, kCluster, &tile_m, &tile_n);
  const int64_t m0 = tile_m * BM, n0 = tile_n * BN;
  const int KT = static_cast<int>((p.K + BK - 1) / BK);  // K < 2³¹ (host check)
  // This block's k-slices: kt0 + [0, nkt). All KT of them, or with split-K split blockIdx.y's share (never
  // empty: the host caps S at KT). The ring's stage and parity arithmetic below counts the block's own
  // slices (kt = 0 …); only the TMA coordinates use the global slice kt0 + kt.
  int kt0 = 0, nkt = KT;
  if constexpr (kSplit) {
    kt0 = static_cast<int>(plan::wg_split_begin(KT, blockIdx.y, p.splits));
    nkt = static_cast<int>(plan::wg_split_begin(KT, int64_t{blockIdx.y} + 1, p.splits)) - kt0;
  }

  if (threadIdx.x == 0) {
    // The descriptors into the TMA unit's cache (parameters, not global memory: also before the PDL wait).
    prefetch_tensormap(&tma_a);
    prefetch_tensormap(&tma_b);
#pragma unroll
    for (int s = 0; s < S; ++s) {
      mbar_init(full0 + 8 * s, 1);                          // the producer's arrive.expect_tx (+ the TMA bytes)
      // one arrival per consumer warp of every block in the cluster (each reads the B rows all of them load)
      mbar_init(empty0 + 8 * s, plan::kWgConsumerWarps * kCluster);
    }
    fence_mbar_init();
    // Review: also make the inits visible to the async proxy (the copy engine's complete_tx), as the
    // CUDA Programming Guide's TMA example does; costs nothing (once per block), removes a doubt.
    fence_proxy_async_smem();
  }
  if constexpr (kCluster > 1) {
    // Every block's barriers are initialised before any block multicasts into it or arrives on it.
    cluster_arrive();
    cluster_wait();
  } else {
    __syncthreads();
  }
  // PDL (launch_dependent): everything above (the launch, the barrier inits) may overlap the tail of the
  // kernel ahead; nothing below — the operands' loads, the epilogue's reads and stores — may.
  ptx::dependent_prologue();

  if (warp == plan::kWgConsumerWarps) {  // ---- producer warp: one thread issues every copy ----
    if (lane == 0) {
      // conv: the tile's 128 pixels are one stretch of one output row (W % 128 == 0): image b, row oy,
      // columns ox0 … ox0 + 127. Tap (ky, kx) reads input row oy + ky − 1, columns ox0 + kx − 1 …;
      // the 4-D box's coordinates outside the image read as zero: the padding.
      int32_t conv_b = 0, conv_oy = 0, conv_ox0 = 0;
      if (p.conv_cb > 0) {
        conv_b = static_cast<int32_t>(m0 / (p.conv_h * p.conv_w));
        const int64_t rem = m0 - int64_t{conv_b} * p.conv_h * p.conv_w;
        conv_oy = static_cast<int32_t>(rem / p.conv_w);
        conv_ox0 = static_cast<int32_t>(rem - int64_t{conv_oy} * p.conv_w);
      }
      for (int kt = 0; kt < nkt; ++kt) {
        const int s = kt % S;
        const uint32_t use = static_cast<uint32_t>(kt / S);
        mbar_wait(empty0 + 8 * s, (use & 1u) ^ 1u);  // the consumers released this stage's previous use
        if constexpr (kProbe == plan::kWgProbeMath) {  // bench probe: no loads, the stage counts as landed at once
          mbar_arrive(full0 + 8 * s);
          continue;
        }
        mbar_arrive_expect_tx(full0 + 8 * s, kStageBytes);
        const uint32_t sa = base + s * kStageBytes;
        const int ktg = kt0 + kt;   // the global k-slice
        const int32_t k = ktg * BK;  // conv: = tap·Cin + channel block·64, the reordered weight's column
        if (p.conv_cb > 0) {
          const int tap = ktg / p.conv_cb, cb = ktg - tap * p.conv_cb;
          if (p.conv_phase >= 0) {  // dcae-upsample v3: tap (jy, jx) = (tap / 2, tap % 2) of phase (a, b)'s 2×2 window
            tma_load_4d(sa, &tma_a, cb * BK, conv_ox0 + (p.conv_phase & 1) - 1 + (tap & 1), conv_oy + (p.conv_phase >> 1) - 1 + (tap >> 1), conv_b,
                        full0 + 8 * s);
          } else {
            tma_load_4d(sa, &tma_a, cb * BK, conv_ox0 + tap % 3 - 1, conv_oy + tap / 3 - 1, conv_b, full0 + 8 * s);
          }
        } else {
          tma_load_2d(sa, &tma_a, k, static_cast<int32_t>(m0), full0 + 8 * s);
        }
        if constexpr (kCluster > 1) {
          // This block's kBRows of the B tile, into the same place of every block of the cluster; each
          // block's full barrier thus expects the whole stage (its A + all of B) as without clusters.
          tma_load_2d_multicast(sa + kABytes + rank * kBRows * 128, &tma_b, k, static_cast<int32_t>(n0 + rank * kBRows), full0 + 8 * s,
                                static_cast<uint16_t>((1u << kCluster) - 1));
        } else {
          tma_load_2d(sa + kABytes, &tma_b, k, static_cast<int32_t>(n0), full0 + 8 * s);
        }
      }
    }
    if constexpr (kCluster > 1) {
      // Done with the other blocks' shared memory (the copies in flight complete on their barriers, which
      // they wait for); then stay until no block can still reach this one's.
      __syncwarp();
      cluster_arrive();
      cluster_wait_before_exit();
    }
    return;  // nothing below synchronizes with the producer warp (the consumer barrier counts 256 threads)
  }

  // ---- consumer warpgroups: wg 0 → tile rows 0–63, wg 1 → rows 64–127 ----
  const int wg = warp / 4;
  float acc[BN / 2];
#pragma unroll
  for (int i = 0; i < BN / 2; ++i) acc[i] = 0.0f;

  for (int kt = 0; kt < nkt; ++kt) {
    const int s = kt % S;
    mbar_wait(full0 + 8 * s, static_cast<uint32_t>(kt / S) & 1u);  // the stage's bytes have landed
    __syncwarp();  // the .sync.aligned wgmma instructions below need the warp converged after the spin
    if constexpr (kProbe != plan::kWgProbeFeed) {  // (bench probe "feed": the handshakes without the tensor cores)
      const uint32_t sa = base + s * kStageBytes;
      const uint64_t da = sw128_desc(sa + wg * 64 * 128), db = sw128_desc(sa + kABytes);
      fence_operands(acc);
      wgmma_fence();
#pragma unroll
      for (int kk = 0; kk < BK / 16; ++kk) wgmma_slice<BN>(acc, da + 2 * kk, db + 2 * kk);  // +32 bytes per k16
      wgmma_commit();
      // One batch stays in flight: wait for the previous slice's batch only, then hand its stage back,
      // so the tensor cores never idle between slices while the warp waits and signals.
      wgmma_wait<1>();
      fence_operands(acc);
    }
    __syncwarp();
    if (kt > 0 && lane == 0) {  // this warp is done reading stage kt − 1
      const uint32_t bar = empty0 + 8 * ((kt - 1) % S);
      if constexpr (kCluster > 1) {
#pragma unroll
        for (int r = 0; r < kCluster; ++r) mbar_arrive_cluster(bar, r);  // every block's producer refills part of it
      } else {
        mbar_arrive(bar);
      }
    }
  }
  wgmma_wait<0>();  // the last batch (its stage need not be handed back: nothing more is loaded)
  fence_operands(acc);
  // Done with the other blocks' barriers; the matching wait is at the end of the kernel.
  if constexpr (kCluster > 1) cluster_arrive();

  // ---- epilogue: fragments → f32 staging tile in the stage memory → fused epilogue, 8 columns per step ----
  fence_proxy_async_smem();  // order the async-proxy use of the stages before the ordinary stores below
  __syncwarp();
  consumer_barrier();        // both warpgroups are done with the stage memory (all TMA landed, all wgmma read)
  float* stg = reinterpret_cast<float*>(smem);
  {
    const int r = wg * 64 + (warp % 4) * 16 + lane / 4, c = 2 * (lane % 4);
#pragma unroll
    for (int j = 0; j < BN / 8; ++j) {
      *reinterpret_cast<float2*>(stg + r * P + 8 * j + c) = make_float2(acc[4 * j], acc[4 * j + 1]);
      *reinterpret_cast<float2*>(stg + (r + 8) * P + 8 * j + c) = make_float2(acc[4 * j + 2], acc[4 * j + 3]);
    }
  }
  consumer_barrier();
  constexpr int kUnitsPerRow = BN / 8;
  // Sub-pixel phase: the tile's 128 pixels (b, y, x0 …) go to output pixels 2(x0 + r) + b' of output row
  // 2y + a, i.e. flat output pixel out_base + 2r (64-bit: the output can exceed 2³¹ elements).
  int64_t out_base = 0;
  if (p.conv_phase >= 0) {
    const int64_t hw = p.conv_h * p.conv_w, b = m0 / hw, rem = m0 - b * hw, y = rem / p.conv_w, x0 = rem - y * p.conv_w;
    out_base = (b * 2 * p.conv_h + 2 * y + (p.conv_phase >> 1)) * 2 * p.conv_w + 2 * x0 + (p.conv_phase & 1);
  }
#pragma unroll 1
  for (int u = static_cast<int>(threadIdx.x); u < BM * kUnitsPerRow; u += kConsumers) {
    const int r = u / kUnitsPerRow, c = (u % kUnitsPerRow) * 8;
    const int64_t m = m0 + r, n = n0 + c;
    if (m >= p.M || n >= p.N) continue;
    const float4 lo = *reinterpret_cast<const float4*>(stg + r * P + c), hi = *reinterpret_cast<const float4*>(stg + r * P + c + 4);
    float v[8] = {lo.x, lo.y, lo.z, lo.w, hi.x, hi.y, hi.z, hi.w};
    if constexpr (kSplit) {
      // Split-K: the raw f32 partial tile → partial[blockIdx.y] (row pitch N); the reduce kernel applies the
      // epilogue. 32-byte aligned rows when N % 8 == 0 (the workspace is 256-aligned).
      float* d = p.partial + static_cast<int64_t>(blockIdx.y) * p.M * p.N + m * p.N + n;
      if (p.N % 8 == 0) {
        reinterpret_cast<float4*>(d)[0] = lo;
        reinterpret_cast<float4*>(d)[1] = hi;
      } else {
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          if (n + j < p.N) d[j] = v[j];
        }
      }
      continue;
    }
    const int64_t mo = p.conv_phase >= 0 ? out_base + 2 * r : m;  // the output (and residual) row
    bf16* o = ep.out + mo * ep.ldo + n;
    if (p.vec) {  // n + 8 ≤ N (N % 8 == 0)
      ep.apply8(mo, n, v);
      store8(o, v);
    } else {
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        if (n + j < p.N) o[j] = __float2bfloat16_rn(ep.apply<true>(mo, n + j, v[j]));
      }
    }
  }
  // A block's shared memory must outlive the other blocks' multicasts into it and arrivals on its barriers.
  if constexpr (kCluster > 1) cluster_wait_before_exit();
#endif  // SANA_WGMMA_DEVICE
}

// ---- host side ----

// What this process knows about running v3 on device 0 (checked once).
struct WgmmaDevice {
  bool ready = false;   // can run
  std::string refuse;   // why not (non-empty: definitive)
  int64_t sms = 0;
  PFN_cuTensorMapEncodeTiled_v12000 encode = nullptr;
};

Status wgmma_device(const char* op, const WgmmaDevice** out) {
  static WgmmaDevice d;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  *out = &d;
  if (d.ready || !d.refuse.empty()) return Status::Ok();
  cudaDeviceProp prop;
  SANA_CUDA_CHECK(op, cudaGetDeviceProperties(&prop, 0));
  if (prop.major != 9 || prop.minor != 0) {
    d.refuse = std::string("needs an sm_90 GPU (H100/H200: wgmma, TMA); device 0 is ") + prop.name + " (sm_" + std::to_string(prop.major) +
               std::to_string(prop.minor) + ")";
    return Status::Ok();
  }
  // Which code the driver loaded for this module: an sm_90a build has the wgmma kernel, a plain sm_90
  // or PTX-only build has its empty body.
  wgmma_probe_kernel<<<1, 1, 0, op_stream()>>>();
  SANA_CUDA_LAUNCHED(op, "wgmma_probe_kernel");
  int built = -1;
  SANA_CUDA_CHECK(op, cudaMemcpyFromSymbol(&built, g_wgmma_built, sizeof built));
  if (built != 1) {
    d.refuse = "has no sm_90a code in this build (wgmma needs the arch-specific target: CUDA architecture 90a)";
    return Status::Ok();
  }
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult q = cudaDriverEntryPointSymbolNotFound;
  SANA_CUDA_CHECK(op, cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &q));
  if (q != cudaDriverEntryPointSuccess || fn == nullptr) {
    d.refuse = "needs cuTensorMapEncodeTiled, which this driver does not provide";
    return Status::Ok();
  }
  d.encode = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
  d.sms = prop.multiProcessorCount;
  d.ready = true;
  return Status::Ok();
}

// A 2-D tensor map over `rows` rows of K bf16 (row stride ld elements), boxes of box_rows × 64 with
// the 128-byte swizzle; out-of-range elements read as zero.
Status encode_map(const char* op, const WgmmaDevice& d, CUtensorMap* map, const void* base, int64_t rows, int64_t K, int64_t ld,
                  int box_rows, const char* what) {
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(K), static_cast<cuuint64_t>(rows)};
  const cuuint64_t strides[1] = {static_cast<cuuint64_t>(ld) * 2};
  const cuuint32_t box[2] = {static_cast<cuuint32_t>(plan::kWgBK), static_cast<cuuint32_t>(box_rows)};
  const cuuint32_t elem_strides[2] = {1, 1};
  const CUresult r = d.encode(map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, const_cast<void*>(base), dims, strides, box, elem_strides,
                              CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                              CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    return Internal(std::string(op) + ": version 3: cuTensorMapEncodeTiled failed (CUresult " + std::to_string(static_cast<int>(r)) +
                    ") for " + what + " (" + std::to_string(rows) + " × " + std::to_string(K) + ", row stride " + std::to_string(ld) + ")");
  }
  return Status::Ok();
}

// The 4-D tensor map of an NHWC x (B, H, W, Cin) for conv3x3 v4: dimensions (Cin, W, H, B) innermost
// first, boxes of 64 channels × 128 pixels × 1 row × 1 image with the 128-byte swizzle (one swizzle row
// per pixel, the layout the wgmma descriptor reads, as for a dense A tile); out-of-range coordinates
// (the 3×3 window past the image's edges) read as zero.
Status encode_conv_map(const char* op, const WgmmaDevice& d, CUtensorMap* map, const GemmProblem& g) {
  const cuuint64_t dims[4] = {static_cast<cuuint64_t>(g.conv_cin), static_cast<cuuint64_t>(g.conv_w), static_cast<cuuint64_t>(g.conv_h),
                              static_cast<cuuint64_t>(g.conv_b)};
  const cuuint64_t px = static_cast<cuuint64_t>(g.conv_cin) * 2;
  const cuuint64_t strides[3] = {px, px * static_cast<cuuint64_t>(g.conv_w), px * static_cast<cuuint64_t>(g.conv_w * g.conv_h)};
  const cuuint32_t box[4] = {static_cast<cuuint32_t>(plan::kWgBK), static_cast<cuuint32_t>(plan::kWgBM), 1, 1};
  const cuuint32_t elem_strides[4] = {1, 1, 1, 1};
  const CUresult r = d.encode(map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 4, const_cast<void*>(g.a), dims, strides, box, elem_strides,
                              CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                              CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    return Internal(std::string(op) + ": cuTensorMapEncodeTiled failed (CUresult " + std::to_string(static_cast<int>(r)) + ") for the 4-D map of x (" +
                    std::to_string(g.conv_b) + " × " + std::to_string(g.conv_h) + " × " + std::to_string(g.conv_w) + " × " +
                    std::to_string(g.conv_cin) + ")");
  }
  return Status::Ok();
}

int g_tile_n_override = 0;
int g_probe = plan::kWgProbeNone;  // set_gemm_wgmma_probe (bench only)

// SANA_LAB_GEMM_TILES: the tile widths the plan may choose, a comma list of 128, 192 and 256 (unset or
// "" = 128,256, the default until a GPU has timed 192); anything else is ignored (the default) with one
// warning on stderr.
int tiles_from_env() {
  const char* e = std::getenv("SANA_LAB_GEMM_TILES");
  if (e == nullptr || e[0] == '\0') return plan::kWgTilesDefault;
  const std::string v(e);
  int set = 0;
  size_t at = 0;
  while (at <= v.size()) {
    const size_t end = std::min(v.find(',', at), v.size());
    const std::string item = v.substr(at, end - at);
    at = end + 1;
    const int bit = item == "128" ? plan::kWgTile128 : item == "192" ? plan::kWgTile192 : item == "256" ? plan::kWgTile256 : 0;
    if (bit == 0) {
      std::fprintf(stderr, "sana-lab: SANA_LAB_GEMM_TILES=\"%s\" is not a comma list of 128, 192 and 256: ignored (gemm v3 tiles 128,256)\n", e);
      return plan::kWgTilesDefault;
    }
    set |= bit;
  }
  return set;
}
std::atomic<int64_t> g_wgmma_split_launches{0};  // gemms run with S > 1
std::atomic<int64_t> g_wgmma_cluster_launches{0};  // gemms run as clusters

// Cluster mode: 1 or 2 (set_gemm_wgmma_cluster, else SANA_LAB_GEMM_CLUSTER).
std::atomic<int> g_cluster_mode{kModeUnread};

// SANA_LAB_GEMM_CLUSTER: unset, "" or "1" = none, "2" = pairs; anything else is ignored (none) with one
// warning on stderr.
int cluster_mode_from_env() {
  const char* e = std::getenv("SANA_LAB_GEMM_CLUSTER");
  if (e == nullptr || e[0] == '\0') return 1;
  const std::string v(e);
  if (v == "1" || v == "2") return v[0] - '0';
  std::fprintf(stderr, "sana-lab: SANA_LAB_GEMM_CLUSTER=\"%s\" is not 1 or 2: ignored (gemm v3 without clusters)\n", e);
  return 1;
}

// Split-K mode: −1 = the plan's, 0 = off, 2 … 8 = forced (set_gemm_wgmma_split_k, else SANA_LAB_GEMM_SPLIT_K).
std::atomic<int> g_split_mode{kModeUnread};

int normalize_split_mode(int mode) { return mode == -1 || (mode >= 2 && mode <= plan::kWgSplitMax) ? mode : 0; }

// SANA_LAB_GEMM_SPLIT_K: unset or "" = off, "auto", "off", "0", "1" or "2" … "8"; anything else is
// ignored (split-K stays off) with one warning on stderr.
int split_mode_from_env() {
  const char* e = std::getenv("SANA_LAB_GEMM_SPLIT_K");
  if (e == nullptr || e[0] == '\0') return 0;
  const std::string v(e);
  if (v == "auto") return -1;
  if (v == "off" || v == "0" || v == "1") return 0;
  if (v.size() == 1 && v[0] >= '2' && v[0] <= '0' + plan::kWgSplitMax) return v[0] - '0';
  std::fprintf(stderr, "sana-lab: SANA_LAB_GEMM_SPLIT_K=\"%s\" is not auto, off or 2-%d: ignored (gemm v3 split-K off)\n", e, plan::kWgSplitMax);
  return 0;
}

// The kernel of one instantiation, with its shared-memory attributes (spelled alike for the emulator).
template <int BN, bool kSplit, int kProbe = plan::kWgProbeNone>
Status launch_kernel(const char* op, const plan::Launch& l, const CUtensorMap& ta, const CUtensorMap& tb, const WgArgs& p, const Epilogue<bf16>& ep) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "gemm_wgmma_kernel", l, &grid, &block));
  SANA_CUDA_CHECK(op, cudaFuncSetAttribute(gemm_wgmma_kernel<BN, kSplit, 1, kProbe>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(l.smem)));
  SANA_CUDA_CHECK(op, cudaFuncSetAttribute(gemm_wgmma_kernel<BN, kSplit, 1, kProbe>, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared));
  SANA_CUDA_CHECK(op, launch_dependent("gemm_wgmma_kernel<BN, kSplit, 1, kProbe>", gemm_wgmma_kernel<BN, kSplit, 1, kProbe>, grid, block,
                                       static_cast<size_t>(l.smem), ta, tb, p, ep));
  SANA_CUDA_LAUNCHED(op, "gemm_wgmma_kernel");
  return Status::Ok();
}

// The clustered instantiation: pairs of blocks (cudaLaunchKernelEx with a cluster dimension attribute).
template <int BN, int kProbe = plan::kWgProbeNone>
Status launch_cluster_kernel(const char* op, const plan::Launch& l, const CUtensorMap& ta, const CUtensorMap& tb, const WgArgs& p,
                             const Epilogue<bf16>& ep) {
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "gemm_wgmma_kernel", l, &grid, &block));
  SANA_CUDA_CHECK(op, cudaFuncSetAttribute(gemm_wgmma_kernel<BN, false, 2, kProbe>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(l.smem)));
  SANA_CUDA_CHECK(op, cudaFuncSetAttribute(gemm_wgmma_kernel<BN, false, 2, kProbe>, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared));
  cudaLaunchAttribute attr[2];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = 2;
  attr[0].val.clusterDim.y = 1;
  attr[0].val.clusterDim.z = 1;
  attr[1].id = cudaLaunchAttributeProgrammaticStreamSerialization;  // as launch_dependent (common.cuh)
  attr[1].val.programmaticStreamSerializationAllowed = 1;
  const bool pdl = pdl_active();
  // {gridDim, blockDim, dynamicSmemBytes, stream, attrs, numAttrs} (positional: the emulator's prelude
  // defines gridDim and blockDim as macros)
  cudaLaunchConfig_t cfg = {grid, block, static_cast<size_t>(l.smem), op_stream(), attr, pdl ? 2u : 1u};
  cudaError_t e = cudaLaunchKernelEx(&cfg, gemm_wgmma_kernel<BN, false, 2, kProbe>, ta, tb, p, ep);
  if (e == cudaErrorNotSupported && pdl) {  // as launch_dependent: the attribute refused → PDL off, the launch plain
    const cudaError_t with_attr = e;
    cudaGetLastError();
    cfg.numAttrs = 1;
    e = cudaLaunchKernelEx(&cfg, gemm_wgmma_kernel<BN, false, 2, kProbe>, ta, tb, p, ep);
    if (e == cudaSuccess) pdl_refused("gemm_wgmma_kernel (cluster of 2)", with_attr);
  } else if (e == cudaSuccess && pdl) {
    note_pdl_launch();
  }
  if (e != cudaSuccess) return cuda_error(op, "cudaLaunchKernelEx(gemm_wgmma_kernel, clusters of 2)", e);
  SANA_CUDA_LAUNCHED(op, "gemm_wgmma_kernel (cluster of 2)");
  return Status::Ok();
}

template <int BN> Status launch_bn(const char* op, const GemmProblem& g, const WgmmaDevice& d, int splits, int cluster, int probe) {
  const plan::Launch l = plan::gemm_wgmma(g.M, g.N, BN, splits, cluster);
  dim3 grid, block;
  SANA_RETURN_IF_ERROR(to_dims(op, "gemm_wgmma_kernel", l, &grid, &block));
  CUtensorMap ta, tb;
  if (g.a_conv) {
    SANA_RETURN_IF_ERROR(encode_conv_map(op, d, &ta, g));
  } else {
    SANA_RETURN_IF_ERROR(encode_map(op, d, &ta, g.a, g.M, g.K, g.lda, plan::kWgBM, "x"));
  }
  SANA_RETURN_IF_ERROR(encode_map(op, d, &tb, g.b, g.N, g.K, g.ldb, BN / cluster, "w"));  // each block of a cluster loads its share
  WgArgs p;
  p.M = g.M;
  p.N = g.N;
  p.K = g.K;
  p.conv_cb = g.a_conv ? static_cast<int>(g.conv_cin / plan::kWgBK) : 0;
  p.conv_h = g.conv_h;
  p.conv_w = g.conv_w;
  p.conv_phase = g.a_conv ? g.conv_phase : -1;
  p.vec = g.N % 8 == 0 && g.ldc % 8 == 0 && aligned16(g.c) && (!g.bias || aligned16(g.bias)) &&
          (!g.gate || (aligned16(g.gate) && g.gate_ld % 8 == 0)) && (!g.residual || (aligned16(g.residual) && g.res_ld % 8 == 0));
  p.splits = splits;
  p.partial = nullptr;
  const Epilogue<bf16> ep = make_epilogue<bf16>(g);
  if (probe == plan::kWgProbeFeed) {  // bench probes (never split; math alone never clustered)
    return cluster > 1 ? launch_cluster_kernel<BN, plan::kWgProbeFeed>(op, l, ta, tb, p, ep) : launch_kernel<BN, false, plan::kWgProbeFeed>(op, l, ta, tb, p, ep);
  }
  if (probe == plan::kWgProbeMath) return launch_kernel<BN, false, plan::kWgProbeMath>(op, l, ta, tb, p, ep);
  if (cluster > 1) {
    SANA_RETURN_IF_ERROR(launch_cluster_kernel<BN>(op, l, ta, tb, p, ep));
    g_wgmma_cluster_launches.fetch_add(1, std::memory_order_relaxed);
    return Status::Ok();
  }
  if (splits <= 1) return launch_kernel<BN, false>(op, l, ta, tb, p, ep);
  // Split-K: the S partial tiles in a stream-ordered workspace, freed (in stream order) when `scratch` dies.
  if (g.M > INT64_MAX / 4 / splits / g.N) return OutOfMemory(std::string(op) + ": split-K workspace of " + std::to_string(splits) + " × " +
                                                            std::to_string(g.M) + " × " + std::to_string(g.N) + " floats overflows 64 bits");
  Scratch scratch(op);
  SANA_RETURN_IF_ERROR(scratch.alloc_n(int64_t{splits} * g.M * g.N, &p.partial));
  SANA_RETURN_IF_ERROR((launch_kernel<BN, true>(op, l, ta, tb, p, ep)));
  SANA_RETURN_IF_ERROR(launch_gemm_splitk_reduce(op, g, p.partial, splits, p.vec));
  g_wgmma_split_launches.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

}  // namespace

const char* gemm_wgmma_unsupported(const GemmProblem& p) {
  if (p.dtype != DType::kBF16) return "it needs bf16 storage";
  if (p.b_torch_conv) return "it needs the conv weight reordered to (Cout, 9·Cin)";
  if (p.a_conv && p.conv_phase >= 0) {  // dcae-upsample v3: one sub-pixel phase, x's own pixels as rows
    if (p.conv_phase > 3 || p.conv_stride != 1 || p.conv_upsample != 2) return "a sub-pixel phase (0–3) needs stride 1 and upsampling 2";
    if (p.conv_cin % plan::kWgBK != 0) return "Cin must be a multiple of 64 (one 128-byte swizzle row per tap and channel block)";
    if (p.conv_w % plan::kWgBM != 0 || p.conv_wo != 2 * p.conv_w || p.conv_ho != 2 * p.conv_h) {
      return "the input width must be a multiple of 128 (a tile is 128 pixels of one row) and the output 2H × 2W";
    }
    if (!aligned16(p.a)) return "x must be 16-byte aligned (TMA)";
    if (p.K != 4 * p.conv_cin || p.ldb != p.K) return "the weight must be the phase's combined (Cout, 4·Cin)";
    if (p.gate) return "a sub-pixel phase takes no gate";
    if (p.conv_b >= (int64_t{1} << 31) || p.conv_h >= (int64_t{1} << 31)) return "B and H must be below 2^31 (32-bit TMA coordinates)";
  } else if (p.a_conv) {
    // One 4-D TMA box per (tap, 64 channels) covers a tile's 128 pixels only when they lie in one row.
    if (p.conv_stride != 1 || p.conv_upsample != 1) return "a convolution must have stride 1 and no upsampling (TMA boxes)";
    if (p.conv_cin % plan::kWgBK != 0) return "Cin must be a multiple of 64 (one 128-byte swizzle row per tap and channel block)";
    if (p.conv_wo % plan::kWgBM != 0 || p.conv_w != p.conv_wo) return "the image width must be a multiple of 128 (a tile is 128 pixels of one row)";
    if (!aligned16(p.a)) return "x must be 16-byte aligned (TMA)";
    if (p.K != 9 * p.conv_cin || p.ldb != p.K) return "the weight must be reordered to (Cout, 9·Cin)";
    if (p.conv_b >= (int64_t{1} << 31) || p.conv_h >= (int64_t{1} << 31)) return "B and H must be below 2^31 (32-bit TMA coordinates)";
  }
  if (p.K <= 0 || p.K % 8 != 0) return "K must be a positive multiple of 8 (TMA row strides are multiples of 16 bytes)";
  if (!p.a_conv && (p.lda % 8 != 0 || !aligned16(p.a))) return "x rows must be 16-byte aligned (TMA)";
  if (p.ldb % 8 != 0 || !aligned16(p.b)) return "w rows must be 16-byte aligned (TMA)";
  if (!plan::gemm_wgmma_shapes_ok(p.M, p.N, p.K, p.a_conv ? p.K : p.lda, p.ldb)) return "M, N and K must be below 2^31 (32-bit TMA coordinates)";
  return "";
}

bool gemm_wgmma_dense_ok(DType dt, const void* x, int64_t lda, const void* w, int64_t ldb, int64_t M, int64_t N, int64_t K) {
  alignas(256) static const uint8_t scratch_stand_in[16] = {};  // where an operand in op scratch would start
  GemmProblem p;
  p.dtype = dt;
  p.M = M;
  p.N = N;
  p.K = K;
  p.a = x != nullptr ? x : scratch_stand_in;
  p.lda = lda;
  p.b = w != nullptr ? w : scratch_stand_in;
  p.ldb = ldb;
  return gemm_wgmma_unsupported(p)[0] == '\0';
}

namespace {
thread_local int g_portable_scopes = 0;
std::atomic<int64_t> g_wgmma_launches{0};
}  // namespace

int64_t gemm_wgmma_launch_count() { return g_wgmma_launches.load(std::memory_order_relaxed); }

PortableDefaults::PortableDefaults() { ++g_portable_scopes; }
PortableDefaults::~PortableDefaults() { --g_portable_scopes; }

bool hopper_defaults() {
  if (g_portable_scopes > 0) return false;
  // -1 = not asked yet; a failed query is not cached (the op itself will report the CUDA error).
  // Its own lock-free copy of wgmma_device's answer: every op's default asks, and wgmma_device takes a mutex.
  static std::atomic<int> ready{-1};
  int r = ready.load(std::memory_order_acquire);
  if (r < 0) {
    const WgmmaDevice* d = nullptr;
    if (!wgmma_device("default version", &d).ok()) return false;
    r = d->ready ? 1 : 0;
    ready.store(r, std::memory_order_release);
  }
  return r == 1;
}

void set_gemm_wgmma_tile_n(int bn) { g_tile_n_override = plan::wg_tile_bit(bn) != 0 ? bn : 0; }

int gemm_wgmma_tiles() {
  static const int from_env = tiles_from_env();  // read (and warned about) once
  return from_env;
}

void set_gemm_wgmma_split_k(int mode) { g_split_mode.store(normalize_split_mode(mode), std::memory_order_relaxed); }

int gemm_wgmma_split_k_mode() { return mode_or_env<split_mode_from_env>(g_split_mode); }

int64_t gemm_wgmma_split_launch_count() { return g_wgmma_split_launches.load(std::memory_order_relaxed); }

void set_gemm_wgmma_probe(int probe) { g_probe = probe == plan::kWgProbeFeed || probe == plan::kWgProbeMath ? probe : plan::kWgProbeNone; }

void set_gemm_wgmma_cluster(int mode) { g_cluster_mode.store(mode == 2 ? 2 : 1, std::memory_order_relaxed); }

int gemm_wgmma_cluster_mode() { return mode_or_env<cluster_mode_from_env>(g_cluster_mode); }

int64_t gemm_wgmma_cluster_launch_count() { return g_wgmma_cluster_launches.load(std::memory_order_relaxed); }

namespace {
// The shapes, then the device; on success *d is the device the launch runs on.
Status check_problem(const char* op, const GemmProblem& p, int version, const WgmmaDevice** d) {
  const char* why = gemm_wgmma_unsupported(p);
  if (why[0] != '\0') return bad_version(op, version, std::string("(wgmma gemm) cannot run this: ") + why);
  SANA_RETURN_IF_ERROR(wgmma_device(op, d));
  if (!(*d)->ready) return bad_version(op, version, "(wgmma gemm) " + (*d)->refuse);
  return Status::Ok();
}
}  // namespace

Status gemm_wgmma_check(const char* op, const GemmProblem& p, int version) {
  const WgmmaDevice* d = nullptr;
  return check_problem(op, p, version, &d);
}

Status launch_gemm_wgmma(const char* op, const GemmProblem& p, int version) {
  const WgmmaDevice* d = nullptr;
  SANA_RETURN_IF_ERROR(check_problem(op, p, version, &d));
  if (p.M == 0 || p.N == 0) return Status::Ok();
  g_wgmma_launches.fetch_add(1, std::memory_order_relaxed);
  const int bn = g_tile_n_override != 0 ? g_tile_n_override : plan::gemm_wgmma_tile_n(p.M, p.N, d->sms, gemm_wgmma_tiles());
  // A probe runs unsplit, and the math probe without clusters (it loads nothing to share).
  const int splits = g_probe != plan::kWgProbeNone ? 1 : plan::gemm_wgmma_splits(gemm_wgmma_split_k_mode(), p.M, p.N, p.K, d->sms, bn, p.a_conv);
  const int cluster = g_probe == plan::kWgProbeMath ? 1 : plan::gemm_wgmma_cluster(gemm_wgmma_cluster_mode(), p.M, splits);
  if (bn == 128) return launch_bn<128>(op, p, *d, splits, cluster, g_probe);
  if (bn == 192) return launch_bn<192>(op, p, *d, splits, cluster, g_probe);
  return launch_bn<256>(op, p, *d, splits, cluster, g_probe);
}

}  // namespace sana::cuda
