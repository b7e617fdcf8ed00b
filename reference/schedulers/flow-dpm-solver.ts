/**
 * Flow-DPM-Solver: diffusers' `DPMSolverMultistepScheduler` with `use_flow_sigmas=True`,
 * `prediction_type="flow_prediction"`, `algorithm_type="dpmsolver++"` (SANA's default sampler).
 *
 * Flow parameterisation: x_σ = (1−σ)·x0 + σ·ε, so α_σ = 1−σ, λ_σ = ln(α_σ/σ), and the model's velocity
 * v = ε − x0 gives the data prediction m = x − σ·v.
 *
 * Sigma grid (N steps, shift s):  u_i = 1 − a_{N−i},  a = linspace(1, 1/T, N+1)  (T = num_train_timesteps)
 *   σ_i = s·u_i / (1 + (s−1)·u_i)  for i = 0…N−1  (float64, then stored as float32),  σ_N = 0.
 * Model timesteps: t_i = trunc(T·σ_i) as int64 (from the float64 σ).
 *
 * Update from σ_i = σ_s to σ_{i+1} = σ_t, h = λ_t − λ_s (all coefficients in float32, as diffusers
 * computes them from 0-d float32 tensors):
 *   1st order (first step, last step — σ_N = 0 means λ = +∞ and x_N = m_{N−1}):
 *     x_t = (σ_t/σ_s)·x − α_t·(e^{−h} − 1)·m_i
 *   2nd order "midpoint" (otherwise): r = h_{i−1}/h, D1 = (m_i − m_{i−1})/r
 *     x_t = (σ_t/σ_s)·x − α_t·(e^{−h} − 1)·m_i − ½·α_t·(e^{−h} − 1)·D1
 * Cost per step: one model evaluation (a 2B batch under CFG) plus ~5 flops per latent element.
 *
 * Reproduced quirks: the step index is found from the first timestep passed (the second match when a
 * timestep repeats, the last index when none matches) and then only counts up.
 *
 * Precision: float32 samples are stepped exactly as diffusers does (bit-identical on the golden
 * vectors). Float64 samples run the same update in float64 with the same float32 coefficients — the
 * golden `samples_f64` semantics; diffusers itself would round a float64 sample to float32 on entry.
 */
import { ConfigReader } from '../core/config.js';
import { applyFlowUpdate, dataPrediction, type DpmUpdate } from './flow-update.js';
import { f32, linspace, rounder, viewStepInputs, wrapLike, allocLike, type Sample } from './numeric.js';

export const DPM_SOLVER_CLASS_NAME = 'DPMSolverMultistepScheduler';

/** The settings this reference implements (a diffusers config may carry more; unsupported values throw). */
export interface FlowDPMSolverSettings {
  numTrainTimesteps: number;
  flowShift: number;
  solverOrder: 1 | 2;
  solverType: 'midpoint';
  /** Read for completeness; with a zero final sigma and order <= 2 they do not change any step. */
  lowerOrderFinal: boolean;
  eulerAtFinal: boolean;
}

export class FlowDPMSolverMultistepScheduler {
  readonly config: Readonly<FlowDPMSolverSettings>;
  /** diffusers' `order` class attribute (1: one model call per step). */
  readonly order = 1;
  /** Model timesteps after setTimesteps (integers, int64 in diffusers). */
  timesteps: number[] = [];
  /** N+1 float32 sigmas, the last one 0. */
  sigmas: Float32Array = new Float32Array(0);
  numInferenceSteps: number | null = null;
  /** Data predictions m of the last `solverOrder` steps (oldest first), as diffusers' `model_outputs`. */
  modelOutputs: (Float32Array | Float64Array | null)[];
  private lowerOrderNums = 0;
  private stepIndexValue: number | null = null;
  private beginIndexValue: number | null = null;

