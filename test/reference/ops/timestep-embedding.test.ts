import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../reference/core/tensor.js';
import { timestepEmbedding } from '../../../reference/ops/timestep-embedding.js';

describe('timestepEmbedding', () => {
  it('t = 0: cos half is 1, sin half is 0 (cos first)', () => {
    const e = timestepEmbedding(Tensor.f32([1], [0]), { dim: 256 }).data as Float32Array;
    expect(Array.from(e.subarray(0, 128)).every((v) => v === 1)).toBe(true);
    expect(Array.from(e.subarray(128)).every((v) => v === 0)).toBe(true);
  });

  it('matches the float64 formula [cos(t·f_k), sin(t·f_k)], f_k = 10000^(−k/128), to the float32 argument error', () => {
    const ts = [1, 318, 500, 999];
    const e = timestepEmbedding(Tensor.f32([4], ts), { dim: 256 }).data as Float32Array;
    const e64 = timestepEmbedding(Tensor.f32([4], ts), { dim: 256, precision: 'f64' }).data as Float32Array;
    ts.forEach((t, b) => {
      for (let k = 0; k < 128; k++) {
        const arg = t * Math.exp((-Math.log(10000) * k) / 128);
        expect(Math.abs(e64[b * 256 + k]! - Math.cos(arg))).toBeLessThan(1e-7);
        expect(Math.abs(e64[b * 256 + 128 + k]! - Math.sin(arg))).toBeLessThan(1e-7);
        // float32 arguments near 1000 carry ~6e-5 of rounding: the documented source of the DiT's 1e-4 tolerance.
        expect(Math.abs(e[b * 256 + k]! - Math.cos(arg))).toBeLessThan(2e-4);
      }
    });
    // The lowest frequency (k = 0, f = 1) has argument t exactly in both precisions.
    expect(e[3 * 256]).toBe(Math.fround(Math.cos(999)));
  });

  it('flipSinToCos false puts sin first; an odd dim gets one zero pad', () => {
    const a = timestepEmbedding(Tensor.f32([1], [3]), { dim: 8, flipSinToCos: false }).data as Float32Array;
    expect(a[0]).toBe(Math.fround(Math.sin(3)));
    expect(a[4]).toBe(Math.fround(Math.cos(3)));
    const odd = timestepEmbedding(Tensor.f32([1], [3]), { dim: 9 }).data as Float32Array;
    expect(odd.length).toBe(9);
    expect(odd[8]).toBe(0);
  });

  it('rejects a non-1-D timestep', () => {
    expect(() => timestepEmbedding(Tensor.f32([2, 1], [1, 2]), { dim: 256 })).toThrow(/want timesteps of shape \(B\)/);
  });
});
