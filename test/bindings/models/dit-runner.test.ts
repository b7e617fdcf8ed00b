/**
 * The native DiT runner against the TS reference (SanaTransformer2DModel) and diffusers' golden files:
 * f32 in both block modes on the two golden cases and on a random mid-size config (patch 2, PE, mask,
 * non-square latent); bf16 by the 2× rule against the plain bf16 computation (the same runner on the
 * reference backend in bf16: every op's output rounded to bf16).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DitCondition, NativeSanaTransformer, type DitBlockMode } from '../../../bindings/models/dit-runner.js';
import { OpProfiler } from '../../../bindings/models/profiler.js';
import { errorStats, formatStats } from '../../../reference/core/compare.js';
import { loadConfig } from '../../../reference/core/config.js';
import { randn } from '../../../reference/core/random.js';
import { readSafetensors } from '../../../reference/core/safetensors.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { parseSanaTransformerConfig } from '../../../reference/dit/config.js';
import { SanaTransformer2DModel } from '../../../reference/dit/model.js';
import { WeightKeyError } from '../../../reference/dit/weights.js';
import { CASES, caseFiles, GOLDEN, goldenInputs, readGolden } from '../../reference/dit/golden-helpers.js';
import { expectBf16 } from '../../kernels/parity.js';
import { DIT_MID, ditMidInputs, ditMidWeights } from '../../../bench/parity/models.js';

const lines: string[] = [];
afterAll(() => console.log(`[parity models/dit-runner]\n  ${lines.join('\n  ')}`));

/** f32 rule of the whole model (golden README: 1e-4 on max|a−e|/max|e|); also on the L2 relative error. */
function expectModel(label: string, out: Tensor, expected: Tensor, tol = 1e-4): void {
  expect(out.shape).toEqual(expected.shape);
  const s = errorStats(out.toFloat32(), expected.toFloat32());
  lines.push(`${label}: ${formatStats(s)}`);
  expect(s.nonFinite, label).toBe(0);
  expect(s.maxRel, `${label}: ${formatStats(s)}`).toBeLessThanOrEqual(tol);
  expect(s.rel, `${label}: ${formatStats(s)}`).toBeLessThanOrEqual(tol);
}

const MODES: DitBlockMode[] = ['dit-block', 'ops'];

describe.skipIf(!GOLDEN)('native DiT runner (cpu, f32) on the golden configs', () => {
  for (const c of CASES) {
    const files = caseFiles(c);
    const cfg = parseSanaTransformerConfig(loadConfig(files.config), files.config);
    const weights = readSafetensors(files.weights).tensors;
    const g = readGolden(files.io);
    const reference = new SanaTransformer2DModel(cfg, weights).forward(goldenInputs(g));
    for (const mode of MODES) {
      it(`${c}, blockMode ${mode}: output and intermediates vs diffusers and the TS reference`, () => {
        const model = NativeSanaTransformer.fromStateDict(cfg, weights, { backend: 'cpu', dtype: 'f32', blockMode: mode });
        const got = new Map<string, Tensor>();
        const out = model.forward(goldenInputs(g), { onIntermediate: (n, t) => got.set(n, new Tensor(t.shape, 'f32', t.toFloat32())) });
        for (const name of ['patch_embed', 'transformer_blocks.0', 'transformer_blocks.1', 'norm_out', 'proj_out']) {
          expectModel(`${c} ${mode} ${name} vs golden`, got.get(name)!, g(`intermediate.${name}`));
        }
        expectModel(`${c} ${mode} output vs golden`, out, g('output'));
        expectModel(`${c} ${mode} output vs golden f64`, out, g('output_f64'));
        expectModel(`${c} ${mode} output vs TS reference`, out, reference);
        model.dispose();
      });
    }
  }
});

const MID = DIT_MID;
const midWeights = ditMidWeights;
const midInputs = ditMidInputs;

