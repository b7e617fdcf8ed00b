/**
 * What the cuda bench backend adds to the native one (bench/backends/native.ts):
 *
 * - Inputs generated on the device: seeded uniform values with each spec's mean and standard deviation
 *   (bench/api-calls.ts; uniform on [μ − √3σ, μ + √3σ]), so a 4096² case does not spend seconds in the
 *   JS random generator and the host→device copy; masks (fixed-value specs) are built on the host.
 * - Device timing: the op call is captured through the op API (validated, not run) and timed by the
 *   addon with CUDA events — warm-up runs, an L2 flush before every timed run, median / p20 / p80 —
 *   instead of benchmark.js on the host (which would time launch + synchronize).
 * - Ceilings: the addon's measure_ceilings (device copy bandwidth, a large bf16 gemm of this library)
 *   as the roofline of bf16 records on this device.
 * - Fits: device memory instead of host memory.
 */
import type { NativeAddon } from '../../bindings/addon.js';
import type { Backend } from '../../bindings/backend.js';
import { captureCall, withVersion, type CapturedCall } from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { inputSeeds, inputValues, type ApiCall } from '../api-calls.js';
import { BENCH_DTYPE_BYTES, type BenchDType } from '../cost-model.js';
import type { Ceilings } from '../roofline.js';
import type { Timing } from '../timing.js';
import type { Availability, PreparedOp } from './backend.js';

/** CUDA-event timing defaults of a bench case (the runner's minSamples / maxTimeS bound them). */
const WARMUP = 3;
const MAX_REPS = 200;

const gib = (b: number) => (b / 2 ** 30).toFixed(1);

export class CudaDeviceTools {
  private readonly captured = new WeakMap<PreparedOp, CapturedCall>();

  constructor(
    private readonly addon: NativeAddon,
    private readonly backend: Backend,
  ) {}

  /** The first device as `cuda: NAME` (records and ceilings are matched on it). */
  deviceName(): string {
    const d = this.addon.cudaInfo().devices[0];
    return `cuda: ${d?.name ?? 'unknown device'}`;
  }

  /**
   * Builds the case's tensors on the device and captures its call at `version` (validated by the op
   * API, checked against the backend's versions). `run` runs it for real (host-timed fallbacks, tests).
   */
  async prepare(call: ApiCall, dtype: BenchDType, version: number, options: Readonly<Record<string, string>> | undefined, note: string): Promise<PreparedOp> {
    const seeds = inputSeeds(call, 1);
    const tensors: Record<string, BackendTensor> = {};
    const free = () => {
      for (const t of Object.values(tensors)) t.dispose();
    };
    try {
      for (const [k, spec] of Object.entries(call.inputs)) {
        if (spec.values !== undefined) {
          tensors[k] = this.backend.fromArray(inputValues(spec, seeds[k]!), spec.shape, dtype);
          continue;
        }
        const t = this.backend.empty(spec.shape, dtype);
        tensors[k] = t;
        const half = Math.sqrt(3) * (spec.std ?? 1);
        const mean = spec.mean ?? 0;
        this.backend.fillRandom!(t, seeds[k]!, mean - half, mean + half);
      }
      tensors['@out'] = this.backend.empty(call.outShape, dtype);
    } catch (e) {
      free();
      throw e;
    }
    const out = tensors['@out'];
    const run = () => withVersion(version, () => call.run(tensors, out, 'sync', options));
    let captured: CapturedCall;
    try {
      captured = await captureCall(run);
    } catch (e) {
      free();
      throw e;
    }
    const prepared: PreparedOp = {
      run: () => void run(),
      dispose: free,
      note: `${note}; inputs: seeded uniform values generated on the device (same mean and std as the parity inputs)`,
    };
    this.captured.set(prepared, captured);
    return prepared;
  }

