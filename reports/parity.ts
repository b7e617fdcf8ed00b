/**
 * The parity results the report reads (written by `sana-lab parity --json FILE`, bench/parity/run.ts).
 *
 * Format "sana-lab-parity/1":
 *   { format, environment?, records: ParityRecord[], skipped?: ParitySkip[], self_checks?: ParitySelfCheck[] }
 * Each record is one op × test shape × dtype × backend (× native version) check against the TS
 * reference: relative error ‖out−ref‖/‖ref‖, max-abs error, the rule it was held to and whether it
 * passed; bf16 records also carry the plain bf16 computation's error and the ratio. `skipped` lists
 * what could not be checked and why; `self_checks` are deliberately wrong kernels the checker must
 * reject. The report only displays these; it never recomputes or re-judges them.
 */
import { readFileSync } from 'node:fs';

export const PARITY_FORMAT = 'sana-lab-parity/1';

export interface ParityRecord {
  op: string;
  backend: string;
  /** The native version checked (catalogue numbering); absent in older files. */
  version?: number;
  dtype: string;
  /** The shape as text, e.g. "[2, 1024, 1152]" or "B=2 N=1024 C=1152". */
  shape: string;
  rel: number | null;
  max_abs: number | null;
  /** max-abs / max|ref|. */
  max_rel?: number | null;
  /** Outputs that were NaN/Inf where the reference was finite. */
  non_finite?: number;
  /** bf16: the plain bf16 computation's relative error, and the kernel's error over it. */
  plain_rel?: number;
  ratio?: number;
  /** The rule it was held to, e.g. 1e-5 or "rel ≤ 2× plain bf16 (3.1e-3)". */
  tolerance: number | string | null;
  pass: boolean;
  note?: string;
}

/** An (op, backend, dtype) that was not checked, and why. op '*' = the whole backend. */
export interface ParitySkip {
  op: string;
  backend: string;
  dtype: string;
  reason: string;
}

/** A deliberately wrong kernel run through the checker; `rejected` must be true. */
export interface ParitySelfCheck {
  kernel: string;
  op: string;
  dtype: string;
  shape: string;
  rel: number | null;
  max_abs: number | null;
  rejected: boolean;
  reason: string;
}

export interface ParityFile {
  format: typeof PARITY_FORMAT;
  environment?: Record<string, unknown>;
  records: ParityRecord[];
  skipped?: ParitySkip[];
  self_checks?: ParitySelfCheck[];
}

function fail(where: string, msg: string): never {
  throw new TypeError(`parity results${where ? ` (${where})` : ''}: ${msg}`);
}

const numOrNull = (v: unknown) => v === null || (typeof v === 'number' && !Number.isNaN(v));
const optNum = (v: unknown) => v === undefined || numOrNull(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(o: Record<string, unknown>, keys: string[], at: string): void {
  for (const k of keys) if (typeof o[k] !== 'string') fail(at, `"${k}" must be a string`);
}

export function validateParity(json: unknown, where = ''): ParityFile {
  if (!isObj(json)) fail(where, 'not a JSON object');
  const j = json;
  if (j.format !== PARITY_FORMAT) fail(where, `format is "${String(j.format)}", expected "${PARITY_FORMAT}"`);
  if (!Array.isArray(j.records)) fail(where, '"records" must be an array');
  j.records.forEach((r: unknown, i: number) => {
    const at = `${where} records[${i}]`;
    if (!isObj(r)) fail(at, 'not an object');
    const o = r;
    strings(o, ['op', 'backend', 'dtype'], at);
    if (typeof o.shape !== 'string' && !Array.isArray(o.shape)) fail(at, '"shape" must be a string or an array');
    if (Array.isArray(o.shape)) o.shape = `[${o.shape.join(', ')}]`;
    if (!numOrNull(o.rel) || !numOrNull(o.max_abs)) fail(at, '"rel" and "max_abs" must be numbers or null');
    for (const k of ['version', 'max_rel', 'non_finite', 'plain_rel', 'ratio']) if (!optNum(o[k])) fail(at, `"${k}" must be a number when present`);
    if (typeof o.pass !== 'boolean') fail(at, '"pass" must be a boolean');
    if (o.tolerance === undefined) o.tolerance = null;
  });
  if (j.skipped !== undefined) {
    if (!Array.isArray(j.skipped)) fail(where, '"skipped" must be an array');
    j.skipped.forEach((s: unknown, i: number) => {
      if (!isObj(s)) fail(`${where} skipped[${i}]`, 'not an object');
      strings(s, ['op', 'backend', 'dtype', 'reason'], `${where} skipped[${i}]`);
    });
  }
  if (j.self_checks !== undefined) {
    if (!Array.isArray(j.self_checks)) fail(where, '"self_checks" must be an array');
    j.self_checks.forEach((s: unknown, i: number) => {
      const at = `${where} self_checks[${i}]`;
      if (!isObj(s)) fail(at, 'not an object');
      strings(s, ['kernel', 'op', 'dtype', 'shape', 'reason'], at);
      if (typeof s.rejected !== 'boolean') fail(at, '"rejected" must be a boolean');
    });
  }
  return j as unknown as ParityFile;
}

export function readParity(path: string): ParityFile {
  return validateParity(JSON.parse(readFileSync(path, 'utf8')), path);
}
