import { afterAll, describe, it } from 'vitest';
import { mixFfn, mixFfnSync } from '../../bindings/ops.js';
import { Tensor } from '../../reference/core/tensor.js';
import { silu } from '../../reference/ops/activations.js';
import { conv2d } from '../../reference/ops/conv2d.js';
import { nchwToTokens, tokensToNchw } from '../../reference/ops/layout.js';
import { linear } from '../../reference/ops/linear.js';
import { expectBf16, expectF32, input, poisoned, printParity, r16 } from './parity.js';

afterAll(() => printParity('mix-ffn'));

/** Plain bf16 GLUMBConv on tokens: every intermediate tensor rounded to bf16 (as torch stores it). */
function plainBf16(x: Tensor, H: number, W: number, wInv: Tensor, bInv: Tensor, wDw: Tensor, bDw: Tensor, wPoint: Tensor): Tensor {
  const two = wInv.shape[0]!;
  const h = two / 2;
  const u = r16(silu(r16(linear(x, wInv, bInv))));
  const d = nchwToTokens(r16(conv2d(tokensToNchw(u, H, W), wDw.reshape([two, 1, 3, 3]), bDw, { padding: 1, groups: two })));
  const ds = d.data as Float32Array;
  const [B, N] = d.shape as [number, number, number];
  const a = new Float32Array(B * N * h);
  const g = new Float32Array(B * N * h);
  for (let r = 0; r < B * N; r++) {
    a.set(ds.subarray(r * two, r * two + h), r * h);
    g.set(ds.subarray(r * two + h, (r + 1) * two), r * h);
  }
  const gs = r16(silu(new Tensor([B, N, h], 'f32', g))).data as Float32Array;
  const z = r16(new Tensor([B, N, h], 'f32', a.map((v, i) => v * gs[i]!)));
  return r16(linear(z, wPoint));
}

const CASES = [
  { name: 'B=2, 5×7 grid (non-square, odd), C=32, hidden 80, gate + residual', B: 2, H: 5, W: 7, C: 32, h: 80, gated: true },
  { name: 'a 1×9 grid (height 1), hidden 300 (two channel blocks), 4-D 1×1 weights', B: 1, H: 1, W: 9, C: 24, h: 300, gated: false, conv4d: true },
  { name: 'Sana-0.6B widths C=1152, hidden 2880, 4×6 grid', B: 1, H: 4, W: 6, C: 1152, h: 2880, gated: false },
];

describe('mix-ffn (cpu) vs the reference GLUMBConv', () => {
  let seed = 500;
  for (const c of CASES) {
    it(c.name, async () => {
      const N = c.H * c.W;
      const two = 2 * c.h;
      const x = input([c.B, N, c.C], seed++);
      const wInv = input(c.conv4d ? [two, c.C, 1, 1] : [two, c.C], seed++, 1 / Math.sqrt(c.C));
      const bInv = input([two], seed++, 0.5);
      const wDw = input([two, 1, 3, 3], seed++, 1 / 3);
      const bDw = input([two], seed++, 0.5);
      const wPoint = input(c.conv4d ? [c.C, c.h, 1, 1] : [c.C, c.h], seed++, 1 / Math.sqrt(c.h));
      const gate = c.gated ? input([c.B, 1, c.C], seed++) : null;
      const res = c.gated ? input([c.B, N, c.C], seed++) : null;
      const w = (k: 'ref' | 'f32' | 'bf16') => ({ wInv: wInv.on(k), bInv: bInv.on(k), wDw: wDw.on(k), bDw: bDw.on(k), wPoint: wPoint.on(k) });
      const o = (k: 'ref' | 'f32' | 'bf16') => ({ height: c.H, width: c.W, gate: gate?.on(k), residual: res?.on(k) });
      const outShape = [c.B, N, c.C];

      const reference = (await mixFfn(x.ref, w('ref'), o('ref'))).toFloat32();
      const out32 = poisoned(outShape, 'f32');
      await mixFfn(x.f32, w('f32'), { ...o('f32'), out: out32 });
      expectF32(c.name, out32.toFloat32(), reference);

      const out16 = poisoned(outShape, 'bf16');
      mixFfnSync(x.bf16, w('bf16'), { ...o('bf16'), out: out16 });
      const tb = (i: { tensor(b: boolean): Tensor }) => i.tensor(true);
      let plain = plainBf16(tb(x), c.H, c.W, tb(wInv).reshape([two, c.C]), tb(bInv), tb(wDw), tb(bDw), tb(wPoint).reshape([c.C, c.h])).data as Float32Array;
      if (gate && res) {
        const g = gate.bf16Values;
        plain = r16(new Tensor(outShape, 'f32', plain.map((v, i) => v * g[Math.floor(i / (N * c.C)) * c.C + (i % c.C)]!))).data as Float32Array;
        plain = r16(new Tensor(outShape, 'f32', plain.map((v, i) => v + res.bf16Values[i]!))).data as Float32Array;
      }
      expectBf16(c.name, out16.toFloat32(), plain, reference);
      for (const t of [x, wInv, bInv, wDw, bDw, wPoint, gate, res]) t?.dispose();
    });
  }
});
