/**
 * The report's "Whole model" section, computed from `sana-lab profile` reports (no rendering here):
 * step time, images/s, DC-AE decode time, host overhead share and planned peak memory against the
 * resolution, one series per model × backend × dtype × block mode; and the per-op breakdown of the
 * step (and of the decode) per resolution. Numbers are the profiles' own; extrapolated profiles (K of
 * the model's blocks run, scaled to the full depth) are labelled in every trace and category.
 */
import { resLabel } from '../bench/shapes.js';
import { fmtGBs, fmtNum, fmtOpVersions } from './format.js';
import type { ProfileInput } from './inputs.js';
import type { ProfileBreakdownEntry, ProfileReport } from './profile-input.js';

export type ProfileChartKind =
  | 'whole-model step'
  | 'whole-model images/s'
  | 'whole-model breakdown'
  | 'whole-model decode'
  | 'whole-model decode breakdown'
  | 'whole-model host overhead'
  | 'whole-model memory';

export const PROFILE_CHARTS: readonly ProfileChartKind[] = [
  'whole-model step',
  'whole-model images/s',
  'whole-model breakdown',
  'whole-model decode',
  'whole-model decode breakdown',
  'whole-model host overhead',
  'whole-model memory',
];

/** One profile, flattened for the charts and tables. */
export interface ProfileRun {
  /** The file, and the entry's name in a merged file ("profiles.json › p-0.6b-1024"). */
  source: string;
  model: string;
  backend: string;
  dtype: string;
  blockMode: string;
  /** Kernel versions chosen for the run, as text ("dcae-resblock v4, dcae-head v3"; '' = the defaults). */
  versions: string;
  /** The GPU (cuda) or the CPU and its threads. */
  device: string;
  res: string;
  pixels: number;
  /** "K/depth" blocks run. */
  blocks: string;
  extrapolated: boolean;
  /** The step as a sampler runs it (cuda: the queued step). */
  stepMs: number;
  /** cuda: the per-op-synchronized step the breakdown comes from; null on cpu. */
  syncedStepMs: number | null;
  captionMs: number;
  imageMs: number;
  imagesPerS: number;
  steps: number;
  cfg: number;
  batch: number;
  decodeMs: number | null;
  decodeTiles: number;
  breakdown: ProfileBreakdownEntry[];
  decodeBreakdown: ProfileBreakdownEntry[];
  /** Host overhead as a share of the step, and which field it came from. */
  hostShare: number;
  hostShareOf: 'host_overhead.share' | 'queued.share';
  peakBytes: number;
  rssBytes: number | null;
  /** Floor / measured × 100 for the step and the image (profile's roofline), null when the profile has none. */
  stepFloorPct: number | null;
  imageFloorPct: number | null;
  /** The ceilings the floor was computed on, as text (or why there is no floor). */
  floorOn: string | null;
}

function deviceOf(p: ProfileReport): string {
  const m = p.machine;
  if (m.device) return m.device;
  return `${m.cpu ?? 'unknown CPU'}${m.threads ? `, ${m.threads} threads` : ''}`;
}

function toRun(p: ProfileReport, source: string): ProfileRun {
  return {
    source: p.name ? `${source} › ${p.name}` : source,
    model: p.model,
    backend: p.backend,
    dtype: p.dtype,
    blockMode: p.blockMode,
    versions: fmtOpVersions(p.opVersions),
    device: deviceOf(p),
    res: resLabel({ height: p.height, width: p.width }),
    pixels: p.height * p.width,
    blocks: `${p.blocks.run}/${p.blocks.depth}`,
    extrapolated: p.blocks.extrapolated,
    stepMs: p.step_ms,
    syncedStepMs: p.queued?.synced_step_ms ?? null,
    captionMs: p.caption_ms,
    imageMs: p.image_ms,
    imagesPerS: p.images_per_s,
    steps: p.steps,
    cfg: p.cfg,
    batch: p.batch,
    decodeMs: p.decode?.ms ?? null,
    decodeTiles: p.decode?.tiles ?? 0,
    breakdown: p.breakdown,
    decodeBreakdown: p.decode?.breakdown ?? [],
    hostShare: p.queued ? p.queued.share : p.host_overhead.share,
    hostShareOf: p.queued ? 'queued.share' : 'host_overhead.share',
    peakBytes: p.memory.peak_bytes,
    rssBytes: p.memory.process_max_rss_bytes ?? null,
    ...floorOf(p),
  };
}

