import { describe, expect, it } from 'vitest';
import { errorStats, withinTolerance } from '../../../reference/core/compare.js';
import { Rng, randn } from '../../../reference/core/random.js';
import { numel, Tensor } from '../../../reference/core/tensor.js';

describe('Tensor', () => {
  it('checks storage against shape and dtype', () => {
    expect(() => new Tensor([2, 3], 'f32', new Float32Array(5))).toThrow(/5 elements of storage for shape \[2, 3\]/);
    expect(() => new Tensor([2], 'f64', new Float32Array(2))).toThrow(/Float32Array cannot store dtype f64/);
    expect(() => new Tensor([-1], 'f32')).toThrow(/invalid dimension -1/);
  });

  it('counts 64-bit sizes exactly and rejects sizes past 2^53', () => {
    expect(numel([2, 128, 4096, 4096])).toBe(2 ** 32);
    expect(() => numel([2 ** 30, 2 ** 30, 2 ** 30])).toThrow(/more than 2\^53/);
  });

  it('reshapes with -1 and converts dtypes', () => {
    const t = Tensor.f32([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(t.reshape([3, -1]).shape).toEqual([3, 2]);
    expect(() => t.reshape([4, -1])).toThrow(/cannot reshape/);
    expect(Array.from(t.to('bf16').toFloat32())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(t.to('f16').to('f64').data as Float64Array)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(t.to('i64').data as BigInt64Array)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
  });
});

describe('seeded random', () => {
  it('is reproducible and seed-dependent', () => {
    expect(Array.from(randn([8], 5).data as Float32Array)).toEqual(Array.from(randn([8], 5).data as Float32Array));
    expect(Array.from(randn([8], 5).data as Float32Array)).not.toEqual(Array.from(randn([8], 6).data as Float32Array));
  });

  it('has the right moments', () => {
    const rng = new Rng(3);
    let s = 0;
    let s2 = 0;
    let u = 0;
    const n = 200000;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      s += x;
      s2 += x * x;
      u += rng.uniform();
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
    expect(Math.abs(u / n - 0.5)).toBeLessThan(0.005);
  });
});

describe('errorStats', () => {
  it('measures relative and max-abs error and flags NaN', () => {
    const s = errorStats([1, 2, 2], [1, 2, 3]);
    expect(s.maxAbs).toBe(1);
    expect(s.rel).toBeCloseTo(1 / Math.sqrt(14), 12);
    expect(withinTolerance(s, { rel: 0.3 })).toBe(true);
    expect(withinTolerance(s, { rel: 0.2 })).toBe(false);
    const n = errorStats([1, NaN], [1, 2]);
    expect(n.nonFinite).toBe(1);
    expect(withinTolerance(n, { rel: 1e9, maxAbs: 1e9 })).toBe(false);
  });

  // Many tests assert only rel/maxRel/maxAbs: a NaN/Inf anywhere must make all three infinite.
  it('reports infinite rel, maxRel and maxAbs when out or ref holds NaN/Inf', () => {
    const ref = [1, 2, 3, 4];
    const cases: [string, number[], number[], number, number][] = [
      ['all-NaN output', [NaN, NaN, NaN, NaN], ref, 4, 0],
      ['one NaN output', [1, 2, NaN, 4], ref, 1, 0],
      ['+Inf output', [1, Infinity, 3, 4], ref, 1, 0],
      ['-Inf output', [1, 2, 3, -Infinity], ref, 1, 0],
      ['NaN in the reference', [1, 2, 3, 4], [1, NaN, 3, 4], 1, 1],
      ['NaN in both', [1, NaN, 3, 4], [1, NaN, 3, 4], 1, 1],
    ];
    for (const [label, out, r, nonFinite, refNonFinite] of cases) {
      const s = errorStats(out, r);
      expect(s, label).toMatchObject({ rel: Infinity, maxRel: Infinity, maxAbs: Infinity, nonFinite, refNonFinite, n: 4 });
      expect(s.rel <= 1e-3 || s.maxRel <= 1e-3 || s.maxAbs <= 1e-3, label).toBe(false);
      expect(withinTolerance(s, { rel: 1e9, maxRel: 1e9, maxAbs: 1e9 }), label).toBe(false);
    }
    // Finite everywhere: the norms are ordinary numbers again.
    expect(errorStats([1, 2, 3, 4], ref)).toMatchObject({ rel: 0, maxRel: 0, maxAbs: 0, nonFinite: 0, refNonFinite: 0 });
  });
});
