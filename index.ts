/** sana-kernel-lab: the package root. */
export * from './reference/core/index.js';
export * from './reference/ops/index.js';
export * from './reference/dit/index.js';
export * from './reference/dcae/index.js';
export * from './reference/schedulers/index.js';
export * from './reference/text/index.js';
export * from './reference/pipeline/index.js';
export * from './bindings/index.js';
export { environment, type Environment } from './cli/environment.js';
export * as bench from './bench/index.js';
export * as reports from './reports/index.js';
export * as models from './bindings/models/index.js';
