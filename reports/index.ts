/** The report layer's public API: load bench/parity JSON, analyse, render HTML + Markdown. */
export * from './parity.js';
export * from './inputs.js';
export * from './analysis.js';
export * from './model.js';
export { renderHtml } from './html.js';
export { renderMarkdown } from './markdown.js';
export * from './generate.js';
export { plotlyBundlePath, readPlotly } from './plotly.js';
