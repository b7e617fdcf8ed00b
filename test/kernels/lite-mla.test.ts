import { afterAll, describe, it } from 'vitest';
import { liteMla, liteMlaSync } from '../../bindings/ops.js';
import { Tensor } from '../../reference/core/tensor.js';
import { concatChannels } from '../../reference/dcae/channel-ops.js';
import { packedReluLinearAttention, packedReluQuadraticAttention } from '../../reference/dcae/relu-attention.js';
import { rmsNorm2d } from '../../reference/dcae/rms-norm-2d.js';
import { conv2d } from '../../reference/ops/conv2d.js';
import { nchwToTokens, tokensToNchw } from '../../reference/ops/layout.js';
import { expectBf16, expectF32, type Input, input, poisoned, printParity, r16 } from './parity.js';

afterAll(() => printParity('lite-mla'));

function nchw(i: Input): Tensor {
  const [B, H, W, C] = i.shape as [number, number, number, number];
  return tokensToNchw(new Tensor([B, H * W, C], 'f32', i.bf16Values), H, W);
}

const CASES = [
  { name: 'linear branch: B=2, 5×7 map, C=64, head dim 32 (4 attention heads)', x: [2, 5, 7, 64], d: 32 },
  { name: 'quadratic branch: 4×4 map (16 ≤ 32), C=32', x: [1, 4, 4, 32], d: 32 },
  { name: 'boundary H·W = d = 16 takes the quadratic branch, C=48, head dim 16', x: [1, 4, 4, 48], d: 16 },
];

describe('lite-mla (cpu) vs the reference LiteMLA', () => {
  let seed = 1000;
  for (const c of CASES) {
    it(c.name, async () => {
      const C = c.x[3]!;
      const I = C;
      const x = input(c.x, seed++);
      const wq = input([I, C], seed++, 1 / Math.sqrt(C));
      const wk = input([I, C], seed++, 1 / Math.sqrt(C));
      const wv = input([I, C], seed++, 1 / Math.sqrt(C));
      const wDw = input([3 * I, 1, 5, 5], seed++, 0.2);
      const wGroup = input([3 * I, c.d, 1, 1], seed++, 1 / Math.sqrt(c.d));
      const wOut = input([C, 2 * I], seed++, 1 / Math.sqrt(2 * I));
      const nw = input([C], seed++, 0.2, 1);
      const nb = input([C], seed++, 0.2);
      const w = (k: 'ref' | 'f32' | 'bf16') => ({
        wq: wq.on(k),
        wk: wk.on(k),
        wv: wv.on(k),
        wDw: wDw.on(k),
        wGroup: wGroup.on(k),
        wOut: wOut.on(k),
        normWeight: nw.on(k),
        normBias: nb.on(k),
      });
      const reference = (await liteMla(x.ref, w('ref'), { headDim: c.d })).toFloat32();
      const out32 = poisoned(c.x, 'f32');
      await liteMla(x.f32, w('f32'), { headDim: c.d, out: out32 });
      expectF32(c.name, out32.toFloat32(), reference);

      const out16 = poisoned(c.x, 'bf16');
      liteMlaSync(x.bf16, w('bf16'), { headDim: c.d, out: out16 });
      // Plain bf16: every conv output, the attention output and the norm rounded to bf16.
      const b = (i: Input) => i.tensor(true);
      const wqkv = new Float32Array(3 * I * C);
      [wq, wk, wv].forEach((t, i) => wqkv.set(t.bf16Values, i * I * C));
      const qkv = r16(conv2d(nchw(x), new Tensor([3 * I, C, 1, 1], 'f32', wqkv), null, { padding: 0 }));
      const agg = r16(conv2d(r16(conv2d(qkv, b(wDw), null, { padding: 2, groups: 3 * I })), b(wGroup), null, { padding: 0, groups: (3 * I) / c.d }));
      const m = concatChannels([qkv, agg]);
      const [, , H, W] = m.shape as [number, number, number, number];
      const att = r16(H * W > c.d ? packedReluLinearAttention(m, c.d) : packedReluQuadraticAttention(m, c.d));
      const o = r16(rmsNorm2d(r16(conv2d(att, b(wOut).reshape([C, 2 * I, 1, 1]), null, { padding: 0 })), b(nw), b(nb)));
      const plain = r16(new Tensor(c.x, 'f32', (nchwToTokens(o).data as Float32Array).map((v, i) => v + x.bf16Values[i]!))).data as Float32Array;
      expectBf16(c.name, out16.toFloat32(), plain, reference);
      for (const t of [x, wq, wk, wv, wDw, wGroup, wOut, nw, nb]) t.dispose();
    });
  }
});
