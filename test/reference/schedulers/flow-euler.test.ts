import { describe, expect, it } from 'vitest';
import { errorStats, Rng, Tensor } from '../../../reference/core/index.js';
import { FlowMatchEulerDiscreteScheduler } from '../../../reference/schedulers/index.js';

const EULER = { _class_name: 'FlowMatchEulerDiscreteScheduler', shift: 3.0, shift_terminal: null };

const shiftFn = (s: number) => (u: number) => (s * u) / (1 + (s - 1) * u);

function randomArray(n: number, seed: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(n)) as Float32Array;
}

describe('FlowMatchEulerDiscreteScheduler grid (with diffusers double shift)', () => {
  for (const shift of [1, 3, 6]) {
    for (const n of [1, 2, 7, 20, 28]) {
      it(`shift ${shift}, ${n} steps: σ_i = S(1 + i/(N−1)·(S(1/T) − 1))`, () => {
        const s = new FlowMatchEulerDiscreteScheduler({ ...EULER, shift });
        s.setTimesteps(n);
        const S = shiftFn(shift);
        const lo = S(1 / 1000); // the training grid's already-shifted sigma_min …
        expect(s.sigmas.length).toBe(n + 1);
        expect(s.sigmas[n]).toBe(0);
        for (let i = 0; i < n; i++) {
          const u = n === 1 ? 1 : 1 + (i / (n - 1)) * (lo - 1);
          const want = S(u); // … shifted again here
          expect(Math.abs(s.sigmas[i]! - want), `σ_${i}`).toBeLessThanOrEqual(1e-7);
          expect(s.timesteps[i]).toBe(Math.fround(s.sigmas[i]! * 1000));
        }
      });
    }
  }

  it('the last non-zero sigma is ≈ 0.00893 for shift 3 (shifted twice), not shift(0.001)', () => {
    const s = new FlowMatchEulerDiscreteScheduler(EULER);
    s.setTimesteps(20);
    expect(s.sigmas[19]).toBeCloseTo(0.00893, 5);
    expect(Math.abs(s.sigmas[19]! - shiftFn(3)(0.001))).toBeGreaterThan(1e-3);
  });
});

describe('FlowMatchEulerDiscreteScheduler steps', () => {
  it('x ← x + (σ_{i+1} − σ_i)·v, and returns the kind it was given', () => {
    const s = new FlowMatchEulerDiscreteScheduler(EULER);
    s.setTimesteps(4);
    let x = randomArray(24, 1);
    for (let i = 0; i < 4; i++) {
      const v = randomArray(24, 10 + i);
      const want = Float32Array.from(x, (xi, k) => Math.fround(xi + Math.fround(Math.fround(s.sigmas[i + 1]! - s.sigmas[i]!) * v[k]!)));
      x = s.step(v, s.timesteps[i]!, x);
      expect(Array.from(x)).toEqual(Array.from(want));
    }
    const t = new FlowMatchEulerDiscreteScheduler(EULER);
    t.setTimesteps(2);
    const y = t.step(new Tensor([2, 3], 'f32', randomArray(6, 3)), t.timesteps[0]!, new Tensor([2, 3], 'f32', randomArray(6, 4)));
    expect(y).toBeInstanceOf(Tensor);
    expect(y.shape).toEqual([2, 3]);
  });

  it('integrates a constant velocity exactly: x_N = x_0 − σ_0·v', () => {
    const s = new FlowMatchEulerDiscreteScheduler(EULER);
    s.setTimesteps(20);
    const v = randomArray(32, 5);
    const x0 = randomArray(32, 6);
    let x = x0;
    for (const t of s.timesteps) x = s.step(v, t, x);
    expect(errorStats(x, Float64Array.from(x0, (xi, k) => xi - s.sigmas[0]! * v[k]!)).maxRel).toBeLessThanOrEqual(2e-6);
  });

  it('errors: unknown timestep, unsupported options, wrong class, misuse', () => {
    const s = new FlowMatchEulerDiscreteScheduler(EULER);
    expect(() => s.step(new Float32Array(2), 1000, new Float32Array(2))).toThrow(/setTimesteps/);
    s.setTimesteps(3);
    expect(() => s.step(new Float32Array(2), 123.5, new Float32Array(2))).toThrow(/not one of scheduler.timesteps/);
    expect(() => new FlowMatchEulerDiscreteScheduler({ ...EULER, use_dynamic_shifting: true })).toThrow(/use_dynamic_shifting/);
    expect(() => new FlowMatchEulerDiscreteScheduler({ ...EULER, stochastic_sampling: true })).toThrow(/stochastic_sampling/);
    expect(() => new FlowMatchEulerDiscreteScheduler({ ...EULER, shift_terminal: 0.1 })).toThrow(/shift_terminal/);
    expect(() => new FlowMatchEulerDiscreteScheduler({ ...EULER, _class_name: 'DPMSolverMultistepScheduler' })).toThrow(TypeError);
    expect(() => new FlowMatchEulerDiscreteScheduler({ ...EULER, shift: 'three' })).toThrow(/"shift" must be a number/);
  });
});
