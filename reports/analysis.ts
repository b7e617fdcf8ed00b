/**
 * What the report shows, computed from the records (no rendering here): throughput series, roofline
 * points, time breakdowns of a DiT block / DiT step / DC-AE decode, and speed-ups against the
 * baselines of the same run. Only measured ('ok') records contribute numbers; nothing is estimated.
 */
import type { BenchRecord } from '../bench/record.js';
import type { Ceilings } from '../bench/roofline.js';
import { dcaeDecodePlan, ditBlockPlan, ditStepPlan, parseResolution, type PlanEntry } from '../bench/shapes.js';
import type { BenchInput } from './inputs.js';

export interface SourcedRecord extends BenchRecord {
  /** The results file it came from. */
  source: string;
}

export function allRecords(inputs: readonly BenchInput[]): SourcedRecord[] {
  return inputs.flatMap((i) => i.file.records.map((r) => ({ ...r, source: i.name })));
}

export function okRecords<T extends BenchRecord>(records: readonly T[]): T[] {
  return records.filter((r) => r.status === 'ok' && r.median_ms !== null);
}

const pixels = (r: Pick<BenchRecord, 'height' | 'width'>) => r.height * r.width;
const opLabel = (op: string, variant: string) => (variant ? `${op}:${variant}` : op);
const backendLabel = (r: Pick<BenchRecord, 'backend' | 'version'>) => (r.version ? `${r.backend} v${r.version}` : r.backend);

// ---------------------------------------------------------------------------------------------
// Throughput vs resolution

export interface Series {
  name: string;
  x: number[];
  y: number[];
  text: string[];
}

export interface ThroughputChart {
  op: string;
  model: string;
  series: Series[];
  /** Resolution ticks for the pixel axis. */
  tickvals: number[];
  ticktext: string[];
}

