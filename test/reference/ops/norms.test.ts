import { describe, expect, it } from 'vitest';
import { randn } from '../../../reference/core/random.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { layerNorm, rmsNorm, rmsNormChannels } from '../../../reference/ops/norms.js';
import { GOLDEN, maxRelError, OP_TOL, readOp } from './op-golden.js';

describe('layerNorm', () => {
  it('hand-checked row, no affine', () => {
    // x = [1, 2, 3, 4]: μ = 2.5, σ² = 1.25
    const y = layerNorm(Tensor.f32([1, 4], [1, 2, 3, 4]), { eps: 1e-6 }).data as Float32Array;
    const r = 1 / Math.sqrt(1.25 + 1e-6);
    [-1.5, -0.5, 0.5, 1.5].forEach((d, i) => expect(y[i]).toBeCloseTo(d * r, 6));
  });

  it('affine weight and bias, every row independent', () => {
    const x = randn([3, 5, 8], 11);
    const w = randn([8], 12);
    const b = randn([8], 13);
    const y = layerNorm(x, { eps: 1e-5, weight: w, bias: b }).data as Float32Array;
    const xs = x.data as Float32Array;
    for (let r = 0; r < 15; r++) {
      const row = Array.from(xs.subarray(r * 8, r * 8 + 8));
      const mu = row.reduce((a, v) => a + v, 0) / 8;
      const v = row.reduce((a, x0) => a + (x0 - mu) ** 2, 0) / 8;
      for (let c = 0; c < 8; c++) {
        const want = ((row[c]! - mu) / Math.sqrt(v + 1e-5)) * (w.data[c] as number) + (b.data[c] as number);
        expect(Math.abs(y[r * 8 + c]! - want)).toBeLessThan(1e-5);
      }
    }
  });

  it('rejects a mismatched weight', () => {
    expect(() => layerNorm(randn([2, 4], 1), { eps: 1e-6, weight: randn([5], 2) })).toThrow(/layerNorm: weight \[5\]/);
  });
});

describe('rmsNorm', () => {
  it('hand-checked row with weight', () => {
    // x = [3, 4]: mean(x²) = 12.5
    const y = rmsNorm(Tensor.f32([1, 2], [3, 4]), { eps: 1e-5, weight: Tensor.f32([2], [2, 0.5]) }).data as Float32Array;
    const r = 1 / Math.sqrt(12.5 + 1e-5);
    expect(y[0]).toBeCloseTo(3 * r * 2, 6);
    expect(y[1]).toBeCloseTo(4 * r * 0.5, 6);
  });

  it('over channels of NCHW equals rmsNorm over the last dim of the transposed tensor', () => {
    const x = randn([2, 6, 3, 5], 21);
    const w = randn([6], 22);
    const b = randn([6], 23);
    const y = rmsNormChannels(x, { eps: 1e-5, weight: w, bias: b }).data as Float32Array;
    const xs = x.data as Float32Array;
    for (let bi = 0; bi < 2; bi++) {
      for (let p = 0; p < 15; p++) {
        const px = Array.from({ length: 6 }, (_, c) => xs[(bi * 6 + c) * 15 + p]!);
        const ref = rmsNorm(Tensor.f32([6], px), { eps: 1e-5, weight: w, bias: b }).data as Float32Array;
        for (let c = 0; c < 6; c++) expect(y[(bi * 6 + c) * 15 + p]).toBe(ref[c]);
      }
    }
  });
});

describe.skipIf(!GOLDEN)('rmsNormChannels vs diffusers (op_dcae_rmsnorm2d)', () => {
  it(`max|a−e|/max|e| <= ${OP_TOL}`, () => {
    const g = readOp('op_dcae_rmsnorm2d.safetensors');
    const y = rmsNormChannels(g('input'), { eps: 1e-5, weight: g('params.weight'), bias: g('params.bias') });
    expect(maxRelError('rmsnorm2d vs output', y, g('output'))).toBeLessThanOrEqual(OP_TOL);
    expect(maxRelError('rmsnorm2d vs output_f64', y, g('output_f64'))).toBeLessThanOrEqual(OP_TOL);
  });
});
