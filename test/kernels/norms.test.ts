import { afterAll, describe, expect, it } from 'vitest';
import { layerNormModulate, layerNormModulateSync, rmsNorm, rmsNorm2d, rmsNormSync } from '../../bindings/ops.js';
import { Tensor } from '../../reference/core/tensor.js';
import { modulate } from '../../reference/dit/modulation.js';
import { layerNorm, rmsNorm as rmsNormRef } from '../../reference/ops/norms.js';
import { cpu, expectBf16, expectF32, input, poisoned, printParity, r16 } from './parity.js';

afterAll(() => printParity('norms'));

describe('layernorm-modulate (cpu) vs the reference', () => {
  const CASES = [
    { name: 'B=2, N=37, C=1152, shift/scale (B, 1, C)', x: [2, 37, 1152], mod: [2, 1, 1152] },
    { name: 'B=2, N=5, C=45 (odd), shift/scale (B, C), mean far from 0', x: [2, 5, 45], mod: [2, 45], mean: 30 },
    { name: 'one (C) table broadcast over the batch', x: [3, 4, 64], mod: [64] },
  ];
  let seed = 700;
  for (const c of CASES) {
    it(c.name, async () => {
      const x = input(c.x, seed++, 1, c.mean ?? 0);
      const shift = input(c.mod, seed++, 0.5);
      const scale = input(c.mod, seed++, 0.5);
      const reference = (await layerNormModulate(x.ref, shift.ref, scale.ref)).toFloat32();
      const out32 = poisoned(c.x, 'f32');
      await layerNormModulate(x.f32, shift.f32, scale.f32, { out: out32 });
      expectF32(c.name, out32.toFloat32(), reference);

      const out16 = poisoned(c.x, 'bf16');
      layerNormModulateSync(x.bf16, shift.bf16, scale.bf16, { out: out16 });
      const [B, , C] = c.x as [number, number, number];
      const chunks = new Float32Array(B * 2 * C);
      for (let b = 0; b < B; b++) {
        const src = c.mod.length === 1 ? 0 : b * C;
        chunks.set(shift.bf16Values.subarray(src, src + C), b * 2 * C);
        chunks.set(scale.bf16Values.subarray(src, src + C), (b * 2 + 1) * C);
      }
      const plain = r16(modulate(r16(layerNorm(x.tensor(true), { eps: 1e-6 })), new Tensor([B, 2, C], 'f32', chunks), 0, 1)).data as Float32Array;
      expectBf16(c.name, out16.toFloat32(), plain, reference);
      for (const t of [x, shift, scale]) t.dispose();
    });
  }
});

describe('rmsnorm / rmsnorm2d (cpu) vs the reference', () => {
  const CASES = [
    { name: 'caption norm: (2, 7, 1152), weight, no bias, eps 1e-5', x: [2, 7, 1152], weight: true, bias: false },
    { name: 'rmsnorm2d NHWC (2, 5, 3, 40) with weight + bias + residual', x: [2, 5, 3, 40], weight: true, bias: true, residual: true, nhwc: true },
    { name: 'no affine, C = 33', x: [9, 33], weight: false, bias: false },
  ];
  let seed = 800;
  for (const c of CASES) {
    it(c.name, async () => {
      const C = c.x[c.x.length - 1]!;
      const x = input(c.x, seed++, 2);
      const w = c.weight ? input([C], seed++, 0.5, 1) : null;
      const b = c.bias ? input([C], seed++, 0.5) : null;
      const res = c.residual ? input(c.x, seed++) : null;
      const o = (k: 'ref' | 'f32' | 'bf16') => ({ weight: w?.on(k), bias: b?.on(k), residual: res?.on(k) });
      const f = c.nhwc ? rmsNorm2d : rmsNorm;
      const reference = (await f(x.ref, o('ref'))).toFloat32();
      const out32 = poisoned(c.x, 'f32');
      await f(x.f32, { ...o('f32'), out: out32 });
      expectF32(c.name, out32.toFloat32(), reference);

      const out16 = poisoned(c.x, 'bf16');
      rmsNormSync(x.bf16, { ...o('bf16'), out: out16 });
      let plain = r16(rmsNormRef(x.tensor(true), { eps: 1e-5, weight: w?.tensor(true), bias: b?.tensor(true) })).data as Float32Array;
      if (res) plain = r16(new Tensor(c.x, 'f32', plain.map((v, i) => v + res.bf16Values[i]!))).data as Float32Array;
      expectBf16(c.name, out16.toFloat32(), plain, reference);
      for (const t of [x, w, b, res]) t?.dispose();
    });
  }
});

describe('the norms in place (out = x, out = residual) give the out-of-place values (cpu)', () => {
  for (const dtype of ['f32', 'bf16'] as const) {
    it(`rmsnorm with weight, bias and residual, ${dtype}`, () => {
      const shape = [3, 40, 72];
      const x = input(shape, 850, 2);
      const w = input([72], 851, 0.5, 1);
      const b = input([72], 852, 0.5);
      const res = input(shape, 853);
      const opts = { weight: w[dtype], bias: b[dtype], residual: res[dtype] };
      const expected = rmsNormSync(x[dtype], opts).toFloat32();
      const xCopy = cpu.fromArray(x[dtype].toFloat32(), shape, dtype);
      expect(Array.from(rmsNormSync(xCopy, { ...opts, out: xCopy }).toFloat32()), 'out = x').toEqual(Array.from(expected));
      const resCopy = cpu.fromArray(res[dtype].toFloat32(), shape, dtype);
      expect(Array.from(rmsNormSync(x[dtype], { ...opts, residual: resCopy, out: resCopy }).toFloat32()), 'out = residual').toEqual(Array.from(expected));
      expect(expected.every(Number.isFinite)).toBe(true);
      for (const t of [x, w, b, res, xCopy, resCopy]) t.dispose();
    });
  }
  it('layernorm-modulate, out = x, bf16', () => {
    const x = input([2, 30, 64], 860);
    const shift = input([2, 1, 64], 861, 0.5);
    const scale = input([2, 1, 64], 862, 0.5);
    const expected = layerNormModulateSync(x.bf16, shift.bf16, scale.bf16).toFloat32();
    const xCopy = cpu.fromArray(x.bf16.toFloat32(), [2, 30, 64], 'bf16');
    expect(Array.from(layerNormModulateSync(xCopy, shift.bf16, scale.bf16, { out: xCopy }).toFloat32())).toEqual(Array.from(expected));
    for (const t of [x, shift, scale, xCopy]) t.dispose();
  });
});