/** One chart per (op, model): GFLOP/s against image pixels, one series per backend/version/dtype/batch/variant. */
export function throughputCharts(records: readonly SourcedRecord[]): ThroughputChart[] {
  const ok = okRecords(records);
  const charts = new Map<string, SourcedRecord[]>();
  for (const r of ok) {
    const k = `${r.op}|${r.model}`;
    charts.set(k, [...(charts.get(k) ?? []), r]);
  }
  const out: ThroughputChart[] = [];
  for (const rs of charts.values()) {
    const devices = new Set(rs.map((r) => r.device));
    const byTrace = new Map<string, SourcedRecord[]>();
    for (const r of rs) {
      const name = [
        backendLabel(r),
        r.dtype,
        `b${r.batch}`,
        r.variant,
        devices.size > 1 ? `@ ${r.device}` : '',
      ]
        .filter((s) => s !== '')
        .join(' ');
      byTrace.set(name, [...(byTrace.get(name) ?? []), r]);
    }
    const series: Series[] = [];
    for (const [name, trs] of byTrace) {
      trs.sort((a, b) => pixels(a) - pixels(b));
      series.push({
        name,
        x: trs.map(pixels),
        y: trs.map((r) => r.gflops!),
        text: trs.map((r) => `${r.res}: ${r.median_ms!.toPrecision(3)} ms (p20 ${r.p20_ms!.toPrecision(3)}, p80 ${r.p80_ms!.toPrecision(3)})`),
      });
    }
    const ticks = [...new Map(rs.map((r) => [pixels(r), r.res])).entries()].sort((a, b) => a[0] - b[0]);
    out.push({ op: rs[0]!.op, model: rs[0]!.model, series, tickvals: ticks.map((t) => t[0]), ticktext: ticks.map((t) => t[1]) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Roofline

export interface RooflineChart {
  /** The results file: a run's records are placed against that run's own ceilings. */
  source: string;
  device: string;
  ceilings: Ceilings[];
  series: Series[];
}

/** Every run's ceilings, tagged with the file they came from. */
export function allCeilings(inputs: readonly BenchInput[]): (Ceilings & { source: string })[] {
  return inputs.flatMap((i) => i.file.ceilings.map((c) => ({ ...c, source: i.name })));
}

/**
 * One chart per (run, device with ceilings): the run's ceilings and its measured records on that device,
 * one series per backend and dtype. (Runs are not mixed: each measured its own ceilings.)
 */
export function rooflineCharts(inputs: readonly BenchInput[]): RooflineChart[] {
  const charts: RooflineChart[] = [];
  for (const i of inputs) {
    const ok = okRecords(i.file.records);
    for (const device of [...new Set(i.file.ceilings.map((c) => c.device))]) {
      const byBackend = new Map<string, BenchRecord[]>();
      for (const r of ok.filter((r) => r.device === device)) {
        const k = `${backendLabel(r)} ${r.dtype}`;
        byBackend.set(k, [...(byBackend.get(k) ?? []), r]);
      }
      const series = [...byBackend.entries()].map(([name, rs]) => ({
        name,
        x: rs.map((r) => r.flops / r.bytes),
        y: rs.map((r) => r.gflops!),
        text: rs.map(
          (r) =>
            `${opLabel(r.op, r.variant)} ${r.model} ${r.res} b${r.batch}: ${r.gflops!.toPrecision(3)} GFLOP/s, ${r.gbs!.toPrecision(3)} GB/s` +
            (r.roofline_pct === null ? '' : `, ${r.roofline_pct.toFixed(1)}% of roofline`),
        ),
      }));
      charts.push({ source: i.name, device, ceilings: i.file.ceilings.filter((c) => c.device === device), series });
    }
  }
  return charts;
}

// ---------------------------------------------------------------------------------------------
// Time breakdowns

/**
 * The measured record of each (op, variant, model, res, batch, dtype, backend): within a file the
 * fastest version, and a later input file overrides an earlier one.
 */
export function recordIndex(inputs: readonly BenchInput[]): Map<string, SourcedRecord> {
  const index = new Map<string, SourcedRecord>();
  for (const i of inputs) {
    const own = new Map<string, SourcedRecord>();
    for (const r of okRecords(i.file.records)) {
      const k = indexKey(r, r.backend);
      const prev = own.get(k);
      if (prev === undefined || r.median_ms! < prev.median_ms!) own.set(k, { ...r, source: i.name });
    }
    for (const [k, r] of own) index.set(k, r);
  }
  return index;
}

function indexKey(s: { op: string; variant: string; model: string; res: string; batch: number; dtype: string }, backend: string): string {
  return `${s.op}|${s.variant}|${s.model}|${s.res}|${s.batch}|${s.dtype}|${backend}`;
}

export interface BreakdownComponent {
  label: string;
  /** ms per resolution (median × count), null when not measured. */
  ms: (number | null)[];
}

export interface BreakdownChart {
  unit: 'DiT block' | 'DiT step' | 'DC-AE decode';
  model: string;
  backend: string;
  dtype: string;
  batch: number;
  resolutions: string[];
  components: BreakdownComponent[];
  /** Sum of the measured components per resolution (null if none measured). */
  totals: (number | null)[];
  /** Components measured out of all, per resolution, and which are missing. */
  coverage: { res: string; measured: number; total: number; missing: string[] }[];
  /** For the DiT block: the fused `dit-block` measured as one op, per resolution. */
  fused?: (number | null)[];
}

type PlanFn = (model: string, res: string, batch: number) => PlanEntry[];

const UNITS: { unit: BreakdownChart['unit']; models: string[]; plan: PlanFn }[] = [
  { unit: 'DiT block', models: ['0.6b', '1.6b'], plan: (m, res, b) => ditBlockPlan(m as '0.6b', parseResolution(res), b) },
  { unit: 'DiT step', models: ['0.6b', '1.6b'], plan: (m, res, b) => ditStepPlan(m as '0.6b', parseResolution(res), b) },
  { unit: 'DC-AE decode', models: ['dcae'], plan: (_m, res, b) => dcaeDecodePlan(parseResolution(res), b) },
];

/**
 * Breakdowns for every (unit, model, backend, dtype, batch) that has at least one measured component.
 * `empty` lists the units that had records for their model but no measured component.
 */
export function breakdowns(inputs: readonly BenchInput[]): { charts: BreakdownChart[]; empty: string[] } {
  const index = recordIndex(inputs);
  const recs = [...index.values()];
  const charts: BreakdownChart[] = [];
  const empty: string[] = [];
  for (const u of UNITS) {
    for (const model of u.models) {
      const ofModel = recs.filter((r) => r.model === model);
      if (ofModel.length === 0) continue;
      const groups = new Map<string, { backend: string; dtype: string; batch: number }>();
      for (const r of ofModel) groups.set(`${r.backend}|${r.dtype}|${r.batch}`, { backend: r.backend, dtype: r.dtype, batch: r.batch });
      const resolutions = [...new Map(ofModel.map((r) => [r.res, pixels(r)])).entries()].sort((a, b) => a[1] - b[1]).map((e) => e[0]);
      for (const g of groups.values()) {
        const plans = resolutions.map((res) => u.plan(model, res, g.batch));
        const labels = plans[0]!.map((e) => `${opLabel(e.shape.op, e.shape.variant)}${e.count > 1 ? ` ×${e.count}` : ''}`);
        const components: BreakdownComponent[] = labels.map((label, ci) => ({
          label,
          ms: plans.map((plan) => {
            const e = plan[ci]!;
            const r = index.get(indexKey({ ...e.shape, dtype: g.dtype }, g.backend));
            return r === undefined ? null : r.median_ms! * e.count;
          }),
        }));
        if (!components.some((c) => c.ms.some((v) => v !== null))) {
          empty.push(`${u.unit} ${model} ${g.backend} ${g.dtype} b${g.batch}`);
          continue;
        }
        const totals = resolutions.map((_, ri) => {
          const vals = components.map((c) => c.ms[ri]).filter((v): v is number => v !== null);
          return vals.length === 0 ? null : vals.reduce((a, b) => a + b, 0);
        });
        const coverage = resolutions.map((res, ri) => {
          const missing = components.filter((c) => c.ms[ri] === null).map((c) => c.label);
          return { res, measured: components.length - missing.length, total: components.length, missing };
        });
        const chart: BreakdownChart = { unit: u.unit, model, backend: g.backend, dtype: g.dtype, batch: g.batch, resolutions, components, totals, coverage };
        if (u.unit === 'DiT block') {
          chart.fused = resolutions.map((res) => index.get(indexKey({ op: 'dit-block', variant: '', model, res, batch: g.batch, dtype: g.dtype }, g.backend))?.median_ms ?? null);
        }
        charts.push(chart);
      }
    }
  }
  return { charts, empty };
}

// ---------------------------------------------------------------------------------------------
// Speed-ups against the baselines of the same run

export interface SpeedupRow {
  source: string;
  op: string;
  variant: string;
  model: string;
  res: string;
  batch: number;
  dtype: string;
  baseline: string;
  candidate: string;
  baselineMs: number;
  candidateMs: number;
  /** baseline time / candidate time (> 1 = candidate faster). */
  speedup: number;
}

/** Within each results file, every measured record against each baseline backend at the same shape. */
export function speedups(inputs: readonly BenchInput[]): SpeedupRow[] {
  const rows: SpeedupRow[] = [];
  for (const i of inputs) {
    const groups = new Map<string, BenchRecord[]>();
    for (const r of okRecords(i.file.records)) {
      const k = `${r.op}|${r.variant}|${r.model}|${r.res}|${r.batch}|${r.dtype}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    for (const rs of groups.values()) {
      for (const baseline of i.file.baselines) {
        const base = rs.filter((r) => r.backend === baseline).sort((a, b) => a.median_ms! - b.median_ms!)[0];
        if (base === undefined) continue;
        for (const r of rs) {
          if (r.backend === base.backend && r.version === base.version) continue;
          rows.push({
            source: i.name,
            op: r.op,
            variant: r.variant,
            model: r.model,
            res: r.res,
            batch: r.batch,
            dtype: r.dtype,
            baseline: backendLabel(base),
            candidate: backendLabel(r),
            baselineMs: base.median_ms!,
            candidateMs: r.median_ms!,
            speedup: base.median_ms! / r.median_ms!,
          });
        }
      }
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

/** Records that were not timed, grouped by status, for the "what did not run" section. */
export function notRun(records: readonly SourcedRecord[]): { status: string; count: number; examples: SourcedRecord[] }[] {
  const m = new Map<string, SourcedRecord[]>();
  for (const r of records) if (r.status !== 'ok') m.set(r.status, [...(m.get(r.status) ?? []), r]);
  return [...m.entries()].map(([status, rs]) => ({ status, count: rs.length, examples: rs }));
}

export { opLabel, backendLabel, pixels };
