/**
 * The ceilings of one native backend's device, measured now (for `sana-lab profile`'s roofline floor):
 * cuda — the device copy bandwidth and this library's bf16 gemm (bench/backends/cuda-device.ts);
 * cpu — a streaming copy and the native f32 gemm at SANA shapes, the FMA peak beside it
 * (bench/ceilings-cpu.ts). The same measurements `sana-lab bench` puts under its records.
 */
import { backendStatus, cudaEmulationNotice } from '../bindings/backends.js';
import { createCpuBackend, createCudaBackend } from './backends/native.js';
import type { BenchDType } from './cost-model.js';
import type { Ceilings } from './roofline.js';
import { measureCeilings } from './runner.js';

/** The ceilings, or why there are none (a backend that is unavailable, a dtype the ceilings do not cover, a failed measurement). */
export async function measureDeviceCeilings(backend: 'cpu' | 'cuda', dtype: BenchDType): Promise<{ ceilings: Ceilings } | { reason: string }> {
  const b = backend === 'cuda' ? createCudaBackend() : createCpuBackend();
  const a = b.available();
  if (!a.ok) return { reason: `${backend} ${a.reason}` };
  if (backend === 'cuda') {
    // The host emulator has no ceilings (and its 8192³ gemm would run for hours).
    if (cudaEmulationNotice(backendStatus('cuda')) !== undefined) return { reason: 'the cuda backend is the host emulator of the kernels: no device ceilings' };
    // The device's compute ceiling is a bf16 tensor-core gemm: it says nothing about f32 storage.
    if (dtype !== 'bf16') return { reason: 'the cuda ceilings are measured for bf16 (a bf16 gemm); run with --dtype bf16' };
  }
  // `sana-lab bench`'s measurement, shortened for the cpu (3 timed calls per gemm size, 64 MiB copies: ~2 s).
  const list = await measureCeilings([b], { ceilingOptions: { repeats: 3, copyBytes: 64 * 2 ** 20 } });
  const c = list.find((x) => x.dtype === dtype || x.dtype === 'any');
  return c ? { ceilings: c } : { reason: `measuring the ${backend} ceilings failed (see the message above)` };
}
