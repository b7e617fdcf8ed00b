/**
 * The arithmetic of the profile's queued-dispatch numbers (cuda): device busy time estimated from
 * per-op-synchronized op times minus one round trip per call, host overhead = queued step − busy; the
 * decode profile's warm-up.
 */
import { describe, expect, it } from 'vitest';
import { profileDecode, queuedOverhead } from '../../../bindings/models/profile-run.js';
import { DCAE_MID } from '../../../bench/parity/models.js';

describe('queuedOverhead', () => {
  it('device busy = synced op time − calls × round trip; overhead = queued step − busy', () => {
    // 300 calls × 20 µs = 6 ms of round trips inside 106 ms of synced op time → 100 ms busy.
    const r = queuedOverhead(104, 106, 300, 20);
    expect(r.gpuBusyMs).toBeCloseTo(100, 10);
    expect(r.hostOverheadMs).toBeCloseTo(4, 10);
    expect(r.share).toBeCloseTo(4 / 104, 12);
  });

  it('never negative: a queued step faster than the estimate means no measurable overhead', () => {
    expect(queuedOverhead(90, 106, 300, 20)).toEqual({ gpuBusyMs: 100, hostOverheadMs: 0, share: 0 });
    // A round-trip calibration larger than the op times (tiny ops) cannot make the device time negative.
    expect(queuedOverhead(5, 2, 300, 20)).toEqual({ gpuBusyMs: 0, hostOverheadMs: 5, share: 1 });
    expect(queuedOverhead(0, 0, 0, 20).share).toBe(0);
  });
});

describe('profileDecode', () => {
  it('times one decode after `warmup` untimed ones; the breakdown counts only the timed one', () => {
    // mid-size random DC-AE (bench/parity/models.ts), 64² image: a few hundred ms on the cpu backend
    const run = (warmup: number) => profileDecode({ config: DCAE_MID, backend: 'cpu', dtype: 'f32', width: 64, height: 64, warmup });
    const cold = run(0);
    const warm = run(1);
    expect(cold.warmup).toBe(0);
    expect(warm.warmup).toBe(1);
    const calls = (p: typeof cold) => Object.fromEntries(p.breakdown.map((e) => [e.name, e.calls]));
    expect(calls(warm)).toEqual(calls(cold));
    expect(warm.breakdown.find((e) => e.name === 'head.dcae-head')?.calls).toBe(1);
    expect(warm.ms).toBeGreaterThan(0);
    // the cpu default is no warm-up (a cpu decode is long and its code is warm)
    expect(profileDecode({ config: DCAE_MID, backend: 'cpu', dtype: 'f32', width: 64, height: 64 }).warmup).toBe(0);
  });
});
