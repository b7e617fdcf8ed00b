/**
 * The denoising loop on the backend: the latent stays where the model runs, from the first step to the
 * last. Per step the host writes only the timestep features (B × 256) and the scheduler's coefficients
 * (8 floats); the device runs the DiT step and the `sampler-update` op (guidance, the scheduler's
 * update, the next step's input tokens). The latent is read back once, at the end.
 *
 *   x = patchify(z₀) (f32, token layout)          once, host → backend
 *   for each timestep t_i:
 *     u_i = scheduler.nextUpdate(t_i)              host: coefficients only (the reference scheduler's own)
 *     v   = DiT(tokens, t_i, text)                 backend (batch 2B under CFG: [uncond | cond])
 *     x, m, tokens ← sampler-update(v, x, m; u_i)  backend
 *   z = unpatchify(x)                              once, backend → host
 *
 * The same floats as the host loop (reference/pipeline/sana-pipeline.ts around the same model): the
 * update is the scheduler's float32 arithmetic, element for element, so the two loops agree bit for bit
 * (test/bindings/models/dit-denoise.test.ts). With `cudaGraph` each iteration after the second is one
 * CUDA graph launch: the DiT step and the update together.
 */
import { Tensor } from '../../reference/core/tensor.js';
import { TIMESTEP_FEATURES } from '../../reference/dit/weights.js';
import type { FlowScheduler } from '../../reference/schedulers/from-config.js';
import { modelTimestep } from '../../reference/schedulers/guidance.js';
import { SAMPLER_COEFFS } from '../../reference/schedulers/flow-update.js';
import * as ops from '../ops.js';
import type { BackendTensor, TensorDType } from '../tensor.js';
import type { DitCondition, DitStepRun, NativeSanaTransformer } from './dit-runner.js';
import { patchTokens } from './layout.js';
import { samplerUpdateSync, writeSamplerCoefficients } from './sampler-ops.js';

export interface DenoiseStepInfo {
  /** 0-based index of the step just finished, and the number of steps. */
  step: number;
  steps: number;
  timestep: number;
  sigma: number;
  /** Wall time of the step (on cuda: until its device work finished). */
  ms: number;
  /** How its device work ran (CUDA graphs: eager, capture, then replay). */
  mode: DitStepRun['mode'];
}

export interface DenoiseOptions {
  /** The scheduler, after setTimesteps: its timesteps are the loop's, its nextUpdate the update. */
  scheduler: FlowScheduler;
  /** Classifier-free guidance scale; with `cfg` the model runs [uncond | cond] (batch 2B). */
  guidanceScale: number;
  cfg: boolean;
  /** The DiT's timestep_scale (model timestep = t · scale). */
  timestepScale?: number;
  onStep?: (info: DenoiseStepInfo) => void;
}

/** Whether the backend loop can run this model: the velocity must have the latent's channels (no learned sigma). */
export function canDenoiseOnBackend(model: NativeSanaTransformer): boolean {
  return model.config.outChannels === model.config.inChannels;
}

/**
 * Runs the whole loop on the model's backend from the initial latent z₀ (B, C, H, W), with the text
 * condition `cond` (batch 2B under CFG, else B). Returns the final latent (B, C, H, W) in float32.
 */
export function denoiseOnBackend(model: NativeSanaTransformer, z0: Tensor, cond: DitCondition, o: DenoiseOptions): Tensor {
  const loop = new BackendDenoiser(model, z0, cond, o);
  try {
    while (!loop.done) loop.step();
    return loop.result();
  } finally {
    loop.dispose();
  }
}

/**
 * The loop one step at a time (denoiseOnBackend; the profiler times single steps): the constructor
 * uploads z₀ into the model's fixed buffers, `step()` runs the next timestep, `result()` reads the latent
 * back. The buffers are the model's (its plan's slots): one loop per model at a time.
 */
export class BackendDenoiser {
  private readonly timesteps: number[];
  private i = 0;
  private readonly halves: 1 | 2;
  private readonly shape: { B: number; h: number; w: number };
  private readonly buf: { x: BackendTensor; m: BackendTensor; coeffs: BackendTensor; tokens: BackendTensor; t: BackendTensor };
  /** Tensors of this loop (the reference backend, which has no plan slots). */
  private readonly made: BackendTensor[] = [];
  private readonly graphKey: string;

