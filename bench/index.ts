/** The bench layer's public API: shapes, cost model, roofline, timing, records, runner, backends. */
export * from './models.js';
export * from './ops.js';
export * from './shapes.js';
export * from './cost-model.js';
export * from './roofline.js';
export * from './ceilings-cpu.js';
export * from './timing.js';
export * from './progress.js';
export * from './record.js';
export * from './runner.js';
export type { Availability, BenchBackend, PreparedOp } from './backends/backend.js';
export { BACKEND_FACTORIES, BACKEND_NAMES, createBackend, UnavailableBackend } from './backends/index.js';
export { ReferenceBackend } from './backends/reference.js';
