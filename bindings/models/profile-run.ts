/**
 * Whole-image profiling of the native runners (what `sana-lab profile` prints and writes):
 *   - the DiT step (batch 2 for CFG, one condition encoded once per image), timed over `repeat` steps
 *     after `warmup` steps, with a per-op breakdown per step;
 *   - optionally K < depth blocks only (`blocks`), extrapolated to the full depth: step = non-block
 *     ops + depth · (measured block time / K); every extrapolated number is labelled as such;
 *   - the step as `generate` runs it: the sampling loop on the backend (dit-denoise.ts; Flow-DPM-Solver++,
 *     CFG and the update in the sampler-update op), so a step's host work is the timestep features and
 *     the scheduler's coefficients, written to the backend; nothing is read back until the last step;
 *   - host dispatch overhead per step: that host work, the JS glue between calls, and the op calls × a
 *     calibrated per-call cost; and, measured directly, the step wall time minus the summed op-call
 *     times (host work + glue);
 *   - optionally the DC-AE decode of one image (batch 1, tiled when asked), with its own breakdown;
 *   - images/s = 1000 / (steps · step_ms + caption_ms + decode_ms), peak memory (planned bytes and the
 *     process's max RSS), and the machine.
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Rng } from '../../reference/core/random.js';
import { Tensor } from '../../reference/core/tensor.js';
import type { DcaeConfig } from '../../reference/dcae/config.js';
import type { TilingOptions } from '../../reference/dcae/tiling.js';
import type { SanaTransformerConfig } from '../../reference/dit/config.js';
import { SanaTransformer2DModel } from '../../reference/dit/model.js';
import { countParameters, sanaTransformerWeightShapes } from '../../reference/dit/weights.js';
import { loadAddon } from '../addon.js';
import * as ops from '../ops.js';
import { backendStatus, type BackendName } from '../backends.js';
import type { TensorDType } from '../tensor.js';
import { NativeDcaeDecoder, planNativeDecode } from './dcae-runner.js';
import { sanaFlowDpmSolver } from '../../reference/schedulers/flow-dpm-solver.js';
import { BackendDenoiser } from './dit-denoise.js';
import { NativeSanaTransformer, type DitBlockMode } from './dit-runner.js';
import { recordKernels, type KernelBreakdown } from './kernel-timeline.js';
import { OpProfiler, type DeviceTimelineResult, type OpTiming } from './profiler.js';
import { randomSource, type WeightSource } from './weights.js';

export interface BreakdownEntry {
  name: string;
  kind: 'op' | 'host';
  /** Calls per step (per image for the decode). */
  calls: number;
  ms: number;
  /** Share of the step (of the decode). */
  share: number;
  /** Scaled from K measured blocks to the full depth. */
  extrapolated: boolean;
}

export interface DitProfileOptions {
  config: SanaTransformerConfig;
  /** Weights: a source (random or a state dict) — must cover `config` (its numLayers blocks). */
  source?: WeightSource;
  /** Depth of the real model (for extrapolation when config.numLayers < depth). */
  depth: number;
  backend: BackendName;
  dtype: TensorDType;
  blockMode: DitBlockMode;
  width: number;
  height: number;
  textTokens: number;
  /** CFG scale; > 1 runs batch 2 (uncond + cond). */
  cfg: number;
  warmup: number;
  repeat: number;
  seed?: number;
  /** cuda: the queued steps replay one CUDA graph per step (NativeDitOptions.cudaGraph). */
  cudaGraph?: boolean;
}

export interface DitProfile {
  batch: number;
  latentShape: number[];
  blocksRun: number;
  depth: number;
  extrapolated: boolean;
  /** Full-depth step (extrapolated when blocksRun < depth). */
  stepMs: number;
  /** The measured step (blocksRun blocks): median, fastest and all samples; the breakdown is the median step's. */
  stepMsMeasured: number;
  stepMsMin: number;
  stepSamplesMs: number[];
  /** Caption projection + (ops mode) the blocks' text keys/values, once per image (extrapolated like the step). */
  captionMs: number;
  breakdown: BreakdownEntry[];
  host: {
    /** Step wall time minus the summed wall times of the op calls (host work + JS glue; op times include their dispatch). */
    wallMinusOpsMs: number;
    opCallsPerStep: number;
    perCallUs: number;
    hostWorkMs: number;
    jsGlueMs: number;
    dispatchMs: number;
    totalMs: number;
    share: number;
  };
  memory: ReturnType<NativeSanaTransformer['memory']> & { extrapolatedWeightsBytes: number };
  /**
   * cuda only: the step as a sampler runs it — ops queued, one synchronize per step (ops.queued) — and its
   * host overhead. stepMs above is then this queued step; the breakdown comes from per-op-synchronized runs.
   */
  queued: QueuedStep | null;
}

