import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../bindings/addon.js';
import { gemm, gemmSync, getBackend, mixFfn } from '../../bindings/ops.js';
import { BackendTensor } from '../../bindings/tensor.js';
import { bf16ArrayToF32, f32ArrayToBf16 } from '../../reference/core/dtype.js';
import { Rng } from '../../reference/core/random.js';

const addon = loadAddon();

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  new Rng(seed).fillNormal(a, 0, 1);
  return a;
}

for (const name of ['reference', 'cpu'] as const) {
  describe(`BackendTensor on the ${name} backend`, () => {
    const be = getBackend(name);

    it('copies f32 and bf16 data in and out exactly (fromArray copies: later writes to the source do not leak in)', () => {
      const v = rand(3 * 5 * 7, 1);
      const t = be.fromArray(v, [3, 5, 7]);
      expect(t.backend).toBe(name);
      expect(t.dtype).toBe('f32');
      expect(t.shape).toEqual([3, 5, 7]);
      expect(t.numel).toBe(105);
      const back = t.toArray();
      expect(back).toBeInstanceOf(Float32Array);
      expect(Array.from(back)).toEqual(Array.from(v));
      v[0] = 12345;
      expect(t.toFloat32()[0]).not.toBe(12345);

      const b = be.fromArray(v, [105], 'bf16');
      expect(b.dtype).toBe('bf16');
      expect(Array.from(b.toArray())).toEqual(Array.from(f32ArrayToBf16(v)));
      const bits = be.fromArray(f32ArrayToBf16(v), [5, 21], 'bf16');
      expect(Array.from(bits.toTensor().toFloat32())).toEqual(Array.from(b.toFloat32()));
      for (const x of [t, b, bits]) x.dispose();
    });

    it('rejects bad shapes, lengths, array types and dtypes with TypeError/RangeError', () => {
      expect(() => be.fromArray(new Float32Array(6), [2, 4])).toThrow(RangeError);
      expect(() => be.fromArray(new Float32Array(6), [2, 4])).toThrow(/fromArray: 6 values for shape \[2, 4\]/);
      expect(() => be.fromArray(new Float64Array(6) as unknown as Float32Array, [6])).toThrow(TypeError);
      expect(() => be.fromArray(new Uint16Array(6), [6])).toThrow(/Uint16Array holds bf16 bits/);
      expect(() => be.fromArray(new Float32Array(6), [6], 'f16' as 'f32')).toThrow(TypeError);
      expect(() => be.empty([2, -1], 'f32')).toThrow(RangeError);
      expect(() => be.empty([2.5], 'f32')).toThrow(RangeError);
      expect(() => be.empty([1, 1, 1, 1, 1, 1, 1, 1, 1], 'f32')).toThrow(/at most 8/);
      expect(() => be.empty([2 ** 40, 2 ** 20], 'f32')).toThrow(RangeError);
      expect(() => be.empty([2], 'i32' as 'f32')).toThrow(TypeError);
    });

    it('write() overwrites the values in place (bf16 rounded like fromArray) and refuses a wrong length, type or a disposed tensor', () => {
      const t = be.fromArray(rand(6, 4), [2, 3]);
      const v = rand(6, 5);
      t.write(v);
      expect(Array.from(t.toArray())).toEqual(Array.from(v));
      const b = be.empty([2, 3], 'bf16');
      b.write(v);
      expect(Array.from(b.toArray())).toEqual(Array.from(f32ArrayToBf16(v)));
      const bits = f32ArrayToBf16(rand(6, 6));
      b.write(bits);
      expect(Array.from(b.toArray())).toEqual(Array.from(bits));
      expect(() => t.write(new Float32Array(5))).toThrow(new RangeError('write: 5 values for f32[2, 3] on ' + name + ' (6 elements)'));
      expect(() => t.write(new Uint16Array(6))).toThrow(new TypeError('write: f32[2, 3] on ' + name + ' takes a Float32Array'));
      expect(() => t.write([1, 2, 3, 4, 5, 6] as unknown as Float32Array)).toThrow(TypeError);
      t.dispose();
      expect(() => t.write(v)).toThrow(/write: tensor f32\[2, 3\] on .* has been disposed/);
      b.dispose();
    });

    it('dispose() frees, is idempotent, and any later use throws a TypeError naming the op', async () => {
      const x = be.fromArray(rand(12, 2), [3, 4]);
      const w = be.fromArray(rand(8, 3), [2, 4]);
      x.dispose();
      x.dispose();
      expect(x.disposed).toBe(true);
      expect(() => x.toArray()).toThrow(TypeError);
      expect(() => x.toArray()).toThrow(/toArray: tensor f32\[3, 4\] on .* has been disposed/);
      await expect(gemm(x, w)).rejects.toThrow(/gemm: x f32\[3, 4\] on .* has been disposed/);
      expect(String(x)).toMatch(/disposed/);
      w.dispose();
    });
  });
}

