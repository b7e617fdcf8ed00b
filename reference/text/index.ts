/** SANA's text side: the Gemma-2 encoder and SANA's prompt handling. */
export * from './gemma2-config.js';
export * from './gemma2-ops.js';
export * from './gemma2-weights.js';
export * from './gemma2-model.js';
export * from './sana-prompt.js';
export * from './tokenizer.js';
