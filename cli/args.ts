/**
 * A small, strict argument parser: `--flag`, `--key value`, `--key=value`, repeated keys, positionals.
 * Unknown options are errors (a typo must not silently fall back to a default).
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from './command.js';

export interface OptionSpec {
  /** 'flag' takes no value; 'string' takes one; 'list' takes one and may repeat or be comma separated. */
  type: 'flag' | 'string' | 'list';
}

export interface ParsedArgs {
  flags: Set<string>;
  values: Map<string, string>;
  lists: Map<string, string[]>;
  positionals: string[];
}

export function parseArgs(command: string, argv: string[], spec: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  const out: ParsedArgs = { flags: new Set(), values: new Map(), lists: new Map(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = a.slice(2, eq === -1 ? undefined : eq);
    const s = spec[key];
    if (s === undefined) throw new UsageError(`${command}: unknown option --${key} (see sana-lab ${command} --help)`);
    if (s.type === 'flag') {
      if (eq !== -1) throw new UsageError(`${command}: --${key} takes no value`);
      out.flags.add(key);
      continue;
    }
    let value: string;
    if (eq !== -1) value = a.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${command}: --${key} needs a value`);
      value = next;
      i++;
    }
    if (s.type === 'string') out.values.set(key, value);
    else out.lists.set(key, [...(out.lists.get(key) ?? []), ...value.split(',').filter((v) => v !== '')]);
  }
  return out;
}

/** Parse an integer option in [min, max] or throw a UsageError naming it. */
export function intOption(command: string, name: string, value: string | undefined, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `>= ${min} and <= ${max}`;
    throw new UsageError(`${command}: --${name} must be an integer ${range}, got "${value}"`);
  }
  return n;
}

/** Most sampling steps a command accepts: more is no schedule anyone runs, and 10^9 would look like a hang. */
export const MAX_STEPS = 10_000;

/** An input file or folder the user named must exist: a missing one is a usage error (exit 2), as a typo in a flag is. */
export function existingPath(command: string, name: string, path: string): string {
  if (!existsSync(path)) throw new UsageError(`${command}: --${name} ${path} does not exist`);
  return path;
}

/** The nearest existing folder above `path` must be a writable directory (not a file in the way of mkdir -p). */
function checkParents(command: string, name: string, path: string): void {
  for (let d = dirname(path); ; d = dirname(d)) {
    if (existsSync(d)) {
      if (!statSync(d).isDirectory()) throw new UsageError(`${command}: --${name} ${path}: ${d} is not a directory`);
      try {
        accessSync(d, constants.W_OK);
      } catch {
        throw new UsageError(`${command}: --${name} ${path}: ${d} is not writable`);
      }
      return;
    }
    if (dirname(d) === d) return;
  }
}

/**
 * An output file the command will write: checked before any work, so that a directory, or a parent
 * that is a file, is one line up front instead of an EISDIR/ENOTDIR after minutes of compute.
 */
export function outputFile(command: string, name: string, path: string): string {
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`${command}: --${name} ${path} is a directory; give a file name`);
  checkParents(command, name, path);
  // the missing folders are created now (mkdir -p), so that every command writes where it was told
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    throw new UsageError(`${command}: --${name} ${path}: cannot create its folder (${(e as Error).message})`);
  }
  return path;
}

/** An output folder the command will create or write into: an existing file there is a usage error. */
export function outputDir(command: string, name: string, path: string): string {
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) throw new UsageError(`${command}: --${name} ${path} exists and is not a directory`);
  } else checkParents(command, name, path);
  return path;
}