describe('native tensors (cpu)', () => {
  const cpu = getBackend('cpu');

  it('an input disposed while an async op reads it stays alive until the op is done', async () => {
    const x = cpu.fromArray(rand(256 * 512, 4), [256, 512]);
    const w = cpu.fromArray(rand(512 * 512, 5), [512, 512]);
    const expected = (await gemm(x, w)).toFloat32();
    const pending = gemm(x, w);
    x.dispose();
    w.dispose();
    expect(Array.from((await pending).toFloat32())).toEqual(Array.from(expected));
  });

  it('reading an output while an async op writes it throws instead of returning a half-written result', async () => {
    const x = cpu.fromArray(rand(256 * 512, 6), [256, 512]);
    const w = cpu.fromArray(rand(512 * 512, 7), [512, 512]);
    const out = cpu.empty([256, 512], 'f32');
    const p = gemm(x, w, { out });
    expect(() => out.toArray()).toThrow(/being written by an async op in flight/);
    await p;
    expect(out.toArray().length).toBe(256 * 512);
  });

  it('toFloat32 widens bf16 natively, bit for bit the same as the JS widening of toArray', () => {
    // Random bit patterns (every exponent, NaNs and infinities included), odd lengths, and both halves
    // of the in-place widening (the last elements are the ones closest to being overwritten).
    for (const n of [1, 2, 3, 17, 4097]) {
      const bits = new Uint16Array(n);
      let s = 12345 + n;
      for (let i = 0; i < n; i++) bits[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 16;
      bits[0] = 0x8000; // -0
      if (n > 2) bits[n - 1] = 0x7f80; // +Inf last
      const t = cpu.fromArray(bits, [n], 'bf16');
      const got = new Uint32Array(t.toFloat32().buffer);
      const want = new Uint32Array(bf16ArrayToF32(t.toArray() as Uint16Array).buffer);
      expect(Array.from(got)).toEqual(Array.from(want));
      t.dispose();
    }
    const f = cpu.fromArray(new Float32Array([1.5, -2, 3.25]), [3]);
    expect(Array.from(f.toFloat32())).toEqual([1.5, -2, 3.25]);
    f.dispose();
  });

  it('tensorWrite checks its arguments itself (a caller bypassing the TS checks gets an error, not a wrong answer)', () => {
    const h = addon.tensorEmpty('cpu', 'bf16', [4]);
    expect(() => addon.tensorWrite(h, new Float32Array(4))).toThrow(new TypeError('tensorWrite: a bf16 tensor needs a Uint16Array of bf16 bits'));
    expect(() => addon.tensorWrite(h, new Uint16Array(3))).toThrow(new RangeError('tensorWrite: 3 values for bf16[4] (4 elements)'));
    expect(() => addon.tensorWrite({} as never, new Uint16Array(4))).toThrow(TypeError);
    addon.tensorWrite(h, new Uint16Array([1, 2, 3, 4]));
    expect(Array.from(addon.tensorToArray(h))).toEqual([1, 2, 3, 4]);
    addon.tensorDispose(h);
    expect(() => addon.tensorWrite(h, new Uint16Array(4))).toThrow(/tensorWrite: tensor .*disposed/);
  });

  it('the addon itself rejects foreign values, huge sizes and impossible allocations', () => {
    expect(() => addon.tensorToArray({} as never)).toThrow(TypeError);
    expect(() => addon.tensorToArray({} as never)).toThrow(/tensorToArray: tensor is not a native backend tensor/);
    expect(() => addon.tensorEmpty('cpu', 'f32', [2 ** 53])).toThrow(RangeError);
    expect(() => addon.tensorEmpty('cpu', 'f64' as 'f32', [2])).toThrow(TypeError);
    expect(() => addon.tensorEmpty('gpu', 'f32', [2])).toThrow(/unknown native backend 'gpu'/);
    expect(() => addon.tensorFromArray('cpu', 'f32', [3], new Float32Array(2))).toThrow(RangeError);
    // 2^41 bytes (2 TiB): the allocation fails and is reported, not a crash.
    expect(() => addon.tensorEmpty('cpu', 'f32', [2 ** 39])).toThrow(/out of memory allocating 2199023255552 bytes/);
    expect(() => addon.gemm({ x: 1 } as never)).toThrow(/gemm: x is not a native backend tensor/);
  });

  it('the addon revalidates shapes itself (a caller bypassing the TS checks gets a RangeError, not a wrong answer)', () => {
    const x = addon.tensorFromArray('cpu', 'f32', [3, 4], rand(12, 8));
    const w = addon.tensorFromArray('cpu', 'f32', [5, 6], rand(30, 9));
    const out = addon.tensorEmpty('cpu', 'f32', [3, 5]);
    expect(() => addon.gemm({ x, w, out })).toThrow(RangeError);
    expect(() => addon.gemm({ x, w, out })).toThrow(/gemm: w \[5, 6\] does not match x \[3, 4\]/);
    const q = addon.tensorFromArray('cpu', 'bf16', [1, 2, 64], new Uint16Array(128));
    const k = addon.tensorFromArray('cpu', 'f32', [1, 2, 64], rand(128, 10));
    expect(() => addon.linearAttention({ q, k, v: k, out: k })).toThrow(/linear-attention: k is f32, expected bf16/);
  });

  it('allocate/fill/dispose cycles keep the RSS bounded', () => {
    const data = rand(256 * 1024, 12);
    const before = process.memoryUsage().rss;
    // 1 MiB each, written (fromArray copies, so every page is touched): 400 MiB in total if leaked.
    for (let i = 0; i < 400; i++) cpu.fromArray(data, [256, 1024]).dispose();
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
  });

  it('repeated op calls keep the RSS bounded (kernel scratch is reused, not leaked)', async () => {
    const x = cpu.fromArray(rand(2 * 256 * 64, 13), [2, 256, 64]);
    const w = {
      wInv: cpu.fromArray(rand(320 * 64, 14), [320, 64]),
      bInv: cpu.fromArray(rand(320, 15), [320]),
      wDw: cpu.fromArray(rand(320 * 9, 16), [320, 1, 3, 3]),
      bDw: cpu.fromArray(rand(320, 17), [320]),
      wPoint: cpu.fromArray(rand(64 * 160, 18), [64, 160]),
    };
    const call = async () => (await mixFfn(x, w, { height: 16, width: 16 })).dispose();
    for (let i = 0; i < 5; i++) await call();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 60; i++) await call();
    expect(process.memoryUsage().rss - before).toBeLessThan(32 * 2 ** 20);
  });

  it('BackendTensor exposes its backend, dtype and shape read-only', () => {
    const t = cpu.fromArray(rand(6, 11), [2, 3], 'bf16');
    expect(t).toBeInstanceOf(BackendTensor);
    expect(t.describe()).toBe('bf16[2, 3] on cpu');
    expect(Object.isFrozen(t.shape)).toBe(true);
    t.dispose();
  });
});