function floorOf(p: ProfileReport): Pick<ProfileRun, 'stepFloorPct' | 'imageFloorPct' | 'floorOn'> {
  const f = p.roofline;
  if (f === undefined || f === null) return { stepFloorPct: null, imageFloorPct: null, floorOn: null };
  if ('reason' in f) return { stepFloorPct: null, imageFloorPct: null, floorOn: `no floor: ${f.reason}` };
  const on = `${fmtNum(f.ceilings.peakFlops / 1e12)} TFLOP/s, ${fmtGBs(f.ceilings.bandwidth)}`;
  return { stepFloorPct: f.step_pct, imageFloorPct: f.image_pct, floorOn: on };
}

/** Every profile of every input, ordered by model, backend, dtype, block mode, then resolution. */
export function profileRuns(inputs: readonly ProfileInput[]): ProfileRun[] {
  const runs = inputs.flatMap((i) => i.profiles.map((p) => toRun(p, i.name)));
  const key = (r: ProfileRun) => `${r.model}|${r.backend}|${r.dtype}|${r.blockMode}|${r.versions}`;
  return runs.sort((a, b) => key(a).localeCompare(key(b)) || a.pixels - b.pixels);
}

/** "sana-0.6b cpu f32 dit-block", with the device when the same label ran on several devices. */
export function groupLabel(r: ProfileRun, all: readonly ProfileRun[]): string {
  const base = (x: ProfileRun) => `${x.model} ${x.backend} ${x.dtype} ${x.blockMode}${x.versions ? ` [${x.versions}]` : ''}`;
  const devices = new Set(all.filter((x) => base(x) === base(r)).map((x) => x.device));
  return devices.size > 1 ? `${base(r)} @ ${r.device}` : base(r);
}

/** The decode's label: the DC-AE on one backend and dtype (the DiT model does not change it). */
export function decodeLabel(r: ProfileRun, all: readonly ProfileRun[]): string {
  const base = (x: ProfileRun) => `DC-AE ${x.backend} ${x.dtype}${x.decodeTiles > 1 ? ' tiled' : ''}${x.versions ? ` [${x.versions}]` : ''}`;
  const devices = new Set(all.filter((x) => x.decodeMs !== null && base(x) === base(r)).map((x) => x.device));
  return devices.size > 1 ? `${base(r)} @ ${r.device}` : base(r);
}

// ---------------------------------------------------------------------------------------------
// Lines against the resolution

export interface ProfileSeries {
  name: string;
  x: number[];
  y: number[];
  text: string[];
  extrapolated: boolean;
}

export interface ProfileLineChart {
  kind: ProfileChartKind;
  title: string;
  yTitle: string;
  yLog: boolean;
  series: ProfileSeries[];
  /** Resolution ticks for the pixel axis. */
  tickvals: number[];
  ticktext: string[];
}

interface LineSpec {
  kind: ProfileChartKind;
  title: string;
  yTitle: string;
  yLog: boolean;
  /** The value, or null where the profile has none (e.g. no decode). */
  y: (r: ProfileRun) => number | null;
  text: (r: ProfileRun) => string;
  /** The trace a profile belongs to (before the "(extrapolated)" split). */
  trace: (r: ProfileRun) => string;
  /** Whether the value is extrapolated (default: the profile's step is). */
  extrapolated?: (r: ProfileRun) => boolean;
}