  constructor(
    readonly model: NativeSanaTransformer,
    z0: Tensor,
    readonly cond: DitCondition,
    readonly o: DenoiseOptions,
  ) {
    const cfg = model.config;
    const p = cfg.patchSize;
    const who = 'denoiseOnBackend';
    const fail = (msg: string) => new RangeError(`${who}: ${msg}`);
    if (!canDenoiseOnBackend(model)) throw fail(`the model's out_channels ${cfg.outChannels} differ from in_channels ${cfg.inChannels} (learned sigma): use the host loop`);
    const { h, w } = model.checkLatent(who, 'z0', z0);
    const [B, C] = z0.shape as [number, number, number, number];
    this.halves = o.cfg ? 2 : 1;
    if (cond.batch !== this.halves * B) throw fail(`the condition has batch ${cond.batch}, want ${this.halves * B} (${o.cfg ? 'CFG: [uncond | cond] per image' : 'one per image'})`);
    if (cond.disposed) throw new TypeError(`${who}: the condition has been disposed`);
    model.checkCondition(who, cond);
    if (!Number.isFinite(o.guidanceScale)) throw fail(`guidance scale must be a finite number, got ${o.guidanceScale}`);
    this.timesteps = [...o.scheduler.timesteps];
    if (o.scheduler.numInferenceSteps === null || this.timesteps.length === 0) throw fail('call scheduler.setTimesteps(n) first');

    const N = h * w;
    const F = C * p * p;
    this.shape = { B, h, w };
    const batch = this.halves * B;
    const n = B * N * F;
    const prof = model.profiler;
    const tokens0 = prof.host('host.patchify', () => patchTokens(z0.toFloat32(), z0.shape, p));
    // Fixed buffers (the plan's slots: a captured graph reads and writes them at their addresses); on the
    // reference backend, which has no slots, plain tensors of this loop.
    const fixed = (name: string, shape: number[], dtype: TensorDType = model.dtype): BackendTensor => {
      const slot = model.plan.slot(name, shape, dtype);
      if (slot !== null) return slot;
      const t = model.backend.empty(shape, dtype);
      this.made.push(t);
      return t;
    };
    try {
      model.noteStepScratch(batch, N, cond);
      this.buf = {
        x: fixed('sampler.x', [B, N, F], 'f32'),
        m: fixed('sampler.m', [B, N, F], 'f32'),
        coeffs: fixed('sampler.coeffs', [SAMPLER_COEFFS], 'f32'),
        tokens: fixed('in.tokens', [batch, N, F]),
        t: fixed('in.t', [batch, TIMESTEP_FEATURES]),
      };
      const rep = new Float32Array(this.halves * n);
      for (let j = 0; j < this.halves; j++) rep.set(tokens0, j * n);
      prof.host('host.upload', () => {
        this.buf.x.write(tokens0);
        this.buf.tokens.write(rep);
      });
    } catch (e) {
      this.dispose();
      throw e;
    }
    this.graphKey = `denoise ${B}x${h}x${w}x${this.halves}#${cond.id}`;
  }

  get done(): boolean {
    return this.i >= this.timesteps.length;
  }

  /**
   * The next timestep: model on the current tokens, then sampler-update. On cuda its ops are queued and
   * synchronized once (ops.queued) unless `queued: false` or the profiler is on (per-op times).
   */
  step(opts: { queued?: boolean } = {}): DenoiseStepInfo {
    const { model, o, buf, halves } = this;
    if (this.done) throw new RangeError(`denoiseOnBackend: all ${this.timesteps.length} steps are done`);
    if (this.cond.disposed) throw new TypeError('denoiseOnBackend: the condition has been disposed');
    const started = performance.now();
    const prof = model.profiler;
    const i = this.i;
    const t = this.timesteps[i]!;
    const batch = halves * this.shape.B;
    const u = o.scheduler.nextUpdate(t);
    const feats = model.timestepFeatures(new Tensor([batch], 'f32', modelTimestep(t, batch, o.timestepScale ?? 1)));
    prof.host('host.upload', () => {
      buf.t.write(feats);
      writeSamplerCoefficients(buf.coeffs, u, o.guidanceScale);
    });
    const iteration = () => {
      const v = model.deviceStep(buf.tokens, buf.t, this.cond, batch, this.shape.h, this.shape.w, undefined);
      prof.op('sampler.update', () => samplerUpdateSync(v, buf.x, buf.coeffs, { halves, mState: buf.m, tokens: buf.tokens }));
      return v;
    };
    const queue = opts.queued ?? !prof.enabled;
    const useGraph = model.cudaGraph && queue && !prof.enabled && !prof.deviceActive;
    let mode: DitStepRun['mode'] = 'eager';
    let enqueued = started;
    const run = () => {
      if (useGraph) mode = model.graphed(this.graphKey, iteration).mode;
      else {
        model.dropGraph();
        iteration();
      }
      enqueued = performance.now();
    };
    if (queue) ops.queued(model.backend, `denoiseOnBackend step ${i}`, run);
    else run();
    prof.endRun();
    this.i++;
    const ms = performance.now() - started;
    model.lastStep = { mode, enqueueMs: enqueued - started, totalMs: ms };
    const info: DenoiseStepInfo = { step: i, steps: this.timesteps.length, timestep: t, sigma: o.scheduler.sigmas[i]!, ms, mode };
    o.onStep?.(info);
    return info;
  }

  /** The latent now (B, C, H, W), f32, read back from the backend. */
  result(): Tensor {
    return this.model.readTokens(this.buf.x, this.shape.h, this.shape.w);
  }

  /** Frees this loop's own tensors (the model's buffers stay with the model). */
  dispose(): void {
    for (const t of this.made) t.dispose();
    this.made.length = 0;
  }
}
