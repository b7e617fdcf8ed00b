/**
 * The parity results the report reads (written by `sana-lab parity --json FILE`).
 *
 * Format "sana-lab-parity/1": { format, environment?, records: ParityRecord[] } where each record is
 * one op × shape × dtype × backend check against the TS reference: relative error ‖out−ref‖/‖ref‖,
 * max-abs error, the tolerance it was held to and whether it passed. The report only displays these;
 * it never recomputes or re-judges them.
 */
import { readFileSync } from 'node:fs';

export const PARITY_FORMAT = 'sana-lab-parity/1';

export interface ParityRecord {
  op: string;
  backend: string;
  dtype: string;
  /** The shape as text, e.g. "[2, 1024, 1152]" or "B=2 N=1024 C=1152". */
  shape: string;
  rel: number | null;
  max_abs: number | null;
  /** The rule it was held to, e.g. 1e-5 or "≤ 2× plain bf16 (3.1e-3)". */
  tolerance: number | string | null;
  pass: boolean;
  note?: string;
}

export interface ParityFile {
  format: typeof PARITY_FORMAT;
  environment?: Record<string, unknown>;
  records: ParityRecord[];
}

function fail(where: string, msg: string): never {
  throw new TypeError(`parity results${where ? ` (${where})` : ''}: ${msg}`);
}

const numOrNull = (v: unknown) => v === null || (typeof v === 'number' && !Number.isNaN(v));

export function validateParity(json: unknown, where = ''): ParityFile {
  if (typeof json !== 'object' || json === null) fail(where, 'not a JSON object');
  const j = json as Record<string, unknown>;
  if (j.format !== PARITY_FORMAT) fail(where, `format is "${String(j.format)}", expected "${PARITY_FORMAT}"`);
  if (!Array.isArray(j.records)) fail(where, '"records" must be an array');
  j.records.forEach((r: unknown, i: number) => {
    const at = `${where} records[${i}]`;
    if (typeof r !== 'object' || r === null) fail(at, 'not an object');
    const o = r as Record<string, unknown>;
    for (const k of ['op', 'backend', 'dtype']) if (typeof o[k] !== 'string') fail(at, `"${k}" must be a string`);
    if (typeof o.shape !== 'string' && !Array.isArray(o.shape)) fail(at, '"shape" must be a string or an array');
    if (Array.isArray(o.shape)) o.shape = `[${o.shape.join(', ')}]`;
    if (!numOrNull(o.rel) || !numOrNull(o.max_abs)) fail(at, '"rel" and "max_abs" must be numbers or null');
    if (typeof o.pass !== 'boolean') fail(at, '"pass" must be a boolean');
    if (o.tolerance === undefined) o.tolerance = null;
  });
  return j as unknown as ParityFile;
}

export function readParity(path: string): ParityFile {
  return validateParity(JSON.parse(readFileSync(path, 'utf8')), path);
}
