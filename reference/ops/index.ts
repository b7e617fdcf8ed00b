/** The reference ops: pure TypeScript, float32 storage with optional float64 accumulation. */
export * from './linear.js';
export * from './conv2d.js';
export * from './activations.js';
export * from './norms.js';
export * from './layout.js';
export * from './linear-attention.js';
export * from './cross-attention.js';
export * from './mix-ffn.js';
export * from './timestep-embedding.js';
export * from './pos-embed.js';
export * from './patchify.js';