describe('native DiT runner on a random mid-size config (patch 2, PE, mask, 10×14 latent)', () => {
  const weights = midWeights(900);
  const inputs = midInputs(950);
  const reference = new SanaTransformer2DModel(MID, weights).forward(inputs);

  for (const mode of MODES) {
    it(`f32, blockMode ${mode}: ≤ 1e-4 of the TS reference; the buffer plan is reused across steps`, () => {
      const model = NativeSanaTransformer.fromStateDict(MID, weights, { blockMode: mode });
      const out = model.forward(inputs);
      expectModel(`mid ${mode} f32 vs TS reference`, out, reference);
      const peak = model.memory().activationBytes;
      const again = model.forward(inputs);
      expect(again.toFloat32()).toEqual(out.toFloat32());
      expect(model.memory().activationBytes, 'a second step allocates no new activation buffers').toBe(peak);
      const run = model.lastStep!;
      expect(run.mode, 'cpu steps run op by op').toBe('eager');
      expect(run.enqueueMs).toBeGreaterThan(0);
      expect(run.enqueueMs).toBeLessThanOrEqual(run.totalMs);
      expect(model.memory().weightsBytes).toBeGreaterThan(4 * 0.9 * [...weights.values()].reduce((a, t) => a + t.numel, 0));
      model.dispose();
    });
  }

  it('bf16 (both block modes) within 2× the error of a plain bf16 computation', () => {
    const plain = NativeSanaTransformer.fromStateDict(MID, weights, { backend: 'reference', dtype: 'bf16', blockMode: 'ops' }).forward(inputs);
    for (const mode of MODES) {
      const model = NativeSanaTransformer.fromStateDict(MID, weights, { dtype: 'bf16', blockMode: mode });
      const out = model.forward(inputs);
      const r = expectBf16(`mid ${mode} bf16`, out.toFloat32(), plain.toFloat32(), reference.toFloat32());
      lines.push(`mid ${mode} bf16: native ${formatStats(r.kernel)} | plain ${formatStats(r.plain)}`);
      model.dispose();
    }
  });

  it('the ops-mode profile names every op of a step', () => {
    const profiler = new OpProfiler(true);
    const model = NativeSanaTransformer.fromStateDict(MID, weights, { blockMode: 'ops', profiler });
    const cond = model.encodeCondition(inputs.encoderHiddenStates, inputs.encoderAttentionMask);
    profiler.reset();
    model.step(inputs.hiddenStates, inputs.timestep, cond);
    const names = new Map(profiler.timings().map((t) => [t.name, t.calls]));
    expect(names.get('block.mix-ffn')).toBe(3);
    expect(names.get('block.modulation-add')).toBe(18);
    expect(names.get('block.layernorm-modulate')).toBe(6);
    expect(names.get('adaln.gemm')).toBe(8);
    expect(names.has('host.patchify') && names.has('host.readback')).toBe(true);
    expect(profiler.opCalls).toBe(3 * 11 + 8 + 1 + 5);
    cond.dispose();
    model.dispose();
  });

  it.each(['ops', 'dit-block'] as const)('%s mode: the blocks\' text keys/values are computed once per condition and reused by every step', (blockMode) => {
    const profiler = new OpProfiler(true);
    const model = NativeSanaTransformer.fromStateDict(MID, weights, { blockMode, profiler });
    const cond = model.encodeCondition(inputs.encoderHiddenStates, inputs.encoderAttentionMask);
    expect(new Map(profiler.timings().map((t) => [t.name, t.calls])).get('caption.text-kv')).toBe(2 * MID.numLayers);
    expect(cond.kv?.map((kv) => kv.k.shape)).toEqual(new Array(MID.numLayers).fill([2, 7, 64]));
    // Two steps at other timesteps on the one condition = two full forwards (each encoding its own).
    for (const t of [[500, 500], [3, 999]]) {
      profiler.reset();
      const step = model.step(inputs.hiddenStates, t, cond);
      expect(profiler.timings().some((e) => e.name.startsWith('caption.')), 'a step projects no text').toBe(false);
      const full = model.forward({ ...inputs, timestep: Tensor.f32([2], t) });
      expect(Array.from(step.toFloat32())).toEqual(Array.from(full.toFloat32()));
      expectModel(`mid ${blockMode} step t=${t.join('/')} (shared condition) vs TS reference`, step, new SanaTransformer2DModel(MID, weights).forward({ ...inputs, timestep: Tensor.f32([2], t) }));
    }
    const perBlock = 2 * 2 * 7 * 64 * 4;
    expect(cond.bytes).toBeGreaterThanOrEqual(MID.numLayers * perBlock);
    // A condition without keys/values is refused, not misused…
    const yOnly = new DitCondition(model.backend.fromArray(new Float32Array(2 * 7 * 64).fill(0.5), [2, 7, 64]), null);
    expect(() => model.step(inputs.hiddenStates, inputs.timestep, yOnly)).toThrow(/the condition has no text keys\/values \(encode it with this model's encodeCondition\)/);
    // …and so is one whose keys/values another model's weights projected.
    const other = NativeSanaTransformer.fromStateDict(MID, weights, { blockMode });
    const foreign = other.encodeCondition(inputs.encoderHiddenStates, inputs.encoderAttentionMask);
    expect(() => model.step(inputs.hiddenStates, inputs.timestep, foreign)).toThrow(/holds another model's text keys\/values/);
    for (const d of [cond, yOnly, foreign, model, other]) d.dispose();
  });

  it('rejects bad weights, configs and inputs with clear errors', () => {
    const bad = new Map(weights);
    bad.delete('transformer_blocks.1.attn2.to_k.bias');
    bad.set('proj_out.bias', randn([5], 1));
    expect(() => NativeSanaTransformer.fromStateDict(MID, bad)).toThrow(WeightKeyError);
    expect(() => NativeSanaTransformer.fromStateDict(MID, bad)).toThrow(/missing: transformer_blocks\.1\.attn2\.to_k\.bias.*proj_out\.bias is \[5\]/);
    expect(() => NativeSanaTransformer.fromStateDict({ ...MID, attentionBias: true }, weights)).toThrow(/attention_bias/);
    expect(() => NativeSanaTransformer.fromStateDict(MID, weights, { backend: 'cpu', cudaGraph: true })).toThrow(new TypeError('NativeSanaTransformer: cudaGraph needs the cuda backend, got cpu'));
    const model = NativeSanaTransformer.fromStateDict(MID, weights);
    expect(() => model.forward({ ...inputs, hiddenStates: randn([2, 12, 9, 14], 3) })).toThrow(/multiples of patch size 2/);
    expect(() => model.forward({ ...inputs, timestep: Tensor.f32([3], [1, 2, 3]) })).toThrow(/one value per sample/);
    expect(() => model.forward({ ...inputs, encoderAttentionMask: Tensor.f32([2, 6], new Array(12).fill(1)) })).toThrow(/encoder_attention_mask \[2, 6\]/);
    model.dispose();
  });
});
