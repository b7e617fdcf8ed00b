export * from './addon.js';
export * from './backends.js';