export interface QueuedStep {
  /** Full-depth queued step (scaled like the synchronized one when extrapolated). */
  stepMs: number;
  measuredMs: number;
  samplesMs: number[];
  /** The per-op-synchronized step of the breakdown runs (full depth). */
  syncedStepMs: number;
  /** Device busy time estimate: Σ synchronized op times − op calls × the calibrated per-call round trip. */
  gpuBusyMs: number;
  /** queued step − gpuBusy (≥ 0): time the device waits for the host (uploads, host math, launches, read-back). */
  hostOverheadMs: number;
  share: number;
  /**
   * Measured, not estimated: host time from a queued step's start until all its device work was queued
   * (median; measured steps, not extrapolated). Near the step time = the host, not the device, sets the pace.
   */
  enqueueMs: number;
  /** enqueueMs / measuredMs. */
  enqueueShare: number;
  /** How the timed queued steps ran their device ops: 'eager' (op by op) or 'replay' (one CUDA graph). */
  dispatch: 'eager' | 'replay';
  /**
   * Eager queued steps with device events around every op call (OpProfiler.startDevice), the median of
   * `repeat` steps by span; measured at the blocks run (not extrapolated). busy = the ops' device time,
   * idle = the device waiting between op calls within the step; stepMs = those steps' wall time.
   */
  device: DeviceTimelineResult & { stepMs: number };
  /**
   * The same steps kernel by kernel (runtime.kernelTimelineBegin/End): per (op, kernel), launches and
   * device ms per step from the event before each launch to the one after it (measured blocks).
   */
  kernels: KernelBreakdown;
  /**
   * With CUDA graphs: the two steps of each image (each new condition) before the replays — the eager
   * step and the captured-and-launched one (full depth, scaled like the step when extrapolated). null
   * without graphs.
   */
  graphSetup: { eagerMs: number; captureMs: number } | null;
}

/**
 * The host overhead of a queued device step: what the step takes beyond the device's own work, where
 * the device work is estimated from per-op-synchronized op times minus one calibrated call round trip
 * (N-API + launch + synchronize of a tiny op) per call.
 */
