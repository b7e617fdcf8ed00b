/**
 * Benchmark records and the results file (JSON) that `sana-lab bench` writes and `sana-lab report` reads.
 *
 * File format "sana-lab-bench/1":
 *   { format, environment, ceilings: Ceilings[], baselines: string[], records: BenchRecord[] }
 * Every record carries its shape, its cost-model FLOPs and bytes, its timing (median, p20, p80 in ms)
 * and its place on the roofline; a case that did not run is still a record, with `status` saying why
 * and null timings (so a report can show what was skipped instead of silently leaving it out).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, arch, loadavg, platform, totalmem } from 'node:os';
import { projectRoot } from '../reference/core/golden.js';
import type { Ceilings } from './roofline.js';

export const RESULTS_FORMAT = 'sana-lab-bench/1';

/** 'ok' = timed; the others say why there is no timing. */
export type RecordStatus = 'ok' | 'skipped: budget' | 'skipped: memory' | 'unavailable' | 'error';
export const RECORD_STATUSES: readonly RecordStatus[] = ['ok', 'skipped: budget', 'skipped: memory', 'unavailable', 'error'];

export interface BenchRecord {
  op: string;
  backend: string;
  /** Kernel version (numbered like llm.c's v1…vN); 0 for the reference. */
  version: number;
  model: string;
  /** "1024" or "1024x2048" (height x width). */
  res: string;
  height: number;
  width: number;
  /** Latent tokens (H/32)·(W/32). */
  tokens: number;
  batch: number;
  dtype: string;
  /** Which instance of the op (e.g. 'qkv' gemm, DC-AE stage 's3'); '' if the op has one. */
  variant: string;
  /** The op's dimensions (see bench/ops.ts). */
  dims: Record<string, number | boolean | string>;
  median_ms: number | null;
  p20_ms: number | null;
  p80_ms: number | null;
  mean_ms: number | null;
  /** benchmark.js relative margin of error (%) of the mean; null for other timers. */
  rme_pct: number | null;
  /** Timed samples, and op calls per sample (benchmark.js batches fast calls into one sample). */
  samples: number;
  calls_per_sample: number;
  flops: number;
  bytes: number;
  /** Achieved GFLOP/s and GB/s at the median; null when not timed. */
  gflops: number | null;
  gbs: number | null;
  roofline_pct: number | null;
  device: string;
  threads: number;
  /** 'benchmark.js' (host), 'cuda-events' (device), or 'none' when not timed. */
  timer: string;
  status: RecordStatus;
  /** Why a case was skipped, what the budget estimate was, which ceilings were used. */
  note: string;
}

export interface BenchEnvironment {
  cpu_model: string;
  cpu_cores: number;
  total_mem_gib: number;
  node: string;
  platform: string;
  arch: string;
  git_commit: string | null;
  git_dirty: boolean | null;
  date: string;
  command: string;
  /** Free-form additions from backends (GPU name, driver, clocks…). */
  extra: Record<string, string>;
}

export interface BenchResultsFile {
  format: typeof RESULTS_FORMAT;
  environment: BenchEnvironment;
  ceilings: Ceilings[];
  /** Backends measured as baselines in this run (speed-ups are computed against them). */
  baselines: string[];
  records: BenchRecord[];
}

