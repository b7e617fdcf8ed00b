import { describe, expect, it } from 'vitest';
import { ConfigError, errorStats, Rng, Tensor } from '../../../reference/core/index.js';
import { FlowDPMSolverMultistepScheduler } from '../../../reference/schedulers/index.js';

const SANA_DPM = {
  _class_name: 'DPMSolverMultistepScheduler',
  use_flow_sigmas: true,
  prediction_type: 'flow_prediction',
  flow_shift: 3.0,
  lambda_min_clipped: -Infinity,
};

function randomArray(n: number, seed: number): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(n)) as Float32Array;
}

/** Closed form of the grid (notes §6.2): u_i = 0.999·(N−i)/N, σ_i = s·u/(1 + (s−1)·u). */
function closedFormSigma(i: number, n: number, s: number): number {
  const u = (0.999 * (n - i)) / n;
  return (s * u) / (1 + (s - 1) * u);
}

describe('FlowDPMSolverMultistepScheduler grid', () => {
  for (const shift of [1, 3, 4, 6]) {
    for (const n of [1, 2, 5, 14, 20, 28, 50]) {
      it(`shift ${shift}, ${n} steps matches the closed-form sigma formula`, () => {
        const s = new FlowDPMSolverMultistepScheduler({ ...SANA_DPM, flow_shift: shift });
        s.setTimesteps(n);
        expect(s.sigmas.length).toBe(n + 1);
        expect(s.timesteps.length).toBe(n);
        expect(s.sigmas[n]).toBe(0);
        for (let i = 0; i < n; i++) {
          const want = closedFormSigma(i, n, shift);
          expect(Math.abs(s.sigmas[i]! - want), `σ_${i}`).toBeLessThanOrEqual(1e-7);
          expect(s.timesteps[i], `t_${i}`).toBe(Math.floor(1000 * want));
        }
        for (let i = 1; i <= n; i++) expect(s.sigmas[i]!).toBeLessThan(s.sigmas[i - 1]!);
      });
    }
  }

  it('reproduces the notes example for shift 3, 20 steps (model t-inputs)', () => {
    const s = new FlowDPMSolverMultistepScheduler(SANA_DPM);
    s.setTimesteps(20);
    expect(s.timesteps).toEqual([999, 982, 963, 944, 922, 899, 874, 847, 817, 785, 749, 710, 666, 617, 562, 499, 428, 345, 249, 136]);
  });
});

describe('FlowDPMSolverMultistepScheduler steps', () => {
  it('is exact for a constant velocity: x_N = x_0 − σ_0·v (every order, every step count)', () => {
    for (const n of [1, 2, 3, 20]) {
      const s = new FlowDPMSolverMultistepScheduler(SANA_DPM);
      s.setTimesteps(n);
      const v = randomArray(64, 11);
      const x0 = randomArray(64, 12);
      let x = x0;
      for (const t of s.timesteps) x = s.step(v, t, x);
      const want = Float64Array.from(x0, (xi, k) => xi - s.sigmas[0]! * v[k]!);
      expect(errorStats(x, want).maxRel, `${n} steps`).toBeLessThanOrEqual(2e-6);
    }
  });

  it('first step is a flow-Euler step and the last returns the data prediction', () => {
    const s = new FlowDPMSolverMultistepScheduler(SANA_DPM);
    s.setTimesteps(5);
    const x = randomArray(32, 1);
    const v = randomArray(32, 2);
    const x1 = s.step(v, s.timesteps[0]!, x);
    const euler = Float64Array.from(x, (xi, k) => xi + (s.sigmas[1]! - s.sigmas[0]!) * v[k]!);
    expect(errorStats(x1, euler).maxRel).toBeLessThanOrEqual(1e-6);
    let y = x1;
    for (let i = 1; i < 4; i++) y = s.step(randomArray(32, 10 + i), s.timesteps[i]!, y);
    const vLast = randomArray(32, 99);
    const last = s.step(vLast, s.timesteps[4]!, y);
    const m = Float32Array.from(y, (yi, k) => Math.fround(yi - Math.fround(s.sigmas[4]! * vLast[k]!)));
    expect(Array.from(last)).toEqual(Array.from(m));
  });

  it('middle steps follow the 2nd-order multistep formula (independent float64 evaluation)', () => {
    const n = 6;
    const s = new FlowDPMSolverMultistepScheduler({ ...SANA_DPM, flow_shift: 4.0 });
    s.setTimesteps(n);
    const sig = Array.from(s.sigmas);
    const lam = (q: number): number => Math.log((1 - q) / q);
    let x = randomArray(48, 5);
    let xRef = Float64Array.from(x);
    let prevM: Float64Array | null = null;
    for (let i = 0; i < n; i++) {
      const v = randomArray(48, 100 + i);
      x = s.step(v, s.timesteps[i]!, x);
      const m = Float64Array.from(xRef, (xi, k) => xi - sig[i]! * v[k]!);
      const next = new Float64Array(48);
      if (i === n - 1) next.set(m);
      else {
        const h = lam(sig[i + 1]!) - lam(sig[i]!);
        const a = (1 - sig[i + 1]!) * (Math.exp(-h) - 1);
        for (let k = 0; k < 48; k++) {
          let val = (sig[i + 1]! / sig[i]!) * xRef[k]! - a * m[k]!;
          if (prevM !== null) {
            const r = (lam(sig[i]!) - lam(sig[i - 1]!)) / h;
            val -= 0.5 * a * ((m[k]! - prevM[k]!) / r);
          }
          next[k] = val;
        }
      }
      prevM = m;
      xRef = next;
      expect(errorStats(x, xRef).maxRel, `step ${i}`).toBeLessThanOrEqual(1e-5);
    }
  });

  it('solver_order 1 takes first-order steps only (equals flow-Euler on the same grid)', () => {
    const s = new FlowDPMSolverMultistepScheduler({ ...SANA_DPM, solver_order: 1 });
    s.setTimesteps(4);
    let x = randomArray(16, 3);
    let xe = Float64Array.from(x);
    for (let i = 0; i < 4; i++) {
      const v = randomArray(16, 30 + i);
      x = s.step(v, s.timesteps[i]!, x);
      xe = Float64Array.from(xe, (xi, k) => xi + (s.sigmas[i + 1]! - s.sigmas[i]!) * v[k]!);
    }
    expect(errorStats(x, xe).maxRel).toBeLessThanOrEqual(1e-5);
  });

  it('returns the kind it was given (Float32Array, f32/f64 Tensor) and keeps the shape', () => {
    const s = new FlowDPMSolverMultistepScheduler(SANA_DPM);
    s.setTimesteps(3);
    const x = new Tensor([1, 4, 2, 2], 'f32', randomArray(16, 1));
    const v = new Tensor([1, 4, 2, 2], 'f32', randomArray(16, 2));
    const y = s.step(v, s.timesteps[0]!, x);
    expect(y).toBeInstanceOf(Tensor);
    expect(y.shape).toEqual([1, 4, 2, 2]);
    expect(y.dtype).toBe('f32');
    const z = s.step(v.data as Float32Array, s.timesteps[1]!, y.data as Float32Array);
    expect(z).toBeInstanceOf(Float32Array);
    const w = s.step(v.to('f64'), s.timesteps[2]!, new Tensor([1, 4, 2, 2], 'f64', Float64Array.from(z)));
    expect(w.dtype).toBe('f64');
  });

  it('finds the start index like diffusers (second match of a repeated timestep; last index if absent)', () => {
    const s = new FlowDPMSolverMultistepScheduler({ ...SANA_DPM, flow_shift: 1.0 });
    s.setTimesteps(1500);
    const ts = s.timesteps;
    const dup = ts.findIndex((t, i) => i > 0 && t === ts[i - 1]);
    expect(dup).toBeGreaterThan(0); // 1500 steps over 999 integer timesteps must repeat some
    expect(s.indexForTimestep(ts[dup]!)).toBe(dup);
    expect(s.indexForTimestep(-5)).toBe(1499);
    s.step(randomArray(4, 1), ts[dup]!, randomArray(4, 2));
    expect(s.stepIndex).toBe(dup + 1);
    const b = new FlowDPMSolverMultistepScheduler(SANA_DPM);
    b.setTimesteps(10);
    b.setBeginIndex(3);
    b.step(randomArray(4, 1), 0, randomArray(4, 2));
    expect(b.stepIndex).toBe(4);
  });
});

