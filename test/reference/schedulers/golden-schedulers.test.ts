import { describe, expect, it } from 'vitest';
import { errorStats, formatStats, goldenAvailable, goldenDir, goldenPath, loadConfig, readSafetensors, type Tensor } from '../../../reference/core/index.js';
import { FlowDPMSolverMultistepScheduler, FlowMatchEulerDiscreteScheduler, modelTimestep, type FlowScheduler } from '../../../reference/schedulers/index.js';
import { toyVelocity } from './toy-field.js';

const available = goldenAvailable();
if (!available) console.warn(`[golden] ${goldenDir()} is absent: scheduler golden tests are skipped`);

interface Case {
  name: string;
  make: (cfg: Record<string, unknown>) => FlowScheduler;
}
const CASES: Case[] = [
  { name: 'scheduler_flow_dpm_public', make: (c) => new FlowDPMSolverMultistepScheduler(c) },
  { name: 'scheduler_flow_euler_public', make: (c) => new FlowMatchEulerDiscreteScheduler(c) },
];

/** Row k of a (S, ...) tensor as a fresh array of its precision. */
function row(t: Tensor, k: number): Float32Array | Float64Array {
  const per = t.numel / t.shape[0]!;
  return (t.data as Float32Array | Float64Array).slice(k * per, (k + 1) * per);
}

describe.skipIf(!available)('schedulers vs diffusers golden vectors', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      const cfg = available ? loadConfig(goldenPath(`${c.name}.config.json`)) : {};
      const io = available ? readSafetensors(goldenPath(`${c.name}.io.safetensors`)).tensors : new Map<string, Tensor>();
      const get = (k: string): Tensor => {
        const t = io.get(k);
        if (t === undefined) throw new Error(`${c.name}: missing ${k}`);
        return t;
      };
      const steps = available ? get('timesteps').shape[0]! : 0;

      it('timesteps exact, sigmas within 1e-7', () => {
        const s = c.make(cfg);
        s.setTimesteps(steps);
        const ref = get('timesteps').toFloat64();
        expect(s.timesteps).toEqual(Array.from(ref));
        const st = errorStats(s.sigmas, get('sigmas').toFloat64());
        console.log(`[${c.name}] sigmas ${formatStats(st)}`);
        expect(s.sigmas.length).toBe(steps + 1);
        expect(st.maxAbs).toBeLessThanOrEqual(1e-7);
        expect(st.nonFinite).toBe(0);
      });

      it('model timestep input equals float32(t)', () => {
        const s = c.make(cfg);
        s.setTimesteps(steps);
        const ref = io.has('timesteps_f32') ? get('timesteps_f32').toFloat64() : get('timesteps').toFloat64();
        expect(s.timesteps.map((t) => modelTimestep(t, 2)[1])).toEqual(Array.from(ref));
      });

      it('each step from the golden inputs gives the golden next sample (teacher-forced)', () => {
        const s = c.make(cfg);
        s.setTimesteps(steps);
        const samples = get('samples');
        const outs = get('model_outputs');
        let worst = 0;
        for (let k = 0; k < steps; k++) {
          const next = s.step(row(outs, k) as Float32Array, s.timesteps[k]!, row(samples, k) as Float32Array);
          expect(next).toBeInstanceOf(Float32Array);
          if (s instanceof FlowDPMSolverMultistepScheduler && io.has('x0_pred')) {
            const x0 = errorStats(s.modelOutputs[s.modelOutputs.length - 1]!, row(get('x0_pred'), k));
            expect(x0.maxRel, `x0 step ${k}`).toBeLessThanOrEqual(1e-6);
          }
          const st = errorStats(next, row(samples, k + 1));
          worst = Math.max(worst, st.maxRel);
          expect(st.nonFinite).toBe(0);
        }
        console.log(`[${c.name}] teacher-forced worst max|Δ|/max|ref| = ${worst.toExponential(2)}`);
        // The float32 step emulation is bit-identical to diffusers on these vectors.
        expect(worst).toBe(0);
      });

      it('free-running float32 trajectory with the toy field: every sample within 1e-5', () => {
        const s = c.make(cfg);
        s.setTimesteps(steps);
        const A = get('A').toFloat64();
        const b = get('b').toFloat64();
        const samples = get('samples');
        let x = row(samples, 0) as Float32Array;
        let worst = 0;
        for (let k = 0; k < steps; k++) {
          const t = s.timesteps[k]!;
          x = s.step(toyVelocity(A, b, x, t), t, x);
          const st = errorStats(x, row(samples, k + 1));
          expect(st.nonFinite).toBe(0);
          expect(st.maxRel, `sample ${k + 1}`).toBeLessThanOrEqual(1e-5);
          expect(st.rel, `sample ${k + 1}`).toBeLessThanOrEqual(1e-5);
          worst = Math.max(worst, st.maxRel);
        }
        console.log(`[${c.name}] float32 trajectory worst max|Δ|/max|ref| = ${worst.toExponential(2)}`);
      });

      it('free-running float64 trajectory reproduces samples_f64 (float32 coefficients, as diffusers)', () => {
        const s = c.make(cfg);
        s.setTimesteps(steps);
        const A = get('A').toFloat64();
        const b = get('b').toFloat64();
        const ref = get('samples_f64');
        let x = row(ref, 0) as Float64Array;
        let worst = 0;
        for (let k = 0; k < steps; k++) {
          const t = s.timesteps[k]!;
          x = s.step(toyVelocity(A, b, x, t), t, x);
          expect(x).toBeInstanceOf(Float64Array);
          worst = Math.max(worst, errorStats(x, row(ref, k + 1)).maxRel);
        }
        console.log(`[${c.name}] float64 trajectory worst max|Δ|/max|ref| = ${worst.toExponential(2)}`);
        expect(worst).toBeLessThanOrEqual(1e-13);
      });
    });
  }
});
