/**
 * The native bench backends: `cpu` (the addon's C++ kernels) and `cuda`, timed through the op API
 * (bindings/ops.ts). Each case builds its inputs once, outside the timed region — fresh seeded random
 * values (bench/api-calls.ts, the same specs parity checks) copied to the backend at the bench dtype,
 * plus a preallocated output — and the timed call is the op's sync form on those tensors, so the
 * timing is the kernel plus the op API's validation (microseconds), never allocation or copies.
 *
 * CUDA: `cuda` is only created when the addon reports a usable device; device timing (CUDA events,
 * L2 flush) plugs in through BenchBackend.timeDevice — until it does, cuda cases are host-timed.
 */
import { constants as bufferConstants } from 'node:buffer';
import { freemem } from 'node:os';
import { tryLoadAddon, type NativeAddon } from '../../bindings/addon.js';
import type { Backend } from '../../bindings/backend.js';
import { gemmSync, getBackend } from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { apiCall, inputSeeds, inputValues } from '../api-calls.js';
import { nativeVersions, opEntry, type OpName } from '../catalogue.js';
import { cpuDeviceName, type FmaPeak, type PeakGemm } from '../ceilings-cpu.js';
import { BENCH_DTYPE_BYTES, type BenchDType } from '../cost-model.js';
import type { OpShape } from '../shapes.js';
import type { Availability, BenchBackend, PreparedOp } from './backend.js';
import { UnavailableBackend } from './unavailable.js';

const gib = (b: number) => (b / 2 ** 30).toFixed(1);

export class NativeBenchBackend implements BenchBackend {
  readonly budgeted = false;
  private readonly backend: Backend;

  constructor(
    readonly name: 'cpu' | 'cuda',
    private readonly addon: NativeAddon,
  ) {
    this.backend = getBackend(name);
  }

  available(): Availability {
    return { ok: true };
  }

  supports(op: OpName, dtype: BenchDType): Availability {
    if (dtype !== 'f32' && dtype !== 'bf16') return { ok: false, reason: `${this.name}: dtype ${String(dtype)} not supported` };
    if (opEntry(op).apiOp === null) return { ok: false, reason: `not available yet: "${op}" is not in the op API (only the pure-TS reference has it)` };
    if (nativeVersions(op, this.name).length === 0) return { ok: false, reason: `not available yet: no ${this.name} kernel of "${op}" is declared in bench/catalogue.ts` };
    return { ok: true };
  }

  versions(op: OpName): number[] {
    return nativeVersions(op, this.name).map((v) => v.version);
  }

  device(): string {
    if (this.name === 'cpu') return cpuDeviceName();
    const d = this.addon.cudaInfo().devices[0];
    return `cuda: ${d?.name ?? 'unknown device'}`;
  }

  threads(): number {
    return this.name === 'cpu' ? this.addon.cpuThreads() : 0;
  }

  async prepareOp(shape: OpShape, dtype: BenchDType, version: number): Promise<PreparedOp> {
    const call = apiCall(shape.op, shape.dims as never);
    if (call === null) throw new RangeError(`${this.name} backend: "${shape.op}" is not in the op API`);
    const v = nativeVersions(shape.op, this.name).find((x) => x.version === version);
    if (v === undefined) throw new RangeError(`${this.name} backend: "${shape.op}" has no version ${version}`);
    const seeds = inputSeeds(call, 1);
    const tensors: Record<string, BackendTensor> = {};
    const free = () => {
      for (const t of Object.values(tensors)) t.dispose();
    };
    try {
      for (const [k, spec] of Object.entries(call.inputs)) tensors[k] = this.backend.fromArray(inputValues(spec, seeds[k]!), spec.shape, dtype);
      tensors['@out'] = this.backend.empty(call.outShape, dtype);
    } catch (e) {
      free();
      throw e;
    }
    const out = tensors['@out'];
    const layout = opEntry(shape.op).family === 'dcae' ? ', NHWC' : '';
    return {
      run: () => void call.run(tensors, out, 'sync', v.options),
      dispose: free,
      note: `op API sync call on preallocated inputs/output${layout}${v.options ? `; ${v.description}` : ''}`,
    };
  }

