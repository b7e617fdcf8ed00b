/**
 * `sana-lab report`: read bench and parity JSON files and write one self-contained HTML report plus a
 * Markdown summary beside it (same base name, .md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { renderHtml } from './html.js';
import { loadInputs } from './inputs.js';
import { renderMarkdown } from './markdown.js';
import { buildModel, type ReportModel } from './model.js';
import { readPlotly } from './plotly.js';

export interface ReportOptions {
  inputs: readonly string[];
  /** The HTML path (…/NAME.html); the Markdown goes to …/NAME.md. */
  out: string;
  title?: string;
  /** Override the plotly bundle (tests); defaults to node_modules/plotly.js-dist. */
  plotlyPath?: string;
}

export interface ReportResult {
  html: string;
  markdown: string;
  model: ReportModel;
}

export function generateReport(opts: ReportOptions): ReportResult {
  if (extname(opts.out).toLowerCase() !== '.html') throw new RangeError(`report: --out must end in .html, got "${opts.out}"`);
  const inputs = loadInputs(opts.inputs);
  const model = buildModel(inputs, opts.title ?? `SANA kernel lab — ${basename(opts.out, '.html')}`);
  const plotly = readPlotly(opts.plotlyPath);
  const markdown = join(dirname(opts.out), `${basename(opts.out, extname(opts.out))}.md`);
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, renderHtml(model, plotly));
  writeFileSync(markdown, renderMarkdown(model, basename(opts.out)));
  return { html: opts.out, markdown, model };
}
