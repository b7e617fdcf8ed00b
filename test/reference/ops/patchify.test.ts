import { describe, expect, it } from 'vitest';
import { randn } from '../../../reference/core/random.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { tokensToNchw } from '../../../reference/ops/layout.js';
import { linear } from '../../../reference/ops/linear.js';
import { patchEmbed, patchify, unpatchify } from '../../../reference/ops/patchify.js';

describe('patchify / unpatchify', () => {
  it('hand-checked: a 1×2×2×4 image with p = 2 gives 2 tokens with features (py, px, c)', () => {
    // channel 0 = 0..7, channel 1 = 10..17 (row-major 2×4)
    const x = Tensor.f32([1, 2, 2, 4], [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17]);
    const t = patchify(x, 2);
    expect(t.shape).toEqual([1, 2, 8]);
    // token 0 = columns 0–1: (py,px) = (0,0) → c0 0, c1 10; (0,1) → 1, 11; (1,0) → 4, 14; (1,1) → 5, 15
    expect(Array.from(t.data as Float32Array)).toEqual([0, 10, 1, 11, 4, 14, 5, 15, 2, 12, 3, 13, 6, 16, 7, 17]);
    expect(Array.from(unpatchify(t, 1, 2, 2).data as Float32Array)).toEqual(Array.from(x.data as Float32Array));
  });

  it('round trip for p = 2 on a non-square latent, and p = 1 unpatchify is a transpose', () => {
    const x = randn([3, 5, 6, 10], 7);
    const back = unpatchify(patchify(x, 2), 3, 5, 2);
    expect(back.shape).toEqual([3, 5, 6, 10]);
    expect(Array.from(back.data as Float32Array)).toEqual(Array.from(x.data as Float32Array));
    const t = randn([2, 12, 4], 8);
    expect(Array.from(unpatchify(t, 3, 4, 1).data as Float32Array)).toEqual(Array.from(tokensToNchw(t, 3, 4).data as Float32Array));
  });

  it('patchEmbed (conv, kernel = stride = 2) equals linear(patchify(x)) with the weight permuted to (D, py, px, c)', () => {
    const [C, D, p] = [3, 5, 2];
    const x = randn([2, C, 4, 6], 9);
    const w = randn([D, C, p, p], 10);
    const b = randn([D], 11);
    const ws = w.data as Float32Array;
    const wp = new Float32Array(ws.length);
    for (let d = 0; d < D; d++) for (let c = 0; c < C; c++) for (let py = 0; py < p; py++) for (let px = 0; px < p; px++) {
      wp[d * C * p * p + (py * p + px) * C + c] = ws[((d * C + c) * p + py) * p + px]!;
    }
    const a = patchEmbed(x, w, b, p).data as Float32Array;
    const e = linear(patchify(x, p), new Tensor([D, p * p * C], 'f32', wp), b).data as Float32Array;
    expect(a.length).toBe(2 * 6 * D);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - e[i]!)).toBeLessThan(1e-6);
  });

  it('rejects latents that are not multiples of the patch size', () => {
    expect(() => patchify(randn([1, 2, 5, 4], 1), 2)).toThrow(/not a non-empty multiple of patch size 2/);
    expect(() => unpatchify(randn([1, 6, 8], 1), 2, 2, 2)).toThrow(/want tokens \(B, 2·2, p²·C\)/);
  });
});
