import { afterAll, describe, expect, it } from 'vitest';
import { crossAttention, crossAttentionSync } from '../../bindings/ops.js';
import { Tensor } from '../../reference/core/tensor.js';
import { MASK_BIAS, softmaxAttention } from '../../reference/ops/cross-attention.js';
import { linear } from '../../reference/ops/linear.js';
import { expectBf16, expectF32, Input, input, poisoned, printParity, r16 } from './parity.js';

afterAll(() => printParity('cross-attention'));

/** A (B, 1, L) additive bias: the last `dropped[b]` keys of sample b masked with −10000. */
function maskBias(B: number, L: number, dropped: number[]): Input {
  const m = new Float32Array(B * L);
  for (let b = 0; b < B; b++) for (let l = L - dropped[b]!; l < L; l++) m[b * L + l] = MASK_BIAS;
  return new Input(m, [B, 1, L]);
}

const CASES = [
  { name: 'B=2, N=35, L=7 (masked 2 and 0 keys), C=64, Cy=48, 4 heads of 16, residual', B: 2, N: 35, L: 7, C: 64, Cy: 48, heads: 4, dropped: [2, 0], residual: true },
  { name: 'Sana-0.6B heads: C=1152, 16 heads of 72, L=20 (13 masked), N=12', B: 1, N: 12, L: 20, C: 1152, Cy: 1152, heads: 16, dropped: [13], residual: false },
  { name: 'no mask, one head, N=70 (two query blocks)', B: 1, N: 70, L: 5, C: 40, Cy: 40, heads: 1, dropped: null, residual: false },
];

describe('cross-attention (cpu) vs the reference module', () => {
  let seed = 600;
  for (const c of CASES) {
    it(c.name, async () => {
      const x = input([c.B, c.N, c.C], seed++);
      const y = input([c.B, c.L, c.Cy], seed++);
      const wq = input([c.C, c.C], seed++, 1 / Math.sqrt(c.C));
      const wk = input([c.C, c.Cy], seed++, 1 / Math.sqrt(c.Cy));
      const wv = input([c.C, c.Cy], seed++, 1 / Math.sqrt(c.Cy));
      const wo = input([c.C, c.C], seed++, 1 / Math.sqrt(c.C));
      const [bq, bk, bv, bo] = [0, 1, 2, 3].map(() => input([c.C], seed++, 0.3));
      const mask = c.dropped ? maskBias(c.B, c.L, c.dropped) : null;
      const res = c.residual ? input([c.B, c.N, c.C], seed++) : null;
      const w = (k: 'ref' | 'f32' | 'bf16') => ({ wq: wq.on(k), bq: bq!.on(k), wk: wk.on(k), bk: bk!.on(k), wv: wv.on(k), bv: bv!.on(k), wo: wo.on(k), bo: bo!.on(k) });
      const o = (k: 'ref' | 'f32' | 'bf16') => ({ heads: c.heads, maskBias: mask?.on(k), residual: res?.on(k) });
      const outShape = [c.B, c.N, c.C];

      const reference = (await crossAttention(x.ref, y.ref, w('ref'), o('ref'))).toFloat32();
      const out32 = poisoned(outShape, 'f32');
      await crossAttention(x.f32, y.f32, w('f32'), { ...o('f32'), out: out32 });
      expectF32(c.name, out32.toFloat32(), reference);

      const out16 = poisoned(outShape, 'bf16');
      crossAttentionSync(x.bf16, y.bf16, w('bf16'), { ...o('bf16'), out: out16 });
      const t = (i: Input) => i.tensor(true);
      const attn = r16(
        softmaxAttention(r16(linear(t(x), t(wq), t(bq!))), r16(linear(t(y), t(wk), t(bk!))), r16(linear(t(y), t(wv), t(bv!))), {
          heads: c.heads,
          bias: mask ? t(mask) : null,
        }),
      );
      let plain = r16(linear(attn, t(wo), t(bo!))).data as Float32Array;
      if (res) plain = r16(new Tensor(outShape, 'f32', plain.map((v, i) => v + res.bf16Values[i]!))).data as Float32Array;
      expectBf16(c.name, out16.toFloat32(), plain, reference);
      for (const i of [x, y, wq, wk, wv, wo, bq, bk, bv, bo, mask, res]) i?.dispose();
    });
  }

  it('updates x in place (out = residual = x, the DiT residual stream) with the out-of-place result', async () => {
    const x = input([2, 9, 32], 21);
    const y = input([2, 4, 16], 22);
    const w = { wq: input([32, 32], 23).f32, wk: input([32, 16], 24).f32, wv: input([32, 16], 25).f32, wo: input([32, 32], 26).f32 };
    const expected = (await crossAttention(x.f32, y.f32, w, { heads: 2, residual: x.f32 })).toFloat32();
    const same = await crossAttention(x.f32, y.f32, w, { heads: 2, residual: x.f32, out: x.f32 });
    expect(same).toBe(x.f32);
    expect(Array.from(x.f32.toFloat32())).toEqual(Array.from(expected));
  });

  it('masked keys get exactly zero weight: changing their values does not change the output', async () => {
    const B = 1, N = 6, L = 5, C = 16;
    const x = input([B, N, C], 1);
    const y1 = input([B, L, C], 2);
    const data = y1.data.slice();
    for (let i = 3 * C; i < L * C; i++) data[i] = data[i]! * 7 + 3; // keys 3, 4 are masked below
    const y2 = new Input(data, [B, L, C]);
    const w = { wq: input([C, C], 3).f32, wk: input([C, C], 4).f32, wv: input([C, C], 5).f32, wo: input([C, C], 6).f32 };
    const mask = maskBias(B, L, [2]);
    const a = (await crossAttention(x.f32, y1.f32, w, { heads: 2, maskBias: mask.f32 })).toFloat32();
    const b = (await crossAttention(x.f32, y2.f32, w, { heads: 2, maskBias: mask.f32 })).toFloat32();
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});
