import { afterAll, describe, expect, it } from 'vitest';
import { crossAttention, crossAttentionSync } from '../../bindings/ops.js';
import { Tensor } from '../../reference/core/tensor.js';
import { softmaxAttention } from '../../reference/ops/cross-attention.js';
import { linear } from '../../reference/ops/linear.js';
import { expectBf16, expectBits, expectF32, Input, input, poisoned, printParity, r16 } from './parity.js';
import { CROSS_ATTENTION_CASES, crossAttentionInputs, maskBias } from './cross-attention-cases.js';

afterAll(() => printParity('cross-attention'));

describe('cross-attention (cpu) vs the reference module', () => {
  for (const c of CROSS_ATTENTION_CASES) {
    it(c.name, async () => {
      const { x, y, wq, wk, wv, wo, bq, bk, bv, bo, mask, res, dispose } = crossAttentionInputs(c, 600 + 20 * CROSS_ATTENTION_CASES.indexOf(c));
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
      dispose();
    });
  }

  it('updates x in place (out = residual = x, the DiT residual stream) with the out-of-place result', async () => {
    const x = input([2, 9, 32], 21);
    const y = input([2, 4, 16], 22);
    const w = { wq: input([32, 32], 23).f32, wk: input([32, 16], 24).f32, wv: input([32, 16], 25).f32, wo: input([32, 32], 26).f32 };
    const expected = (await crossAttention(x.f32, y.f32, w, { heads: 2, residual: x.f32 })).toFloat32();
    const same = await crossAttention(x.f32, y.f32, w, { heads: 2, residual: x.f32, out: x.f32 });
    expect(same).toBe(x.f32);
    expectBits('in place vs out of place', x.f32.toFloat32(), expected);
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
    const a = (await crossAttention(x.f32, y1.f32, w, { heads: 2, maskBias: mask.f32, out: poisoned([B, N, C], 'f32') })).toFloat32();
    const b = (await crossAttention(x.f32, y2.f32, w, { heads: 2, maskBias: mask.f32, out: poisoned([B, N, C], 'f32') })).toFloat32();
    expectBits('masked keys changed', b, a);
  });
});