  /** Build from a diffusers scheduler config object (e.g. `loadConfig('scheduler/scheduler_config.json')`). */
  constructor(config: Readonly<Record<string, unknown>>, source = 'scheduler config') {
    const r = new ConfigReader(source, config);
    const cls = config._class_name;
    if (cls !== undefined && cls !== DPM_SOLVER_CLASS_NAME) {
      throw new TypeError(`FlowDPMSolverMultistepScheduler: ${source} is for "${String(cls)}", not ${DPM_SOLVER_CLASS_NAME}`);
    }
    const need = (ok: boolean, what: string): void => {
      if (!ok) throw new RangeError(`FlowDPMSolverMultistepScheduler: ${source}: ${what}`);
    };
    need(r.bool('use_flow_sigmas', false), 'needs "use_flow_sigmas": true (only flow sigmas are implemented)');
    need(r.str('prediction_type', 'epsilon') === 'flow_prediction', `needs "prediction_type": "flow_prediction", got "${r.str('prediction_type', 'epsilon')}"`);
    need(r.str('algorithm_type', 'dpmsolver++') === 'dpmsolver++', `only "algorithm_type": "dpmsolver++" is implemented, got "${r.str('algorithm_type', 'dpmsolver++')}"`);
    need(r.str('final_sigmas_type', 'zero') === 'zero', `only "final_sigmas_type": "zero" is implemented, got "${r.str('final_sigmas_type', 'zero')}"`);
    for (const flag of ['thresholding', 'use_karras_sigmas', 'use_exponential_sigmas', 'use_beta_sigmas', 'use_lu_lambdas', 'use_dynamic_shifting']) {
      need(!r.bool(flag, false), `"${flag}": true is not implemented`);
    }
    const variance = r.optional('variance_type', (c, k) => c.str(k));
    need(variance === null, `"variance_type": "${variance}" is not implemented (SANA predicts no variance)`);
    const order = r.int('solver_order', 2);
    need(order === 1 || order === 2, `"solver_order" ${order} is not implemented (1 or 2)`);
    const solverType = r.str('solver_type', 'midpoint');
    need(solverType === 'midpoint', `only "solver_type": "midpoint" is implemented, got "${solverType}"`);
    const numTrainTimesteps = r.int('num_train_timesteps', 1000);
    need(numTrainTimesteps >= 1, `"num_train_timesteps" must be >= 1, got ${numTrainTimesteps}`);
    const flowShift = r.num('flow_shift', 1.0);
    need(Number.isFinite(flowShift) && flowShift > 0, `"flow_shift" must be a positive number, got ${flowShift}`);
    this.config = Object.freeze({
      numTrainTimesteps,
      flowShift,
      solverOrder: order as 1 | 2,
      solverType: 'midpoint',
      lowerOrderFinal: r.bool('lower_order_final', true),
      eulerAtFinal: r.bool('euler_at_final', false),
    });
    this.modelOutputs = new Array(order).fill(null);
  }

  /** Index of the next step (null before the first `step`). */
  get stepIndex(): number | null {
    return this.stepIndexValue;
  }

  /** Start at a given index instead of looking the first timestep up (diffusers' set_begin_index). */
  setBeginIndex(beginIndex = 0): void {
    this.beginIndexValue = beginIndex;
  }

