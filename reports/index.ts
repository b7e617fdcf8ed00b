/** The report layer's public API: load bench/parity/profile JSON, analyse, render HTML + Markdown. */
export * from './parity.js';
export * from './inputs.js';
export * from './analysis.js';
export * from './model.js';
export { renderHtml } from './html.js';
export { renderMarkdown } from './markdown.js';
export * from './generate.js';
export { plotlyBundlePath, readPlotly } from './plotly.js';
export { checkReport, checkSummary, figureProblems, profileExpectations, ALL_CHARTS, type ReportCheck, type ReportExpectations } from './check.js';
export * from './profile-input.js';
export * from './profiles.js';
export { profileFigures, profileTable } from './profile-figures.js';
export { reportFigures, type BenchChartKind, type ChartKind, type Figure } from './html.js';
export { findChromium, screenshotReport, pickFigures } from './screenshot.js';
