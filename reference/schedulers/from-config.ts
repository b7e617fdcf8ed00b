/** Pick the scheduler class named by a diffusers scheduler config's `_class_name`. */
import { loadConfig } from '../core/config.js';
import { DPM_SOLVER_CLASS_NAME, FlowDPMSolverMultistepScheduler } from './flow-dpm-solver.js';
import { FLOW_EULER_CLASS_NAME, FlowMatchEulerDiscreteScheduler } from './flow-euler.js';

export type FlowScheduler = FlowDPMSolverMultistepScheduler | FlowMatchEulerDiscreteScheduler;

export function schedulerFromConfig(config: Readonly<Record<string, unknown>>, source = 'scheduler config'): FlowScheduler {
  const cls = config._class_name;
  if (cls === DPM_SOLVER_CLASS_NAME) return new FlowDPMSolverMultistepScheduler(config, source);
  if (cls === FLOW_EULER_CLASS_NAME) return new FlowMatchEulerDiscreteScheduler(config, source);
  throw new TypeError(
    `schedulerFromConfig: ${source} has "_class_name": ${JSON.stringify(cls)}; supported: ${DPM_SOLVER_CLASS_NAME}, ${FLOW_EULER_CLASS_NAME}`,
  );
}

/** Read a scheduler_config.json and build its scheduler. */
export function loadScheduler(path: string): FlowScheduler {
  return schedulerFromConfig(loadConfig(path), path);
}
