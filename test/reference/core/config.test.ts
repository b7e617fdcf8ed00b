import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, ConfigReader, loadConfig, parsePythonJson } from '../../../reference/core/config.js';

const dir = mkdtempSync(join(tmpdir(), 'sana-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('config.json loading', () => {
  it('accepts Python json tokens outside strings and leaves strings alone', () => {
    const v = parsePythonJson('{"a": -Infinity, "b": [Infinity, NaN], "s": "-Infinity NaN", "e": "q\\"-Infinity"}') as Record<string, unknown>;
    expect(v.a).toBe(-Infinity);
    expect((v.b as number[])[0]).toBe(Infinity);
    expect(Number.isNaN((v.b as number[])[1])).toBe(true);
    expect(v.s).toBe('-Infinity NaN');
    expect(v.e).toBe('q"-Infinity');
  });

  it('rejects non-JSON and non-object configs naming the file', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"a": 1,');
    expect(() => loadConfig(bad)).toThrow(ConfigError);
    expect(() => loadConfig(bad)).toThrow(new RegExp(`config ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
    const arr = join(dir, 'arr.json');
    writeFileSync(arr, '[1, 2]');
    expect(() => loadConfig(arr)).toThrow(/not a JSON object/);
    expect(() => loadConfig(join(dir, 'none.json'))).toThrow(/cannot read/);
  });

  it('ConfigReader gives typed access with clear errors', () => {
    const r = new ConfigReader('cfg', { n: 3, x: 1.5, s: 'a', b: true, l: [1, 2], bad: 'x', nul: null });
    expect(r.int('n')).toBe(3);
    expect(r.num('x')).toBe(1.5);
    expect(r.str('s')).toBe('a');
    expect(r.bool('b')).toBe(true);
    expect(r.intList('l')).toEqual([1, 2]);
    expect(r.int('missing', 7)).toBe(7);
    expect(r.optional('nul', (c, k) => c.int(k))).toBeNull();
    expect(() => r.int('x')).toThrow(/"x" must be an integer, got 1.5/);
    expect(() => r.int('bad')).toThrow(/"bad" must be an integer/);
    expect(() => r.str('missing')).toThrow(/missing required field "missing"/);
    expect(() => r.intList('s')).toThrow(/list of integers/);
  });
});