export function queuedOverhead(queuedStepMs: number, syncedOpMs: number, opCalls: number, perCallUs: number): { gpuBusyMs: number; hostOverheadMs: number; share: number } {
  const gpuBusyMs = Math.max(0, syncedOpMs - (opCalls * perCallUs) / 1000);
  const hostOverheadMs = Math.max(0, queuedStepMs - gpuBusyMs);
  return { gpuBusyMs, hostOverheadMs, share: queuedStepMs > 0 ? hostOverheadMs / queuedStepMs : 0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per-call fixed cost of the op API (µs): validation + N-API + kernel entry of a 1×8·8×8 gemm, median of 5 × 200 calls. */
export function calibrateCallCostUs(backend: BackendName, dtype: TensorDType): number {
  const be = ops.getBackend(backend);
  const x = be.fromArray(new Float32Array(8).fill(0.5), [1, 8], dtype);
  const w = be.fromArray(new Float32Array(64).fill(0.25), [8, 8], dtype);
  const out = be.empty([1, 8], dtype);
  const samples: number[] = [];
  for (let r = 0; r < 6; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) ops.gemmSync(x, w, { out });
    if (r > 0) samples.push(((performance.now() - t0) / 200) * 1000);
  }
  for (const t of [x, w, out]) t.dispose();
  return median(samples);
}

function randomTensor(shape: number[], rng: Rng): Tensor {
  const a = new Float32Array(shape.reduce((p, d) => p * d, 1));
  rng.fillNormal(a);
  return new Tensor(shape, 'f32', a);
}

/** Per-step entries: block entries scaled by depth / K; shares of the (extrapolated) step. */
function stepBreakdown(t: OpTiming[], steps: number, scale: number): { entries: BreakdownEntry[]; stepMs: number } {
  const entries = t.map((e) => {
    const blockOp = e.name.startsWith('block.');
    const k = blockOp ? scale : 1;
    return { name: e.name, kind: e.kind, calls: (e.calls / steps) * k, ms: (e.ms / steps) * k, share: 0, extrapolated: blockOp && scale !== 1 };
  });
  const stepMs = entries.reduce((s, e) => s + e.ms, 0);
  for (const e of entries) e.share = stepMs > 0 ? e.ms / stepMs : 0;
  return { entries: entries.sort((a, b) => b.ms - a.ms), stepMs };
}

export function profileDit(o: DitProfileOptions): DitProfile {
  const profiler = new OpProfiler(true);
  const K = o.config.numLayers;
  const model = new NativeSanaTransformer(o.config, o.source ?? randomSource(o.seed ?? 1), {
    backend: o.backend, dtype: o.dtype, blockMode: o.blockMode, profiler, cudaGraph: o.cudaGraph ?? false,
  });
  try {
    // latent = image / 32 (the DC-AE f32c32); the runner handles the patch size
    const lh = o.height / 32;
    const lw = o.width / 32;
    const B = o.cfg > 1 ? 2 : 1;
    const rng = new Rng(o.seed ?? 7);
    const text = randomTensor([B, o.textTokens, o.config.captionChannels], rng);
    const latent = randomTensor([1, o.config.inChannels, lh, lw], rng);

    // The condition (caption projection + norm, every block's text keys/values) is computed once per image.
    // Timed warm: the first encode of a process also pays one-time costs (CUDA's lazy loading of the
    // kernels it meets first, the first allocations) that a sampler pays once, not per image; the H200
    // run of 2026-11-28 measured only that cold encode (17–30 ms against a 0.3 ms floor).
    model.encodeCondition(text, null).dispose();
    profiler.reset();
    const t0 = performance.now();
    const cond = model.encodeCondition(text, null);
    const captionMeasuredMs = performance.now() - t0;
    // The blocks' text keys/values scale with the depth like the block ops.
    const textKvMs = profiler.timings().find((e) => e.name === 'caption.text-kv')?.ms ?? 0;
    const captionMs = captionMeasuredMs + textKvMs * (o.depth / Math.max(K, 1) - 1);

    // The sampling loop as generate runs it: on the backend (dit-denoise.ts), Flow-DPM-Solver++ (SANA's
    // sampler, shift 3) over every step this profile takes; one iteration = the DiT on [uncond; cond],
    // then sampler-update (guidance, the update, the next input) — no per-step upload or read-back.
    const cuda = model.backend.name === 'cuda';
    const totalSteps = o.warmup + o.repeat + (cuda ? (model.cudaGraph ? 2 : 0) + 2 * o.repeat : 0);
    const loop = new BackendDenoiser(model, latent, cond, { scheduler: sanaFlowDpmSolver(totalSteps), guidanceScale: o.cfg, cfg: B === 2 });
    for (let i = 0; i < o.warmup; i++) loop.step();
    // Each timed step is profiled on its own; the breakdown is that of the median step (so one slow
    // step on a shared machine moves neither the step time nor the breakdown).
    const runs: { ms: number; timings: OpTiming[]; gapMs: number; opCalls: number }[] = [];
    for (let i = 0; i < o.repeat; i++) {
      profiler.reset();
      const s0 = performance.now();
      loop.step();
      runs.push({ ms: performance.now() - s0, timings: profiler.timings(), gapMs: profiler.gapMs, opCalls: profiler.opCalls });
    }
    // cuda: the same steps with queued dispatch (the profiler off: no per-op synchronize).
    let queuedSamples: number[] | null = null;
    const enqueueSamples: number[] = [];
    const deviceRuns: (DeviceTimelineResult & { stepMs: number })[] = [];
    let dispatch: QueuedStep['dispatch'] = 'eager';
    let kernels: KernelBreakdown | null = null;
    const graphSetupSamples: number[] = [];
    if (cuda) {
      profiler.enabled = false;
      // With CUDA graphs: the first queued step of a shape runs eagerly, the second captures; time the replays.
      // Those two steps are what every image (every new condition) pays once: timed for the image estimate.
      if (model.cudaGraph) {
        for (let i = 0; i < 2; i++) {
          const s0 = performance.now();
          loop.step();
          graphSetupSamples.push(performance.now() - s0);
          if (model.lastStep?.mode !== (i === 0 ? 'eager' : 'capture')) throw new Error(`profile: CUDA graph setup step ${i + 1} ran '${model.lastStep?.mode}'`);
        }
      }
      queuedSamples = [];
      for (let i = 0; i < o.repeat; i++) {
        const s0 = performance.now();
        loop.step();
        queuedSamples.push(performance.now() - s0);
        const run = model.lastStep!;
        enqueueSamples.push(run.enqueueMs);
        if (model.cudaGraph && run.mode !== 'replay') throw new Error(`profile: a timed queued step ran '${run.mode}', not a CUDA graph replay`);
        dispatch = run.mode === 'replay' ? 'replay' : 'eager';
      }
      // The same queued steps, eager, with device events around every op call: device busy and idle, measured.
      const rt = loadAddon().runtime;
      const timeline = { mark: () => rt.timelineMark('profile device timeline'), read: () => rt.timelineRead('profile device timeline') };
      // …and with an event after every kernel launch: the step's time kernel by kernel (inside the ops).
      kernels = recordKernels('profile kernel timeline', o.repeat, () => {
        for (let i = 0; i < o.repeat; i++) {
          profiler.startDevice(timeline);
          const s0 = performance.now();
          try {
            loop.step({ queued: true });
          } finally {
            deviceRuns.push({ ...profiler.readDevice(), stepMs: performance.now() - s0 });
          }
        }
      }).kernels;
      profiler.enabled = true;
    }
    const samples = runs.map((r) => r.ms);
    const med = [...runs].sort((a, b) => a.ms - b.ms)[(runs.length - 1) >> 1]!;
    const timings = med.timings;
    const scale = o.depth / Math.max(K, 1);
    const measured = stepBreakdown(timings, 1, 1);
    const full = stepBreakdown(timings, 1, scale);
    const stepMsMeasured = med.ms;
    // The step's wall time also holds the JS glue between profiled calls: its block part scales like the block ops.
    const share = blockShare(timings);
    const stepMs = K === o.depth ? stepMsMeasured : stepMsMeasured + (full.stepMs - measured.stepMs) + med.gapMs * (scale - 1) * share;
    const blockCalls = timings.filter((t) => t.name.startsWith('block.')).reduce((s, t) => s + t.calls, 0);
    const opCallsPerStep = med.opCalls + blockCalls * (scale - 1);
    const perCallUs = calibrateCallCostUs(o.backend, o.dtype);
    const hostWorkMs = full.entries.filter((e) => e.kind === 'host').reduce((s, e) => s + e.ms, 0);
    const jsGlueMs = med.gapMs * (1 + (scale - 1) * share);
    const dispatchMs = (opCallsPerStep * perCallUs) / 1000;
    const totalMs = hostWorkMs + jsGlueMs + dispatchMs;
    const opMs = full.entries.filter((e) => e.kind === 'op').reduce((s, e) => s + e.ms, 0);
    const wallMinusOpsMs = stepMs - opMs;
    const mem = model.memory();
    const perBlockWeights = K > 0 ? (mem.weightsBytes - nonBlockWeights(o.config, o.dtype)) / K : 0;
    loop.dispose();
    cond.dispose();
    let queued: QueuedStep | null = null;
    if (queuedSamples !== null) {
      const measuredMs = median(queuedSamples);
      const qStep = measuredMs * (stepMs / stepMsMeasured);
      const enqueueMs = median(enqueueSamples);
      queued = {
        stepMs: qStep, measuredMs, samplesMs: queuedSamples, syncedStepMs: stepMs, ...queuedOverhead(qStep, opMs, opCallsPerStep, perCallUs),
        enqueueMs, enqueueShare: measuredMs > 0 ? enqueueMs / measuredMs : 0, dispatch,
        device: [...deviceRuns].sort((a, b) => a.spanMs - b.spanMs)[(deviceRuns.length - 1) >> 1]!,
        kernels: kernels!,
        graphSetup: graphSetupSamples.length === 2 ? { eagerMs: graphSetupSamples[0]! * (stepMs / stepMsMeasured), captureMs: graphSetupSamples[1]! * (stepMs / stepMsMeasured) } : null,
      };
    }
    return {
      queued,
      batch: B,
      latentShape: [B, o.config.inChannels, lh, lw],
      blocksRun: K,
      depth: o.depth,
      extrapolated: K !== o.depth,
      stepMs: queued?.stepMs ?? stepMs,
      stepMsMeasured,
      stepMsMin: Math.min(...samples),
      stepSamplesMs: samples,
      captionMs,
      breakdown: full.entries,
      host: { wallMinusOpsMs, opCallsPerStep, perCallUs, hostWorkMs, jsGlueMs, dispatchMs, totalMs, share: totalMs / stepMs },
      memory: { ...mem, extrapolatedWeightsBytes: mem.weightsBytes + perBlockWeights * (o.depth - K) },
    };
  } finally {
    model.dispose();
  }
}

/** Fraction of the profiled calls that are block ops (to scale the JS glue between calls). */
function blockShare(t: OpTiming[]): number {
  const all = t.reduce((s, e) => s + e.calls, 0);
  return all > 0 ? t.filter((e) => e.name.startsWith('block.')).reduce((s, e) => s + e.calls, 0) / all : 0;
}

function nonBlockWeights(cfg: SanaTransformerConfig, dtype: TensorDType): number {
  const bytes = dtype === 'bf16' ? 2 : 4;
  let n = 0;
  for (const [k, s] of sanaTransformerWeightShapes({ ...cfg, numLayers: 0 })) if (!k.startsWith('transformer_blocks.')) n += s.reduce((a, b) => a * b, 1);
  return n * bytes;
}

export interface DecodeProfile {
  ms: number;
  tiled: boolean;
  tiles: number;
  breakdown: BreakdownEntry[];
  memory: ReturnType<NativeDcaeDecoder['memory']>;
  plan: ReturnType<typeof planNativeDecode>;
  /** Untimed decodes before the timed one (1 on cuda: the first decode of a process pays lazy kernel
   * loading and the activation allocations; 0 on cpu, where a decode is long and its code is warm). */
  warmup: number;
  /** cuda: an extra untimed decode kernel by kernel (kernel-timeline.ts); null elsewhere. */
  kernels: KernelBreakdown | null;
}

/** One timed decode of a (1, latent, H/f, W/f) random latent, after `warmup` untimed ones (default: 1 on cuda, 0 elsewhere). */
export function profileDecode(o: {
  config: DcaeConfig; source?: WeightSource; backend: BackendName; dtype: TensorDType; width: number; height: number; tiling?: TilingOptions; seed?: number; warmup?: number;
  /** Progress of the timed decode: called after each tile (i of n, 1-based) of a tiled decode. */
  onTile?: (i: number, n: number) => void;
}): DecodeProfile {
  const profiler = new OpProfiler(true);
  const model = new NativeDcaeDecoder(o.config, o.source ?? randomSource(o.seed ?? 2), { backend: o.backend, dtype: o.dtype, profiler });
  try {
    const f = model.f;
    const z = randomTensor([1, o.config.latentChannels, o.height / f, o.width / f], new Rng(o.seed ?? 11));
    const warmup = o.warmup ?? (o.backend === 'cuda' ? 1 : 0);
    for (let i = 0; i < warmup; i++) model.decode(z, { tiling: o.tiling });
    profiler.reset();
    let tiles = 0;
    const t0 = performance.now();
    model.decode(z, { tiling: o.tiling, onTile: (_spec, i, n) => {
      tiles++;
      o.onTile?.(i + 1, n);
    } });
    const ms = performance.now() - t0;
    const t = stepBreakdown(profiler.timings(), 1, 1).entries;
    for (const e of t) e.share = e.ms / ms;
    // cuda: one more decode (untimed) with an event after every kernel launch: the decode kernel by kernel.
    let kernels: KernelBreakdown | null = null;
    if (o.backend === 'cuda') {
      profiler.enabled = false;
      kernels = recordKernels('profile decode kernel timeline', 1, () => model.decode(z, { tiling: o.tiling })).kernels;
      profiler.enabled = true;
    }
    return {
      ms,
      tiled: tiles > 0,
      tiles: Math.max(tiles, 1),
      breakdown: t,
      memory: model.memory(),
      plan: planNativeDecode(o.config, { height: o.height, width: o.width, batch: 1, dtype: o.dtype, tiling: o.tiling }),
      warmup,
      kernels,
    };
  } finally {
    model.dispose();
  }
}

export interface ReferenceComparison {
  /** Blocks of both models (the reduced-depth model the TS reference runs). */
  blocks: number;
  /** TS reference forward (caption + step; the reference recomputes the caption every call). */
  referenceMs: number;
  /** Native caption + step on the same shapes (median of `repeat`). */
  nativeMs: number;
  speedup: number;
}

/**
 * The TS reference forward vs the native runner on the same reduced-depth model and random weights:
 * one reference forward (f64 accumulation, as the spec runs) against the native caption + step.
 */
export function compareWithReference(o: { config: SanaTransformerConfig; backend: BackendName; dtype: TensorDType; blockMode: DitBlockMode; width: number; height: number; textTokens: number; cfg: number; repeat: number; seed?: number }): ReferenceComparison {
  const src = randomSource(o.seed ?? 3);
  const weights = new Map<string, Tensor>();
  for (const [k, s] of sanaTransformerWeightShapes(o.config)) weights.set(k, new Tensor(s, 'f32', src(k, s)));
  const B = o.cfg > 1 ? 2 : 1;
  const rng = new Rng(o.seed ?? 5);
  const inputs = {
    hiddenStates: randomTensor([B, o.config.inChannels, o.height / 32, o.width / 32], rng),
    timestep: Tensor.f32([B], new Array<number>(B).fill(500)),
    encoderHiddenStates: randomTensor([B, o.textTokens, o.config.captionChannels], rng),
  };
  const native = NativeSanaTransformer.fromStateDict(o.config, weights, { backend: o.backend, dtype: o.dtype, blockMode: o.blockMode });
  const samples: number[] = [];
  try {
    native.forward(inputs);
    for (let i = 0; i < o.repeat; i++) {
      const t0 = performance.now();
      native.forward(inputs);
      samples.push(performance.now() - t0);
    }
  } finally {
    native.dispose();
  }
  const reference = new SanaTransformer2DModel(o.config, weights);
  const t0 = performance.now();
  reference.forward(inputs);
  const referenceMs = performance.now() - t0;
  const nativeMs = median(samples);
  return { blocks: o.config.numLayers, referenceMs, nativeMs, speedup: referenceMs / nativeMs };
}

/** The machine the numbers come from. */
export function machineInfo(backend: BackendName): { cpu: string; threads: number; hardwareThreads: number; loadAverage1m: number; gemmKernel: string; node: string; backend: BackendName; device?: string } {
  const addon = loadAddon();
  const info = addon.cpuInfo();
  const be = ops.getBackend('cpu') as unknown as { threads?: number };
  // The 1-minute load average at the start: on a shared machine, a load above the thread count means
  // other processes competed for the cores during the measurement.
  const m = { cpu: info.model, threads: be.threads ?? info.threads, hardwareThreads: availableParallelism(), loadAverage1m: loadavg()[0]!, gemmKernel: addon.gemmKernel(), node: process.version, backend };
  if (backend !== 'cuda') return m;
  // The GPU: name, compute capability, memory and driver (bindings/backends.ts).
  return { ...m, device: backendStatus('cuda').device ?? 'cuda (no device information)' };
}

/** Parameters of the full-depth model (shapes only). */
export function fullParameterCount(cfg: SanaTransformerConfig, depth: number): number {
  return countParameters({ ...cfg, numLayers: depth });
}
