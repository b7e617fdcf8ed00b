import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../cli/command.js';
import { parityCommand } from '../../cli/commands/parity.js';
import { readParity } from '../../reports/parity.js';

afterEach(() => vi.restoreAllMocks());

const dir = mkdtempSync(join(tmpdir(), 'sana-parity-cli-'));

describe('sana-lab parity', () => {
  it('checks a tiny scope on every available backend, prints a table and writes sana-lab-parity/1 JSON', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const out = join(dir, 'sub', 'parity.json');
    const code = await parityCommand.run(['--ops', 'gemm,mix-ffn,dcae-downsample', '--max-shapes', '1', '--json', out]);
    expect(code).toBe(0);
    const f = readParity(out);
    expect(JSON.parse(readFileSync(out, 'utf8')).format).toBe('sana-lab-parity/1');
    expect(f.records.map((r) => `${r.op} ${r.backend} ${r.dtype} ${r.pass}`)).toEqual([
      'gemm cpu f32 true',
      'gemm cpu bf16 true',
      'mix-ffn cpu f32 true',
      'mix-ffn cpu bf16 true',
    ]);
    expect(f.records.every((r) => r.rel !== null && r.max_abs !== null && typeof r.tolerance === 'string')).toBe(true);
    expect(f.skipped!.map((s) => `${s.op} ${s.backend}`)).toContain('dcae-downsample cpu');
    expect(f.self_checks!.length).toBeGreaterThan(0);
    expect(f.self_checks!.every((s) => s.rejected)).toBe(true);
    expect(f.environment!.cpu_model).toEqual(expect.any(String));
    const printed = log.mock.calls.flat().join('\n');
    expect(printed).toMatch(/gemm +cpu v1 +f32 .* pass/);
    expect(printed).toMatch(/4 of 4 checks pass/);
    expect(err.mock.calls.flat().join('\n')).toMatch(/\[parity\] pass mix-ffn cpu v1 bf16/);
  });

  it('rejects bad arguments with usage errors', async () => {
    const run = (args: string[]) => parityCommand.run(args);
    await expect(run(['--ops', 'gemm'])).rejects.toThrow(/--json FILE is required/);
    await expect(run(['--json', 'x.json', '--ops', 'gemmm'])).rejects.toThrow(/unknown op "gemmm"/);
    await expect(run(['--json', 'x.json', '--backend', 'reference'])).rejects.toThrow(UsageError);
    await expect(run(['--json', 'x.json', '--dtype', 'f16'])).rejects.toThrow(/f32 or bf16/);
    await expect(run(['--json', 'x.json', '--max-shapes', '0'])).rejects.toThrow(/max-shapes/);
  });
});
