import { describe, expect, it } from 'vitest';
import { DCAE_F32C32, SANA_0_6B, SANA_1_6B, MODEL_KEYS } from '../../bench/models.js';
import { DCAE_OPS, DIT_OPS } from '../../bench/ops.js';
import {
  BATCHES,
  catalogue,
  dcaeDecodePlan,
  ditBlockPlan,
  ditStepPlan,
  opsOfModel,
  parseResolution,
  RESOLUTIONS,
  resLabel,
  dimsStr,
  shapeKey,
  shapesFor,
  tokensOf,
} from '../../bench/shapes.js';

describe('model dimensions', () => {
  it('are self-consistent (heads × width = hidden, FFN hidden = int(2.5·C))', () => {
    for (const d of [SANA_0_6B, SANA_1_6B]) {
      expect(d.linearHeads * d.linearHeadDim).toBe(d.hidden);
      expect(d.crossHeads * d.crossHeadDim).toBe(d.hidden);
      expect(d.ffnHidden).toBe(Math.floor(d.mlpRatio * d.hidden));
    }
    expect(SANA_1_6B.linearHeads).toBe(70);
    expect(DCAE_F32C32.widths.length).toBe(6);
    expect(2 ** (DCAE_F32C32.widths.length - 1)).toBe(DCAE_F32C32.spatialCompression);
  });
});

describe('resolutions', () => {
  it('parses N and HxW and counts latent tokens (H/32)·(W/32)', () => {
    expect(parseResolution('1024')).toEqual({ height: 1024, width: 1024 });
    expect(parseResolution('1024x2048')).toEqual({ height: 1024, width: 2048 });
    expect(tokensOf(parseResolution('1024'))).toBe(1024);
    expect(tokensOf(parseResolution('4096'))).toBe(16384);
    expect(tokensOf(parseResolution('1024x2048'))).toBe(32 * 64);
    expect(resLabel({ height: 512, width: 512 })).toBe('512');
    expect(resLabel({ height: 1024, width: 2048 })).toBe('1024x2048');
  });

  it('rejects sizes the 32× autoencoder cannot take', () => {
    expect(() => parseResolution('1000')).toThrow(RangeError);
    expect(() => parseResolution('abc')).toThrow(/not N or HxW/);
    expect(() => parseResolution('0')).toThrow(RangeError);
  });

  it('covers 256² … 4096² plus a non-square grid', () => {
    expect(RESOLUTIONS.map(resLabel)).toEqual(['256', '512', '1024', '2048', '4096', '1024x2048']);
    expect(BATCHES).toEqual([1, 2]);
  });
});

describe('catalogue', () => {
  it('has a shape for every op of every model at every resolution and batch', () => {
    for (const model of MODEL_KEYS) {
      for (const r of RESOLUTIONS) {
        for (const b of BATCHES) {
          const shapes = catalogue(model, r, b);
          for (const op of opsOfModel(model)) expect(shapes.some((s) => s.op === op), `${model} ${resLabel(r)} ${op}`).toBe(true);
          // keys are unique within one (model, res, batch)
          expect(new Set(shapes.map(shapeKey)).size).toBe(shapes.length);
          for (const s of shapes) {
            expect(s.batch).toBe(b);
            expect(s.tokens).toBe(tokensOf(r));
            for (const v of Object.values(s.dims)) if (typeof v === 'number') expect(Number.isSafeInteger(v) && v > 0).toBe(true);
          }
        }
      }
    }
    expect(opsOfModel('0.6b')).toEqual(DIT_OPS);
    expect(opsOfModel('dcae')).toEqual(DCAE_OPS);
  });

  it('gives the Sana-0.6B 1024² gemms their real sizes', () => {
    const g = shapesFor('gemm', '0.6b', parseResolution('1024'), 1);
    const by = Object.fromEntries(g.map((s) => [s.variant, s.dims]));
    expect(by['qkv']).toEqual({ M: 1024, K: 1152, N: 3456, bias: false, activation: 'none' });
    expect(by['ffn-in']).toEqual({ M: 1024, K: 1152, N: 5760, bias: true, activation: 'silu' });
    expect(by['ffn-out']).toEqual({ M: 1024, K: 2880, N: 1152, bias: false, activation: 'none' });
    expect(by['cross-kv']).toEqual({ M: 300, K: 1152, N: 2304, bias: true, activation: 'none' });
    expect(by['y-proj-1']).toMatchObject({ M: 300, K: 2304, N: 1152 });
    expect(dimsStr(by['ffn-in']!)).toBe('M=1024 N=5760 K=1152 bias activation=silu');
    expect(shapeKey(g[0]!)).toBe('gemm:qkv@0.6b/1024/b1');
  });

  it('scales token rows with batch and the non-square grid', () => {
    const [la] = shapesFor('linear-attention', '1.6b', parseResolution('1024x2048'), 2);
    expect(la!.dims).toEqual({ B: 2, N: 2048, C: 2240, heads: 70, headDim: 32 });
    const [ffn] = shapesFor('mix-ffn', '1.6b', parseResolution('1024x2048'), 2);
    expect(ffn!.dims).toMatchObject({ h: 32, w: 64, hidden: 5600 });
    const [ca] = shapesFor('cross-attention', '0.6b', parseResolution('512'), 1);
    expect(ca!.dims).toEqual({ B: 1, N: 256, C: 1152, L: 300, heads: 16, headDim: 72 });
  });

  it('refuses an op outside the model', () => {
    expect(() => shapesFor('conv3x3', '0.6b', parseResolution('512'), 1)).toThrow(/not part of model/);
  });
});

describe('plans', () => {
  it('a DiT step is depth blocks plus the embeddings and final layer', () => {
    for (const [model, depth] of [['0.6b', 28], ['1.6b', 20]] as const) {
      const plan = ditStepPlan(model, parseResolution('1024'), 2);
      expect(plan.find((e) => e.shape.op === 'dit-block')!.count).toBe(depth);
      expect(plan.every((e) => e.shape.batch === 2)).toBe(true);
    }
    expect(ditBlockPlan('0.6b', parseResolution('512'), 1).map((e) => [e.shape.op, e.count])).toEqual([
      ['layernorm-modulate', 2],
      ['linear-attention-block', 1],
      ['cross-attention', 1],
      ['mix-ffn', 1],
    ]);
  });

  it('the DC-AE decode chains channels and resolutions from the latent to the image', () => {
    for (const r of [parseResolution('1024'), parseResolution('1024x2048')]) {
      const plan = dcaeDecodePlan(r, 1);
      let C = DCAE_F32C32.latentChannels;
      let H = r.height / 32;
      let W = r.width / 32;
      let blocks = 0;
      for (const { shape: s, count } of plan) {
        const d = s.dims as unknown as Record<string, number>;
        const cin = d['Cin'] ?? d['C']!;
        expect(cin, `${s.op}:${s.variant} input channels`).toBe(C);
        expect([d['H'], d['W']], `${s.op}:${s.variant} input size`).toEqual([H, W]);
        C = d['Cout'] ?? d['C']!;
        if (s.op === 'dcae-upsample') {
          H *= 2;
          W *= 2;
        }
        if (s.op === 'dcae-resblock' || s.op === 'dcae-evit-block') blocks += count;
      }
      expect(C).toBe(3);
      expect([H, W]).toEqual([r.height, r.width]);
      expect(blocks).toBe(DCAE_F32C32.decoderDepths.reduce((a, b) => a + b, 0));
    }
  });
});
