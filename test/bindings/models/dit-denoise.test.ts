/**
 * The denoising loop on the backend (bindings/models/dit-denoise.ts) against the host loop around the
 * same native model (what SanaPipeline.generate does: repeat the latent for CFG, step, combine the
 * halves, scheduler.step on the host): the final latents must agree bit for bit, for Flow-DPM-Solver++
 * and Flow-Euler, with and without CFG, in f32 and bf16, in both block modes (random mid-size config:
 * patch 2, PE, a text mask, a non-square latent).
 */
import { describe, expect, it } from 'vitest';
import { canDenoiseOnBackend, denoiseOnBackend, type DenoiseStepInfo } from '../../../bindings/models/dit-denoise.js';
import { NativeSanaTransformer, type DitBlockMode } from '../../../bindings/models/dit-runner.js';
import { randn } from '../../../reference/core/random.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { FlowDPMSolverMultistepScheduler } from '../../../reference/schedulers/flow-dpm-solver.js';
import { FlowMatchEulerDiscreteScheduler } from '../../../reference/schedulers/flow-euler.js';
import type { FlowScheduler } from '../../../reference/schedulers/from-config.js';
import { DIT_MID, ditMidInputs, ditMidWeights, hostDenoiseLoop } from '../../../bench/parity/models.js';

const weights = ditMidWeights(900);
const text = ditMidInputs(950);
const schedulers: Record<string, () => FlowScheduler> = {
  dpm: () => new FlowDPMSolverMultistepScheduler({ use_flow_sigmas: true, prediction_type: 'flow_prediction', flow_shift: 3.0 }),
  euler: () => new FlowMatchEulerDiscreteScheduler({ shift: 3.0 }),
};