describe('arenas on the cpu backend (one allocation, a tensor per shape)', () => {
  const be = getBackend('cpu');

  it('gives disjoint tensors that read, write and feed ops like separate ones, in f32 and bf16', () => {
    for (const dtype of ['f32', 'bf16'] as const) {
      // 24 × 24 f32 (2304 B) and bf16 (1152 B): the second part starts on the next 256-byte boundary
      const shapes = [[24, 24], [3, 7], [24, 24]];
      const parts = be.arena!(shapes, dtype);
      expect(parts.map((t) => [t.backend, t.dtype, t.shape])).toEqual(shapes.map((s) => ['cpu', dtype, s]));
      const vals = shapes.map((s, i) => rand(s[0]! * s[1]!, 10 + i));
      parts.forEach((t, i) => t.write(vals[i]!));
      const want = (v: Float32Array) => (dtype === 'bf16' ? bf16ArrayToF32(f32ArrayToBf16(v)) : v);
      // writing one part leaves its neighbours as they were
      parts.forEach((t, i) => expect(Array.from(t.toFloat32())).toEqual(Array.from(want(vals[i]!))));
      const x = be.fromArray(rand(5 * 24, 20), [5, 24], dtype);
      const sep = be.fromArray(vals[2]!, [24, 24], dtype);
      expect(Array.from(gemmSync(x, parts[2]!).toFloat32())).toEqual(Array.from(gemmSync(x, sep).toFloat32()));
      for (const t of [x, sep]) t.dispose();
      // disposing one part leaves the others alive (the allocation goes with the last)
      parts[0]!.dispose();
      expect(Array.from(parts[2]!.toFloat32())).toEqual(Array.from(want(vals[2]!)));
      expect(() => parts[0]!.toFloat32()).toThrow(/disposed/);
      parts[1]!.dispose();
      parts[2]!.dispose();
    }
  });

  it('rejects no shapes, a bad dtype or shape, and a raw call with a non-array, naming arena', () => {
    expect(() => be.arena!([], 'f32')).toThrow(new RangeError('arena: no shapes'));
    expect(() => be.arena!([[2, 2]], 'f16' as never)).toThrow(/^arena: dtype must be 'f32' or 'bf16'/);
    expect(() => be.arena!([[2, -1]], 'f32')).toThrow(/^arena: /);
    expect(() => addon.tensorArena('cpu', 'f32', 7 as never)).toThrow(/^tensorArena: expected \(backend, dtype, shapes\[\]\)$/);
    expect(() => addon.tensorArena('cpu', 'f32', [[2], 'x' as never])).toThrow(/^tensorArena shapes\[1\]: shape must be an array/);
  });
});
