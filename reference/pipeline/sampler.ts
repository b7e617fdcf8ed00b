/**
 * Which scheduler the pipeline steps with: the one in the model's scheduler_config.json, or SANA's two
 * samplers picked by name with that config's shift and training-timestep count:
 *
 *   dpm   → FlowDPMSolverMultistepScheduler (DPM-Solver++ order 2, flow sigmas; SANA's default)
 *   euler → FlowMatchEulerDiscreteScheduler (x ← x + (σ_next − σ)·v)
 */
import { ConfigReader } from '../core/config.js';
import { DPM_SOLVER_CLASS_NAME, FlowDPMSolverMultistepScheduler } from '../schedulers/flow-dpm-solver.js';
import { FLOW_EULER_CLASS_NAME, FlowMatchEulerDiscreteScheduler } from '../schedulers/flow-euler.js';
import { schedulerFromConfig, type FlowScheduler } from '../schedulers/from-config.js';

export const SAMPLERS = ['dpm', 'euler'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export function isSamplerName(s: string): s is SamplerName {
  return (SAMPLERS as readonly string[]).includes(s);
}

/** The flow shift and T of a DPM (flow_shift) or Euler (shift) scheduler config. */
function shiftAndT(config: Readonly<Record<string, unknown>>, source: string): { shift: number; T: number } {
  const r = new ConfigReader(source, config);
  const shift = config._class_name === FLOW_EULER_CLASS_NAME ? r.num('shift', 1.0) : r.num('flow_shift', 1.0);
  return { shift, T: r.int('num_train_timesteps', 1000) };
}

/** Build the scheduler for `sampler` (undefined: exactly the config's own scheduler). */
export function makeScheduler(config: Readonly<Record<string, unknown>>, sampler?: SamplerName, source = 'scheduler config'): FlowScheduler {
  const own = schedulerFromConfig(config, source);
  if (sampler === undefined) return own;
  if (sampler === 'dpm') {
    if (own instanceof FlowDPMSolverMultistepScheduler) return own;
    const { shift, T } = shiftAndT(config, source);
    return new FlowDPMSolverMultistepScheduler(
      { _class_name: DPM_SOLVER_CLASS_NAME, use_flow_sigmas: true, prediction_type: 'flow_prediction', flow_shift: shift, num_train_timesteps: T },
      `${source} (as Flow-DPM-Solver)`,
    );
  }
  if (sampler === 'euler') {
    if (own instanceof FlowMatchEulerDiscreteScheduler) return own;
    const { shift, T } = shiftAndT(config, source);
    return new FlowMatchEulerDiscreteScheduler({ _class_name: FLOW_EULER_CLASS_NAME, shift, num_train_timesteps: T }, `${source} (as Flow-Euler)`);
  }
  throw new RangeError(`makeScheduler: unknown sampler ${JSON.stringify(sampler)} (${SAMPLERS.join(', ')})`);
}
