import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../reference/core/tensor.js';
import { geluTanh, relu, silu } from '../../../reference/ops/activations.js';

describe('activations', () => {
  const x = Tensor.f32([5], [-2, -0.5, 0, 0.75, 3]);

  it('relu clamps negatives and keeps NaN', () => {
    expect(Array.from(relu(x).data as Float32Array)).toEqual([0, 0, 0, 0.75, 3]);
    expect(Number.isNaN(relu(Tensor.f32([1], [NaN])).data[0] as number)).toBe(true);
  });

  it('silu = x·sigmoid(x), hand values', () => {
    const want = [-2 / (1 + Math.exp(2)), -0.5 / (1 + Math.exp(0.5)), 0, 0.75 / (1 + Math.exp(-0.75)), 3 / (1 + Math.exp(-3))];
    const got = silu(x).data as Float32Array;
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));
    expect(got[4]).toBeCloseTo(2.8577223804673, 6);
  });

  it('gelu tanh approximation, hand values (torch GELU(approximate="tanh"))', () => {
    const got = geluTanh(Tensor.f32([3], [1, -1, 2])).data as Float32Array;
    // 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))
    expect(got[0]).toBeCloseTo(0.8411920070648193, 6);
    expect(got[1]).toBeCloseTo(-0.15880802273750305, 6);
    expect(got[2]).toBeCloseTo(1.954597616195679, 6);
  });

  it('keeps the shape and returns float32', () => {
    const t = silu(Tensor.f64([2, 3], [1, 2, 3, 4, 5, 6]));
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('f32');
  });
});
