/**
 * The native DC-AE decoder against the TS reference (AutoencoderDC.decode) and diffusers' golden files:
 * f32 whole and tiled on the golden config; a random mid-size config with the other paths
 * (pixel-shuffle up blocks, SiLU head, no decoder-in shortcut); bf16 by the 2× rule against the plain
 * bf16 computation (the same runner on the reference backend in bf16); the buffer plan's peak.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { NativeDcaeDecoder, planNativeDecode } from '../../../bindings/models/dcae-runner.js';
import { OpProfiler } from '../../../bindings/models/profiler.js';
import { errorStats, formatStats } from '../../../reference/core/compare.js';
import { goldenAvailable, goldenPath } from '../../../reference/core/golden.js';
import { randn } from '../../../reference/core/random.js';
import { readSafetensors } from '../../../reference/core/safetensors.js';
import type { Tensor } from '../../../reference/core/tensor.js';
import { AutoencoderDC } from '../../../reference/dcae/autoencoder.js';
import { loadDcaeConfig } from '../../../reference/dcae/config.js';
import { tiling } from '../../../reference/dcae/tiling.js';
import { DcaeWeightsError } from '../../../reference/dcae/weights.js';
import { DCAE_MID, dcaeMidParams } from '../../../bench/parity/models.js';
import { expectBf16 } from '../../kernels/parity.js';

const lines: string[] = [];
afterAll(() => console.log(`[parity models/dcae-runner]\n  ${lines.join('\n  ')}`));

function expectClose(label: string, out: Tensor, expected: Tensor, tol = 1e-4): void {
  expect(out.shape).toEqual(expected.shape);
  const s = errorStats(out.toFloat32(), expected.toFloat32());
  lines.push(`${label}: ${formatStats(s)}`);
  expect(s.nonFinite, label).toBe(0);
  expect(s.maxRel, `${label}: ${formatStats(s)}`).toBeLessThanOrEqual(tol);
  expect(s.rel, `${label}: ${formatStats(s)}`).toBeLessThanOrEqual(tol);
}

describe.skipIf(!goldenAvailable())('native DC-AE decoder (cpu, f32) on the golden dcae_public config', () => {
  const config = loadDcaeConfig(goldenPath('dcae_public.config.json'));
  const params = readSafetensors(goldenPath('dcae_public.weights.safetensors')).tensors;
  const io = readSafetensors(goldenPath('dcae_public.io.safetensors')).tensors;
  const z = io.get('decode_input')!;
  const reference = new AutoencoderDC(config, params);

  it('decode(decode_input) vs diffusers decode_output, its f64 pass and the TS reference', () => {
    const model = NativeDcaeDecoder.fromStateDict(config, params);
    const out = model.decode(z);
    expectClose('golden decode vs decode_output', out, io.get('decode_output')!);
    expectClose('golden decode vs decode_output_f64', out, io.get('decode_output_f64')!);
    expectClose('golden decode vs TS reference', out, reference.decode(z));
    const plan = planNativeDecode(config, { height: 32, width: 32, batch: 2 });
    expect(model.memory().activationBytes, 'the runner holds what planNativeDecode predicts').toBe(plan.activationBytes);
    model.dispose();
  });

  it('tiled decode (tile 16 px, stride 8: 4×4 tiles of ≤ 2×2 latents) vs the reference tiled decode', () => {
    const t = tiling(16, 8, 8);
    const model = NativeDcaeDecoder.fromStateDict(config, params);
    let tiles = 0;
    const out = model.decode(z, { tiling: t, onTile: () => tiles++ });
    expect(tiles).toBe(16);
    expectClose('golden tiled decode vs TS reference tiled', out, reference.decode(z, { tiling: t }));
    expect(model.memory().activationBytes).toBe(planNativeDecode(config, { height: 32, width: 32, batch: 2, tiling: t }).activationBytes);
    model.dispose();
  });
});

const MID = DCAE_MID;
const midParams = dcaeMidParams;

describe('native DC-AE decoder on a random mid-size config (pixel-shuffle, 3×3 and 5×5 LiteMLA, SiLU head)', () => {
  const params = midParams(700);
  const z = randn([1, 16, 3, 5], 777);
  const reference = new AutoencoderDC(MID, params, { part: 'decoder' }).decode(z);

  it('f32 vs the TS reference; per-stage profile names', () => {
    const profiler = new OpProfiler(true);
    const model = NativeDcaeDecoder.fromStateDict(MID, params, { profiler });
    expectClose('mid decode f32 vs TS reference', model.decode(z), reference);
    const calls = new Map(profiler.timings().map((t) => [t.name, t.calls]));
    expect(calls.get('s3.dcae-evit-block')).toBe(2);
    expect(calls.get('s1.dcae-resblock')).toBe(2);
    expect(calls.get('s0.dcae-upsample')).toBe(1);
    expect(calls.get('conv-in.dcae-upsample')).toBe(1);
    expect(calls.get('head.dcae-head')).toBe(1);
    model.dispose();
  });

  it('bf16 within 2× the error of a plain bf16 computation', () => {
    const model = NativeDcaeDecoder.fromStateDict(MID, params, { dtype: 'bf16' });
    const plain = NativeDcaeDecoder.fromStateDict(MID, params, { backend: 'reference', dtype: 'bf16' }).decode(z);
    const r = expectBf16('mid decode bf16', model.decode(z).toFloat32(), plain.toFloat32(), reference.toFloat32());
    lines.push(`mid decode bf16: native ${formatStats(r.kernel)} | plain ${formatStats(r.plain)}`);
    model.dispose();
  });

  it('rejects bad weights, unsupported configs and bad latents with clear errors', () => {
    const bad = new Map(params);
    bad.delete('decoder.up_blocks.1.0.conv.bias');
    expect(() => NativeDcaeDecoder.fromStateDict(MID, bad)).toThrow(DcaeWeightsError);
    expect(() => NativeDcaeDecoder.fromStateDict(MID, bad)).toThrow(/decoder\.up_blocks\.1\.0\.conv\.bias/);
    const relu6 = { ...MID, decoder: { ...MID.decoder, convAct: 'relu6' as const } };
    expect(() => NativeDcaeDecoder.fromStateDict(relu6, params)).toThrow(/decoder_conv_act_fn relu6/);
    const model = NativeDcaeDecoder.fromStateDict(MID, params);
    expect(() => model.decode(randn([1, 8, 3, 5], 1))).toThrow(/want a latent \(B, 16, h, w\), got \[1, 8, 3, 5\]/);
    model.dispose();
  });
});
