/**
 * The "Whole model" section's plotly figures and its table rows (shared by the HTML and the Markdown),
 * from the aggregation in ./profiles.ts. Extrapolated traces are dotted with open markers.
 */
import { fmtMs, fmtNum } from './format.js';
import type { Figure } from './html.js';
import { lineTrace } from './traces.js';
import type { ProfileLineChart, ProfileRun, ProfileSection, ProfileStack } from './profiles.js';

/** The issue-9 target for host overhead (GPU, 1024²): a dashed line on the host-overhead chart. */
export const HOST_OVERHEAD_TARGET_PCT = 5;

function lineFigure(c: ProfileLineChart, id: string): Figure {
  const layout: Record<string, unknown> = {
    title: { text: c.title },
    xaxis: { type: 'log', title: { text: 'image resolution (pixels, log)' }, tickvals: c.tickvals, ticktext: c.ticktext },
    yaxis: { type: c.yLog ? 'log' : 'linear', title: { text: c.yTitle }, ...(c.yLog ? {} : { rangemode: 'tozero' }) },
    margin: { t: 50 },
  };
  if (c.kind === 'whole-model host overhead') {
    layout.shapes = [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: HOST_OVERHEAD_TARGET_PCT, y1: HOST_OVERHEAD_TARGET_PCT, line: { dash: 'dash', width: 1, color: '#c33' } }];
    layout.annotations = [{ xref: 'paper', x: 1, xanchor: 'right', y: HOST_OVERHEAD_TARGET_PCT, yanchor: 'bottom', text: '5%: the GPU target at 1024² (issue 9)', showarrow: false, font: { size: 10, color: '#c33' } }];
  }
  return {
    id,
    kind: c.kind,
    data: c.series.map((s) => ({
      ...lineTrace(s, '%{text}<extra>%{fullData.name}</extra>'),
      ...(s.extrapolated ? { line: { dash: 'dot' }, marker: { symbol: 'circle-open', size: 9 } } : {}),
    })),
    layout,
  };
}

function stackFigure(s: ProfileStack, id: string): Figure {
  const what = s.kind === 'whole-model breakdown' ? ['DiT step per op', 'step'] : ['DC-AE decode per op', 'decode'];
  return {
    id,
    kind: s.kind,
    data: s.components.map((comp) => ({
      type: 'bar',
      name: comp.name,
      x: s.categories,
      y: comp.ms,
      customdata: comp.ms,
      hovertemplate: '%{x}: %{customdata:.4g} ms<extra>%{fullData.name}</extra>',
    })),
    layout: {
      title: { text: `${what[0]} — ${s.label} (share of the ${what[1]})` },
      barmode: 'stack',
      barnorm: 'percent',
      xaxis: { type: 'category', title: { text: 'resolution' } },
      yaxis: { title: { text: `% of the ${what[1]}` } },
      margin: { t: 50 },
    },
  };
}

/** Figure ids of the section, stable for a given input (the page and the check use them). */
export const lineId = (c: ProfileLineChart) => `wm-${c.kind.replace(/^whole-model /, '').replace(/\W+/g, '-')}`;
export const stackId = (s: ProfileStack, i: number) => `wm-${s.kind === 'whole-model breakdown' ? 'bd' : 'dbd'}-${i}`;

/** Every figure of the section, in page order: the five lines, then the step and decode breakdowns. */
export function profileFigures(p: ProfileSection): Figure[] {
  return [...p.lines.map((c) => lineFigure(c, lineId(c))), ...p.stacks.map((s, i) => stackFigure(s, stackId(s, i)))];
}

const gib = (b: number | null) => (b === null ? '–' : `${fmtNum(b / 2 ** 30)} GiB`);

/** The table of every profile (HTML and Markdown): one row each. */
export function profileTable(runs: readonly ProfileRun[]): { head: string[]; rows: string[][] } {
  const head = ['profile', 'model', 'backend', 'device', 'dtype', 'block mode', 'res', 'blocks', 'step', 'synced step', 'caption', 'decode', 'image', 'images/s', 'step / image at % of floor', 'host overhead', 'planned peak', 'max RSS'];
  const rows = runs.map((r) => [
    r.source,
    r.model,
    r.backend,
    r.device,
    r.dtype,
    r.blockMode,
    r.res,
    `${r.blocks}${r.extrapolated ? ' (extrapolated)' : ''}`,
    fmtMs(r.stepMs),
    fmtMs(r.syncedStepMs),
    fmtMs(r.captionMs),
    r.decodeMs === null ? '–' : `${fmtMs(r.decodeMs)}${r.decodeTiles > 1 ? ` (${r.decodeTiles} tiles)` : ''}`,
    fmtMs(r.imageMs),
    fmtNum(r.imagesPerS),
    r.stepFloorPct === null || r.imageFloorPct === null ? (r.floorOn ?? '–') : `${r.stepFloorPct.toFixed(1)}% / ${r.imageFloorPct.toFixed(1)}% (on ${r.floorOn})`,
    `${(100 * r.hostShare).toFixed(2)}% (${r.hostShareOf})`,
    gib(r.peakBytes),
    gib(r.rssBytes),
  ]);
  return { head, rows };
}

/** The short explanation printed above the section's table. */
export const PROFILE_NOTE =
  'From `sana-lab profile --json` (random weights of the real dimensions unless a model directory was given). ' +
  'step: one DiT evaluation on the CFG batch (cuda: ops queued, one synchronize; “synced step” is the per-op-synchronized step the breakdown comes from). ' +
  'images/s = 1 / (steps × step + caption + decode where profiled). Extrapolated profiles ran K of the model’s blocks and scaled the block ops to the full depth; they are labelled. ' +
  'Host overhead: cpu host_overhead.share (host work + JS glue + calls × a calibrated per-call cost), cuda queued.share (queued step − estimated device busy time). ' +
  '% of floor: the least time every op at its own roofline would take on the ceilings measured in the same run (bench/image-floor.ts), over the measured time. ' +
  'Planned peak memory: the runners’ buffer plan (weights at full depth + activations + op scratch, or the decoder’s when larger), not a measurement.';
