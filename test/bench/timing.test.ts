import { describe, expect, it } from 'vitest';
import { budgetPrecheck, percentile, summarize, timeHost, timeWithBudget, timingFromSamples } from '../../bench/timing.js';

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin */
  }
}

describe('percentiles and summaries', () => {
  it('interpolate linearly between order statistics (numpy default)', () => {
    const v = [5, 1, 4, 2, 3];
    expect(percentile(v, 0.5)).toBe(3);
    expect(percentile(v, 0.2)).toBeCloseTo(1.8, 12); // position 0.8 between 1 and 2
    expect(percentile(v, 0.8)).toBeCloseTo(4.2, 12);
    expect(percentile(v, 0)).toBe(1);
    expect(percentile(v, 1)).toBe(5);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([7], 0.2)).toBe(7);
  });

  it('reject empty input, bad quantiles and non-finite values', () => {
    expect(() => percentile([], 0.5)).toThrow(RangeError);
    expect(() => percentile([1], 1.5)).toThrow(RangeError);
    expect(() => percentile([1, NaN], 0.5)).toThrow(RangeError);
  });

  it('summarize gives median, p20, p80, mean, min, max', () => {
    expect(summarize([10, 20, 30, 40, 50])).toEqual({ n: 5, median: 30, p20: 18, p80: 42, mean: 30, min: 10, max: 50 });
    const t = timingFromSamples([3, 1, 2], 'cuda-events');
    expect([t.p20Ms, t.medianMs, t.p80Ms]).toEqual([1.4, 2, 2.6]);
    expect(t.rmePct).toBeNull();
  });
});

describe('benchmark.js host timing', () => {
  it('times a sync function and reports its statistics', async () => {
    let calls = 0;
    const t = await timeHost(() => {
      calls++;
      busyWait(0.2);
    }, false, { minSamples: 5, maxTimeS: 0.05 });
    expect(t.timer).toBe('benchmark.js');
    expect(t.samplesMs.length).toBeGreaterThanOrEqual(5);
    expect(calls).toBeGreaterThanOrEqual(t.samplesMs.length); // ≥ 1 call per sample (benchmark.js may change the count between cycles)
    expect(t.p20Ms).toBeLessThanOrEqual(t.medianMs);
    expect(t.medianMs).toBeLessThanOrEqual(t.p80Ms);
    expect(t.medianMs).toBeGreaterThan(0.1); // ≥ the 0.2 ms busy wait, with slack for clock granularity
    expect(t.rmePct).not.toBeNull();
  });

  it('awaits async functions (deferred benchmarks)', async () => {
    // yields to the event loop, then works 1 ms: a deferred benchmark must wait for both
    const run = () => new Promise<void>((r) => setImmediate(r)).then(() => busyWait(1));
    const t = await timeHost(run, true, { minSamples: 3, maxTimeS: 0.05 });
    expect(t.samplesMs.length).toBeGreaterThanOrEqual(3);
    expect(t.medianMs).toBeGreaterThanOrEqual(1);
  });

  it('rejects when the function throws', async () => {
    await expect(timeHost(() => { throw new Error('boom'); }, false, { minSamples: 2, maxTimeS: 0.01 })).rejects.toThrow(/boom/);
    await expect(timeHost(() => Promise.reject(new Error('async boom')), true, { minSamples: 2, maxTimeS: 0.01 })).rejects.toThrow(/async boom/);
  });
});

describe('the time budget', () => {
  it('skips without running when the estimate does not fit', async () => {
    let calls = 0;
    const r = await timeWithBudget(() => void calls++, { budgetMs: 100, estimateMs: 50, minSamples: 5 });
    expect(r.status).toBe('skipped: budget');
    expect(calls).toBe(0);
    if (r.status !== 'ok') expect(r.reason).toMatch(/estimated 50 ms per call × \(1 warm-up \+ 5 samples\) exceeds the 100 ms budget/);
    expect(budgetPrecheck(10, 100, 5)).toBeNull();
    expect(budgetPrecheck(undefined, 100, 5)).toBeNull();
  });

  it('skips after the warm-up when the measured call does not fit', async () => {
    let calls = 0;
    const r = await timeWithBudget(() => {
      calls++;
      busyWait(30);
    }, { budgetMs: 60, minSamples: 3 });
    expect(r.status).toBe('skipped: budget');
    expect(calls).toBe(1);
    expect(r.warmupMs).toBeGreaterThanOrEqual(29);
  });

  it('times a call that fits', async () => {
    const r = await timeWithBudget(() => busyWait(0.1), { budgetMs: 2000, estimateMs: 0.1, minSamples: 3, maxTimeS: 0.05 });
    expect(r.status).toBe('ok');
    if (r.status === 'ok') expect(r.timing.samplesMs.length).toBeGreaterThanOrEqual(3);
  });
});
