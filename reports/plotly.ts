/**
 * The plotly.js bundle, inlined into the report so it opens offline. plotly.js-dist 4.x ships only
 * the unminified `plotly.js` (≈10 MB); a `plotly.min.js` is preferred when a package provides one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../reference/core/golden.js';

export function plotlyBundlePath(root = projectRoot()): string {
  const dir = join(root, 'node_modules', 'plotly.js-dist');
  for (const f of ['plotly.min.js', 'plotly.js']) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  throw new Error(`report: plotly.js-dist is not installed (looked for plotly.min.js / plotly.js in ${dir}); run npm install`);
}

/** Text safe inside an inline <script>: no "</script" and no "<!--" can end or confuse the element. */
export function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON for embedding in an inline script (also escapes "<" so no tag can close the element). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function readPlotly(path = plotlyBundlePath()): { source: string; version: string } {
  const source = readFileSync(path, 'utf8');
  const m = /plotly\.js v(\d+\.\d+\.\d+)/.exec(source.slice(0, 500));
  return { source: scriptSafe(source), version: m?.[1] ?? 'unknown' };
}
