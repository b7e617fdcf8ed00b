export * from './dtype.js';
export * from './tensor.js';
export * from './random.js';
export * from './safetensors.js';
export * from './config.js';
export * from './compare.js';
export * from './golden.js';
