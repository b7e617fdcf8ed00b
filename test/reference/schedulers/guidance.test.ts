import { describe, expect, it } from 'vitest';
import { errorStats, randn, Tensor } from '../../../reference/core/index.js';
import { cfgCombine, cfgCombineBatch, modelTimestep } from '../../../reference/schedulers/index.js';
import { linspace } from '../../../reference/schedulers/numeric.js';

describe('classifier-free guidance', () => {
  const u = randn([2, 4, 3, 3], 1).data as Float32Array;
  const c = randn([2, 4, 3, 3], 2).data as Float32Array;

  it('v = v_u + g·(v_c − v_u) in float32', () => {
    const out = cfgCombine(u, c, 4.5);
    const ref = Float64Array.from(u, (x, i) => x + 4.5 * (c[i]! - x));
    expect(errorStats(out, ref).maxRel).toBeLessThanOrEqual(1e-6);
    expect(errorStats(cfgCombine(u, c, 1), c).maxAbs).toBeLessThanOrEqual(1e-6); // u + (c − u), rounded
    expect(Array.from(cfgCombine(u, c, 0))).toEqual(Array.from(u));
  });

  it('a 2B batch is split [uncond | cond] like chunk(2)', () => {
    const both = new Float32Array(u.length * 2);
    both.set(u);
    both.set(c, u.length);
    const g = cfgCombineBatch(new Tensor([4, 4, 3, 3], 'f32', both), 3);
    expect(g.shape).toEqual([2, 4, 3, 3]);
    expect(Array.from(g.data as Float32Array)).toEqual(Array.from(cfgCombine(u, c, 3)));
    expect(() => cfgCombineBatch(new Tensor([3, 2], 'f32'), 2)).toThrow(/batch 2B/);
    expect(() => cfgCombine(u, c.subarray(1), 2)).toThrow(RangeError);
  });

  it('model timestep input is float32(t·scale) for the whole batch', () => {
    expect(Array.from(modelTimestep(999, 3))).toEqual([999, 999, 999]);
    expect(modelTimestep(982.4234, 1)[0]).toBe(Math.fround(982.4234));
    expect(modelTimestep(500, 1, 0.001)[0]).toBe(Math.fround(500 * Math.fround(0.001)));
    expect(() => modelTimestep(1, 0)).toThrow(RangeError);
  });
});

describe('numpy linspace', () => {
  it('matches NumPy values (i·step + start, exact end point)', () => {
    expect(Array.from(linspace(0, 1, 5))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(Array.from(linspace(3, 3, 3))).toEqual([3, 3, 3]);
    expect(Array.from(linspace(2, 5, 1))).toEqual([2]);
    // numpy.linspace(1, 0.001, 4) → [1.0, 0.667, 0.334, 0.001]; the middle values are i·step + 1.
    const y = linspace(1, 0.001, 4);
    expect(y[1]).toBe(1 * ((0.001 - 1) / 3) + 1);
    expect(y[3]).toBe(0.001);
  });
});
