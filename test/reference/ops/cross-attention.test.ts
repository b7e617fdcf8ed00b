import { describe, expect, it } from 'vitest';
import { randn } from '../../../reference/core/random.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { crossAttentionModule, maskToBias, softmaxAttention } from '../../../reference/ops/cross-attention.js';
import { GOLDEN, maxRelError, OP_TOL, readOp } from './op-golden.js';

/** Drop key/value token j of every sample: (B, L, C) → (B, L−1, C). */
function dropToken(t: Tensor, j: number): Tensor {
  const [B, L, C] = t.shape as [number, number, number];
  const src = t.data as Float32Array;
  const out = new Float32Array(B * (L - 1) * C);
  for (let b = 0; b < B; b++) {
    let o = 0;
    for (let m = 0; m < L; m++) {
      if (m === j) continue;
      out.set(src.subarray((b * L + m) * C, (b * L + m + 1) * C), (b * (L - 1) + o++) * C);
    }
  }
  return new Tensor([B, L - 1, C], 'f32', out);
}

describe('softmaxAttention', () => {
  it('one head, one query: hand-checked softmax weights', () => {
    // q = [1, 0], keys [1,0], [0,1]; scale 1/√2 → logits [1/√2, 0]
    const q = Tensor.f32([1, 1, 2], [1, 0]);
    const k = Tensor.f32([1, 2, 2], [1, 0, 0, 1]);
    const v = Tensor.f32([1, 2, 2], [10, 0, 0, 10]);
    const out = softmaxAttention(q, k, v, { heads: 1 }).data as Float32Array;
    const a = Math.exp(1 / Math.SQRT2) / (Math.exp(1 / Math.SQRT2) + 1);
    expect(out[0]).toBeCloseTo(10 * a, 5);
    expect(out[1]).toBeCloseTo(10 * (1 - a), 5);
  });

  it('maskToBias is (1 − mask)·(−10000)', () => {
    expect(Array.from(maskToBias(Tensor.f32([1, 3], [1, 0, 1])).data as Float32Array, (x) => x + 0)).toEqual([0, -10000, 0]); // −0 for kept keys, as torch
  });

  it('a masked token (in every sample) is exactly the same as removing it', () => {
    const q = randn([3, 6, 8], 1);
    const k = randn([3, 5, 8], 2);
    const v = randn([3, 5, 8], 3);
    const mask = Tensor.f32([3, 5], [1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1]);
    const masked = softmaxAttention(q, k, v, { heads: 2, bias: maskToBias(mask) });
    const dropped = softmaxAttention(q, dropToken(k, 2), dropToken(v, 2), { heads: 2 });
    expect(Array.from(masked.data as Float32Array)).toEqual(Array.from(dropped.data as Float32Array));
  });

  it('a sample with every key masked gets the unmasked result (the −10000 cancels, as in diffusers)', () => {
    const q = randn([1, 4, 8], 4);
    const k = randn([1, 3, 8], 5);
    const v = randn([1, 3, 8], 6);
    const all = softmaxAttention(q, k, v, { heads: 2, bias: maskToBias(Tensor.f32([1, 3], [0, 0, 0])) }).data as Float32Array;
    const none = softmaxAttention(q, k, v, { heads: 2 }).data as Float32Array;
    for (let i = 0; i < all.length; i++) expect(Math.abs(all[i]! - none[i]!)).toBeLessThan(1e-5);
  });

  it('rejects a mis-shaped bias', () => {
    const x = randn([2, 3, 4], 1);
    expect(() => softmaxAttention(x, x, x, { heads: 1, bias: Tensor.f32([2, 4], new Float32Array(8)) })).toThrow(/bias \[2, 4\] does not fit/);
  });
});

describe.skipIf(!GOLDEN)('cross-attention module vs diffusers (op_dit_cross_attention)', () => {
  for (const accumulate of ['f64', 'f32'] as const) {
    it(`${accumulate} accumulation: max|a−e|/max|e| <= ${OP_TOL}`, () => {
      const g = readOp('op_dit_cross_attention.safetensors');
      const out = crossAttentionModule(
        g('input.hidden_states'),
        g('input.encoder_hidden_states'),
        {
          toQ: g('params.to_q.weight'), toQBias: g('params.to_q.bias'),
          toK: g('params.to_k.weight'), toKBias: g('params.to_k.bias'),
          toV: g('params.to_v.weight'), toVBias: g('params.to_v.bias'),
          toOut: g('params.to_out.0.weight'), toOutBias: g('params.to_out.0.bias'),
        },
        { heads: 2, bias: g('input.attention_mask_bias'), accumulate },
      );
      expect(maxRelError(`cross attention (${accumulate} acc) vs output`, out, g('output'))).toBeLessThanOrEqual(OP_TOL);
      expect(maxRelError(`cross attention (${accumulate} acc) vs output_f64`, out, g('output_f64'))).toBeLessThanOrEqual(OP_TOL);
    });
  }
});
