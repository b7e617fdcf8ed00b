import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addonPath, loadAddon } from '../../bindings/addon.js';
import { CpuBackend } from '../../bindings/backend-cpu.js';
import { gemm, linearAttention } from '../../bindings/ops.js';
import { expectBits, input, poisoned } from './parity.js';

describe('the CPU thread pool', () => {
  const addon = loadAddon();

  it('defaults to SANA_LAB_THREADS when set (checked in a child process), else the hardware threads', () => {
    const threads = (env: Record<string, string>) =>
      Number(execFileSync(process.execPath, ['-e', 'console.log(require(process.argv[1]).cpuThreads())', addonPath()], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim());
    expect(threads({ SANA_LAB_THREADS: '3' })).toBe(3);
    expect(threads({ SANA_LAB_THREADS: '1' })).toBe(1);
    // An invalid value falls back to the hardware threads, and says so on stderr.
    expect(threads({ SANA_LAB_THREADS: 'many' })).toBe(addon.cpuInfo().threads);
    const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1]).cpuThreads()', addonPath()], { env: { ...process.env, SANA_LAB_THREADS: 'abc' }, encoding: 'utf8' });
    expect(r.stderr).toMatch(/\[sana-lab\] SANA_LAB_THREADS="abc" is not an integer >= 1: using \d+ threads \(the hardware's\)/);
  });

  it('can be resized at run time; results do not depend on the thread count', async () => {
    const be = new CpuBackend();
    const before = be.threads;
    const x = input([3, 70, 96], 1);
    const w = input([130, 96], 2);
    const q = input([2, 70, 64], 3);
    try {
      // Poisoned outputs: an element no thread writes stays NaN and fails expectBits.
      const run = async () => ({
        g: (await gemm(x.f32, w.f32, { out: poisoned([3, 70, 130], 'f32') })).toFloat32(),
        a: (await linearAttention(q.f32, q.f32, q.f32, { out: poisoned([2, 70, 64], 'f32') })).toFloat32(),
      });
      be.setThreads(1);
      expect(be.threads).toBe(1);
      const one = await run();
      be.setThreads(5);
      expect(be.threads).toBe(5);
      const five = await run();
      // Each output element is computed by exactly one thread in the same order: bit-identical.
      expectBits('gemm, 5 threads vs 1', five.g, one.g);
      expectBits('linear-attention, 5 threads vs 1', five.a, one.a);
    } finally {
      be.setThreads(before);
    }
    expect(() => be.setThreads(0)).toThrow(RangeError);
    expect(() => be.setThreads(1.5)).toThrow(RangeError);
  });
});
