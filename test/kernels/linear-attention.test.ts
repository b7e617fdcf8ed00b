import { afterAll, describe, it, expect } from 'vitest';
import { linearAttention, linearAttentionBlock, linearAttentionSync } from '../../bindings/ops.js';
import { Tensor } from '../../reference/core/tensor.js';
import { reluLinearAttention } from '../../reference/ops/linear-attention.js';
import { linear } from '../../reference/ops/linear.js';
import { expectBf16, expectF32, Input, input, poisoned, printParity, r16 } from './parity.js';

afterAll(() => printParity('linear-attention'));

interface CoreCase {
  name: string;
  q: number[];
  kv: number[];
  headDim: number;
  eps?: number;
}

const CORE: CoreCase[] = [
  { name: 'B=2, N=37 (odd), C=64, 2 heads of 32', q: [2, 37, 64], kv: [2, 37, 64], headDim: 32 },
  { name: 'Sana-0.6B heads: C=1152 = 36 heads of 32, N=30 (5×6 grid)', q: [1, 30, 1152], kv: [1, 30, 1152], headDim: 32 },
  { name: 'head dim 16 (the golden models), M ≠ N, eps 1e-8 (NVlabs)', q: [2, 20, 48], kv: [2, 33, 48], headDim: 16, eps: 1e-8 },
  { name: 'N=130 (three token blocks of 64), C=96', q: [1, 130, 96], kv: [1, 130, 96], headDim: 32 },
];

describe('linear-attention core (cpu) vs the reference', () => {
  let seed = 300;
  for (const c of CORE) {
    it(c.name, async () => {
      const q = input(c.q, seed++);
      const k = input(c.kv, seed++);
      const v = input(c.kv, seed++);
      const opts = { headDim: c.headDim, eps: c.eps };
      const reference = (await linearAttention(q.ref, k.ref, v.ref, opts)).toFloat32();
      const out32 = poisoned(c.q, 'f32');
      await linearAttention(q.f32, k.f32, v.f32, { ...opts, out: out32 });
      expectF32(c.name, out32.toFloat32(), reference);
      const unfused = poisoned(c.q, 'f32');
      await linearAttention(q.f32, k.f32, v.f32, { ...opts, variant: 'unfused', out: unfused });
      expectF32(`${c.name} (unfused variant)`, unfused.toFloat32(), reference);
      const out16 = poisoned(c.q, 'bf16');
      linearAttentionSync(q.bf16, k.bf16, v.bf16, { ...opts, out: out16 });
      const heads = c.q[2]! / c.headDim;
      const plain = r16(reluLinearAttention(q.tensor(true), k.tensor(true), v.tensor(true), { heads, eps: c.eps })).data as Float32Array;
      expectBf16(c.name, out16.toFloat32(), plain, reference);
      for (const t of [q, k, v]) t.dispose();
    });
  }

  it('a query with ReLU(q) = 0 everywhere gets output 0 (0 / eps), not NaN', async () => {
    const data = input([1, 8, 32], 1).data;
    for (let j = 0; j < 32; j++) data[3 * 32 + j] = -Math.abs(data[3 * 32 + j]!) - 0.1;
    const q = new Input(data, [1, 8, 32]);
    const k = input([1, 8, 32], 2);
    const v = input([1, 8, 32], 3);
    const out = (await linearAttention(q.f32, k.f32, v.f32)).toFloat32();
    const expected = (await linearAttention(q.ref, k.ref, v.ref)).toFloat32();
    expect(Array.from(out.subarray(3 * 32, 4 * 32))).toEqual(new Array(32).fill(0));
    expectF32('all-negative query', out, expected);
  });
});

describe('linear-attention-block (cpu) vs the reference', () => {
  const CASES = [
    { name: 'B=2, N=35, C=64, bo + gate (B,1,C) + residual', x: [2, 35, 64], gate: true, residual: true },
    { name: 'Sana-0.6B width C=1152 (36 heads), N=24', x: [1, 24, 1152], gate: false, residual: false },
  ];
  let seed = 400;
  for (const c of CASES) {
    it(c.name, async () => {
      const C = c.x[2]!;
      const x = input(c.x, seed++);
      const s = 1 / Math.sqrt(C);
      const wq = input([C, C], seed++, s);
      const wk = input([C, C], seed++, s);
      const wv = input([C, C], seed++, s);
      const wo = input([C, C], seed++, s);
      const bo = input([C], seed++);
      const gate = c.gate ? input([c.x[0]!, 1, C], seed++) : null;
      const res = c.residual ? input(c.x, seed++) : null;
      const w = (k: 'ref' | 'f32' | 'bf16') => ({ wq: wq.on(k), wk: wk.on(k), wv: wv.on(k), wo: wo.on(k), bo: bo.on(k) });
      const o = (k: 'ref' | 'f32' | 'bf16') => ({ gate: gate?.on(k), residual: res?.on(k) });
      const reference = (await linearAttentionBlock(x.ref, w('ref'), o('ref'))).toFloat32();
      const out32 = poisoned(c.x, 'f32');
      await linearAttentionBlock(x.f32, w('f32'), { ...o('f32'), out: out32 });
      expectF32(c.name, out32.toFloat32(), reference);

      const out16 = poisoned(c.x, 'bf16');
      await linearAttentionBlock(x.bf16, w('bf16'), { ...o('bf16'), out: out16 });
      // Plain bf16: every projection output and the core output rounded to bf16.
      const xb = x.tensor(true);
      const core = r16(
        reluLinearAttention(r16(linear(xb, wq.tensor(true))), r16(linear(xb, wk.tensor(true))), r16(linear(xb, wv.tensor(true))), { heads: C / 32 }),
      );
      let y = r16(linear(core, wo.tensor(true), bo.tensor(true))).data as Float32Array;
      if (gate) {
        const g = gate.bf16Values;
        const N = c.x[1]!;
        y = Float32Array.from(y, (v, i) => v * g[Math.floor(i / (N * C)) * C + (i % C)]!);
        y = r16(new Tensor(c.x, 'f32', y)).data as Float32Array;
      }
      if (res) y = r16(new Tensor(c.x, 'f32', Float32Array.from(y, (v, i) => v + res.bf16Values[i]!))).data as Float32Array;
      expectBf16(c.name, out16.toFloat32(), y, reference);
      for (const t of [x, wq, wk, wv, wo, bo, gate, res]) t?.dispose();
    });
  }
});
