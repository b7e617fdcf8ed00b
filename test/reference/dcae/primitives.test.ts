/** The DC-AE primitive ops against hand-worked examples and naive float64 formulas. */
import { describe, expect, it } from 'vitest';
import { errorStats } from '../../../reference/core/compare.js';
import { randn } from '../../../reference/core/random.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { activationByName, relu6 } from '../../../reference/dcae/activations.js';
import { relu, silu } from '../../../reference/ops/activations.js';
import { channelGroupMean, concatChannels, repeatInterleaveChannels } from '../../../reference/dcae/channel-ops.js';
import { pixelShuffle, pixelUnshuffle } from '../../../reference/dcae/pixel-shuffle.js';
import { LITE_MLA_EPS, packedReluLinearAttention, packedReluQuadraticAttention } from '../../../reference/dcae/relu-attention.js';
import { rmsNorm2d } from '../../../reference/dcae/rms-norm-2d.js';
import { decoderInShortcut, downsampleShortcut, encoderOutShortcut, upsampleShortcut } from '../../../reference/dcae/shortcuts.js';
import { upsampleNearest } from '../../../reference/dcae/upsample-nearest.js';

const arr = (t: Tensor): number[] => Array.from(t.data as Float32Array);

describe('activations', () => {
  it('relu, relu6, silu', () => {
    const x = Tensor.f32([5], [-2, -0.5, 0, 1.5, 7]);
    expect(arr(relu(x))).toEqual([0, 0, 0, 1.5, 7]);
    expect(arr(relu6(x))).toEqual([0, 0, 0, 1.5, 6]);
    const s = arr(silu(x));
    [-2, -0.5, 0, 1.5, 7].forEach((v, i) => expect(s[i]).toBeCloseTo(v / (1 + Math.exp(-v)), 6));
    expect(activationByName('swish')).toBe(silu);
    expect(() => activationByName('gelu')).toThrow(/unsupported activation "gelu"/);
  });
});

describe('pixel shuffle / unshuffle', () => {
  it('follows torch: out[c, y·r+i, x·r+j] = in[c·r² + i·r + j, y, x]', () => {
    // one output channel, r = 2, a 1×1 input of channels [a, b, c, d] → [[a, b], [c, d]]
    const x = Tensor.f32([1, 4, 1, 1], [1, 2, 3, 4]);
    const y = pixelShuffle(x, 2);
    expect([...y.shape]).toEqual([1, 1, 2, 2]);
    expect(arr(y)).toEqual([1, 2, 3, 4]);
    expect(arr(pixelUnshuffle(y, 2))).toEqual([1, 2, 3, 4]);
  });

  it('are inverse on random tensors', () => {
    const x = randn([2, 3, 6, 4], 11);
    expect(arr(pixelShuffle(pixelUnshuffle(x, 2), 2))).toEqual(arr(x));
    const z = randn([2, 12, 3, 5], 12);
    expect(arr(pixelUnshuffle(pixelShuffle(z, 2), 2))).toEqual(arr(z));
  });

  it('reject shapes that do not divide', () => {
    expect(() => pixelShuffle(randn([1, 6, 2, 2], 1), 2)).toThrow(/pixelShuffle: 6 channels/);
    expect(() => pixelUnshuffle(randn([1, 1, 3, 2], 1), 2)).toThrow(/pixelUnshuffle: spatial size of \[1, 1, 3, 2\]/);
    expect(() => pixelShuffle(randn([4, 4], 1), 2)).toThrow(/want an NCHW tensor/);
  });
});