  /**
   * Inputs, weights and output at the bench dtype, plus the f32 staging array of the largest input,
   * within 60% of free host memory; every staging array within one ArrayBuffer.
   */
  fits(shape: OpShape, dtype: BenchDType): Availability {
    const call = apiCall(shape.op, shape.dims as never);
    if (call === null) return { ok: true };
    const sizes = [...Object.values(call.inputs).map((s) => s.shape), call.outShape].map((s) => s.reduce((a, b) => a * b, 1));
    const largest = Math.max(...sizes) * 4;
    if (largest > bufferConstants.MAX_LENGTH) {
      return { ok: false, reason: `one input needs a ${gib(largest)} GiB staging array, over the JS engine's ${gib(bufferConstants.MAX_LENGTH)} GiB ArrayBuffer limit` };
    }
    const need = sizes.reduce((a, b) => a + b, 0) * BENCH_DTYPE_BYTES[dtype] + largest;
    const usable = freemem() * 0.6;
    if (need > usable) return { ok: false, reason: `needs ${gib(need)} GiB of host memory, ${gib(usable)} GiB usable (60% of free)` };
    return { ok: true };
  }

  peakGemm(): PeakGemm {
    const be = this.backend;
    return {
      label: `native ${this.name} gemm (${this.addon.gemmKernel()} micro-kernel, ${this.threads()} threads, f32)`,
      // Square, and two Sana-0.6B shapes: the qkv gemm at 1024² (batch 1), a caption projection (B·L = 600 rows).
      sizes: [
        [1024, 1024, 1024],
        [1024, 3456, 1152],
        [600, 1152, 1152],
      ],
      repeats: 10,
      async prepare(M, N, K) {
        const seeds = [11, 12];
        const x = be.fromArray(inputValues({ shape: [M, K] }, seeds[0]!), [M, K]);
        const w = be.fromArray(inputValues({ shape: [N, K], std: 1 / Math.sqrt(K) }, seeds[1]!), [N, K]);
        const out = be.empty([M, N], 'f32');
        return {
          run: () => void gemmSync(x, w, { out }),
          dispose: () => [x, w, out].forEach((t) => t.dispose()),
        };
      },
    };
  }

  fmaPeak(): FmaPeak | undefined {
    if (this.name !== 'cpu') return undefined;
    const one = this.addon.measureFmaPeak(0.2) * 1e9;
    const n = this.addon.cpuThreads();
    return {
      flops: one * n,
      source: `addon.measureFmaPeak: one thread's FP32 FMA loop (register-resident, ${(one / 1e9).toFixed(1)} GFLOP/s) × ${n} threads — an upper bound, not measured on all threads at once`,
    };
  }

  environment(): Record<string, string> {
    const b = this.addon.buildInfo();
    const env: Record<string, string> = { compiler: b.compiler, sanitize: String(b.sanitize) };
    if (this.name === 'cpu') Object.assign(env, { threads: String(this.addon.cpuThreads()), gemm_kernel: this.addon.gemmKernel() });
    else Object.assign(env, { timer: 'host (benchmark.js) until CUDA-event timing lands', device: this.device() });
    return env;
  }
}

/** The cpu bench backend, or an unavailable one saying why (addon not built). */
export function createCpuBackend(): BenchBackend {
  const { addon, error } = tryLoadAddon();
  if (addon === null) return new UnavailableBackend('cpu', `unavailable: ${error ?? 'native addon not loaded'}`, cpuDeviceName());
  return new NativeBenchBackend('cpu', addon);
}

/** The cuda bench backend when the addon has CUDA and a usable device; else unavailable with the reason. */
export function createCudaBackend(): BenchBackend {
  const { addon, error } = tryLoadAddon();
  if (addon === null) return new UnavailableBackend('cuda', `unavailable: ${error ?? 'native addon not loaded'}`);
  const info = addon.cudaInfo();
  if (!info.compiled) return new UnavailableBackend('cuda', 'unavailable: the addon was built without CUDA');
  if (!info.available) return new UnavailableBackend('cuda', `unavailable: no device (${info.reason ?? 'cudaInfo reports no usable device'})`);
  return new NativeBenchBackend('cuda', addon);
}
