/** SANA's samplers (diffusers schedulers) and the per-step glue around them. */
export type { Sample } from './numeric.js';
export * from './flow-dpm-solver.js';
export * from './flow-euler.js';
export * from './flow-update.js';
export * from './guidance.js';
export * from './from-config.js';
