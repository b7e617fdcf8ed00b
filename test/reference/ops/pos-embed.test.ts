import { describe, expect, it } from 'vitest';
import { sincosPosEmbed2d } from '../../../reference/ops/pos-embed.js';

describe('sincosPosEmbed2d', () => {
  it('hand-checked 2×3 grid, D = 8: [sin x, cos x, sin y, cos y] with ω = [1, 1/100]', () => {
    // base 2, scale 2: y_i = i / (2/2) / 2 = i/2, x_j = j / (3/2) / 2 = j/3; ω_k = 10000^(−k/2) = [1, 0.01]
    const pe = sincosPosEmbed2d(8, 2, 3, { baseSize: 2, interpolationScale: 2 });
    expect(pe.shape).toEqual([6, 8]);
    const d = pe.data as Float32Array;
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const x = Math.fround(j / 3);
        const y = i / 2;
        const want = [Math.sin(x), Math.sin(x / 100), Math.cos(x), Math.cos(x / 100), Math.sin(y), Math.sin(y / 100), Math.cos(y), Math.cos(y / 100)];
        const row = Array.from(d.subarray((i * 3 + j) * 8, (i * 3 + j + 1) * 8));
        row.forEach((v, c) => expect(v).toBeCloseTo(want[c]!, 6));
      }
    }
  });

  it('a square grid at base size and scale 1 has integer coordinates', () => {
    const pe = sincosPosEmbed2d(4, 3, 3, { baseSize: 3, interpolationScale: 1 }).data as Float32Array;
    // token (row 2, col 1): x = 1, y = 2, ω = [1]
    expect(Array.from(pe.subarray(7 * 4, 8 * 4))).toEqual([Math.sin(1), Math.cos(1), Math.sin(2), Math.cos(2)].map(Math.fround));
  });

  it('rejects a dim not divisible by 4', () => {
    expect(() => sincosPosEmbed2d(6, 2, 2, { baseSize: 2, interpolationScale: 1 })).toThrow(/multiple of 4/);
  });
});
