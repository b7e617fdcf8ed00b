/** Everything a report shows, gathered once and rendered twice (HTML and Markdown). */
import type { Ceilings } from '../bench/roofline.js';
import {
  allRecords,
  breakdowns,
  allCeilings,
  notRun,
  okRecords,
  rooflineCharts,
  speedups,
  throughputCharts,
  type BreakdownChart,
  type RooflineChart,
  type SourcedRecord,
  type SpeedupRow,
  type ThroughputChart,
} from './analysis.js';
import type { BenchInput, ParityInput, ReportInput } from './inputs.js';
import type { ParityRecord } from './parity.js';

export interface ReportModel {
  title: string;
  generatedAt: string;
  bench: BenchInput[];
  parityInputs: ParityInput[];
  records: SourcedRecord[];
  measured: SourcedRecord[];
  ceilings: (Ceilings & { source: string })[];
  throughput: ThroughputChart[];
  roofline: RooflineChart[];
  breakdown: { charts: BreakdownChart[]; empty: string[] };
  speedups: SpeedupRow[];
  parity: (ParityRecord & { source: string })[];
  notRun: ReturnType<typeof notRun>;
}

export function buildModel(inputs: readonly ReportInput[], title: string): ReportModel {
  const bench = inputs.filter((i): i is BenchInput => i.kind === 'bench');
  const parityInputs = inputs.filter((i): i is ParityInput => i.kind === 'parity');
  const records = allRecords(bench);
  return {
    title,
    generatedAt: new Date().toISOString(),
    bench,
    parityInputs,
    records,
    measured: okRecords(records),
    ceilings: allCeilings(bench),
    throughput: throughputCharts(records),
    roofline: rooflineCharts(bench),
    breakdown: breakdowns(bench),
    speedups: speedups(bench),
    parity: parityInputs.flatMap((p) => p.file.records.map((r) => ({ ...r, source: p.name }))),
    notRun: notRun(records),
  };
}