describe('FlowDPMSolverMultistepScheduler errors', () => {
  it('rejects configs it does not implement, naming the field', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...SANA_DPM, _class_name: 'FlowMatchEulerDiscreteScheduler' }, /FlowMatchEulerDiscreteScheduler/],
      [{ ...SANA_DPM, use_flow_sigmas: false }, /use_flow_sigmas/],
      [{ ...SANA_DPM, prediction_type: 'epsilon' }, /prediction_type/],
      [{ ...SANA_DPM, algorithm_type: 'sde-dpmsolver++' }, /algorithm_type/],
      [{ ...SANA_DPM, solver_order: 3 }, /solver_order/],
      [{ ...SANA_DPM, solver_type: 'heun' }, /solver_type/],
      [{ ...SANA_DPM, final_sigmas_type: 'sigma_min' }, /final_sigmas_type/],
      [{ ...SANA_DPM, use_karras_sigmas: true }, /use_karras_sigmas/],
      [{ ...SANA_DPM, flow_shift: -1 }, /flow_shift/],
    ];
    for (const [cfg, msg] of bad) expect(() => new FlowDPMSolverMultistepScheduler(cfg), msg.source).toThrow(msg);
    expect(() => new FlowDPMSolverMultistepScheduler({ ...SANA_DPM, flow_shift: '3' })).toThrow(ConfigError);
  });

  it('rejects misuse of step', () => {
    const s = new FlowDPMSolverMultistepScheduler(SANA_DPM);
    expect(() => s.step(new Float32Array(4), 999, new Float32Array(4))).toThrow(/setTimesteps/);
    expect(() => s.setTimesteps(0)).toThrow(RangeError);
    s.setTimesteps(2);
    expect(() => s.step(new Float32Array(4), s.timesteps[0]!, new Float32Array(5))).toThrow(/4 values but sample has 5/);
    expect(() => s.step(new Float64Array(4), s.timesteps[0]!, new Float32Array(4))).toThrow(TypeError);
    expect(() => s.step(new Tensor([4], 'bf16'), s.timesteps[0]!, new Tensor([4], 'bf16'))).toThrow(/bf16/);
    s.step(randomArray(4, 1), s.timesteps[0]!, randomArray(4, 2));
    s.step(randomArray(4, 1), s.timesteps[1]!, randomArray(4, 2));
    expect(() => s.step(randomArray(4, 1), 0, randomArray(4, 2))).toThrow(/all 2 steps are done/);
  });
});
