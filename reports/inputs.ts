/** Load the report's input files: bench results and parity results, told apart by their "format". */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RESULTS_FORMAT, validateResults, type BenchResultsFile } from '../bench/record.js';
import { PARITY_FORMAT, validateParity, type ParityFile } from './parity.js';

export interface BenchInput {
  kind: 'bench';
  /** A short name for tables and legends (the file's base name). */
  name: string;
  path: string;
  file: BenchResultsFile;
}

export interface ParityInput {
  kind: 'parity';
  name: string;
  path: string;
  file: ParityFile;
}

export type ReportInput = BenchInput | ParityInput;

export function loadInput(path: string): ReportInput {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`report: cannot read ${path}: ${(e as Error).message}`);
  }
  const format = (json as { format?: unknown } | null)?.format;
  const name = basename(path);
  if (format === RESULTS_FORMAT) return { kind: 'bench', name, path, file: validateResults(json, path) };
  if (format === PARITY_FORMAT) return { kind: 'parity', name, path, file: validateParity(json, path) };
  throw new TypeError(`report: ${path} has format "${String(format)}"; expected "${RESULTS_FORMAT}" (sana-lab bench) or "${PARITY_FORMAT}" (sana-lab parity)`);
}

export function loadInputs(paths: readonly string[]): ReportInput[] {
  if (paths.length === 0) throw new RangeError('report: no input files');
  return paths.map(loadInput);
}
