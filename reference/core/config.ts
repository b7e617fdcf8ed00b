/**
 * diffusers / Hugging Face `config.json` loading.
 *
 * Python's json module writes the non-standard tokens `Infinity`, `-Infinity` and `NaN` (diffusers'
 * scheduler configs contain `"lambda_min_clipped": -Infinity`), which JSON.parse rejects. We rewrite
 * those bare tokens (never inside strings) to sentinel strings and turn them back into numbers.
 */
import { readFileSync, statSync } from 'node:fs';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`config ${source}: ${problem}`);
    this.name = 'ConfigError';
  }
}

const SENTINELS: Readonly<Record<string, number>> = {
  '\u0000-Infinity': -Infinity,
  '\u0000Infinity': Infinity,
  '\u0000NaN': NaN,
};

/** Parse Python-flavoured JSON (bare Infinity / -Infinity / NaN allowed outside strings). */
export function parsePythonJson(text: string, source = '<string>'): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      // Copy the whole string literal, honouring escapes.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const token = ['-Infinity', 'Infinity', 'NaN'].find((t) => text.startsWith(t, i));
    if (token !== undefined) {
      out += JSON.stringify('\u0000' + token);
      i += token.length;
      continue;
    }
    out += c;
    i++;
  }
  try {
    return JSON.parse(out, (_k, v: unknown) => (typeof v === 'string' && v in SENTINELS ? SENTINELS[v] : v));
  } catch (e) {
    throw new ConfigError(source, `not valid JSON: ${(e as Error).message}`);
  }
}

/** Read a config.json as a plain object. */
export function loadConfig(path: string): Record<string, unknown> {
  let text: string;
  try {
    // Only regular files: a FIFO or device would block the read (and a directory says only EISDIR).
    const st = statSync(path);
    if (!st.isFile()) throw new Error(`not a regular file (${st.isDirectory() ? 'a directory' : 'a device, FIFO or socket'})`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, `cannot read: ${(e as Error).message}`);
  }
  const v = parsePythonJson(text, path);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(path, 'top level is not a JSON object');
  return v as Record<string, unknown>;
}

/** Typed field access with clear errors, for model constructors reading configs. */
export class ConfigReader {
  constructor(
    readonly source: string,
    readonly raw: Readonly<Record<string, unknown>>,
  ) {}

  private get(key: string, fallback: unknown): unknown {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) throw new ConfigError(this.source, `missing required field "${key}"`);
      return fallback;
    }
    return v;
  }

  int(key: string, fallback?: number): number {
    const v = this.get(key, fallback);
    if (!Number.isSafeInteger(v)) throw new ConfigError(this.source, `"${key}" must be an integer, got ${JSON.stringify(v)}`);
    return v as number;
  }

  num(key: string, fallback?: number): number {
    const v = this.get(key, fallback);
    if (typeof v !== 'number') throw new ConfigError(this.source, `"${key}" must be a number, got ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.get(key, fallback);
    if (typeof v !== 'string') throw new ConfigError(this.source, `"${key}" must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(key: string, fallback?: boolean): boolean {
    const v = this.get(key, fallback);
    if (typeof v !== 'boolean') throw new ConfigError(this.source, `"${key}" must be a boolean, got ${JSON.stringify(v)}`);
    return v;
  }

  /** An optional value: null/undefined → null. */
  optional<T>(key: string, read: (r: ConfigReader, key: string) => T): T | null {
    const v = this.raw[key];
    return v === undefined || v === null ? null : read(this, key);
  }

  intList(key: string, fallback?: number[]): number[] {
    const v = this.get(key, fallback);
    if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x))) {
      throw new ConfigError(this.source, `"${key}" must be a list of integers, got ${JSON.stringify(v)}`);
    }
    return v as number[];
  }

  strList(key: string, fallback?: string[]): string[] {
    const v = this.get(key, fallback);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new ConfigError(this.source, `"${key}" must be a list of strings, got ${JSON.stringify(v)}`);
    }
    return v as string[];
  }
}
