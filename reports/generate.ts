/**
 * `sana-lab report`: read bench and parity JSON files and write one self-contained HTML report plus a
 * Markdown summary beside it (same base name, .md), and optionally a PNG of its key charts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { renderHtml, reportFigures, type Figure } from './html.js';
import { loadInputs } from './inputs.js';
import { renderMarkdown } from './markdown.js';
import { buildModel, type ReportModel } from './model.js';
import { readPlotly } from './plotly.js';
import { findChromium, NO_CHROMIUM, screenshotReport } from './screenshot.js';

export interface ReportOptions {
  inputs: readonly string[];
  /** The HTML path (…/NAME.html); the Markdown goes to …/NAME.md. */
  out: string;
  title?: string;
  /** Override the plotly bundle (tests); defaults to node_modules/plotly.js-dist. */
  plotlyPath?: string;
  /**
   * A PNG of the key charts: 'required' fails without Chromium, 'if-available' skips with a reason,
   * 'no' (default) takes none. `pngPath` defaults to …/NAME.png.
   */
  png?: 'no' | 'if-available' | 'required';
  pngPath?: string;
}

export interface ReportResult {
  html: string;
  markdown: string;
  model: ReportModel;
  /** The figures the HTML draws (reports/check.ts checks them). */
  figures: Figure[];
  /** The screenshot, or why none was taken (undefined when none was asked for). */
  png?: { path: string; bytes: number; charts: string[] } | { skipped: string };
}

export function generateReport(opts: ReportOptions): ReportResult {
  if (extname(opts.out).toLowerCase() !== '.html') throw new RangeError(`report: --out must end in .html, got "${opts.out}"`);
  const inputs = loadInputs(opts.inputs);
  const model = buildModel(inputs, opts.title ?? `SANA kernel lab — ${basename(opts.out, '.html')}`);
  const plotly = readPlotly(opts.plotlyPath);
  const stem = join(dirname(opts.out), basename(opts.out, extname(opts.out)));
  const markdown = `${stem}.md`;
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, renderHtml(model, plotly));
  writeFileSync(markdown, renderMarkdown(model, basename(opts.out)));
  const figures = reportFigures(model);
  const result: ReportResult = { html: opts.out, markdown, model, figures };
  const want = opts.png ?? 'no';
  if (want !== 'no') {
    const chromium = findChromium();
    if (chromium === null) {
      if (want === 'required') throw new Error(`report: cannot write a PNG: ${NO_CHROMIUM}`);
      result.png = { skipped: NO_CHROMIUM };
    } else {
      const r = screenshotReport(model, figures, plotly, opts.pngPath ?? `${stem}.png`, chromium);
      result.png = { path: r.png, bytes: r.bytes, charts: r.charts };
    }
  }
  return result;
}
