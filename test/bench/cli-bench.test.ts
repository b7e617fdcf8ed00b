import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readResults } from '../../bench/record.js';
import { UsageError } from '../../cli/command.js';
import { benchCommand } from '../../cli/commands/bench.js';

afterEach(() => vi.restoreAllMocks());

describe('sana-lab bench', () => {
  it('runs the reference backend on a catalogue shape and writes the results file', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const out = join(mkdtempSync(join(tmpdir(), 'sana-bench-cli-')), 'sub', 'r.json');
    const code = await benchCommand.run([
      '--model', '0.6b', '--ops', 'gemm,layernorm-modulate', '--variant', 't-embed-1', '--res', '256', '--backend', 'reference,cuda',
      '--budget-s', '5', '--min-samples', '2', '--max-time-s', '0.02', '--no-ceilings', '--quiet', '--json', out,
    ]);
    expect(code).toBe(0);
    const file = readResults(out);
    expect(file.records.map((r) => `${r.op}:${r.variant} ${r.backend} ${r.status}`)).toEqual([
      'gemm:t-embed-1 reference ok',
      'gemm:t-embed-1 cuda unavailable',
      'layernorm-modulate: reference ok',
      'layernorm-modulate: cuda unavailable',
    ]);
    expect(file.environment.command).toMatch(/^sana-lab bench --model 0\.6b/);
    expect(log.mock.calls.flat().join('\n')).toMatch(/wrote 4 records/);
  });

  it('rejects bad arguments with a usage error', async () => {
    const run = (args: string[]) => benchCommand.run(args);
    await expect(run(['--ops', 'gemm'])).rejects.toThrow(/--json FILE is required/);
    await expect(run(['--json', 'x.json', '--model', '3b'])).rejects.toThrow(UsageError);
    await expect(run(['--json', 'x.json', '--model', '0.6b', '--ops', 'conv3x3'])).rejects.toThrow(/not part of model 0\.6b/);
    await expect(run(['--json', 'x.json', '--ops', 'gemmm'])).rejects.toThrow(/unknown op "gemmm"/);
    await expect(run(['--json', 'x.json', '--res', '1000'])).rejects.toThrow(/multiples of 32/);
    await expect(run(['--json', 'x.json', '--dtype', 'f16'])).rejects.toThrow(/f32 or bf16/);
    await expect(run(['--json', 'x.json', '--backend', 'tpu'])).rejects.toThrow(/unknown backend/);
    await expect(run(['--json', 'x.json', '--backend', 'reference', '--baseline', 'cpu'])).rejects.toThrow(/not among --backend/);
    await expect(run(['--json', 'x.json', '--budget-s', '-1'])).rejects.toThrow(/positive number/);
  });
});
