/**
 * The sampler-update op against the reference schedulers: a whole trajectory of Flow-DPM-Solver++
 * (1st- then 2nd-order updates, a 1st-order last step) and of Flow-Euler, with and without CFG halves,
 * must equal the host scheduler's float32 steps bit for bit on every backend and dtype; tokens get
 * every copy of the new latent, rounded to the model dtype; bad arguments are clear errors.
 */
import { describe, expect, it } from 'vitest';
import { samplerUpdateSync, writeSamplerCoefficients } from '../../../bindings/models/sampler-ops.js';
import { loadAddon, type NativeTensorHandle } from '../../../bindings/addon.js';
import type { BackendTensor, TensorDType } from '../../../bindings/tensor.js';
import { roundToBf16InPlace } from '../../../reference/core/dtype.js';
import { FlowDPMSolverMultistepScheduler } from '../../../reference/schedulers/flow-dpm-solver.js';
import { FlowMatchEulerDiscreteScheduler } from '../../../reference/schedulers/flow-euler.js';
import { cfgCombine } from '../../../reference/schedulers/guidance.js';
import type { FlowScheduler } from '../../../reference/schedulers/from-config.js';
import { cpu, expectBits, poisoned, randData, ref } from '../../kernels/parity.js';

const dpm = () => new FlowDPMSolverMultistepScheduler({ use_flow_sigmas: true, prediction_type: 'flow_prediction', flow_shift: 3.0 });
const euler = () => new FlowMatchEulerDiscreteScheduler({ shift: 3.0 });
const backends = { cpu, reference: ref } as const;

function trajectory(make: () => FlowScheduler, be: 'cpu' | 'reference', dtype: TensorDType, halves: 1 | 2, n: number, steps: number): void {
  const backend = backends[be];
  const g = 4.5;
  const host = make();
  const dev = make();
  host.setTimesteps(steps);
  dev.setTimesteps(steps);
  let xHost: Float32Array = new Float32Array(randData([n], 11));
  const x = backend.fromArray(xHost, [n], 'f32');
  const m = poisoned([n], 'f32', be);
  const coeffs = backend.fromArray(new Float32Array(8), [8], 'f32');
  const kinds: string[] = [];
  for (let i = 0; i < steps; i++) {
    const t = host.timesteps[i]!;
    const vDev = backend.fromArray(new Float32Array(randData([halves * n], 100 + i)), [halves, n], dtype);
    const vs = vDev.toFloat32(); // the values the model "returned", as the host loop reads them back
    const v = halves === 2 ? cfgCombine(vs.subarray(0, n), vs.subarray(n), g) : vs;
    xHost = host.step(v, t, xHost) as Float32Array;
    const u = dev.nextUpdate(t);
    kinds.push(u.kind);
    writeSamplerCoefficients(coeffs, u, g);
    const tokens = poisoned([halves, n], dtype, be);
    samplerUpdateSync(vDev, x, coeffs, { halves, mState: m, tokens });
    expectBits(`step ${i} (${u.kind}) x`, x.toFloat32(), xHost);
    const want = dtype === 'bf16' ? roundToBf16InPlace(xHost.slice()) : xHost;
    const tk = tokens.toFloat32();
    for (let j = 0; j < halves; j++) expectBits(`step ${i} tokens copy ${j}`, tk.subarray(j * n, (j + 1) * n), want);
    vDev.dispose();
    tokens.dispose();
  }
  if (host instanceof FlowDPMSolverMultistepScheduler) expect(kinds).toEqual(['dpm1', ...new Array(steps - 2).fill('dpm2'), 'dpm1']);
  else expect(kinds.every((k) => k === 'euler')).toBe(true);
  for (const t of [x, m, coeffs]) t.dispose();
}

describe('sampler-update: the op equals the host scheduler bit for bit', () => {
  for (const be of ['cpu', 'reference'] as const) {
    for (const dtype of ['f32', 'bf16'] as const) {
      for (const halves of [1, 2] as const) {
        it(`${be} ${dtype}, ${halves === 2 ? 'CFG halves' : 'one prediction'}: Flow-DPM-Solver++ over 6 steps`, () => trajectory(dpm, be, dtype, halves, 2 * 3 * 5 * 7, 6));
        it(`${be} ${dtype}, ${halves === 2 ? 'CFG halves' : 'one prediction'}: Flow-Euler over 4 steps`, () => trajectory(euler, be, dtype, halves, 2 * 3 * 5 * 7, 4));
      }
    }
  }
  it('cpu, a latent of 70 000 values (several threads\' chunks), bf16 CFG, 5 dpm steps', () => trajectory(dpm, 'cpu', 'bf16', 2, 70_000, 5));
});