/** One line chart: one trace per `trace` key (extrapolated profiles in their own, labelled trace). */
function lineChart(runs: readonly ProfileRun[], spec: LineSpec): ProfileLineChart | null {
  const have = runs.filter((r) => spec.y(r) !== null);
  if (have.length === 0) return null;
  const ext = spec.extrapolated ?? ((r: ProfileRun) => r.extrapolated);
  const traces = new Map<string, ProfileRun[]>();
  for (const r of have) {
    const name = `${spec.trace(r)}${ext(r) ? ' (extrapolated)' : ''}`;
    traces.set(name, [...(traces.get(name) ?? []), r]);
  }
  const series = [...traces].map(([name, rs]) => {
    const sorted = [...rs].sort((a, b) => a.pixels - b.pixels);
    return { name, x: sorted.map((r) => r.pixels), y: sorted.map((r) => spec.y(r)!), text: sorted.map(spec.text), extrapolated: ext(sorted[0]!) };
  });
  const ticks = [...new Map(have.map((r) => [r.pixels, r.res])).entries()].sort((a, b) => a[0] - b[0]);
  return { kind: spec.kind, title: spec.title, yTitle: spec.yTitle, yLog: spec.yLog, series, tickvals: ticks.map((t) => t[0]), ticktext: ticks.map((t) => t[1]) };
}

