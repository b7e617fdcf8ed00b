/**
 * The native bench backends: `cpu` (the addon's C++ kernels) and `cuda`, timed through the op API
 * (bindings/ops.ts). Each case builds its inputs once, outside the timed region — fresh seeded random
 * values (bench/api-calls.ts, the same specs parity checks) copied to the backend at the bench dtype,
 * plus a preallocated output — and the timed call is the op's sync form on those tensors, so the
 * timing is the kernel plus the op API's validation (microseconds), never allocation or copies.
 *
 * Versions: each case runs at a catalogue version (bench/catalogue.ts native.cpu / native.cuda) through
 * the op API's `version` option; versions whose catalogue entry lists dtypes are offered only at those.
 *
 * CUDA: `cuda` is only created when the addon reports a usable device. Its cases are built on the
 * device and timed with CUDA events, and its ceilings are the device's (bench/backends/cuda-device.ts).
 */
import { constants as bufferConstants } from 'node:buffer';
import { freemem } from 'node:os';
import { tryLoadAddon, type NativeAddon } from '../../bindings/addon.js';
import type { Backend } from '../../bindings/backend.js';
import { gemmSync, getBackend, withVersion } from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { apiCall, hasApiCall, inputSeeds, inputValues } from '../api-calls.js';
import { nativeVersions, opEntry, type OpName } from '../catalogue.js';
import { cpuDeviceName, type FmaPeak, type PeakGemm } from '../ceilings-cpu.js';
import { BENCH_DTYPE_BYTES, type BenchDType } from '../cost-model.js';
import type { Ceilings } from '../roofline.js';
import type { OpShape } from '../shapes.js';
import type { Timing } from '../timing.js';
import type { Availability, BenchBackend, PreparedOp } from './backend.js';
import { CudaDeviceTools } from './cuda-device.js';
import { UnavailableBackend } from './unavailable.js';

const gib = (b: number) => (b / 2 ** 30).toFixed(1);

/** The catalogue versions of `op` on a native backend; with a dtype, only those that run it (catalogue `dtypes`). */
export function benchVersions(op: OpName, backend: 'cpu' | 'cuda', dtype?: BenchDType): number[] {
  return nativeVersions(op, backend)
    .filter((v) => dtype === undefined || v.dtypes === undefined || v.dtypes.includes(dtype as 'f32' | 'bf16'))
    .map((v) => v.version);
}

export class NativeBenchBackend implements BenchBackend {
  readonly budgeted = false;
  private readonly backend: Backend;
  /** The cuda backend's device side (null for cpu). */
  private readonly cuda: CudaDeviceTools | null;
  /** CUDA-event timing and the device ceilings (cuda only; the runner times cpu cases on the host). */
  readonly timeDevice?: (op: PreparedOp, opts: { minSamples: number; maxTimeS: number }) => Promise<Timing>;
  readonly ceilings?: () => Promise<Ceilings[]>;

  constructor(
    readonly name: 'cpu' | 'cuda',
    private readonly addon: NativeAddon,
  ) {
    this.backend = getBackend(name);
    this.cuda = name === 'cuda' ? new CudaDeviceTools(addon, this.backend) : null;
    if (this.cuda !== null) {
      const cuda = this.cuda;
      this.timeDevice = (op, opts) => cuda.time(op, opts);
      this.ceilings = () => cuda.ceilings();
    }
  }

  available(): Availability {
    return { ok: true };
  }

  supports(op: OpName, dtype: BenchDType): Availability {
    if (dtype !== 'f32' && dtype !== 'bf16') return { ok: false, reason: `${this.name}: dtype ${String(dtype)} not supported` };
    if (!hasApiCall(op)) return { ok: false, reason: `not available yet: "${op}" is not in the op API (only the pure-TS reference has it)` };
    if (nativeVersions(op, this.name).length === 0) return { ok: false, reason: `not available yet: no ${this.name} kernel of "${op}" is declared in bench/catalogue.ts` };
    return { ok: true };
  }

  /** The catalogue's versions of `op`; with a dtype, only those that run it (a catalogue entry may list dtypes). */
  versions(op: OpName, dtype?: BenchDType): number[] {
    return benchVersions(op, this.name, dtype);
  }

  device(): string {
    return this.cuda !== null ? this.cuda.deviceName() : cpuDeviceName();
  }

  threads(): number {
    return this.name === 'cpu' ? this.addon.cpuThreads() : 0;
  }

  async prepareOp(shape: OpShape, dtype: BenchDType, version: number): Promise<PreparedOp> {
    const call = apiCall(shape.op, shape.dims as never);
    if (call === null) throw new RangeError(`${this.name} backend: "${shape.op}" is not in the op API`);
    const v = nativeVersions(shape.op, this.name).find((x) => x.version === version);
    if (v === undefined) throw new RangeError(`${this.name} backend: "${shape.op}" has no version ${version}`);
    if (v.dtypes !== undefined && !v.dtypes.includes(dtype as 'f32' | 'bf16')) {
      throw new RangeError(`${this.name} backend: "${shape.op}" version ${version} runs ${v.dtypes.join(', ')} only, not ${dtype}`);
    }
    const layout = opEntry(shape.op).family === 'dcae' ? ', NHWC' : '';
    const note = `op API call at version ${version} on preallocated inputs/output${layout}${v.options ? `; ${v.description}` : ''}`;
    if (this.cuda !== null) return this.cuda.prepare(call, dtype, version, v.options, note);
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
    return {
      run: () => void withVersion(version, () => call.run(tensors, out, 'sync', v.options)),
      dispose: free,
      note,
    };
  }

  /**
   * Inputs, weights and output at the bench dtype, plus the f32 staging array of the largest input,
   * within 60% of free host memory; every staging array within one ArrayBuffer.
   */
  fits(shape: OpShape, dtype: BenchDType): Availability {
    const call = apiCall(shape.op, shape.dims as never);
    if (call === null) return { ok: true };
    if (this.cuda !== null) return this.cuda.fits(call, dtype);
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
    const all = this.addon.measureFmaPeak(0.3, true) * 1e9;
    const n = this.addon.cpuThreads();
    return {
      flops: all,
      source: `addon.measureFmaPeak: register-resident FP32 FMA loops on all ${n} threads at once (one thread alone: ${(one / 1e9).toFixed(1)} GFLOP/s)`,
    };
  }

  environment(): Record<string, string> {
    const b = this.addon.buildInfo();
    const env: Record<string, string> = { compiler: b.compiler, sanitize: String(b.sanitize) };
    if (this.name === 'cpu') Object.assign(env, { threads: String(this.addon.cpuThreads()), gemm_kernel: this.addon.gemmKernel() });
    else Object.assign(env, this.cuda!.environment());
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
