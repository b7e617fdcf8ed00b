/**
 * PNG screenshots of a report's charts with headless Chromium (Debian's `chromium`, where installed).
 * A small page holding four of the report's own figures — the throughput of the fused DiT block, the
 * roofline, the DiT-step and the DC-AE-decode breakdowns — is written beside the PNG as a temporary
 * HTML file (plotly inlined, so no network) and photographed with `chromium --headless --screenshot`.
 * With whole-model profiles, their step-time chart and the step breakdown with the most resolutions
 * join. The figures are exactly the ones the HTML report draws (reports/html.ts `reportFigures`).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BreakdownChart } from './analysis.js';
import { esc, type Figure } from './html.js';
import type { ReportModel } from './model.js';
import { jsonForScript } from './plotly.js';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The Chromium to use: $SANA_LAB_CHROMIUM, else the first of chromium / chromium-browser / google-chrome on PATH; null when none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const explicit = env.SANA_LAB_CHROMIUM;
  if (explicit !== undefined && explicit !== '') return isExecutable(explicit) ? explicit : null;
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of CANDIDATES) {
      const p = join(dir, name);
      if (isExecutable(p)) return p;
    }
  }
  return null;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export const NO_CHROMIUM = 'no Chromium found (looked for $SANA_LAB_CHROMIUM, then chromium, chromium-browser, google-chrome on PATH); on Debian: apt-get install chromium';

/**
 * The figures worth a picture, in this order: the fused dit-block's throughput (else the throughput
 * chart with the most points), the first roofline, the DiT block and DC-AE decode breakdowns, the DiT
 * step breakdown, and the throughput chart comparing the most backends/versions. For a breakdown, the
 * chart covering the most resolutions (a native backend before a baseline on a tie). Then, where
 * profiles were given, the whole-model step time and the step breakdown with the most bars.
 */
export function pickFigures(model: ReportModel, figures: readonly Figure[]): Figure[] {
  const nPoints = (f: Figure) => f.data.reduce((n: number, t) => n + ((t as { x?: unknown[] }).x?.length ?? 0), 0);
  const titleOf = (f: Figure) => String((f.layout.title as { text?: unknown } | undefined)?.text ?? '');
  const thr = figures.filter((f) => f.kind === 'throughput');
  const block = thr.find((f) => titleOf(f).startsWith('dit-block ')) ?? [...thr].sort((a, b) => nPoints(b) - nPoints(a))[0];
  // the most backends and versions side by side, in a legend that stays readable
  const mostSeries = thr.filter((f) => f !== block && f.data.length <= 8).sort((a, b) => b.data.length - a.data.length || nPoints(b) - nPoints(a))[0];
  const baselines = new Set(model.bench.flatMap((b) => b.file.baselines));
  const breakdown = (unit: BreakdownChart['unit']): Figure | undefined => {
    const charts = model.breakdown.charts.filter((c) => c.unit === unit);
    const figs = figures.filter((f) => f.kind === unit); // in the order of the unit's charts (reportFigures)
    const score = (i: number) => charts[i]!.totals.filter((t) => t !== null).length * 2 + (baselines.has(charts[i]!.backend) ? 0 : 1);
    const best = charts.map((_, i) => i).sort((a, b) => score(b) - score(a))[0];
    return best === undefined ? undefined : figs[best];
  };
  const wholeStep = figures.find((f) => f.kind === 'whole-model step');
  const bars = (f: Figure) => ((f.data[0] as { x?: unknown[] } | undefined)?.x?.length ?? 0);
  const wholeBreakdown = figures.filter((f) => f.kind === 'whole-model breakdown').sort((a, b) => bars(b) - bars(a))[0];
  const picks = [block, figures.find((f) => f.kind === 'roofline'), breakdown('DiT block'), breakdown('DC-AE decode'), breakdown('DiT step'), mostSeries, wholeStep, wholeBreakdown];
  return picks.filter((f): f is Figure => f !== undefined);
}

