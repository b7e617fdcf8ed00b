/** SANA text-to-image pipeline (reference): model directory, loading, sampling loop, image output, random models. */
export * from './component-weights.js';
export * from './model-dir.js';
export * from './load.js';
export * from './models.js';
export * from './sampler.js';
export * from './sana-pipeline.js';
export * from './postprocess.js';
export * from './png.js';
export * from './progress.js';
export * from './tiny-tokenizer.js';
export * from './random-model.js';
