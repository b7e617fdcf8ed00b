import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../../../bench/backends/reference.js';
import { CALIBRATION, REFERENCE_OPS } from '../../../bench/backends/reference-ops.js';
import { OP_NAMES, opCount } from '../../../bench/catalogue.js';
import type { OpShape } from '../../../bench/shapes.js';
import { DCAE_F32C32, SANA_0_6B, SANA_1_6B } from '../../../bench/models.js';
import { dcaePreset } from '../../../reference/dcae/config.js';
import { ditDims as refDitDims } from '../../../reference/dit/config.js';
import { ditPreset } from '../../../reference/dit/presets.js';

describe('the reference bench backend', () => {
  it('runs every op; its output has the cost-model output size and is finite', async () => {
    const ref = new ReferenceBackend();
    for (const op of OP_NAMES) {
      expect(REFERENCE_OPS[op], op).toBeDefined();
      expect(ref.supports(op, 'f32').ok).toBe(true);
      for (const dtype of ['f32', 'bf16'] as const) {
        const y = REFERENCE_OPS[op]!(CALIBRATION[op], dtype).run();
        expect(y.numel, `${op} ${dtype} output size`).toBe(opCount(CALIBRATION[op]).outElems);
        expect(y.toFloat32().every(Number.isFinite), `${op} ${dtype} finite`).toBe(true);
      }
      const p = await ref.prepareOp(CALIBRATION[op], 'bf16', 0);
      expect(p.note).toMatch(/bf16/);
      p.run();
      p.dispose();
    }
  }, 30_000);

  it('the DC-AE resample blocks change the resolution as the catalogue says', () => {
    const up = { ...CALIBRATION['dcae-upsample'] };
    const y = REFERENCE_OPS['dcae-upsample']!(up, 'f32').run();
    expect(y.shape).toEqual([1, 8, 16, 16]); // Cout, 2H, 2W
    const dn = REFERENCE_OPS['dcae-downsample']!(CALIBRATION['dcae-downsample'], 'f32').run();
    expect(dn.shape).toEqual([1, 16, 8, 8]); // Cout, H/2, W/2
  });

  it('estimates a call from FLOPs and a calibrated rate, and refuses other versions', async () => {
    const ref = new ReferenceBackend();
    const small = ref.estimateMs(CALIBRATION.gemm, 'f32')!;
    const big = ref.estimateMs({ ...CALIBRATION.gemm, dims: { M: 640, N: 128, K: 256, bias: false, activation: 'none' } } as OpShape, 'f32')!;
    expect(small).toBeGreaterThan(0);
    expect(big / small).toBeCloseTo(10, 9); // 10× the rows of the calibration shape: 10× the FLOPs
    await expect(ref.prepareOp(CALIBRATION.gemm, 'f32', 1)).rejects.toThrow(/only version 0/);
  });

  it('skips shapes that cannot be allocated in one ArrayBuffer or in free memory', () => {
    const ref = new ReferenceBackend();
    const huge = { ...CALIBRATION.conv3x3, dims: { B: 2, Cin: 128, Cout: 128, H: 4096 * 4, W: 4096, stride: 1, bias: true } } as OpShape;
    const fit = ref.fits(huge, 'f32');
    expect(fit.ok).toBe(false);
    expect(ref.fits(CALIBRATION.conv3x3, 'f32').ok).toBe(true);
  });
});

describe('the bench model constants', () => {
  it('agree with the reference presets (reference/dit/presets.ts, reference/dcae/config.ts)', () => {
    for (const [name, d] of [['0.6b', SANA_0_6B], ['1.6b', SANA_1_6B]] as const) {
      const cfg = ditPreset(name).config;
      const dims = refDitDims(cfg);
      expect(dims.inner).toBe(d.hidden);
      expect(cfg.numLayers).toBe(d.depth);
      expect(cfg.numAttentionHeads).toBe(d.linearHeads);
      expect([cfg.numCrossAttentionHeads, cfg.crossAttentionHeadDim]).toEqual([d.crossHeads, d.crossHeadDim]);
      expect(dims.ffnHidden).toBe(d.ffnHidden);
      expect(cfg.captionChannels).toBe(d.captionChannels);
    }
    const ae = dcaePreset('dc-ae-f32c32-sana-1.0');
    expect(ae.decoder.stages.map((s) => s.channels)).toEqual(DCAE_F32C32.widths);
    expect(ae.decoder.stages.map((s) => s.layers)).toEqual(DCAE_F32C32.decoderDepths);
    expect(ae.encoder.stages.map((s) => s.layers)).toEqual(DCAE_F32C32.encoderDepths);
    expect(ae.decoder.stages.map((s) => (s.blockType === 'ResBlock' ? 'res' : 'evit'))).toEqual(DCAE_F32C32.blockTypes);
    expect(ae.latentChannels).toBe(DCAE_F32C32.latentChannels);
  });
});
