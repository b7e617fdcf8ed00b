// The inline PTX the kernels use, in one place: each wrapper is the instruction (device build) or
// its host emulation (kernels/emu/, which defines SANA_CUDA_EMU and implements the instructions from
// the PTX ISA, so the kernels can be run and checked on a machine without a GPU).
#pragma once

#include <cstdint>

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define SANA_PTX_SM90A 1  // this device pass may use wgmma, TMA and mbarrier tx-counts
#elif defined(SANA_CUDA_EMU)
#define SANA_PTX_SM90A 1
#else
#define SANA_PTX_SM90A 0
#endif

namespace sana::cuda::ptx {

__device__ __forceinline__ uint32_t smem_u32(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

// ---- sm_90: programmatic dependent launch (PTX ISA "griddepcontrol"; CUDA Programming Guide,
// "Programmatic Dependent Launch and Synchronization") ----
// A kernel launched with cudaLaunchAttributeProgrammaticStreamSerialization (a "dependent") may start
// while the kernel ahead of it in the stream (its "primary") is still running; griddepcontrol.wait blocks
// the thread until the primary has completed and its memory operations are visible. In a kernel launched
// without the attribute it returns at once; before sm_90 it compiles to nothing (the host never sets the
// attribute there). This project's kernels call it first, in every thread, before any global access:
// what overlaps the primary's tail is the launch and the prologue up to it.
__device__ __forceinline__ void grid_dependency_wait() {
#ifdef SANA_CUDA_EMU
  ::sana_emu::grid_dependency_wait();
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}
// griddepcontrol.launch_dependents: this block no longer holds back the launch of the next kernel (a
// dependent); once every block of the grid has executed it or exited, the dependent's blocks may be
// scheduled on free SMs, where they run up to their own wait. Only a hint for the scheduler: it orders
// no memory (the dependent's wait still waits for this whole grid).
__device__ __forceinline__ void launch_dependents() {
#ifdef SANA_CUDA_EMU
  ::sana_emu::launch_dependents();
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}
// Both, as the kernels start: wait for the primary, then let the next kernel launch early.
__device__ __forceinline__ void dependent_prologue() {
  grid_dependency_wait();
  launch_dependents();
}

// ---- sm_80: cp.async, ldmatrix, mma.sync ----

// 16 bytes global → shared, cache-global; pred false copies 0 source bytes (the 16 bytes are zero-filled).
__device__ __forceinline__ void cp_async16(uint32_t dst, const void* src, bool pred) {
  const int n = pred ? 16 : 0;
#ifdef SANA_CUDA_EMU
  ::sana_emu::cp_async16(dst, src, n);
#else
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(n));
#endif
}
__device__ __forceinline__ void cp_async_commit() {
#ifdef SANA_CUDA_EMU
  ::sana_emu::cp_async_commit();
#else
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int N> __device__ __forceinline__ void cp_async_wait() {
#ifdef SANA_CUDA_EMU
  ::sana_emu::cp_async_wait(N);
#else
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t* r, uint32_t addr) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::ldmatrix_x4(r, addr, false);
#else
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
#endif
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t* r, uint32_t addr) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::ldmatrix_x4(r, addr, true);
#else
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
#endif
}
// c (16×8 f32 fragment) += a (16×16 bf16, row) · b (16×8 bf16, col).
__device__ __forceinline__ void mma_m16n8k16_bf16(float* c, const uint32_t* a, uint32_t b0, uint32_t b1) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::mma_m16n8k16_bf16(c, a, b0, b1);
#else
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

// bar.sync id, count: a named barrier over `count` threads (a multiple of 32).
template <int ID, int COUNT> __device__ __forceinline__ void bar_sync() {
  static_assert(ID >= 0 && ID < 16 && COUNT % 32 == 0, "named barrier id 0–15, count a multiple of the warp size");
#ifdef SANA_CUDA_EMU
  ::sana_emu::named_barrier(ID, COUNT);
#else
  asm volatile("bar.sync %0, %1;\n" ::"n"(ID), "n"(COUNT) : "memory");
#endif
}

