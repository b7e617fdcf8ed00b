/**
 * Flow Euler: diffusers' `FlowMatchEulerDiscreteScheduler` (static `shift`, SANA's alternative sampler).
 *
 * Update: x_{i+1} = x_i + (σ_{i+1} − σ_i)·v_i  (one model evaluation and 2 flops per element per step).
 *
 * Sigma grid, reproducing diffusers exactly — including its double shift:
 *   construction (float32): σ̃_j = shift(j/T) for j = T…1, so σ_max = shift(1) = 1 and
 *     σ_min = shift(1/T) (already shifted once);
 *   setTimesteps(N) (float64): t = linspace(T·σ_max, T·σ_min, N), σ_i = shift(t_i/T) — σ_min is shifted a
 *     second time, so the last non-zero sigma is shift(shift(1/T)) ≈ 0.00893 for shift 3, T 1000;
 *   stored as float32, timesteps_i = float32(σ_i·T) (floats, not integers), σ_N = 0.
 * with shift(u) = s·u / (1 + (s−1)·u).
 *
 * Precision: float32 samples step exactly as diffusers; float64 samples step in float64 with the
 * float32 dt (the golden `samples_f64` semantics).
 */
import { ConfigReader } from '../core/config.js';
import { applyFlowUpdate, type FlowUpdate } from './flow-update.js';
import { f32, linspace, rounder, viewStepInputs, wrapLike, allocLike, type Sample } from './numeric.js';

export const FLOW_EULER_CLASS_NAME = 'FlowMatchEulerDiscreteScheduler';

export interface FlowEulerSettings {
  numTrainTimesteps: number;
  shift: number;
}

export class FlowMatchEulerDiscreteScheduler {
  readonly config: Readonly<FlowEulerSettings>;
  readonly order = 1;
  /** float32 model timesteps (σ·T). Before setTimesteps: the T training timesteps, as in diffusers. */
  timesteps: number[];
  /** float32 sigmas; after setTimesteps N+1 of them, the last 0. */
  sigmas: Float32Array;
  /** The training grid's end points (float32 values), used by setTimesteps. */
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  numInferenceSteps: number | null = null;
  private stepIndexValue: number | null = null;
  private beginIndexValue: number | null = null;

  constructor(config: Readonly<Record<string, unknown>>, source = 'scheduler config') {
    const r = new ConfigReader(source, config);
    const cls = config._class_name;
    if (cls !== undefined && cls !== FLOW_EULER_CLASS_NAME) {
      throw new TypeError(`FlowMatchEulerDiscreteScheduler: ${source} is for "${String(cls)}", not ${FLOW_EULER_CLASS_NAME}`);
    }
    const need = (ok: boolean, what: string): void => {
      if (!ok) throw new RangeError(`FlowMatchEulerDiscreteScheduler: ${source}: ${what}`);
    };
    for (const flag of ['use_dynamic_shifting', 'invert_sigmas', 'use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas', 'stochastic_sampling']) {
      need(!r.bool(flag, false), `"${flag}": true is not implemented`);
    }
    const terminal = r.optional('shift_terminal', (c, k) => c.num(k));
    need(terminal === null || terminal === 0, `"shift_terminal" ${terminal} is not implemented`);
    const T = r.int('num_train_timesteps', 1000);
    need(T >= 2, `"num_train_timesteps" must be >= 2, got ${T}`);
    const shift = r.num('shift', 1.0);
    need(Number.isFinite(shift) && shift > 0, `"shift" must be a positive number, got ${shift}`);
    this.config = Object.freeze({ numTrainTimesteps: T, shift });

    // Training grid in float32: σ̃ = shift(t/T) for t = T…1 (torch float32 ops; Python scalars cast to float32).
    const sigmas = new Float32Array(T);
    const sF = f32(shift);
    const sM1 = f32(shift - 1);
    for (let j = 0; j < T; j++) {
      const u = f32((T - j) / T);
      sigmas[j] = f32(f32(sF * u) / f32(1 + f32(sM1 * u)));
    }
    this.sigmas = sigmas;
    this.timesteps = Array.from(sigmas, (v) => f32(v * T));
    this.sigmaMin = sigmas[T - 1]!;
    this.sigmaMax = sigmas[0]!;
  }

  get stepIndex(): number | null {
    return this.stepIndexValue;
  }

  setBeginIndex(beginIndex = 0): void {
    this.beginIndexValue = beginIndex;
  }

  setTimesteps(numInferenceSteps: number): void {
    if (!Number.isSafeInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new RangeError(`FlowMatchEulerDiscreteScheduler.setTimesteps: steps must be an integer >= 1, got ${numInferenceSteps}`);
    }
    const { numTrainTimesteps: T, shift: s } = this.config;
    const n = numInferenceSteps;
    const t = linspace(this.sigmaMax * T, this.sigmaMin * T, n);
    const sigmas = new Float32Array(n + 1);
    for (let i = 0; i < n; i++) {
      const u = t[i]! / T;
      sigmas[i] = (s * u) / (1 + (s - 1) * u); // float64, stored as float32
    }
    sigmas[n] = 0;
    this.sigmas = sigmas;
    this.timesteps = Array.from(sigmas.subarray(0, n), (v) => f32(v * T));
    this.numInferenceSteps = n;
    this.stepIndexValue = null;
    this.beginIndexValue = null;
  }

  /** diffusers' index_for_timestep: the second match when the timestep repeats, else the first; absent → error. */
  indexForTimestep(timestep: number): number {
    const hits: number[] = [];
    this.timesteps.forEach((t, i) => {
      if (t === timestep) hits.push(i);
    });
    if (hits.length === 0) {
      throw new RangeError(`FlowMatchEulerDiscreteScheduler.step: timestep ${timestep} is not one of scheduler.timesteps`);
    }
    return hits.length > 1 ? hits[1]! : hits[0]!;
  }

  /** The next step's update x_{i+1} = x_i + dt·v as coefficients (advances the step index like `step`). */
  nextUpdate(timestep: number): FlowUpdate {
    const op = 'FlowMatchEulerDiscreteScheduler.step';
    if (this.numInferenceSteps === null) throw new Error(`${op}: call setTimesteps(n) first`);
    if (this.stepIndexValue === null) this.stepIndexValue = this.beginIndexValue ?? this.indexForTimestep(timestep);
    const i = this.stepIndexValue;
    if (i >= this.sigmas.length - 1) throw new RangeError(`${op}: all ${this.sigmas.length - 1} steps are done; call setTimesteps again`);
    this.stepIndexValue = i + 1;
    return { kind: 'euler', dt: f32(this.sigmas[i + 1]! - this.sigmas[i]!) };
  }

  /** x_{i+1} = x_i + (σ_{i+1} − σ_i)·v. Returns the same kind as `sample`. */
  step<T extends Sample>(modelOutput: Sample, timestep: number, sample: T): T {
    const op = 'FlowMatchEulerDiscreteScheduler.step';
    if (this.numInferenceSteps === null) throw new Error(`${op}: call setTimesteps(n) first`);
    const { mo, x } = viewStepInputs(op, modelOutput, sample);
    const u = this.nextUpdate(timestep);
    const out = allocLike(x);
    applyFlowUpdate(u, x.data, mo.data, null, out, rounder(x.precision));
    return wrapLike(sample, out) as T;
  }
}