describe('channel ops and nearest upsampling', () => {
  it('channelGroupMean averages consecutive channels; repeatInterleave repeats each channel in place', () => {
    const x = Tensor.f32([1, 4, 1, 1], [1, 3, 10, 20]);
    expect(arr(channelGroupMean(x, 2))).toEqual([2, 15]);
    expect(arr(repeatInterleaveChannels(Tensor.f32([1, 2, 1, 1], [5, 7]), 3))).toEqual([5, 5, 5, 7, 7, 7]);
    expect(() => channelGroupMean(x, 3)).toThrow(/4 channels .* groups of 3/);
  });

  it('upsampleNearest copies each pixel into an s×s block', () => {
    const x = Tensor.f32([1, 1, 2, 2], [1, 2, 3, 4]);
    expect(arr(upsampleNearest(x, 2))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('concatChannels stacks along dim 1 per batch item', () => {
    const a = Tensor.f32([2, 1, 1, 1], [1, 2]);
    const b = Tensor.f32([2, 2, 1, 1], [3, 4, 5, 6]);
    expect(arr(concatChannels([a, b]))).toEqual([1, 3, 4, 2, 5, 6]);
    expect(() => concatChannels([a, randn([1, 1, 1, 1], 1)])).toThrow(/does not match batch/);
  });
});

describe('non-parametric shortcuts', () => {
  it('fused down/up shortcuts equal the compositions of the primitives', () => {
    for (const [C, Co] of [[8, 16], [16, 16], [16, 32], [8, 32]] as const) {
      const x = randn([2, C, 6, 4], C * 100 + Co);
      expect(arr(downsampleShortcut(x, Co)), `down ${C}→${Co}`).toEqual(arr(channelGroupMean(pixelUnshuffle(x, 2), (4 * C) / Co)));
    }
    for (const [C, Co] of [[16, 8], [16, 16], [32, 16], [32, 8]] as const) {
      const x = randn([2, C, 3, 5], C * 100 + Co);
      expect(arr(upsampleShortcut(x, Co)), `up ${C}→${Co}`).toEqual(arr(pixelShuffle(repeatInterleaveChannels(x, (4 * Co) / C), 2)));
    }
  });

  it('equal 2×2 average pooling / nearest upsampling when the width is kept', () => {
    const x = randn([1, 3, 4, 4], 5);
    const xs = x.toFloat32();
    const pooled = arr(downsampleShortcut(x, 3));
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 2; y++) {
        for (let xx = 0; xx < 2; xx++) {
          const at = (yy: number, xxx: number): number => xs[(c * 4 + yy) * 4 + xxx]!;
          const mean = (at(2 * y, 2 * xx) + at(2 * y, 2 * xx + 1) + at(2 * y + 1, 2 * xx) + at(2 * y + 1, 2 * xx + 1)) / 4;
          expect(pooled[(c * 2 + y) * 2 + xx]).toBeCloseTo(mean, 6);
        }
      }
    }
    expect(arr(upsampleShortcut(x, 3))).toEqual(arr(upsampleNearest(x, 2)));
  });

  it('encoder-out and decoder-in shortcuts group / repeat consecutive channels', () => {
    const x = randn([2, 32, 2, 2], 9);
    expect(arr(encoderOutShortcut(x, 8))).toEqual(arr(channelGroupMean(x, 4)));
    const z = randn([2, 8, 2, 2], 10);
    expect(arr(decoderInShortcut(z, 32))).toEqual(arr(repeatInterleaveChannels(z, 4)));
    expect(() => encoderOutShortcut(x, 5)).toThrow(/32 channels do not average into 5/);
    expect(() => downsampleShortcut(randn([1, 3, 4, 4], 1), 5)).toThrow(/cannot map \[1, 3, 4, 4\] to 5 channels/);
    expect(() => upsampleShortcut(randn([1, 3, 4, 4], 1), 5)).toThrow(/cannot map \[1, 3, 4, 4\] to 5 channels/);
  });
});

describe('rmsNorm2d', () => {
  it('normalises over channels per pixel: x / sqrt(mean_c x² + eps) · w + b', () => {
    const [B, C, H, W] = [2, 5, 3, 4];
    const x = randn([B, C, H, W], 21);
    const w = randn([C], 22);
    const b = randn([C], 23);
    const out = rmsNorm2d(x, w, b);
    const [xs, ws, bs] = [x.toFloat64(), w.toFloat64(), b.toFloat64()];
    const ref = new Float64Array(xs.length);
    for (let n = 0; n < B; n++) {
      for (let p = 0; p < H * W; p++) {
        let ss = 0;
        for (let c = 0; c < C; c++) ss += xs[(n * C + c) * H * W + p]! ** 2;
        const rms = Math.sqrt(ss / C + 1e-5);
        for (let c = 0; c < C; c++) {
          const i = (n * C + c) * H * W + p;
          ref[i] = (xs[i]! / rms) * ws[c]! + bs[c]!;
        }
      }
    }
    expect(errorStats(out.toFloat64(), ref).maxRel).toBeLessThan(1e-6);
    expect(() => rmsNorm2d(x, randn([4], 1), b)).toThrow(/rmsNorm2d: weight \[4\] does not match 5 channels/);
  });
});

describe('ReLU attention (LiteMLA core)', () => {
  /** out_n = Σ_m v_m (φk_m·φq_n) / (Σ_m (φk_m·φq_n) + eps), straight from the definition, float64. */
  function naive(qkv: Tensor, d: number): Float64Array {
    const [B, C, H, W] = qkv.shape as [number, number, number, number];
    const N = H * W;
    const G = C / (3 * d);
    const x = qkv.toFloat64();
    const out = new Float64Array(B * G * d * N);
    for (let bg = 0; bg < B * G; bg++) {
      const at = (part: number, c: number, n: number): number => x[(bg * 3 * d + part * d + c) * N + n]!;
      for (let n = 0; n < N; n++) {
        const wts: number[] = [];
        for (let m = 0; m < N; m++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += Math.max(at(1, c, m), 0) * Math.max(at(0, c, n), 0);
          wts.push(s);
        }
        // + eps as LiteMLA divides: a query with no positive channel has den = 0 and gives 0, not 0/0 = NaN.
        const den = wts.reduce((a, b) => a + b, 0) + LITE_MLA_EPS;
        for (let i = 0; i < d; i++) out[(bg * d + i) * N + n] = wts.reduce((a, wm, m) => a + at(2, i, m) * wm, 0) / den;
      }
    }
    return out;
  }

  it('linear and quadratic forms both equal the definition', () => {
    const d = 4;
    const qkv = randn([2, 2 * 3 * d, 3, 5], 31);
    const ref = naive(qkv, d);
    expect(errorStats(packedReluLinearAttention(qkv, d).toFloat64(), ref).maxRel).toBeLessThan(1e-6);
    expect(errorStats(packedReluQuadraticAttention(qkv, d).toFloat64(), ref).maxRel).toBeLessThan(1e-6);
  });

  it('a query with no positive channel gives 0, not NaN', () => {
    const d = 2;
    const qkv = randn([1, 3 * d, 2, 2], 33);
    const xs = qkv.data as Float32Array;
    for (let c = 0; c < d; c++) xs[c * 4] = -1; // query 0: ReLU(q) = 0
    for (const f of [packedReluLinearAttention, packedReluQuadraticAttention]) {
      const out = f(qkv, d).data as Float32Array;
      expect(out[0]).toBe(0);
      expect(out.every((v) => Number.isFinite(v))).toBe(true);
    }
  });

  it('rejects channel counts that are not heads of 3·d', () => {
    expect(() => packedReluLinearAttention(randn([1, 10, 2, 2], 1), 4)).toThrow(/10 channels .* 3·4/);
  });
});
