/** sana-kernel-lab: the package root. */
export * from './reference/core/index.js';
export { linear } from './reference/ops/linear.js';
export { conv2d } from './reference/ops/conv2d.js';
export * from './bindings/index.js';
export { environment, type Environment } from './cli/environment.js';
