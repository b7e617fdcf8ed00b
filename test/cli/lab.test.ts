import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { labCommand } from '../../cli/commands/lab.js';
import { readResults } from '../../bench/record.js';
import { readParity } from '../../reports/parity.js';
import { PROFILE_FORMAT, validateProfiles } from '../../reports/profile-input.js';

const readProfiles = (path: string) => validateProfiles(JSON.parse(readFileSync(path, 'utf8')), path);

afterEach(() => vi.restoreAllMocks());

describe('sana-lab lab --quick (end to end)', () => {
  it('runs every step — environment, golden, conversion, parity, bench, profile, report — and writes the report and its JSON', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sana-lab-quick-'));
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const t0 = performance.now();
    const code = await labCommand.run(['--quick', '--out', out, '--json']);
    const seconds = (performance.now() - t0) / 1e3;
    const progress = err.mock.calls.flat().join('\n');
    expect(code, progress).toBe(0);
    expect(seconds).toBeLessThan(45);

    for (const step of ['environment', 'golden files', 'native bf16 conversion', 'parity', 'bench', 'profile', 'report']) expect(progress).toMatch(new RegExp(`\\[lab \\d/7\\] (ok|skipped) +${step}`));
    // stdout holds only the JSON: the profile's printout went to stderr
    const steps = (JSON.parse(log.mock.calls.flat().join('\n')) as { steps: { step: string; status: string }[] }).steps;
    expect(steps.map((s) => s.step)).toEqual(['golden files', 'native bf16 conversion', 'parity', 'bench', 'profile', 'report']);
    expect(progress).toMatch(/\[lab\] profile 1\/1: sana-lab profile --model 0\.6b --blocks 1 --block-mode dit-block --width 256 --height 256 --backend cpu/);
    expect(progress).toMatch(/profile: sana-0\.6b \(random weights\), 256×256, f32, cpu/);

    const parity = readParity(join(out, 'lab-parity.json'));
    expect(parity.records.length).toBeGreaterThan(10);
    expect(parity.records.every((r) => r.pass)).toBe(true);
    const bench = readResults(join(out, 'lab-bench.json'));
    const timed = bench.records.filter((r) => r.status === 'ok');
    expect(new Set(timed.map((r) => r.backend))).toEqual(new Set(['reference', 'cpu']));
    expect(bench.baselines).toEqual(['reference']);
    expect(bench.ceilings[0]!.fmaPeakFlops!).toBeGreaterThan(0);
    expect(bench.ceilings[0]!.peakSource).toMatch(/native cpu gemm/);

    const profiles = readProfiles(join(out, 'lab-profiles.json'));
    expect(profiles.map((p) => [p.name, p.format, p.backend, p.blocks.run, p.blocks.extrapolated])).toEqual([['p-cpu-256', PROFILE_FORMAT, 'cpu', 1, true]]);
    expect(profiles[0]!.step_ms).toBeGreaterThan(0);

    const md = readFileSync(join(out, 'lab.md'), 'utf8');
    expect(md).toMatch(/\| lab-profiles\.json › p-cpu-256 \| sana-0\.6b \| cpu \| .+ \| f32 \| dit-block \| 256 \| 1\/28 \(extrapolated\) \|/);
    expect(md).toMatch(/## Speed-ups against the baselines of the same run/);
    expect(md).toMatch(/\| lab-bench\.json \| linear-attention \| 0\.6b \| 256 \| 2 \| f32 \| reference \(.+\) \| cpu v2 \(.+\) \|/);
    expect(md).toMatch(/checks pass/);
    expect(existsSync(join(out, 'lab.html'))).toBe(true);
    expect(progress).toMatch(/\[lab\] report: .*lab\.html/);
    // the lab checks its own report: the resolution it measured, every chart it asked for has data
    expect(progress).toMatch(
      /\[lab 7\/7\] ok +report: 1 resolution\(s\) \(256\); charts: 3 throughput, 1 roofline, 2 DiT block, 2 DiT step, 0 DC-AE decode; whole model: 1 step, 1 images\/s, 1 breakdown, 0 decode, 0 decode breakdown, 1 host overhead, 1 memory; every chart has data/,
    );
    expect(existsSync(join(out, 'lab.png'))).toBe(false); // --quick takes no screenshot
  }, 60_000);

  it('rejects unknown options', async () => {
    await expect(labCommand.run(['--fast'])).rejects.toThrow(/unknown option --fast/);
    await expect(labCommand.run(['--budget-s', '-3'])).rejects.toThrow(/positive number/);
    await expect(labCommand.run(['--res', '256,big'])).rejects.toThrow(/--res: resolution: "big" is not N or HxW/);
    await expect(labCommand.run(['--backends', 'cpu,tensorflow'])).rejects.toThrow(/--backends: unknown backend "tensorflow"/);
    await expect(labCommand.run(['--png', '--no-png'])).rejects.toThrow(/contradict/);
    await expect(labCommand.run(['--min-samples', '0'])).rejects.toThrow(/--min-samples must be an integer >= 1/);
    await expect(labCommand.run(['--profile-res', '250'])).rejects.toThrow(/--profile-res: resolution: "250"/);
  });

  it('--png without Chromium is a usage error before any step runs', async () => {
    const saved = process.env.SANA_LAB_CHROMIUM;
    process.env.SANA_LAB_CHROMIUM = '/nonexistent/chrome';
    try {
      await expect(labCommand.run(['--png', '--quick'])).rejects.toThrow(/^lab: --png needs Chromium .* none was found/);
    } finally {
      if (saved === undefined) delete process.env.SANA_LAB_CHROMIUM;
      else process.env.SANA_LAB_CHROMIUM = saved;
    }
  });
});