const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toPrecision(3)} s` : `${v.toPrecision(3)} ms`);
const gib = (b: number) => `${(b / 2 ** 30).toPrecision(3)} GiB`;
const blocksNote = (r: ProfileRun) => `${r.blocks} blocks${r.extrapolated ? ', extrapolated' : ''}`;

/** The five line charts of the section, in page order (those without data are left out). */
export function profileLineCharts(runs: readonly ProfileRun[]): ProfileLineChart[] {
  const group = (r: ProfileRun) => groupLabel(r, runs);
  const withDecode = (r: ProfileRun) => `${group(r)}${r.decodeMs !== null ? ' + decode' : ''}`;
  const specs: LineSpec[] = [
    {
      kind: 'whole-model step',
      title: 'DiT step time vs resolution (one step, CFG batch)',
      yTitle: 'step time (ms, log)',
      yLog: true,
      y: (r) => r.stepMs,
      text: (r) => `${r.res}: ${ms(r.stepMs)} per step (${blocksNote(r)}, batch ${r.batch})${r.syncedStepMs !== null ? `; queued — ${ms(r.syncedStepMs)} with a synchronize per op` : ''}; ${r.source}`,
      trace: group,
    },
    {
      kind: 'whole-model images/s',
      title: 'Images/s vs resolution (+ decode where profiled)',
      yTitle: 'images/s (log)',
      yLog: true,
      y: (r) => r.imagesPerS,
      text: (r) => `${r.res}: ${r.imagesPerS.toPrecision(3)} images/s = 1 / ${ms(r.imageMs)} (${r.steps} steps, CFG ${r.cfg}${r.decodeMs !== null ? `, decode ${ms(r.decodeMs)}` : ', no decode'}; ${blocksNote(r)}); ${r.source}`,
      trace: withDecode,
    },
    {
      kind: 'whole-model decode',
      title: 'DC-AE decode time vs resolution (one image)',
      yTitle: 'decode time (ms, log)',
      yLog: true,
      y: (r) => r.decodeMs,
      text: (r) => `${r.res}: ${ms(r.decodeMs!)}${r.decodeTiles > 1 ? ` (${r.decodeTiles} tiles)` : ''}; ${r.source}`,
      trace: (r) => decodeLabel(r, runs),
      extrapolated: () => false,
    },
    {
      kind: 'whole-model host overhead',
      title: 'Host overhead vs resolution (cpu: host_overhead, cuda: queued)',
      yTitle: '% of the step',
      yLog: false,
      y: (r) => 100 * r.hostShare,
      text: (r) => `${r.res}: ${(100 * r.hostShare).toFixed(2)}% of the step (${r.hostShareOf}; ${blocksNote(r)}); ${r.source}`,
      trace: group,
    },
    {
      kind: 'whole-model memory',
      title: 'Planned peak memory vs resolution',
      yTitle: 'planned peak (GiB, log)',
      yLog: true,
      y: (r) => r.peakBytes / 2 ** 30,
      text: (r) => `${r.res}: planned peak ${gib(r.peakBytes)}${r.rssBytes !== null ? `, process max RSS ${gib(r.rssBytes)}` : ''} (${blocksNote(r)}: weights at full depth); ${r.source}`,
      trace: withDecode,
    },
  ];
  return specs.map((s) => lineChart(runs, s)).filter((c): c is ProfileLineChart => c !== null);
}

// ---------------------------------------------------------------------------------------------
// Stacked per-op breakdowns

export interface ProfileStack {
  kind: 'whole-model breakdown' | 'whole-model decode breakdown';
  /** The series it breaks down (groupLabel / decodeLabel). */
  label: string;
  /** One bar per profile: its resolution, "(extrapolated)" when so, and the source when two share it. */
  categories: string[];
  /** One stacked component per op name, largest first; null where a profile has no such entry. */
  components: { name: string; ms: (number | null)[] }[];
  /** Sum of the entries per bar (ms). */
  totals: number[];
}

/** Bar labels: the resolution, labelled when extrapolated, with the source where two would collide. */
function categories(runs: readonly ProfileRun[], extrapolated: (r: ProfileRun) => boolean): string[] {
  const base = runs.map((r) => `${r.res}${extrapolated(r) ? ' (extrapolated)' : ''}`);
  return base.map((b, i) => (base.indexOf(b) !== base.lastIndexOf(b) ? `${b} ${runs[i]!.source}` : b));
}

function stack(kind: ProfileStack['kind'], label: string, runs: readonly ProfileRun[], entries: (r: ProfileRun) => ProfileBreakdownEntry[], extrapolated: (r: ProfileRun) => boolean): ProfileStack {
  const perRun = runs.map((r) => {
    const m = new Map<string, number>();
    for (const e of entries(r)) m.set(e.name, (m.get(e.name) ?? 0) + e.ms);
    return m;
  });
  const total = new Map<string, number>();
  for (const m of perRun) for (const [k, v] of m) total.set(k, (total.get(k) ?? 0) + v);
  const names = [...total.keys()].sort((a, b) => total.get(b)! - total.get(a)!);
  return {
    kind,
    label,
    categories: categories(runs, extrapolated),
    components: names.map((name) => ({ name, ms: perRun.map((m) => m.get(name) ?? null) })),
    totals: perRun.map((m) => [...m.values()].reduce((s, v) => s + v, 0)),
  };
}

function groupBy(runs: readonly ProfileRun[], key: (r: ProfileRun) => string): Map<string, ProfileRun[]> {
  const out = new Map<string, ProfileRun[]>();
  for (const r of runs) out.set(key(r), [...(out.get(key(r)) ?? []), r]);
  return out;
}

/** One stacked chart per series: the DiT step's ops per profile, then the decode's. */
export function profileStacks(runs: readonly ProfileRun[]): ProfileStack[] {
  const sorted = [...runs].sort((a, b) => a.pixels - b.pixels);
  const steps = [...groupBy(sorted, (r) => groupLabel(r, runs))].map(([label, rs]) => stack('whole-model breakdown', label, rs, (r) => r.breakdown, (r) => r.extrapolated));
  const decoded = sorted.filter((r) => r.decodeMs !== null && r.decodeBreakdown.length > 0);
  const decodes = [...groupBy(decoded, (r) => decodeLabel(r, runs))].map(([label, rs]) => stack('whole-model decode breakdown', label, rs, (r) => r.decodeBreakdown, () => false));
  return [...steps, ...decodes];
}

// ---------------------------------------------------------------------------------------------

export interface ProfileSection {
  runs: ProfileRun[];
  lines: ProfileLineChart[];
  stacks: ProfileStack[];
  /** Profile inputs holding no profile (e.g. a merged file whose steps all failed). */
  emptyInputs: string[];
}

export function profileSection(inputs: readonly ProfileInput[]): ProfileSection {
  const runs = profileRuns(inputs);
  return { runs, lines: profileLineCharts(runs), stacks: profileStacks(runs), emptyInputs: inputs.filter((i) => i.profiles.length === 0).map((i) => i.name) };
}