#if SANA_PTX_SM90A
}  // namespace sana::cuda::ptx
#include <cuda.h>  // CUtensorMap
namespace sana::cuda::ptx {
// ---- sm_90a: mbarrier with tx-counts, TMA, wgmma ----
namespace sm90 {

__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::mbar_init(bar, count);
#else
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
#endif
}
__device__ __forceinline__ void fence_mbar_init() {
#ifndef SANA_CUDA_EMU
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::mbar_arrive(bar, 0);
#else
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
#endif
}
__device__ __forceinline__ void mbar_arrive_expect_tx(uint32_t bar, uint32_t bytes) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::mbar_arrive(bar, bytes);
#else
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
#endif
}
// True when the phase with this parity has completed (may suspend the thread for a while first).
__device__ __forceinline__ bool mbar_try_wait(uint32_t bar, uint32_t parity) {
#ifdef SANA_CUDA_EMU
  return ::sana_emu::mbar_try_wait(bar, parity);
#else
  uint32_t done;
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
      "selp.u32 %0, 1, 0, p;\n"
      "}\n"
      : "=r"(done)
      : "r"(bar), "r"(parity)
      : "memory");
  return done != 0;
#endif
}

// prefetch.tensormap: brings a tensor map (a __grid_constant__ kernel parameter) into the cache that TMA
// reads descriptors from, ahead of the first load that uses it. A parameter, not global memory: a
// programmatic dependent may do it before its griddepcontrol.wait (gemm v3 does, so the fetch overlaps the
// kernel ahead).
__device__ __forceinline__ void prefetch_tensormap(const CUtensorMap* map) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::prefetch_tensormap(map);
#else
  asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
#endif
}

// TMA: one 2-D box of a tensor map into shared memory, completing its bytes on an mbarrier.
__device__ __forceinline__ void tma_load_2d(uint32_t dst, const CUtensorMap* map, int32_t c_inner, int32_t c_outer, uint32_t bar) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::tma_load_2d(dst, map, c_inner, c_outer, bar);
#else
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c_inner), "r"(c_outer), "r"(bar)
      : "memory");
#endif
}

// TMA: one 4-D box (e.g. channels × pixels × 1 row × 1 image of an NHWC tensor); coordinates outside the
// tensor (negative, or past a dimension) read as zero — a 3×3 convolution's padding.
__device__ __forceinline__ void tma_load_4d(uint32_t dst, const CUtensorMap* map, int32_t c0, int32_t c1, int32_t c2, int32_t c3, uint32_t bar) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::tma_load_4d(dst, map, c0, c1, c2, c3, bar);
#else
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], [%6];\n" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar)
      : "memory");
#endif
}

// ---- thread-block clusters (PTX ISA: "Cluster of Cooperative Thread Arrays", mapa, barrier.cluster,
// the .multicast::cluster form of cp.async.bulk.tensor) ----
// This block's rank in its cluster (%cluster_ctarank; x fastest over the cluster's blocks).
__device__ __forceinline__ uint32_t cluster_ctarank() {
#ifdef SANA_CUDA_EMU
  return ::sana_emu::cluster_ctarank();
#else
  uint32_t r;
  asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
  return r;
#endif
}
// barrier.cluster.arrive.release / .wait.acquire: the wait returns once every thread of the cluster has
// arrived; writes before the arrive (the mbarrier inits included) are visible after the wait.
__device__ __forceinline__ void cluster_arrive() {
#ifdef SANA_CUDA_EMU
  ::sana_emu::cluster_arrive();
#else
  asm volatile("barrier.cluster.arrive.release;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void cluster_wait() {
#ifdef SANA_CUDA_EMU
  ::sana_emu::cluster_wait();
#else
  asm volatile("barrier.cluster.wait.acquire;\n" ::: "memory");
#endif
}
// One arrival on the mbarrier at shared::cta offset `bar` of the cluster's block `rank` (this block's
// own rank included): mapa turns the offset into that block's shared::cluster address.
__device__ __forceinline__ void mbar_arrive_cluster(uint32_t bar, uint32_t rank) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::mbar_arrive_cluster(::sana_emu::mapa(bar, rank));
#else
  asm volatile(
      "{\n"
      ".reg .b32 remote;\n"
      "mapa.shared::cluster.u32 remote, %0, %1;\n"
      "mbarrier.arrive.release.cluster.shared::cluster.b64 _, [remote];\n"
      "}\n" ::"r"(bar),
      "r"(rank)
      : "memory");
#endif
}
// TMA multicast: the box lands at offset `dst` of every block of the cluster whose rank bit is set in
// `cta_mask`, and completes its bytes on the mbarrier at offset `bar` of each of them.
__device__ __forceinline__ void tma_load_2d_multicast(uint32_t dst, const CUtensorMap* map, int32_t c_inner, int32_t c_outer, uint32_t bar,
                                                      uint16_t cta_mask) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::tma_load_2d_multicast(dst, map, c_inner, c_outer, bar, cta_mask);
