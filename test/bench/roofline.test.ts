import { describe, expect, it } from 'vitest';
import { attainableFlops, findCeilings, ridgeIntensity, rooflineCurve, rooflinePoint, type Ceilings } from '../../bench/roofline.js';

// A made-up device: 100 GFLOP/s peak, 10 GB/s → ridge at 10 FLOP/B.
const dev = { peakFlops: 100e9, bandwidth: 10e9 };

describe('roofline', () => {
  it('attainable = min(peak, intensity × bandwidth), ridge = peak / bandwidth', () => {
    expect(ridgeIntensity(dev)).toBe(10);
    expect(attainableFlops(dev, 1)).toBe(10e9);
    expect(attainableFlops(dev, 10)).toBe(100e9);
    expect(attainableFlops(dev, 1000)).toBe(100e9);
  });

  it('a memory-bound run: 1 GFLOP over 1 GB in 0.2 s is 5 GB/s = 50% of the 10 GB/s roof', () => {
    const p = rooflinePoint(1e9, 1e9, 0.2, dev);
    expect(p.intensity).toBe(1);
    expect(p.achievedGflops).toBeCloseTo(5, 12);
    expect(p.achievedGBs).toBeCloseTo(5, 12);
    expect(p.attainableGflops).toBeCloseTo(10, 12);
    expect(p.pct).toBeCloseTo(50, 10);
    expect(p.bound).toBe('memory');
  });

  it('a compute-bound run: 100 GFLOP over 0.1 GB in 4 s is 25 GFLOP/s = 25% of peak', () => {
    const p = rooflinePoint(100e9, 0.1e9, 4, dev);
    expect(p.intensity).toBe(1000);
    expect(p.pct).toBeCloseTo(25, 10);
    expect(p.bound).toBe('compute');
  });

  it('rejects a zero or negative time', () => {
    expect(() => rooflinePoint(1, 1, 0, dev)).toThrow(RangeError);
    expect(() => rooflinePoint(1, 1, NaN, dev)).toThrow(RangeError);
  });

  it('finds ceilings by device and dtype, falling back to dtype "any"', () => {
    const base: Omit<Ceilings, 'device' | 'dtype'> = { ...dev, peakSource: 'x', bandwidthSource: 'y', measuredAt: '2026-01-01' };
    const list: Ceilings[] = [
      { ...base, device: 'gpu', dtype: 'bf16', peakFlops: 900e12 },
      { ...base, device: 'gpu', dtype: 'any' },
      { ...base, device: 'cpu', dtype: 'any' },
    ];
    expect(findCeilings(list, 'gpu', 'bf16')!.peakFlops).toBe(900e12);
    expect(findCeilings(list, 'gpu', 'f32')!.dtype).toBe('any');
    expect(findCeilings(list, 'tpu', 'f32')).toBeUndefined();
  });

  it('the plotted curve bends at the ridge', () => {
    const c = rooflineCurve(dev, 0.1, 1000);
    expect(c.x).toEqual([0.1, 10, 1000]);
    expect(c.yGflops).toEqual([1, 100, 100]);
  });
});
