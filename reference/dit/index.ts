/** SANA Linear DiT reference (diffusers SanaTransformer2DModel). */
export * from './config.js';
export * from './weights.js';
export * from './presets.js';
export * from './modulation.js';
export * from './adaln-single.js';
export * from './caption.js';
export * from './block.js';
export * from './final-layer.js';
export * from './model.js';
export { param, optionalParam, type StateDict } from './params.js';
