/** What the golden files do not cover: batch of 3, masked text tokens, patch size 2, non-square latents, bad inputs. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../reference/core/config.js';
import { randn } from '../../../reference/core/random.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { parseSanaTransformerConfig, type SanaTransformerConfig } from '../../../reference/dit/config.js';
import { SanaTransformer2DModel, type DitInputs } from '../../../reference/dit/model.js';
import { nchwToTokens, tokensToNchw } from '../../../reference/ops/layout.js';
import { patchify, unpatchify } from '../../../reference/ops/patchify.js';
import { caseFiles, GOLDEN, goldenInputs, maxRelError, MODEL_TOL, randomWeights, readGolden } from './golden-helpers.js';

/** A tiny config like the public golden one (C = 32, 2 layers), written without the golden files. */
const TINY: SanaTransformerConfig = parseSanaTransformerConfig({
  in_channels: 8, out_channels: 8, num_attention_heads: 2, attention_head_dim: 16, num_layers: 2,
  num_cross_attention_heads: 2, cross_attention_head_dim: 16, cross_attention_dim: 32, caption_channels: 24,
  mlp_ratio: 2.5, sample_size: 8, patch_size: 1, interpolation_scale: null,
}, 'tiny');

function samples(t: Tensor, idx: number[]): Tensor {
  const per = t.numel / t.shape[0]!;
  const src = t.toFloat32();
  const out = new Float32Array(idx.length * per);
  idx.forEach((b, i) => out.set(src.subarray(b * per, (b + 1) * per), i * per));
  return new Tensor([idx.length, ...t.shape.slice(1)], 'f32', out);
}

function dropToken(y: Tensor, j: number): Tensor {
  const [B, L, D] = y.shape as [number, number, number];
  const src = y.toFloat32();
  const out = new Float32Array(B * (L - 1) * D);
  for (let b = 0; b < B; b++) for (let m = 0, o = 0; m < L; m++) if (m !== j) out.set(src.subarray((b * L + m) * D, (b * L + m + 1) * D), (b * (L - 1) + o++) * D);
  return new Tensor([B, L - 1, D], 'f32', out);
}

function randomInputs(cfg: SanaTransformerConfig, B: number, H: number, W: number, L: number, seed: number): DitInputs {
  return {
    hiddenStates: randn([B, cfg.inChannels, H, W], seed),
    timestep: Tensor.f32([B], Array.from({ length: B }, (_, i) => [999, 318, 500, 1][i % 4]!)),
    encoderHiddenStates: randn([B, L, cfg.captionChannels], seed + 1),
    encoderAttentionMask: Tensor.f32([B, L], Array.from({ length: B * L }, (_, i) => (i % L === L - 1 ? 0 : 1))),
  };
}

const bits = (t: Tensor) => Array.from(t.data as Float32Array);

describe.skipIf(!GOLDEN)('batch of 3 with the public golden model', () => {
  it('samples 0 and 1 reproduce the golden output; sample 2 equals its own B = 1 run bit for bit', () => {
    const files = caseFiles('sana_transformer_public');
    const model = SanaTransformer2DModel.fromFiles(files.config, files.weights);
    const g = readGolden(files.io);
    const inp = goldenInputs(g);
    const third: DitInputs = {
      hiddenStates: randn([1, 8, 8, 8], 301),
      timestep: Tensor.f32([1], [500]),
      encoderHiddenStates: randn([1, 5, 24], 302),
      encoderAttentionMask: Tensor.f32([1, 5], [1, 1, 1, 1, 0]),
    };
    const cat = (a: Tensor, b: Tensor) => new Tensor([a.shape[0]! + b.shape[0]!, ...a.shape.slice(1)], 'f32', Float32Array.from([...a.toFloat32(), ...b.toFloat32()]));
    const batch: DitInputs = {
      hiddenStates: cat(inp.hiddenStates, third.hiddenStates),
      timestep: cat(inp.timestep, third.timestep),
      encoderHiddenStates: cat(inp.encoderHiddenStates, third.encoderHiddenStates),
      encoderAttentionMask: cat(inp.encoderAttentionMask!, third.encoderAttentionMask!),
    };
    const out = model.forward(batch);
    expect(out.shape).toEqual([3, 8, 8, 8]);
    expect(maxRelError('batch of 3: samples 0–1 vs golden output', samples(out, [0, 1]), g('output'))).toBeLessThanOrEqual(MODEL_TOL);
    expect(bits(samples(out, [2]))).toEqual(bits(model.forward(third)));
  });
});

