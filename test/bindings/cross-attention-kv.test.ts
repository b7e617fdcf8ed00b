/**
 * cross-attention with precomputed text keys/values (`opts.kv`): the path a sampler takes when it
 * projects the text once per prompt. The kv path must equal the y path (the module projecting y itself)
 * on every backend — cpu f32 (≤ 1e-6 rel), cpu bf16 (2× rule against a plain bf16 computation whose
 * k, v are stored in bf16, as the precomputed ones are), the reference backend — with NaN-poisoned
 * outputs; and both forms at once, neither, or mis-shaped k/v are rejected by the TS layer and by the
 * kernel entry itself (the addon called directly).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon, type NativeTensorHandle } from '../../bindings/addon.js';
import { crossAttention, crossAttentionSync, gemmSync } from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { errorStats, formatStats } from '../../reference/core/compare.js';
import { Tensor } from '../../reference/core/tensor.js';
import { softmaxAttention } from '../../reference/ops/cross-attention.js';
import { linear } from '../../reference/ops/linear.js';
import { cpu, expectBf16, expectBits, expectF32, Input, input, poisoned, printParity, r16 } from '../kernels/parity.js';
import { CROSS_ATTENTION_CASES, crossAttentionInputs } from '../kernels/cross-attention-cases.js';

afterAll(() => printParity('cross-attention (precomputed kv)'));

type Which = 'ref' | 'f32' | 'bf16';

describe('cross-attention: precomputed kv equals the y path', () => {
  for (const c of CROSS_ATTENTION_CASES) {
    it(c.name, async () => {
      const { x, y, wq, wk, wv, wo, bq, bk, bv, bo, mask, res, dispose } = crossAttentionInputs(c, 900 + 20 * CROSS_ATTENTION_CASES.indexOf(c));
      const full = (k: Which) => ({ wq: wq.on(k), bq: bq.on(k), wk: wk.on(k), bk: bk.on(k), wv: wv.on(k), bv: bv.on(k), wo: wo.on(k), bo: bo.on(k) });
      const qo = (k: Which) => ({ wq: wq.on(k), bq: bq.on(k), wo: wo.on(k), bo: bo.on(k) });
      const o = (k: Which) => ({ heads: c.heads, maskBias: mask?.on(k), residual: res?.on(k) });
      // The text keys/values as a runner computes them: one gemm each, stored in the op's dtype.
      const kvOf = (k: Which) => ({ k: gemmSync(y.on(k), wk.on(k), { bias: bk.on(k) }), v: gemmSync(y.on(k), wv.on(k), { bias: bv.on(k) }) });
      const outShape = [c.B, c.N, c.C];
      const owned: BackendTensor[] = [];

      // reference backend: kv path = y path
      const kvRef = kvOf('ref');
      const refY = (await crossAttention(x.ref, y.ref, full('ref'), o('ref'))).toFloat32();
      const refKvOut = poisoned(outShape, 'f32', 'reference');
      crossAttentionSync(x.ref, null, qo('ref'), { ...o('ref'), kv: kvRef, out: refKvOut });
      expectF32(`${c.name} reference kv vs y`, refKvOut.toFloat32(), refY, 1e-6);

      // cpu f32: kv path (async and sync) = the op's own y path, and within the f32 rule of the reference
      const kv32 = kvOf('f32');
      const y32 = poisoned(outShape, 'f32');
      await crossAttention(x.f32, y.f32, full('f32'), { ...o('f32'), out: y32 });
      const kvOut32 = poisoned(outShape, 'f32');
      await crossAttention(x.f32, null, qo('f32'), { ...o('f32'), kv: kv32, out: kvOut32 });
      expectF32(`${c.name} cpu kv vs cpu y`, kvOut32.toFloat32(), y32.toFloat32(), 1e-6);
      expectF32(`${c.name} cpu kv vs reference`, kvOut32.toFloat32(), refY);
      const kvSync32 = crossAttentionSync(x.f32, null, qo('f32'), { ...o('f32'), kv: kv32, out: poisoned(outShape, 'f32') });
      expectBits(`${c.name} sync vs async kv`, kvSync32.toFloat32(), kvOut32.toFloat32()); // NaN-safe, unlike toEqual
      owned.push(y32, kvOut32, kvSync32, refKvOut, kvRef.k, kvRef.v, kv32.k, kv32.v);

      // cpu bf16: k, v stored in bf16 (rounded once), the 2× rule against the plain bf16 computation
      const kv16 = kvOf('bf16');
      const out16 = poisoned(outShape, 'bf16');
      crossAttentionSync(x.bf16, null, qo('bf16'), { ...o('bf16'), kv: kv16, out: out16 });
      const t = (i: Input) => i.tensor(true);
      const attn = r16(
        softmaxAttention(r16(linear(t(x), t(wq), t(bq))), r16(linear(t(y), t(wk), t(bk))), r16(linear(t(y), t(wv), t(bv))), { heads: c.heads, bias: mask ? t(mask) : null }),
      );
      let plain = r16(linear(attn, t(wo), t(bo))).data as Float32Array;
      if (res) plain = r16(new Tensor(outShape, 'f32', plain.map((v, i) => v + res.bf16Values[i]!))).data as Float32Array;
      expectBf16(`${c.name} cpu kv`, out16.toFloat32(), plain, refY);
      // …and the bf16 kv path stays as close to the bf16 y path as bf16 rounding allows
      const y16 = crossAttentionSync(x.bf16, y.bf16, full('bf16'), o('bf16'));
      const d16 = errorStats(out16.toFloat32(), y16.toFloat32());
      expect(d16.nonFinite).toBe(0);
      expect(d16.rel, formatStats(d16)).toBeLessThan(2e-2);
      owned.push(out16, y16, kv16.k, kv16.v);

      for (const tt of owned) tt.dispose();
      dispose();
    });
  }

  it('in place on the residual stream (out = residual = x) with kv, as the DiT runner calls it', () => {
    const x = input([2, 9, 32], 31);
    const y = input([2, 4, 16], 32);
    const w = { wq: input([32, 32], 33).f32, wk: input([32, 16], 34).f32, wv: input([32, 16], 35).f32, wo: input([32, 32], 36).f32 };
    const expected = crossAttentionSync(x.f32, y.f32, w, { heads: 2, residual: x.f32 }).toFloat32();
    const kv = { k: gemmSync(y.f32, w.wk), v: gemmSync(y.f32, w.wv) };
    const same = crossAttentionSync(x.f32, null, { wq: w.wq, wo: w.wo }, { heads: 2, kv, residual: x.f32, out: x.f32 });
    expect(same).toBe(x.f32);
    const s = errorStats(x.f32.toFloat32(), expected);
    expect(s.rel, formatStats(s)).toBeLessThanOrEqual(1e-6);
  });
});

describe('cross-attention kv: bad input', () => {
  const B = 1, N = 6, L = 5, C = 16;
  const t = (shape: number[], dtype: 'f32' | 'bf16' = 'f32') => cpu.fromArray(new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i + 1)), shape, dtype);
  const x = t([B, N, C]);
  const y = t([B, L, C]);
  const qo = { wq: t([C, C]), wo: t([C, C]) };
  const full = { ...qo, wk: t([C, C]), wv: t([C, C]) };
  const k = t([B, L, C]);
  const v = t([B, L, C]);
  const run = (yy: BackendTensor | null, w: object, kv: unknown, extra: object = {}) => () =>
    crossAttentionSync(x, yy, w as typeof qo, { heads: 2, kv: kv as { k: BackendTensor; v: BackendTensor }, ...extra });

  it('exactly one form: y and kv, neither, or kv with the text weights are TypeErrors', () => {
    expect(run(y, qo, { k, v })).toThrow(TypeError);
    expect(run(y, qo, { k, v })).toThrow('cross-attention: give either y (projected by wk, wv) or precomputed opts.kv, not both');
    expect(run(null, qo, undefined)).toThrow('cross-attention: y must be a BackendTensor, got null (or give precomputed opts.kv with y = null)');
    expect(run(null, full, { k, v })).toThrow('cross-attention: with precomputed kv the weights wk, wv are not used; leave them out');
    expect(run(null, { ...qo, bk: t([C]) }, { k, v })).toThrow('cross-attention: with precomputed kv the weights bk are not used');
    expect(run(null, qo, { k })).toThrow('cross-attention: v must be a BackendTensor, got undefined');
    expect(run(null, qo, k)).toThrow('cross-attention: kv must be an object, got BackendTensor');
    expect(run(null, qo, { k, v: t([B, L, C], 'bf16') })).toThrow('cross-attention: v is bf16 but x is f32');
  });

  it('mis-shaped k, v are RangeErrors naming the shapes', () => {
    expect(run(null, qo, { k, v: t([B, L + 1, C]) })).toThrow('cross-attention: want x (B, N, C) and precomputed k, v (B, L, C), got x [1, 6, 16], k [1, 5, 16], v [1, 6, 16]');
    expect(run(null, qo, { k: t([2, L, C]), v: t([2, L, C]) })).toThrow(RangeError);
    expect(run(null, qo, { k: t([B, L, 8]), v: t([B, L, 8]) })).toThrow('got x [1, 6, 16], k [1, 5, 8], v [1, 5, 8]');
    expect(run(null, qo, { k, v }, { maskBias: t([B, L + 2]) })).toThrow('cross-attention: maskBias [1, 7] is not (B, L) or (B, 1, L) for k [1, 5, 16]');
    expect(run(null, { wq: t([C, C]), wo: t([C, 8]) }, { k, v })).toThrow('cross-attention: weights wq [16, 16], wo [16, 8] do not fit x [1, 6, 16]');
    const kN = t([B, N, C]); // L = N, so that k has the output's shape
    expect(run(null, qo, { k: kN, v: t([B, N, C]) }, { out: kN })).toThrow('cross-attention: out must not be the same tensor as k (only residual, x may be)');
  });

  it('the kernel entry (addon called directly) rejects the same mixes and shapes', () => {
    const addon = loadAddon();
    const h = (bt: BackendTensor) => (bt.storage('test') as unknown as { handle: NativeTensorHandle }).handle;
    const out = poisoned([B, N, C], 'f32'); // NaN until the kernel writes it
    const base = { x: h(x), wq: h(qo.wq), wo: h(qo.wo), heads: 2, out: h(out) };
    const call = (args: object) => () => addon.crossAttention({ ...base, ...args }, false);
    expect(call({ k: h(k), v: h(v) })).not.toThrow();
    const viaApi = crossAttentionSync(x, null, qo, { heads: 2, kv: { k, v }, out: poisoned([B, N, C], 'f32') });
    expectBits('addon vs API', out.toFloat32(), viaApi.toFloat32());
    expect(call({ k: h(k), v: h(v), y: h(y) })).toThrow(/^cross-attention: give either y with wk, wv \(bk, bv\) or precomputed k, v — not both$/);
    expect(call({ k: h(k), v: h(v), wk: h(full.wk) })).toThrow(RangeError);
    expect(call({ k: h(k) })).toThrow('cross-attention: precomputed keys/values need both k and v');
    expect(call({})).toThrow("cross-attention: missing tensor 'y'");
    expect(call({ k: h(k), v: h(t([B, L + 1, C])) })).toThrow('cross-attention: want x (B, N, C) and precomputed k, v (B, L, C), got x [1, 6, 16], k [1, 5, 16], v [1, 6, 16]');
    expect(call({ k: h(k), v: h(t([B, L, C], 'bf16')) })).toThrow('cross-attention: v is bf16, expected f32');
    viaApi.dispose();
    out.dispose();
  });
});