describe('sampler-update: bad arguments', () => {
  const n = 12;
  const make = (dtype: TensorDType = 'f32') => ({
    v: cpu.fromArray(new Float32Array(randData([2 * n], 1)), [2, n], dtype),
    x: cpu.fromArray(new Float32Array(randData([n], 2)), [n], 'f32'),
    m: cpu.fromArray(new Float32Array(n), [n], 'f32'),
    c: cpu.fromArray(new Float32Array(8), [8], 'f32'),
  });
  it('sizes, dtypes, backends, aliasing and disposed tensors name the op and the tensors', () => {
    const a = make('bf16');
    writeSamplerCoefficients(a.c, { kind: 'euler', dt: -0.1 }, 2);
    expect(() => samplerUpdateSync(a.v, a.x, a.c)).toThrow(/sampler-update: v bf16\[2, 12\] on cpu does not hold 1 × the 12 values of x f32\[12\] on cpu/);
    expect(() => samplerUpdateSync(a.v, a.x, a.c, { halves: 3 as 2 })).toThrow(/sampler-update: halves must be 1 or 2, got 3/);
    const xb = cpu.fromArray(new Float32Array(n), [n], 'bf16');
    expect(() => samplerUpdateSync(a.v, xb, a.c, { halves: 2 })).toThrow(/sampler-update: x must be f32, got bf16/);
    expect(() => samplerUpdateSync(a.v, a.x, a.c, { halves: 2, tokens: cpu.fromArray(new Float32Array(n + 1), [n + 1], 'bf16') })).toThrow(
      /tokens bf16\[13\] on cpu is not a whole number of copies of x f32\[12\] on cpu/,
    );
    expect(() => samplerUpdateSync(a.v, a.x, a.c, { halves: 2, tokens: cpu.fromArray(new Float32Array(2 * n), [2, n], 'f32') })).toThrow(
      /sampler-update: tokens is f32 but v is bf16/,
    );
    expect(() => samplerUpdateSync(a.v, a.x, a.c, { halves: 2, mState: a.x })).toThrow(/sampler-update: mState is the same tensor as another argument/);
    const xr = ref.fromArray(new Float32Array(n), [n], 'f32');
    expect(() => samplerUpdateSync(a.v, xr, a.c, { halves: 2 })).toThrow(/sampler-update: x is on backend 'reference' but v is on 'cpu'/);
    const small = cpu.fromArray(new Float32Array(4), [4], 'f32');
    expect(() => samplerUpdateSync(a.v, a.x, small, { halves: 2 })).toThrow(/coeffs f32\[4\] on cpu must hold 8 values/);
    a.m.dispose();
    expect(() => samplerUpdateSync(a.v, a.x, a.c, { halves: 2, mState: a.m })).toThrow(/sampler-update: mState f32\[12\] on cpu has been disposed/);
    expect(() => writeSamplerCoefficients(a.c, { kind: 'dpm1', sigma: Number.NaN, cX: 1, cD0: 1 })).toThrow(/coefficients of dpm1 must be finite/);
    // The kernel entry refuses one tensor in two roles too (a caller of the raw addon skips the TS checks).
    const h = (t: BackendTensor) => (t.storage('test') as unknown as { handle: NativeTensorHandle }).handle;
    const m2 = cpu.fromArray(new Float32Array(n), [n], 'f32');
    expect(() => loadAddon().samplerUpdate({ v: h(a.x), x: h(a.x), coeffs: h(a.c) }, false)).toThrow(/^sampler-update: x is the same tensor as v$/);
    const vf = cpu.fromArray(new Float32Array(randData([2 * n], 5)), [2, n], 'f32');
    const tf = cpu.fromArray(new Float32Array(2 * n), [2, n], 'f32');
    expect(() => loadAddon().samplerUpdate({ v: h(vf), x: h(a.x), coeffs: h(a.c), mState: h(tf), tokens: h(tf), halves: 2 }, false)).toThrow(
      /^sampler-update: m_state \[2, 12\] differs from x \[12\] in size$/,
    );
    expect(() => loadAddon().samplerUpdate({ v: h(vf), x: h(a.x), coeffs: h(a.c), mState: h(m2), tokens: h(vf), halves: 2 }, false)).toThrow(
      /^sampler-update: tokens is the same tensor as v$/,
    );
  });

  it('the coefficient vector is checked where it is read: a bad kind, or a dpm kind without mState, is an error and changes nothing', () => {
    for (const be of ['cpu', 'reference'] as const) {
      const backend = backends[be];
      const v = backend.fromArray(new Float32Array(randData([n], 3)), [n], 'f32');
      const x0 = new Float32Array(randData([n], 4));
      const x = backend.fromArray(x0, [n], 'f32');
      const c = backend.fromArray(new Float32Array([7, 1, 0, 0, 0, 0, 0, 0]), [8], 'f32');
      expect(() => samplerUpdateSync(v, x, c), be).toThrow(/sampler-update: coeffs\[0\] \(kind\) must be 0.* got 7/);
      writeSamplerCoefficients(c, { kind: 'dpm1', sigma: 0.5, cX: 0.9, cD0: -0.1 });
      expect(() => samplerUpdateSync(v, x, c), be).toThrow(/sampler-update: the dpm kinds need m_?[sS]tate/);
      expect(Array.from(x.toFloat32()), `${be}: x untouched`).toEqual(Array.from(x0));
    }
  });
});