describe('denoiseOnBackend (cpu) equals the host loop bit for bit', () => {
  const cases: { sampler: string; cfg: boolean; dtype: 'f32' | 'bf16'; mode: DitBlockMode }[] = [
    { sampler: 'dpm', cfg: true, dtype: 'f32', mode: 'dit-block' },
    { sampler: 'dpm', cfg: true, dtype: 'bf16', mode: 'ops' },
    { sampler: 'dpm', cfg: false, dtype: 'bf16', mode: 'dit-block' },
    { sampler: 'euler', cfg: true, dtype: 'bf16', mode: 'dit-block' },
    { sampler: 'euler', cfg: false, dtype: 'f32', mode: 'ops' },
  ];
  for (const c of cases) {
    it(`${c.sampler}, ${c.cfg ? 'CFG 4.5' : 'no CFG'}, ${c.dtype}, ${c.mode}: 4 steps`, () => {
      const model = NativeSanaTransformer.fromStateDict(DIT_MID, weights, { dtype: c.dtype, blockMode: c.mode });
      const B = c.cfg ? 2 : 1;
      const y = new Tensor([B, 7, DIT_MID.captionChannels], 'f32', text.encoderHiddenStates.toFloat32().slice(0, B * 7 * DIT_MID.captionChannels));
      const mask = new Tensor([B, 7], 'f32', text.encoderAttentionMask!.toFloat32().slice(0, B * 7));
      const cond = model.encodeCondition(y, mask);
      const z0 = randn([1, DIT_MID.inChannels, 10, 14], 77);
      const s1 = schedulers[c.sampler]!();
      s1.setTimesteps(4);
      const want = hostDenoiseLoop(model, z0, s1, c.cfg, 4.5, cond);
      const s2 = schedulers[c.sampler]!();
      s2.setTimesteps(4);
      const seen: DenoiseStepInfo[] = [];
      const got = denoiseOnBackend(model, z0, cond, { scheduler: s2, guidanceScale: 4.5, cfg: c.cfg, onStep: (i) => seen.push(i) });
      expect(got.shape).toEqual(z0.shape);
      const a = got.toFloat32();
      const b = want.toFloat32();
      expect(a.some(Number.isNaN)).toBe(false);
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(Array.from(a)).not.toEqual(Array.from(z0.toFloat32()));
      expect(seen.map((s) => s.step)).toEqual([0, 1, 2, 3]);
      expect(seen.every((s) => s.mode === 'eager' && s.ms > 0 && s.steps === 4)).toBe(true);
      // A second image on the same model reuses the fixed buffers and gives the same answer.
      const s3 = schedulers[c.sampler]!();
      s3.setTimesteps(4);
      expect(Array.from(denoiseOnBackend(model, z0, cond, { scheduler: s3, guidanceScale: 4.5, cfg: c.cfg }).toFloat32())).toEqual(Array.from(b));
      cond.dispose();
      model.dispose();
    });
  }

  it('on the reference backend too (no buffer plan there: the loop owns its tensors), 2 dpm steps with CFG', () => {
    const model = NativeSanaTransformer.fromStateDict(DIT_MID, weights, { backend: 'reference', dtype: 'bf16', blockMode: 'ops' });
    const cond = model.encodeCondition(text.encoderHiddenStates, text.encoderAttentionMask ?? null);
    const z0 = randn([1, DIT_MID.inChannels, 10, 14], 78);
    const s1 = schedulers.dpm!();
    s1.setTimesteps(2);
    const want = hostDenoiseLoop(model, z0, s1, true, 4.5, cond).toFloat32();
    const s2 = schedulers.dpm!();
    s2.setTimesteps(2);
    const got = denoiseOnBackend(model, z0, cond, { scheduler: s2, guidanceScale: 4.5, cfg: true }).toFloat32();
    expect(got.some(Number.isNaN)).toBe(false);
    expect(Array.from(got)).toEqual(Array.from(want));
    cond.dispose();
    model.dispose();
  });

  it('refuses what it cannot run: learned sigma, a condition of the wrong batch or model, an unset scheduler', () => {
    const model = NativeSanaTransformer.fromStateDict(DIT_MID, weights, {});
    const cond = model.encodeCondition(text.encoderHiddenStates, text.encoderAttentionMask ?? null);
    const z0 = randn([1, DIT_MID.inChannels, 10, 14], 1);
    const s = schedulers.dpm!();
    expect(() => denoiseOnBackend(model, z0, cond, { scheduler: s, guidanceScale: 4.5, cfg: true })).toThrow(/denoiseOnBackend: call scheduler.setTimesteps\(n\) first/);
    s.setTimesteps(2);
    expect(() => denoiseOnBackend(model, z0, cond, { scheduler: s, guidanceScale: 4.5, cfg: false })).toThrow(/the condition has batch 2, want 1 \(one per image\)/);
    expect(() => denoiseOnBackend(model, randn([1, 3, 10, 14], 1), cond, { scheduler: s, guidanceScale: 4.5, cfg: true })).toThrow(/z0 \[1, 3, 10, 14\] is not \(B, 12, H, W\)/);
    expect(() => denoiseOnBackend(model, randn([1, 12, 9, 14], 1), cond, { scheduler: s, guidanceScale: 4.5, cfg: true })).toThrow(/multiples of patch size 2/);
    const other = NativeSanaTransformer.fromStateDict(DIT_MID, weights, {});
    expect(() => denoiseOnBackend(other, z0, cond, { scheduler: s, guidanceScale: 4.5, cfg: true })).toThrow(/holds another model's text keys\/values/);
    const sigma = NativeSanaTransformer.random({ ...DIT_MID, outChannels: 24 }, {});
    expect(canDenoiseOnBackend(sigma)).toBe(false);
    expect(() => denoiseOnBackend(sigma, z0, cond, { scheduler: s, guidanceScale: 4.5, cfg: true })).toThrow(/out_channels 24 differ from in_channels 12 \(learned sigma\): use the host loop/);
    cond.dispose();
    expect(() => denoiseOnBackend(model, z0, cond, { scheduler: s, guidanceScale: 4.5, cfg: true })).toThrow(/the condition has been disposed/);
    for (const m of [model, other, sigma]) m.dispose();
  });
});
