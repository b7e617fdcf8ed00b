import { describe, expect, it } from 'vitest';
import { formatDuration, Progress } from '../../bench/progress.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, s: { isTTY, write: (x: string) => out.push(x) } };
}

describe('progress bar', () => {
  it('formats durations', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3 * 3600 + 120)).toBe('3h02m');
    expect(formatDuration(NaN)).toBe('?');
  });

  it('estimates the time left from the finished weight', () => {
    let now = 0;
    const { out, s } = sink(false);
    const p = new Progress(3, s, [1, 1, 2], () => now);
    expect(p.eta()).toBeNull();
    now = 10_000; // first case (weight 1) took 10 s
    p.tick(0, 'a');
    expect(p.eta()).toBeCloseTo(30, 10); // 3 units of weight left at 10 s per unit
    now = 20_000;
    p.tick(1, 'b');
    expect(p.eta()).toBeCloseTo(20, 10);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^\[#{8}\.{16}\] 1\/3 10s elapsed, ETA 30s  a\n$/);
  });

  it('redraws one line on a terminal', () => {
    const { out, s } = sink(true);
    const p = new Progress(1, s, [], () => 0);
    p.begin('x');
    p.tick(0, 'done');
    p.finish();
    expect(out[0]!.startsWith('\r\x1b[K')).toBe(true);
    expect(out[1]).toContain('1/1');
    expect(out[2]).toBe('\n');
  });
});