  /** CUDA-event timing of a prepared case: at least minSamples timed runs, within maxTimeS. */
  async time(prepared: PreparedOp, opts: { minSamples: number; maxTimeS: number }): Promise<Timing> {
    const c = this.captured.get(prepared);
    if (c === undefined) throw new TypeError('cuda bench backend: this case was not prepared by the cuda backend');
    const minReps = Math.max(1, Math.min(MAX_REPS, Math.floor(opts.minSamples)));
    const t = await c.time({ warmup: WARMUP, minReps, maxReps: Math.max(minReps, MAX_REPS), budgetMs: opts.maxTimeS * 1e3, flushL2: true });
    // cudaEventElapsedTime resolves ~0.5 µs: a run it measures as 0 cannot be placed on a roofline.
    if (!(t.p20Ms > 0)) throw new RangeError(`${c.op}: ${t.reps} CUDA-event timings with p20 ${t.p20Ms} ms, below the event timer's resolution`);
    return {
      samplesMs: t.samplesMs,
      callsPerSample: 1,
      medianMs: t.medianMs,
      p20Ms: t.p20Ms,
      p80Ms: t.p80Ms,
      meanMs: t.meanMs,
      rmePct: null,
      timer: 'cuda-events',
    };
  }

  /**
   * The device's ceilings for bf16 records: measured copy bandwidth and this library's bf16 gemm. A
   * failed measurement is reported on stderr and gives no ceilings (the records then carry no roofline
   * %, and say so), rather than losing the whole run.
   */
  async ceilings(): Promise<Ceilings[]> {
    let c;
    try {
      c = await this.addon.runtime.measureCeilings({ budgetMs: 1000 });
    } catch (e) {
      console.error(`cuda bench backend: measuring the device ceilings failed: ${(e as Error).message}`);
      return [];
    }
    const copyBest = Math.max(c.copyGBps, c.copyKernelGBps);
    const mib = (c.copyBytes / 2 ** 20).toFixed(0);
    return [
      {
        device: this.deviceName(),
        dtype: 'bf16',
        peakFlops: c.gemmBf16TFLOPs * 1e12,
        peakSource: `achieved: this library's bf16 gemm (version ${c.gemmVersion || 'default'}) at ${c.gemmSize}³, random inputs, f32 accumulation, CUDA-event median ${c.gemmMs.toPrecision(3)} ms`,
        bandwidth: copyBest * 1e9,
        bandwidthSource: `device-to-device copy of ${mib} MiB, read + written bytes, CUDA-event median: cudaMemcpyAsync ${c.copyGBps.toFixed(0)} GB/s, 16-byte copy kernel ${c.copyKernelGBps.toFixed(0)} GB/s (the better one)${c.l2ReadGBps > 0 ? `; L2 read ${c.l2ReadGBps.toFixed(0)} GB/s (not a roofline term)` : ''}`,
        measuredAt: new Date().toISOString(),
      },
    ];
  }

  /** Inputs, weights and output within 85% of the device's memory. */
  fits(call: ApiCall, dtype: BenchDType): Availability {
    const total = this.addon.cudaInfo().devices[0]?.totalMemoryBytes ?? 0;
    const elems = [...Object.values(call.inputs).map((s) => s.shape), call.outShape].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
    const need = elems * BENCH_DTYPE_BYTES[dtype];
    if (need > 0.85 * total) return { ok: false, reason: `needs ${gib(need)} GiB of device memory, ${gib(0.85 * total)} GiB usable (85% of ${gib(total)} GiB)` };
    return { ok: true };
  }

  environment(): Record<string, string> {
    const c = this.addon.cudaInfo();
    const d = c.devices[0];
    return {
      device: this.deviceName(),
      compute_capability: d?.computeCapability ?? 'unknown',
      driver: String(c.driverVersion),
      cuda_runtime: c.runtimeVersion,
      timer: `cuda-events: ${WARMUP} warm-up runs, an L2 flush (max(2 × L2, 64 MiB) written) before each timed run, median / p20 / p80 of up to ${MAX_REPS} runs`,
    };
  }
}