/** A page of `figures` in a two-column grid, sized for a screenshot of `width` pixels. */
export function galleryHtml(title: string, subtitle: string, figures: readonly Figure[], plotly: { source: string }, width: number): string {
  const chartW = Math.floor((width - 48) / 2);
  const figs = figures.map((f, i) => ({
    id: `g${i}`,
    data: f.data,
    layout: { ...f.layout, width: chartW, height: 480, font: { size: 12 }, legend: { font: { size: 10 } } },
  }));
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:12px 16px;color:#222;background:#fff}h1{font-size:20px;margin:0 0 2px}p{margin:0 0 8px;color:#555;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(2,${chartW}px);gap:8px 16px}</style>
<script>${plotly.source}</script></head><body><h1>${esc(title)}</h1><p>${esc(subtitle)}</p>
<div class="grid">${figs.map((f) => `<div id="${f.id}"></div>`).join('')}</div>
<script type="application/json" id="figs">${jsonForScript(figs)}</script>
<script>JSON.parse(document.getElementById('figs').textContent).forEach(function (f) { Plotly.newPlot(f.id, f.data, f.layout, { staticPlot: true, displayModeBar: false }); });</script>
</body></html>`;
}

export interface ScreenshotOptions {
  chromium: string;
  /** The page to photograph. */
  html: string;
  png: string;
  width: number;
  height: number;
  timeoutS?: number;
}

/** Run headless Chromium on `html` and write `png`; throws with Chromium's output when it fails. */
export function screenshot(o: ScreenshotOptions): { png: string; bytes: number } {
  const profile = mkdtempSync(join(tmpdir(), 'sana-lab-chromium-'));
  const png = resolve(o.png);
  mkdirSync(dirname(png), { recursive: true });
  rmSync(png, { force: true });
  try {
    const args = [
      '--headless',
      '--no-sandbox', // root in containers; the page is our own local file
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--hide-scrollbars',
      '--force-device-scale-factor=1',
      `--user-data-dir=${profile}`,
      `--window-size=${o.width},${o.height}`,
      '--virtual-time-budget=10000',
      `--screenshot=${png}`,
      pathToFileURL(resolve(o.html)).href,
    ];
    const r = spawnSync(o.chromium, args, { encoding: 'utf8', timeout: (o.timeoutS ?? 120) * 1e3 });
    if (r.error !== undefined || !existsSync(png) || statSync(png).size === 0) {
      const why = r.error?.message ?? `exit ${String(r.status)}${r.signal ? ` (${r.signal})` : ''}`;
      throw new Error(`screenshot: ${o.chromium} wrote no ${png}: ${why}\n${(r.stderr ?? '').split('\n').slice(-8).join('\n')}`);
    }
    return { png, bytes: statSync(png).size };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Photograph the report's key charts into `png` (a temporary page is written beside it and removed). */
export function screenshotReport(
  model: ReportModel,
  figures: readonly Figure[],
  plotly: { source: string },
  png: string,
  chromium: string,
): { png: string; bytes: number; charts: string[] } {
  const picks = pickFigures(model, figures);
  if (picks.length === 0) throw new Error('screenshot: the report has no charts to photograph');
  const width = 1400;
  const height = 70 + Math.ceil(picks.length / 2) * 488;
  const res = [...new Set(model.measured.map((r) => r.res))];
  const backends = [...new Set(model.measured.map((r) => r.backend))];
  const profiles = model.profiles.runs.length > 0 ? `; ${model.profiles.runs.length} whole-model profile(s)` : '';
  const subtitle = `${model.measured.length} timed records; backends ${backends.join(', ')}; resolutions ${res.join(', ')}${profiles}; generated ${model.generatedAt}. Full interactive report: the HTML beside it.`;
  const page = join(dirname(resolve(png)), `.${Date.now()}-screenshot.html`);
  writeFileSync(page, galleryHtml(model.title, subtitle, picks, plotly, width));
  try {
    const r = screenshot({ chromium, html: page, png, width, height });
    return { ...r, charts: picks.map((f) => String((f.layout.title as { text: string }).text)) };
  } finally {
    rmSync(page, { force: true });
  }
}