function git(args: string[]): string | null {
  try {
    const cwd = projectRoot();
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

/** CPU, memory, Node, OS and the git commit of the working tree (null outside a git checkout). */
export function captureEnvironment(command = process.argv.slice(2).join(' ')): BenchEnvironment {
  const list = cpus();
  const commit = git(['rev-parse', 'HEAD']);
  const status = commit === null ? null : git(['status', '--porcelain', '--untracked-files=no']);
  return {
    cpu_model: (list[0]?.model ?? 'unknown').trim().replace(/\s+/g, ' '),
    cpu_cores: list.length,
    total_mem_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: platform(),
    arch: arch(),
    git_commit: commit,
    git_dirty: status === null ? null : status.length > 0,
    date: new Date().toISOString(),
    command,
    // Other processes compete for the cores: the load when the run started says how quiet it was.
    extra: { load_average: `${loadavg().map((l) => l.toFixed(2)).join(' ')} (1/5/15 min, at start)` },
  };
}

// ---------------------------------------------------------------------------------------------
// Validation: the report trusts nothing it reads.

function fail(where: string, msg: string): never {
  throw new TypeError(`bench results${where ? ` (${where})` : ''}: ${msg}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const NUM_OR_NULL = ['median_ms', 'p20_ms', 'p80_ms', 'mean_ms', 'rme_pct', 'gflops', 'gbs', 'roofline_pct'] as const;
const NUMS = ['version', 'height', 'width', 'tokens', 'batch', 'samples', 'calls_per_sample', 'flops', 'bytes', 'threads'] as const;
const STRS = ['op', 'backend', 'model', 'res', 'dtype', 'variant', 'device', 'timer', 'note'] as const;

export function validateRecord(r: unknown, where = ''): BenchRecord {
  if (!isObj(r)) fail(where, 'a record is not an object');
  for (const k of STRS) if (typeof r[k] !== 'string') fail(where, `record field "${k}" must be a string`);
  for (const k of NUMS) if (typeof r[k] !== 'number' || !Number.isFinite(r[k])) fail(where, `record field "${k}" must be a finite number`);
  for (const k of NUM_OR_NULL) {
    const v = r[k];
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) fail(where, `record field "${k}" must be a finite number or null`);
  }
  if (!RECORD_STATUSES.includes(r.status as RecordStatus)) fail(where, `record status "${String(r.status)}" is not one of ${RECORD_STATUSES.join(', ')}`);
  if (!isObj(r.dims)) fail(where, 'record field "dims" must be an object');
  if (r.status === 'ok') {
    for (const k of ['median_ms', 'p20_ms', 'p80_ms'] as const) {
      if (r[k] === null || (r[k] as number) <= 0) fail(where, `an 'ok' record needs a positive ${k}`);
    }
    if ((r.p20_ms as number) > (r.median_ms as number) || (r.median_ms as number) > (r.p80_ms as number)) {
      fail(where, `record percentiles out of order: p20 ${String(r.p20_ms)} median ${String(r.median_ms)} p80 ${String(r.p80_ms)}`);
    }
  } else if (r.median_ms !== null) {
    fail(where, `a '${String(r.status)}' record must not carry a median`);
  }
  return r as unknown as BenchRecord;
}

function validateCeilings(c: unknown, where: string): Ceilings {
  if (!isObj(c)) fail(where, 'a ceilings entry is not an object');
  for (const k of ['device', 'dtype', 'peakSource', 'bandwidthSource', 'measuredAt']) if (typeof c[k] !== 'string') fail(where, `ceilings field "${k}" must be a string`);
  for (const k of ['peakFlops', 'bandwidth']) {
    if (typeof c[k] !== 'number' || !((c[k] as number) > 0)) fail(where, `ceilings field "${k}" must be a positive number`);
  }
  if (c.fmaPeakFlops !== undefined && (typeof c.fmaPeakFlops !== 'number' || !(c.fmaPeakFlops > 0) || typeof c.fmaPeakSource !== 'string')) {
    fail(where, 'ceilings field "fmaPeakFlops" must be a positive number with a "fmaPeakSource" string');
  }
  return c as unknown as Ceilings;
}

/** Check a parsed results file; throws a TypeError naming the file and the field. */
export function validateResults(json: unknown, where = ''): BenchResultsFile {
  if (!isObj(json)) fail(where, 'not a JSON object');
  if (json.format !== RESULTS_FORMAT) fail(where, `format is "${String(json.format)}", expected "${RESULTS_FORMAT}"`);
  if (!isObj(json.environment)) fail(where, 'missing "environment"');
  if (!Array.isArray(json.ceilings)) fail(where, '"ceilings" must be an array');
  if (!Array.isArray(json.baselines) || !json.baselines.every((b) => typeof b === 'string')) fail(where, '"baselines" must be an array of strings');
  if (!Array.isArray(json.records)) fail(where, '"records" must be an array');
  json.ceilings.forEach((c, i) => validateCeilings(c, `${where} ceilings[${i}]`));
  json.records.forEach((r, i) => validateRecord(r, `${where} records[${i}]`));
  return json as unknown as BenchResultsFile;
}

export function writeResults(path: string, file: BenchResultsFile): void {
  validateResults(file, path);
  writeFileSync(path, JSON.stringify(file, null, 1) + '\n');
}

export function readResults(path: string): BenchResultsFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`bench results (${path}): cannot read JSON: ${(e as Error).message}`);
  }
  return validateResults(json, path);
}
