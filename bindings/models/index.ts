/**
 * Whole-model runners on the op API's backends: the SANA DiT and the DC-AE decoder composed from native
 * ops (weights uploaded once, reused activation buffers), their model-specific DC-AE ops, the per-op
 * profiler and the whole-image profiling behind `sana-lab profile`.
 */
export * from './buffers.js';
export * from './dcae-ops.js';
export * from './dcae-runner.js';
export * from './dit-runner.js';
export * from './layout.js';
export * from './model-dir.js';
export * from './pipeline-models.js';
export * from './profile-run.js';
export * from './profiler.js';
export * from './weights.js';