  /** Build the N-step flow sigma grid and integer timesteps; resets the solver history. */
  setTimesteps(numInferenceSteps: number): void {
    if (!Number.isSafeInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new RangeError(`FlowDPMSolverMultistepScheduler.setTimesteps: steps must be an integer >= 1, got ${numInferenceSteps}`);
    }
    const { numTrainTimesteps: T, flowShift: s } = this.config;
    const n = numInferenceSteps;
    const alphas = linspace(1, 1 / T, n + 1);
    const sig64 = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = 1.0 - alphas[n - i]!; // flipped, dropping the σ = 0 end
      sig64[i] = (s * u) / (1 + (s - 1) * u);
    }
    this.timesteps = Array.from(sig64, (v) => Math.trunc(v * T));
    const sigmas = new Float32Array(n + 1);
    sigmas.set(sig64);
    sigmas[n] = 0;
    this.sigmas = sigmas;
    this.numInferenceSteps = n;
    this.modelOutputs = new Array(this.config.solverOrder).fill(null);
    this.lowerOrderNums = 0;
    this.stepIndexValue = null;
    this.beginIndexValue = null;
  }

  /** diffusers' index_for_timestep: first match, the second when it repeats, the last index when absent. */
  indexForTimestep(timestep: number): number {
    const hits: number[] = [];
    this.timesteps.forEach((t, i) => {
      if (t === timestep) hits.push(i);
    });
    if (hits.length === 0) return this.timesteps.length - 1;
    return hits.length > 1 ? hits[1]! : hits[0]!;
  }

  /**
   * The update of the next step, as coefficients (reference/schedulers/flow-update.ts): advances the
   * step index and the solver's order history exactly as `step` does, without touching any sample. A
   * sampler that keeps its samples elsewhere (the native sampler-update op) steps with this alone.
   */
  nextUpdate(timestep: number): DpmUpdate {
    const op = 'FlowDPMSolverMultistepScheduler.step';
    if (this.numInferenceSteps === null) throw new Error(`${op}: call setTimesteps(n) first`);
    if (this.stepIndexValue === null) this.stepIndexValue = this.beginIndexValue ?? this.indexForTimestep(timestep);
    const i = this.stepIndexValue;
    const n = this.timesteps.length;
    if (i >= n) throw new RangeError(`${op}: all ${n} steps are done; call setTimesteps again`);
    const { solverOrder } = this.config;
    // With final_sigmas_type "zero" diffusers always takes a 1st-order last step (whatever
    // lower_order_final / euler_at_final say; those only matter for other final sigmas or order 3).
    const finalStep = i === n - 1;
    const u = solverOrder === 1 || this.lowerOrderNums < 1 || finalStep ? this.firstOrderUpdate(i) : this.secondOrderUpdate(i);
    if (this.lowerOrderNums < solverOrder) this.lowerOrderNums++;
    this.stepIndexValue = i + 1;
    return u;
  }

  /**
   * One solver step: converts `modelOutput` (velocity v at σ_i) to the data prediction, then moves
   * `sample` from σ_i to σ_{i+1}. Returns the new sample as the same kind (TypedArray or Tensor).
   */
  step<T extends Sample>(modelOutput: Sample, timestep: number, sample: T): T {
    const op = 'FlowDPMSolverMultistepScheduler.step';
    if (this.numInferenceSteps === null) throw new Error(`${op}: call setTimesteps(n) first`);
    const { mo, x } = viewStepInputs(op, modelOutput, sample);
    const u = this.nextUpdate(timestep);
    const r = rounder(x.precision);
    // Data prediction m = x − σ·v (in the sample's precision, σ a float32 scalar).
    const m0 = allocLike(x);
    dataPrediction(u.sigma, mo.data, x.data, m0, r);
    const { solverOrder } = this.config;
    const m1 = this.modelOutputs[solverOrder - 1] ?? null;
    for (let k = 0; k < solverOrder - 1; k++) this.modelOutputs[k] = this.modelOutputs[k + 1]!;
    this.modelOutputs[solverOrder - 1] = m0;
    const out = allocLike(x);
    applyFlowUpdate(u, x.data, m0, u.kind === 'dpm2' ? m1 : null, out, r);
    return wrapLike(sample, out) as T;
  }

  /** x_t = (σ_t/σ_s)·x − α_t(e^{−h} − 1)·m0. */
  private firstOrderUpdate(i: number): DpmUpdate {
    const sT = this.sigmas[i + 1]!;
    const sS = this.sigmas[i]!;
    const aT = f32(1 - sT);
    const h = f32(lambda(sT) - lambda(sS));
    const cX = f32(sT / sS);
    const cD0 = f32(aT * f32(f32(Math.exp(-h)) - 1));
    return { kind: 'dpm1', sigma: sS, cX, cD0 };
  }

  /** Multistep 2nd order (midpoint): D1 = (m0 − m1)/r with r = h_prev/h. */
  private secondOrderUpdate(i: number): DpmUpdate {
    const sT = this.sigmas[i + 1]!;
    const s0 = this.sigmas[i]!;
    const s1 = this.sigmas[i - 1]!;
    const aT = f32(1 - sT);
    const lT = lambda(sT);
    const l0 = lambda(s0);
    const l1 = lambda(s1);
    const h = f32(lT - l0);
    const h0 = f32(l0 - l1);
    const r0 = f32(h0 / h);
    const invR0 = f32(1.0 / r0);
    const cX = f32(sT / s0);
    const em1 = f32(f32(Math.exp(-h)) - 1);
    const cD0 = f32(aT * em1);
    const cD1 = f32(0.5 * cD0); // midpoint: − ½·α_t(e^{−h}−1)·D1
    return { kind: 'dpm2', sigma: s0, cX, cD0, cD1, invR0 };
  }
}

/** SANA's sampler as its released scheduler configs set it (flow shift 3, order 2), after setTimesteps(steps). */
export function sanaFlowDpmSolver(steps: number): FlowDPMSolverMultistepScheduler {
  const s = new FlowDPMSolverMultistepScheduler({ _class_name: DPM_SOLVER_CLASS_NAME, use_flow_sigmas: true, prediction_type: 'flow_prediction', flow_shift: 3.0 });
  s.setTimesteps(steps);
  return s;
}

/** λ(σ) = ln(1−σ) − ln σ in float32 (σ = 0 gives +∞). */
function lambda(sigma: number): number {
  return f32(f32(Math.log(f32(1 - sigma))) - f32(Math.log(sigma)));
}
