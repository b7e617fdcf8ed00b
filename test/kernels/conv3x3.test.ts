import { afterAll, describe, it } from 'vitest';
import { conv3x3, conv3x3Sync, dcaeResBlock, dcaeResBlockSync, type Activation } from '../../bindings/ops.js';
import { Tensor } from '../../reference/core/tensor.js';
import { rmsNorm2d } from '../../reference/dcae/rms-norm-2d.js';
import { relu, silu } from '../../reference/ops/activations.js';
import { conv2d } from '../../reference/ops/conv2d.js';
import { nchwToTokens, tokensToNchw } from '../../reference/ops/layout.js';
import { expectBf16, expectF32, type Input, input, poisoned, printParity, r16 } from './parity.js';

afterAll(() => printParity('conv3x3 / dcae-resblock'));

/** NHWC Input values (bf16-rounded or not) as an NCHW reference tensor. */
function nchw(i: Input, bf16: boolean): Tensor {
  const [B, H, W, C] = i.shape as [number, number, number, number];
  return tokensToNchw(new Tensor([B, H * W, C], 'f32', bf16 ? i.bf16Values : i.data), H, W);
}
function nhwcValues(t: Tensor): Float32Array {
  return nchwToTokens(t).data as Float32Array;
}

const CASES: { name: string; x: number[]; cout: number; stride: 1 | 2; act: Activation; bias: boolean; residual: boolean }[] = [
  { name: 'stride 1, 7×5 image, Cin 13 → Cout 17, bias + SiLU + residual, batch 2', x: [2, 7, 5, 13], cout: 17, stride: 1, act: 'silu', bias: true, residual: true },
  { name: 'stride 2 (DC-AE down block), odd 9×7 image, Cin 16 → Cout 24', x: [1, 9, 7, 16], cout: 24, stride: 2, act: 'none', bias: true, residual: false },
  { name: 'stride 2, even 8×6 image, ReLU, no bias', x: [2, 8, 6, 8], cout: 8, stride: 2, act: 'relu', bias: false, residual: false },
  { name: 'DC-AE stage-0 width: Cin = Cout = 128, 6×5 image', x: [1, 6, 5, 128], cout: 128, stride: 1, act: 'none', bias: true, residual: false },
  { name: 'RGB output (Cout 3 ≤ MR: the transposed small-N gemm), 17×19 image, Cin 24, bias + residual', x: [1, 17, 19, 24], cout: 3, stride: 1, act: 'none', bias: true, residual: true },
  { name: 'Cout 5, stride 2, odd 33×31 image, batch 2 (small-N gemm, padding rows), SiLU', x: [2, 33, 31, 16], cout: 5, stride: 2, act: 'silu', bias: true, residual: false },
];

describe('conv3x3 (cpu, NHWC implicit gemm) vs the reference conv2d', () => {
  let seed = 900;
  for (const c of CASES) {
    it(c.name, async () => {
      const Cin = c.x[3]!;
      const x = input(c.x, seed++);
      const w = input([c.cout, Cin, 3, 3], seed++, 1 / Math.sqrt(9 * Cin));
      const b = c.bias ? input([c.cout], seed++, 0.5) : null;
      const [B, H, W] = c.x as [number, number, number];
      const outShape = [B, Math.floor((H - 1) / c.stride) + 1, Math.floor((W - 1) / c.stride) + 1, c.cout];
      const res = c.residual ? input(outShape, seed++) : null;
      const o = (k: 'ref' | 'f32' | 'bf16') => ({ bias: b?.on(k), stride: c.stride, activation: c.act, residual: res?.on(k) });
      const reference = (await conv3x3(x.ref, w.ref, o('ref'))).toFloat32();
      const out32 = poisoned(outShape, 'f32');
      await conv3x3(x.f32, w.f32, { ...o('f32'), out: out32 });
      expectF32(c.name, out32.toFloat32(), reference);

      const out16 = poisoned(outShape, 'bf16');
      conv3x3Sync(x.bf16, w.bf16, { ...o('bf16'), out: out16 });
      let y = r16(conv2d(nchw(x, true), w.tensor(true), b?.tensor(true) ?? null, { stride: c.stride, padding: 1 }));
      if (c.act === 'silu') y = r16(silu(y));
      if (c.act === 'relu') y = r16(relu(y));
      let plain = nhwcValues(y);
      if (res) plain = r16(new Tensor(outShape, 'f32', plain.map((v, i) => v + res.bf16Values[i]!))).data as Float32Array;
      expectBf16(c.name, out16.toFloat32(), plain, reference);
      for (const t of [x, w, b, res]) t?.dispose();
    });
  }
});

describe('dcae-resblock (cpu) vs the reference ResBlock', () => {
  const CASES = [
    { name: 'B=2, 6×7 image, C=16', x: [2, 6, 7, 16] },
    { name: 'C=128 (DC-AE stage 0), 5×4 image', x: [1, 5, 4, 128] },
  ];
  let seed = 950;
  for (const c of CASES) {
    it(c.name, async () => {
      const C = c.x[3]!;
      const x = input(c.x, seed++);
      const w1 = input([C, C, 3, 3], seed++, 1 / Math.sqrt(9 * C));
      const b1 = input([C], seed++, 0.2);
      const w2 = input([C, C, 3, 3], seed++, 1 / Math.sqrt(9 * C));
      const nw = input([C], seed++, 0.2, 1);
      const nb = input([C], seed++, 0.2);
      const w = (k: 'ref' | 'f32' | 'bf16') => ({ w1: w1.on(k), b1: b1.on(k), w2: w2.on(k), normWeight: nw.on(k), normBias: nb.on(k) });
      const reference = (await dcaeResBlock(x.ref, w('ref'))).toFloat32();
      const out32 = poisoned(c.x, 'f32');
      await dcaeResBlock(x.f32, w('f32'), { out: out32 });
      expectF32(c.name, out32.toFloat32(), reference);

      const out16 = poisoned(c.x, 'bf16');
      dcaeResBlockSync(x.bf16, w('bf16'), { out: out16 });
      let h = r16(silu(r16(conv2d(nchw(x, true), w1.tensor(true), b1.tensor(true), { padding: 1 }))));
      h = r16(conv2d(h, w2.tensor(true), null, { padding: 1 }));
      h = r16(rmsNorm2d(h, nw.tensor(true), nb.tensor(true)));
      const plain = r16(new Tensor(c.x, 'f32', nhwcValues(h).map((v, i) => v + x.bf16Values[i]!))).data as Float32Array;
      expectBf16(c.name, out16.toFloat32(), plain, reference);
      for (const t of [x, w1, b1, w2, nw, nb]) t.dispose();
    });
  }
});
