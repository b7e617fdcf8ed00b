/** `sana-lab schedule` (cli/commands/schedule.ts), run in-process with stdout captured. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { scheduleCommand } from '../../../cli/commands/schedule.js';
import { UsageError } from '../../../cli/command.js';
import { goldenAvailable, goldenPath, readSafetensors } from '../../../reference/core/index.js';

async function runCapture(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  try {
    const code = await scheduleCommand.run(argv);
    return { code, out };
  } finally {
    spy.mockRestore();
  }
}

/** A scheduler config as diffusers writes it (Python's bare -Infinity included). */
function writeDpmConfig(shift: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'sana-schedule-'));
  const path = join(dir, 'scheduler_config.json');
  writeFileSync(
    path,
    `{"_class_name": "DPMSolverMultistepScheduler", "flow_shift": ${shift}, "lambda_min_clipped": -Infinity,
      "prediction_type": "flow_prediction", "use_flow_sigmas": true, "solver_order": 2}`,
  );
  return path;
}

describe('sana-lab schedule', () => {
  afterEach(() => vi.restoreAllMocks());

  it('--json prints the timesteps and N+1 sigmas', async () => {
    const { code, out } = await runCapture(['--config', writeDpmConfig(3), '--steps', '20', '--json']);
    expect(code).toBe(0);
    const j = JSON.parse(out) as { timesteps: number[]; sigmas: number[] };
    expect(j.timesteps).toEqual([999, 982, 963, 944, 922, 899, 874, 847, 817, 785, 749, 710, 666, 617, 562, 499, 428, 345, 249, 136]);
    expect(j.sigmas.length).toBe(21);
    expect(j.sigmas[20]).toBe(0);
    expect(j.sigmas.every((s) => Math.fround(s) === s)).toBe(true); // the float32 values, exactly
  });

  it.skipIf(!goldenAvailable())('matches the golden schedules for both scheduler configs', async () => {
    for (const name of ['scheduler_flow_dpm_public', 'scheduler_flow_euler_public']) {
      const { code, out } = await runCapture(['--config', goldenPath(`${name}.config.json`), '--steps=20', '--json']);
      expect(code).toBe(0);
      const j = JSON.parse(out) as { timesteps: number[]; sigmas: number[] };
      const io = readSafetensors(goldenPath(`${name}.io.safetensors`)).tensors;
      expect(j.timesteps, name).toEqual(Array.from(io.get('timesteps')!.toFloat64()));
      expect(j.sigmas, name).toEqual(Array.from(io.get('sigmas')!.toFloat64()));
    }
  });

  it('prints a readable table without --json', async () => {
    const { code, out } = await runCapture(['--config', writeDpmConfig(4), '--steps', '3']);
    expect(code).toBe(0);
    expect(out).toMatch(/FlowDPMSolverMultistepScheduler, shift 4, 3 steps/);
    const rows = out.trim().split('\n').slice(3);
    expect(rows.length).toBe(4);
    expect(rows[0]).toMatch(/^\s+0\s+999\s+999\s+0\.9997498\d$/);
    expect(rows[3]).toMatch(/^\s+3\s+—\s+—\s+0\.00000000$/);
  });

  it('usage errors are UsageErrors; bad configs throw a clear error', async () => {
    await expect(runCapture([])).rejects.toThrow(UsageError);
    await expect(runCapture(['--config', writeDpmConfig(3), '--steps', '0'])).rejects.toThrow(/--steps must be an integer >= 1/);
    await expect(runCapture(['--config', writeDpmConfig(3), '--bogus'])).rejects.toThrow(/unknown option --bogus/);
    await expect(runCapture(['--config', '/nonexistent/scheduler_config.json'])).rejects.toThrow(/cannot read/);
    const dir = mkdtempSync(join(tmpdir(), 'sana-schedule-'));
    writeFileSync(join(dir, 'c.json'), '{"_class_name": "PNDMScheduler"}');
    await expect(runCapture(['--config', join(dir, 'c.json')])).rejects.toThrow(/PNDMScheduler.*supported/);
  });
});
