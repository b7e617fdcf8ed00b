/**
 * bindings/backend-reference.ts: the reference backend takes every shape the shared checks accept. A
 * vector operand (a bias, a norm's weight) may be (N) or (1, …, 1, N); the reference layers take (N), so
 * the backend flattens it — the same output as (N), and the same as the cpu backend's.
 */
import { describe, expect, it } from 'vitest';
import * as ops from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { Rng } from '../../reference/core/random.js';

type Make = (shape: number[]) => BackendTensor;

function maker(backend: 'cpu' | 'reference'): (seed: number) => Make {
  return (seed) => {
    let s = seed;
    return (shape) => {
      const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
      new Rng(s++).fillNormal(a, 0, 0.5);
      return ops.getBackend(backend).fromArray(a, shape);
    };
  };
}

// Each case: the op on fresh tensors, its vector operands shaped by `v` (a vector of n → (n) or (1, 1, n)).
const CASES: [string, (t: Make, v: (n: number) => number[]) => BackendTensor][] = [
  ['gemm bias', (t, v) => ops.gemmSync(t([2, 4]), t([3, 4]), { bias: t(v(3)) })],
  ['linear-attention-block bo', (t, v) => ops.linearAttentionBlockSync(t([1, 3, 8]), { wq: t([8, 8]), wk: t([8, 8]), wv: t([8, 8]), wo: t([8, 8]), bo: t(v(8)) }, { headDim: 4 })],
  [
    'cross-attention bq, bk, bv, bo',
    (t, v) => ops.crossAttentionSync(t([1, 3, 8]), t([1, 2, 8]), { wq: t([8, 8]), bq: t(v(8)), wk: t([8, 8]), bk: t(v(8)), wv: t([8, 8]), bv: t(v(8)), wo: t([8, 8]), bo: t(v(8)) }, { heads: 2 }),
  ],
  ['conv3x3 bias', (t, v) => ops.conv3x3Sync(t([1, 3, 3, 2]), t([2, 2, 3, 3]), { bias: t(v(2)) })],
  ['dcae-resblock b1, norm', (t, v) => ops.dcaeResBlockSync(t([1, 3, 3, 4]), { w1: t([4, 4, 3, 3]), b1: t(v(4)), w2: t([4, 4, 3, 3]), normWeight: t(v(4)), normBias: t(v(4)) })],
  [
    'lite-mla norm',
    (t, v) =>
      ops.liteMlaSync(t([1, 3, 3, 4]), { wq: t([4, 4]), wk: t([4, 4]), wv: t([4, 4]), wDw: t([12, 1, 3, 3]), wGroup: t([12, 4]), wOut: t([4, 8]), normWeight: t(v(4)), normBias: t(v(4)) }, { headDim: 4 }),
  ],
];

describe('reference backend: vector operands shaped (1, …, 1, N)', () => {
  CASES.forEach(([name, call], i) => {
    it(`${name}: the same output as (N), and as the cpu backend`, () => {
      const flat = (n: number) => [n];
      const padded = (n: number) => [1, 1, n];
      const ref = call(maker('reference')(100 * i), padded).toFloat32();
      const refFlat = call(maker('reference')(100 * i), flat).toFloat32();
      const cpu = call(maker('cpu')(100 * i), padded).toFloat32();
      expect(ref.every(Number.isFinite)).toBe(true);
      expect(Array.from(ref)).toEqual(Array.from(refFlat));
      for (let k = 0; k < ref.length; k++) expect(Math.abs(cpu[k]! - ref[k]!)).toBeLessThan(1e-4 * (1 + Math.abs(ref[k]!)));
    });
  });
});

describe('reference backend: a host allocation that fails inside an op', () => {
  it("is a RangeError naming the op and its tensors' shapes, not V8's bare message", () => {
    const be = ops.getBackend('reference');
    const impl = (be as unknown as { impl: Record<string, unknown> }).impl;
    const saved = impl.gemm;
    impl.gemm = () => {
      throw new RangeError('Array buffer allocation failed');
    };
    try {
      const t = maker('reference')(1);
      expect(() => ops.gemmSync(t([3, 4]), t([5, 4]))).toThrow(/^gemm: out of host memory on the reference backend \(x \[3, 4\], w \[5, 4\], out \[3, 5\]\): Array buffer allocation failed$/);
    } finally {
      impl.gemm = saved;
    }
  });
});