describe('masked text tokens', () => {
  const model = new SanaTransformer2DModel(TINY, randomWeights(TINY, 1000));

  it('a token masked in every sample: its features do not matter, and masking equals removing it', () => {
    const inp = randomInputs(TINY, 2, 4, 4, 5, 10);
    inp.encoderAttentionMask = Tensor.f32([2, 5], [1, 1, 0, 1, 1, 1, 1, 0, 1, 1]);
    const base = model.forward(inp);
    const garbage = inp.encoderHiddenStates.toFloat32().slice();
    for (let b = 0; b < 2; b++) for (let d = 0; d < 24; d++) garbage[(b * 5 + 2) * 24 + d] = 1e3 * Math.sin(7 * d + b);
    const withGarbage = model.forward({ ...inp, encoderHiddenStates: new Tensor([2, 5, 24], 'f32', garbage) });
    expect(bits(withGarbage)).toEqual(bits(base));
    const removed = model.forward({ ...inp, encoderHiddenStates: dropToken(inp.encoderHiddenStates, 2), encoderAttentionMask: null });
    expect(bits(removed)).toEqual(bits(base));
    // …and the mask is not a no-op: without it the output changes.
    const unmasked = model.forward({ ...inp, encoderAttentionMask: null });
    expect(maxRelError('mask vs no mask (must differ)', unmasked, base)).toBeGreaterThan(1e-3);
  });

  it('a token masked in one sample only affects that sample as if removed there', () => {
    const inp = randomInputs(TINY, 2, 4, 4, 5, 20);
    inp.encoderAttentionMask = Tensor.f32([2, 5], [1, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
    const out = model.forward(inp);
    const alone = model.forward({
      hiddenStates: samples(inp.hiddenStates, [0]),
      timestep: samples(inp.timestep, [0]),
      encoderHiddenStates: dropToken(samples(inp.encoderHiddenStates, [0]), 1),
    });
    expect(bits(samples(out, [0]))).toEqual(bits(alone));
  });
});

describe('patch size 2 and non-square latents', () => {
  it('a p = 2 model equals a p = 1 model on the space-to-depth latent with permuted patch weights (6×10 latent)', () => {
    const p = 2;
    const cfg2: SanaTransformerConfig = { ...TINY, inChannels: 4, outChannels: 3, patchSize: p };
    const cfg1: SanaTransformerConfig = { ...TINY, inChannels: 4 * p * p, outChannels: 3 * p * p, patchSize: 1 };
    const w2 = randomWeights(cfg2, 2000);
    const w1 = new Map(w2);
    // patch_embed: w1[d, (py·p + px)·C + c] = w2[d, c, py, px]
    const pw = w2.get('patch_embed.proj.weight')!;
    const [D, C] = pw.shape as [number, number];
    const src = pw.data as Float32Array;
    const dst = new Float32Array(src.length);
    for (let d = 0; d < D; d++) for (let c = 0; c < C; c++) for (let py = 0; py < p; py++) for (let px = 0; px < p; px++) {
      dst[d * C * p * p + (py * p + px) * C + c] = src[((d * C + c) * p + py) * p + px]!;
    }
    w1.set('patch_embed.proj.weight', new Tensor([D, C * p * p, 1, 1], 'f32', dst));
    const m2 = new SanaTransformer2DModel(cfg2, w2);
    const m1 = new SanaTransformer2DModel(cfg1, w1);
    const inp = randomInputs(cfg2, 2, 6, 10, 4, 30);
    const out2 = m2.forward(inp);
    expect(out2.shape).toEqual([2, 3, 6, 10]);
    const s2d = tokensToNchw(patchify(inp.hiddenStates, p), 3, 5);
    const out1 = m1.forward({ ...inp, hiddenStates: s2d });
    expect(out1.shape).toEqual([2, 12, 3, 5]);
    const d2s = unpatchify(nchwToTokens(out1), 3, 5, p);
    expect(maxRelError('p=2 vs p=1 on space-to-depth', out2, d2s)).toBeLessThan(1e-5);
  });

  it('non-square latents keep H and W apart (3×7 vs its transpose give different, correctly shaped outputs)', () => {
    const model = new SanaTransformer2DModel(TINY, randomWeights(TINY, 3000));
    const a = model.forward(randomInputs(TINY, 1, 3, 7, 3, 40));
    expect(a.shape).toEqual([1, 8, 3, 7]);
    expect(a.toFloat32().every(Number.isFinite)).toBe(true);
    const b = model.forward(randomInputs(TINY, 1, 7, 3, 3, 40));
    expect(b.shape).toEqual([1, 8, 7, 3]);
  });
});

describe('bad inputs', () => {
  const model = new SanaTransformer2DModel(TINY, randomWeights(TINY, 4000));
  const ok = randomInputs(TINY, 2, 4, 4, 3, 50);

  it('names the problem and the shapes', () => {
    expect(() => model.forward({ ...ok, hiddenStates: randn([2, 7, 4, 4], 1) })).toThrow(/hidden_states \[2, 7, 4, 4\] is not \(B, 8, H, W\)/);
    expect(() => model.forward({ ...ok, timestep: Tensor.f32([1], [10]) })).toThrow(/timestep \[1\] must have one value per sample, shape \[2\]/);
    expect(() => model.forward({ ...ok, encoderHiddenStates: randn([2, 3, 20], 1) })).toThrow(/encoder_hidden_states \[2, 3, 20\] is not \(2, L, 24\)/);
    expect(() => model.forward({ ...ok, encoderAttentionMask: Tensor.f32([2, 4], new Float32Array(8)) })).toThrow(/encoder_attention_mask \[2, 4\] is not \(2, 3\)/);
    const p2 = new SanaTransformer2DModel({ ...TINY, patchSize: 2 }, randomWeights({ ...TINY, patchSize: 2 }, 5000));
    expect(() => p2.forward({ ...ok, hiddenStates: randn([2, 8, 5, 4], 1) })).toThrow(/multiples of patch size 2/);
  });
});

describe.skipIf(!GOLDEN)('TINY matches the public golden config', () => {
  it('same dimensions as sana_transformer_public.config.json', () => {
    expect(parseSanaTransformerConfig(loadConfig(caseFiles('sana_transformer_public').config))).toEqual(TINY);
  });
});
