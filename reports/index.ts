/** The report layer's public API: load bench/parity JSON, analyse, render HTML + Markdown. */
export * from './parity.js';
export * from './inputs.js';
export * from './analysis.js';
export * from './model.js';
export { renderHtml } from './html.js';
export { renderMarkdown } from './markdown.js';
export * from './generate.js';
export { plotlyBundlePath, readPlotly } from './plotly.js';
export { checkReport, checkSummary, figureProblems, ALL_CHARTS, type ReportCheck, type ReportExpectations } from './check.js';
export { reportFigures, type ChartKind, type Figure } from './html.js';
export { findChromium, screenshotReport, pickFigures } from './screenshot.js';