#else
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster [%0], [%1, {%2, %3}], [%4], %5;\n" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c_inner), "r"(c_outer), "r"(bar), "h"(cta_mask)
      : "memory");
#endif
}

__device__ __forceinline__ void wgmma_fence() {
#ifdef SANA_CUDA_EMU
  ::sana_emu::wgmma_fence();
#else
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void wgmma_commit() {
#ifdef SANA_CUDA_EMU
  ::sana_emu::wgmma_commit();
#else
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
#endif
}
// Waits until at most N committed wgmma groups of this warpgroup are pending: their accumulators are
// then readable and the shared memory they read may be overwritten.
template <int N> __device__ __forceinline__ void wgmma_wait() {
  static_assert(N >= 0 && N <= 7, "wgmma.wait_group takes 0–7");
#ifdef SANA_CUDA_EMU
  ::sana_emu::wgmma_wait(N);
#else
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
#endif
}
// Keeps the compiler from moving accumulator reads/writes across the fence/wait (the registers are
// written asynchronously by the tensor cores between wgmma and wait_group).
template <int N> __device__ __forceinline__ void fence_operands(float (&d)[N]) {
#ifdef SANA_CUDA_EMU
  (void)d;
#else
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(d[i])::"memory");
#endif
}
__device__ __forceinline__ void fence_proxy_async_smem() {
#ifndef SANA_CUDA_EMU
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

// D (64 × N, f32) += A (64 × 16, bf16, descriptor) · B (N × 16 stored K-major, descriptor)ᵀ.
__device__ __forceinline__ void wgmma_m64n256k16(float (&d)[128], uint64_t desc_a, uint64_t desc_b) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::wgmma_issue(256, desc_a, desc_b, true, d);
#else
  const int scale_d = 1;  // D = A·B + D (the accumulators start at zero)
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "setp.ne.b32 p, %130, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
      " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
      " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
      " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
      " %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
      " %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95,"
      " %96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111,"
      " %112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, "
      "%128, %129, p, 1, 1, 0, 0;\n"
      "}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
        "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
        "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
        "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
        "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
        "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),
        "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
        "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
        "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
      : "l"(desc_a), "l"(desc_b), "r"(scale_d));
#endif
}

// The 192-wide tile (SANA-0.6B's N = 1152, 3456, 5760 are multiples of 192, none of 256).
__device__ __forceinline__ void wgmma_m64n192k16(float (&d)[96], uint64_t desc_a, uint64_t desc_b) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::wgmma_issue(192, desc_a, desc_b, true, d);
#else
  const int scale_d = 1;  // D = A·B + D (the accumulators start at zero)
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "setp.ne.b32 p, %98, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n192k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
      " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
      " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
      " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
      " %64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
      " %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95}, "
      "%96, %97, p, 1, 1, 0, 0;\n"
      "}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
        "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
        "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
        "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
        "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95])
      : "l"(desc_a), "l"(desc_b), "r"(scale_d));
#endif
}

__device__ __forceinline__ void wgmma_m64n128k16(float (&d)[64], uint64_t desc_a, uint64_t desc_b) {
#ifdef SANA_CUDA_EMU
  ::sana_emu::wgmma_issue(128, desc_a, desc_b, true, d);
#else
  const int scale_d = 1;  // D = A·B + D (the accumulators start at zero)
  asm volatile(
      "{\n"
      ".reg .pred p;\n"
      "setp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
      "{%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
      " %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
      " %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
      " %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, "
      "%64, %65, p, 1, 1, 0, 0;\n"
      "}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
        "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
        "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
        "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
        "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
        "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(desc_a), "l"(desc_b), "r"(scale_d));
#endif
}

}  // namespace sm90
#endif  // SANA_PTX_SM90A

}  // namespace sana::cuda::ptx
