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
import type { BenchInput, ParityInput, ProfileInput, ReportInput } from './inputs.js';
import type { ParityRecord, ParitySelfCheck, ParitySkip } from './parity.js';
import { profileSection, type ProfileSection } from './profiles.js';

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
  paritySkipped: (ParitySkip & { source: string })[];
  paritySelfChecks: (ParitySelfCheck & { source: string })[];
  /** One line per parity file: where and when it ran. */
  parityRuns: string[];
  notRun: ReturnType<typeof notRun>;
  /** Whole-model profiles (`sana-lab profile --json`) and what the report draws of them. */
  profileInputs: ProfileInput[];
  profiles: ProfileSection;
}

/** Where and when a parity file was produced, from its environment (any field may be missing). */
function parityRunLine(p: ParityInput): string {
  const e = p.file.environment ?? {};
  const str = (k: string) => (e[k] === undefined || e[k] === null ? '' : String(e[k]));
  const facts: string[] = [];
  if (str('cpu_model')) {
    const counts = [str('cpu_cores') && `${str('cpu_cores')} cores`, str('cpu_threads') && `${str('cpu_threads')} kernel threads`].filter(Boolean);
    facts.push(`${str('cpu_model')}${counts.length ? ` (${counts.join(', ')})` : ''}`);
  }
  if ('backends' in e) facts.push(`backends checked: ${str('backends') || 'none'}`);
  if (str('git_commit')) facts.push(`commit ${str('git_commit')}${e.git_dirty ? ' (dirty)' : ''}`);
  if (str('date')) facts.push(str('date'));
  if (str('command')) facts.push(`\`${str('command')}\``);
  return `${p.name}: ${facts.length ? facts.join('; ') : 'no environment recorded'}`;
}

export function buildModel(inputs: readonly ReportInput[], title: string): ReportModel {
  const bench = inputs.filter((i): i is BenchInput => i.kind === 'bench');
  const parityInputs = inputs.filter((i): i is ParityInput => i.kind === 'parity');
  const profileInputs = inputs.filter((i): i is ProfileInput => i.kind === 'profile');
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
    paritySkipped: parityInputs.flatMap((p) => (p.file.skipped ?? []).map((r) => ({ ...r, source: p.name }))),
    paritySelfChecks: parityInputs.flatMap((p) => (p.file.self_checks ?? []).map((r) => ({ ...r, source: p.name }))),
    parityRuns: parityInputs.map((p) => parityRunLine(p)),
    notRun: notRun(records),
    profileInputs,
    profiles: profileSection(profileInputs),
  };
}
