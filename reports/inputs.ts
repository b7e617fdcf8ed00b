/**
 * Load the report's input files, told apart by their "format" (or "schema"): bench results, parity
 * results, and whole-model profiles (one `sana-lab profile --json` report or a merged file of them).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { RESULTS_FORMAT, validateResults, type BenchResultsFile } from '../bench/record.js';
import { PARITY_FORMAT, validateParity, type ParityFile } from './parity.js';
import { PROFILE_FORMAT, PROFILES_SCHEMA, profileKind, validateProfile, validateProfiles, type ProfileReport } from './profile-input.js';

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

export interface ProfileInput {
  kind: 'profile';
  name: string;
  path: string;
  /** One report, or every entry of a merged file (each with its `name`). */
  profiles: ProfileReport[];
}

export type ReportInput = BenchInput | ParityInput | ProfileInput;

export function loadInput(path: string): ReportInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`report: cannot read ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // V8's message quotes the bytes it met (NULs and all, for a binary file): keep one short printable line.
    const why = (e as Error).message.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?');
    throw new Error(`report: cannot read ${path}: it is not JSON (${why.length > 120 ? `${why.slice(0, 120)}…` : why})`);
  }
  const format = (json as { format?: unknown } | null)?.format;
  const name = basename(path);
  if (format === RESULTS_FORMAT) return { kind: 'bench', name, path, file: validateResults(json, path) };
  if (format === PARITY_FORMAT) return { kind: 'parity', name, path, file: validateParity(json, path) };
  const profile = profileKind(json);
  if (profile === 'profile') return { kind: 'profile', name, path, profiles: [validateProfile(json, path)] };
  if (profile === 'profiles') return { kind: 'profile', name, path, profiles: validateProfiles(json, path) };
  throw new TypeError(
    `report: ${path} has format "${String(format)}"; expected "${RESULTS_FORMAT}" (sana-lab bench), "${PARITY_FORMAT}" (sana-lab parity), ` +
      `"${PROFILE_FORMAT}" (sana-lab profile) or schema "${PROFILES_SCHEMA}" (bench/gpu/models.sh)`,
  );
}

export function loadInputs(paths: readonly string[]): ReportInput[] {
  if (paths.length === 0) throw new RangeError('report: no input files');
  return paths.map(loadInput);
}
