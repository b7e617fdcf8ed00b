/**
 * Is the report complete? Checks the figures a report draws (reports/html.ts `reportFigures`) and the
 * tables beside them: every expected kind of chart is present, every figure has traces and every trace
 * has measured points, the measured records span enough resolutions, and the parity, speed-up and
 * environment sections have rows. When whole-model profiles are given, their charts are expected too
 * (the decode's only where a profile decoded); without profiles none is. `sana-lab lab` runs it on the
 * report it just wrote, so an empty chart fails the lab instead of shipping as a blank panel.
 */
import type { Figure, ChartKind, BenchChartKind } from './html.js';
import { BREAKDOWN_UNITS } from './html.js';
import type { ReportModel } from './model.js';
import { pixels } from './analysis.js';
import { PROFILE_CHARTS, type ProfileChartKind } from './profiles.js';

export interface ReportExpectations {
  /** Distinct resolutions the timed records must cover (default 1). */
  minResolutions?: number;
  /** Bench chart kinds that must appear with data (default: all of them). */
  charts?: readonly BenchChartKind[];
  /** Whole-model chart kinds that must appear (default: profileExpectations(model)). */
  profileCharts?: readonly ProfileChartKind[];
  /** Sections with rows: parity rows, speed-ups against a baseline, a bench environment (default: all). */
  sections?: readonly ('parity' | 'speedups' | 'environment')[];
}

export interface ReportCheck {
  ok: boolean;
  /** One sentence per defect (empty when ok). */
  problems: string[];
  /** The measured resolutions, smallest first. */
  resolutions: string[];
  /** Figures per chart kind. */
  counts: Record<ChartKind, number>;
  /** Whether the whole-model charts were expected or drawn (checkSummary lists them then). */
  profiles: boolean;
}

export const ALL_CHARTS: readonly BenchChartKind[] = ['throughput', 'roofline', ...BREAKDOWN_UNITS];

/**
 * The whole-model charts a report must draw: none without profile inputs; with them, step time,
 * images/s, the step breakdown, host overhead and memory, plus the decode's two where a profile decoded.
 */
export function profileExpectations(model: ReportModel): ProfileChartKind[] {
  if (model.profileInputs.length === 0) return [];
  const decoded = model.profiles.runs.some((r) => r.decodeMs !== null);
  return PROFILE_CHARTS.filter((k) => decoded || (k !== 'whole-model decode' && k !== 'whole-model decode breakdown'));
}

const title = (f: Figure) => String((f.layout.title as { text?: unknown } | undefined)?.text ?? f.id);

/** Points of a trace with a finite y (bars with a null y or scatter points at NaN do not count; on a log axis, nor y ≤ 0). */
function points(trace: unknown, logY: boolean): number {
  const t = trace as { x?: unknown[]; y?: unknown[] };
  if (!Array.isArray(t.x) || !Array.isArray(t.y)) return 0;
  return t.y.filter((v, i) => typeof v === 'number' && Number.isFinite(v) && (!logY || v > 0) && t.x![i] !== undefined && t.x![i] !== null).length;
}

/** The defects of one figure: no traces, a trace without points, a roofline without measured points. */
export function figureProblems(f: Figure): string[] {
  const out: string[] = [];
  const name = `${f.kind} chart "${title(f)}"`;
  if (f.data.length === 0) return [`${name} has no traces`];
  const logY = (f.layout.yaxis as { type?: unknown } | undefined)?.type === 'log';
  for (const t of f.data) {
    if (points(t, logY) === 0) out.push(`${name}: trace "${String((t as { name?: unknown }).name ?? '?')}" has no data`);
  }
  if (f.kind === 'roofline') {
    const measured = f.data.filter((t) => !String((t as { name?: unknown }).name ?? '').startsWith('roofline'));
    if (measured.length === 0) out.push(`${name} has the ceilings but no measured points`);
    if (measured.length === f.data.length) out.push(`${name} has points but no roofline`);
  }
  return out;
}

export function checkReport(model: ReportModel, figures: readonly Figure[], expect: ReportExpectations = {}): ReportCheck {
  const problems: string[] = [];
  const counts = Object.fromEntries([...ALL_CHARTS, ...PROFILE_CHARTS].map((k) => [k, figures.filter((f) => f.kind === k).length])) as Record<ChartKind, number>;
  const profileCharts = expect.profileCharts ?? profileExpectations(model);
  for (const kind of [...(expect.charts ?? ALL_CHARTS), ...profileCharts]) {
    if (counts[kind] === 0) problems.push(`no ${kind} chart with data`);
  }
  for (const name of model.profiles.emptyInputs) problems.push(`profile input ${name} holds no profile`);
  for (const f of figures) problems.push(...figureProblems(f));
  for (const r of model.roofline) {
    if (r.series.length === 0) problems.push(`roofline of ${r.source} (${r.device}): ceilings measured but no timed records on that device`);
  }

  const resolutions = [...new Map(model.measured.map((r) => [r.res, pixels(r)])).entries()].sort((a, b) => a[1] - b[1]).map((e) => e[0]);
  const minRes = expect.minResolutions ?? 1;
  if (resolutions.length < minRes) {
    problems.push(`timed records cover ${resolutions.length} resolution(s) (${resolutions.join(', ') || 'none'}); at least ${minRes} expected`);
  }

  const sections = expect.sections ?? ['parity', 'speedups', 'environment'];
  if (sections.includes('parity') && model.parity.length === 0) problems.push('the parity table is empty');
  if (sections.includes('speedups') && model.speedups.length === 0) {
    const baselines = [...new Set(model.bench.flatMap((b) => b.file.baselines))];
    problems.push(`no speed-ups: no record shares a shape with a baseline (${baselines.join(', ') || 'no baseline backend in the run'})`);
  }
  if (sections.includes('environment') && model.bench.length === 0) problems.push('no bench run: no environment to show');
  const profiles = profileCharts.length > 0 || PROFILE_CHARTS.some((k) => counts[k] > 0);
  return { ok: problems.length === 0, problems, resolutions, counts, profiles };
}

/** One line for the terminal: what the report holds, or what is missing. */
export function checkSummary(c: ReportCheck): string {
  const charts = ALL_CHARTS.map((k) => `${c.counts[k]} ${k}`).join(', ');
  const whole = c.profiles ? `; whole model: ${PROFILE_CHARTS.map((k) => `${c.counts[k]} ${k.replace(/^whole-model /, '')}`).join(', ')}` : '';
  const head = `${c.resolutions.length} resolution(s) (${c.resolutions.join(', ') || 'none'}); charts: ${charts}${whole}`;
  return c.ok ? `${head}; every chart has data` : `${head}; PROBLEMS: ${c.problems.join('; ')}`;
}
