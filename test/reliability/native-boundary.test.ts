/**
 * The native boundary itself (bindings/native/*.cpp), called directly — as a caller that bypasses the
 * TypeScript checks would: junk arguments, foreign values where tensor handles belong, disposed
 * handles, bad shapes / dtypes / typed arrays (detached, too small, of the wrong type, views with an
 * offset), forged BackendTensors whose JS shape lies about the native storage. Every case is a
 * TypeError or RangeError naming the function, never a crash or an out-of-bounds access (the ASan run,
 * `npm run test:asan`, executes this file against an instrumented build).
 *
 * Then a differential fuzz (fast-check, fixed seed): random shape / dtype / option mutations of every
 * op's valid call go both through the public API and straight into the addon. The two layers must
 * agree — accepted by both (with bit-identical outputs) or rejected by both — so the kernels' own
 * checks are exactly as strict as the TS validation and never accept a shape the TS layer would reject.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadAddon, type NativeAddon, type NativeTensorHandle } from '../../bindings/addon.js';
import * as ops from '../../bindings/ops.js';
import { BackendTensor } from '../../bindings/tensor.js';
import { expectThrow, handleOf, randTensor, randValues } from './helpers.js';
import { OP_CASES } from './op-cases.js';
import { expectBits, repoison } from '../kernels/parity.js';
import { buildMutated as build, mutation } from './mutations.js';

const addon = loadAddon();
const cpu = ops.getBackend('cpu');

function detached<T extends Float32Array | Uint16Array>(a: T): T {
  structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  return a;
}

/** Every op function the addon exports (new native ops are covered as they appear). */
const NOT_OPS = new Set(['tensorEmpty', 'tensorArena', 'tensorFromArray', 'tensorWrite', 'tensorToArray', 'tensorToFloat32', 'tensorDispose', 'tensorIsAlive', 'tensorInfo', 'cpuThreads', 'setCpuThreads', 'gemmKernel', 'measureFmaPeak', 'cpuInfo', 'cudaInfo', 'buildInfo', 'f32ToBf16', 'bf16ToF32']);
const OP_FUNCTIONS = Object.keys(addon).filter((k) => typeof (addon as unknown as Record<string, unknown>)[k] === 'function' && !NOT_OPS.has(k)) as (keyof NativeAddon)[];

describe('native tensors: bad arguments are TypeError/RangeError naming the function', () => {
  it('tensorArena: backend, dtype, shapes', () => {
    expectThrow(() => (addon.tensorArena as unknown as () => unknown)(), TypeError, 'tensorArena: expected (backend, dtype, shapes[])');
    expectThrow(() => addon.tensorArena('gpu', 'f32', [[2]]), TypeError, "tensorArena: unknown native backend 'gpu' (have: cpu)");
    expectThrow(() => addon.tensorArena('cpu', 'f16' as 'f32', [[2]]), TypeError, "tensorArena: dtype 'f16' is not supported by native tensors (use 'f32' or 'bf16')");
    expectThrow(() => addon.tensorArena('cpu', 'f32', []), RangeError, 'tensorArena: no shapes');
    expectThrow(() => addon.tensorArena('cpu', 'f32', [[2], [-1]]), RangeError, 'tensorArena shapes[1]: shape[0] = -1 is not a non-negative integer');
    expectThrow(() => addon.tensorArena('cpu', 'f32', [[2 ** 50], [2 ** 50]]), RangeError, 'tensorArena: the parts are too large together (at most 2^52 bytes)');
  });

  it('tensorEmpty / tensorFromArray: backend, dtype, shape', () => {
    expectThrow(() => (addon.tensorEmpty as unknown as () => unknown)(), TypeError, 'tensorEmpty: expected (backend, dtype, shape)');
    expectThrow(() => addon.tensorEmpty('gpu', 'f32', [2]), TypeError, "tensorEmpty: unknown native backend 'gpu' (have: cpu)");
    expectThrow(() => addon.tensorEmpty(7 as unknown as string, 'f32', [2]), TypeError, "tensorEmpty: unknown native backend ''");
    expectThrow(() => addon.tensorEmpty('cpu', 'f16' as 'f32', [2]), TypeError, "tensorEmpty: dtype 'f16' is not supported by native tensors (use 'f32' or 'bf16')");
    expectThrow(() => addon.tensorEmpty('cpu', 1 as unknown as 'f32', [2]), TypeError, "tensorEmpty: dtype must be the string 'f32' or 'bf16'");
    expectThrow(() => addon.tensorEmpty('cpu', 'f32', 3 as unknown as number[]), TypeError, 'tensorEmpty: shape must be an array of non-negative integers');
    expectThrow(() => addon.tensorEmpty('cpu', 'f32', ['3'] as unknown as number[]), TypeError, 'tensorEmpty: shape[0] is not a number');
    for (const bad of [-1, 2.5, NaN, Infinity, 2 ** 53]) {
      expectThrow(() => addon.tensorEmpty('cpu', 'f32', [2, bad]), RangeError, /^tensorEmpty: shape\[1\] = .* is not a non-negative integer$/);
    }
    expectThrow(() => addon.tensorEmpty('cpu', 'f32', new Array(9).fill(1)), RangeError, 'tensorEmpty: 9 dimensions, at most 8');
    // Element counts past 2^53 and byte counts past 2^52 are refused before any arithmetic can overflow.
    expectThrow(() => addon.tensorEmpty('cpu', 'f32', [2 ** 30, 2 ** 30, 2 ** 30]), RangeError, /^tensorEmpty: f32\[1073741824, 1073741824, 1073741824\] is too large \(4\.952e\+27 bytes; at most 2\^52\)$/);
    expectThrow(() => addon.tensorEmpty('cpu', 'bf16', [2 ** 26, 2 ** 26]), RangeError, /is too large/);
    expectThrow(() => addon.tensorFromArray('cpu', 'f32', [2], new Uint16Array(2) as unknown as Float32Array), TypeError, 'tensorFromArray: dtype f32 needs a Float32Array');
    expectThrow(() => addon.tensorFromArray('cpu', 'bf16', [2], new Float32Array(2)), TypeError, 'tensorFromArray: dtype bf16 needs a Uint16Array of bf16 bits');
    expectThrow(() => addon.tensorFromArray('cpu', 'f32', [2], [1, 2] as unknown as Float32Array), TypeError, 'tensorFromArray: expected (backend, dtype, shape, typedArray)');
    expectThrow(() => addon.tensorFromArray('cpu', 'f32', [2, 3], new Float32Array(5)), RangeError, 'tensorFromArray: 5 values for shape [2, 3] (6 elements)');
    expectThrow(() => addon.tensorFromArray('cpu', 'f32', [2, 3], new Float32Array(7)), RangeError, 'tensorFromArray: 7 values for shape [2, 3] (6 elements)');
    expectThrow(() => addon.tensorFromArray('cpu', 'f32', [4], detached(new Float32Array(4))), RangeError, 'tensorFromArray: 0 values for shape [4] (4 elements)');
  });

  it('a typed-array view with an offset is copied from its own window, not from the buffer start', () => {
    const whole = new Float32Array(32).map((_, i) => i);
    const view = whole.subarray(5, 11);
    const h = addon.tensorFromArray('cpu', 'f32', [2, 3], view);
    expect(Array.from(addon.tensorToArray(h))).toEqual([5, 6, 7, 8, 9, 10]);
    const bits = new Uint16Array(16).map((_, i) => 0x3f80 + i);
    const h2 = addon.tensorFromArray('cpu', 'bf16', [3], bits.subarray(13));
    expect(Array.from(addon.tensorToArray(h2))).toEqual([0x3f80 + 13, 0x3f80 + 14, 0x3f80 + 15]);
    addon.tensorDispose(h);
    addon.tensorDispose(h2);
  });

  it('handles: foreign values and disposed handles', () => {
    for (const fn of ['tensorToArray', 'tensorToFloat32', 'tensorDispose', 'tensorIsAlive', 'tensorInfo'] as const) {
      for (const junk of [undefined, null, 1, 'x', {}, new Float32Array(1), () => 0]) {
        expectThrow(() => (addon[fn] as (v: unknown) => unknown)(junk), TypeError, `${fn}: tensor is not a native backend tensor`);
      }
    }
    for (const junk of [undefined, null, 1, 'x', {}, new Float32Array(1), () => 0]) {
      expectThrow(() => (addon.tensorWrite as (v: unknown, a: unknown) => unknown)(junk, new Float32Array(1)), TypeError, 'tensorWrite: tensor is not a native backend tensor');
    }
    const h = addon.tensorEmpty('cpu', 'f32', [3]);
    addon.tensorDispose(h);
    addon.tensorDispose(h); // idempotent
    expect(addon.tensorIsAlive(h)).toBe(false);
    expect(addon.tensorInfo(h)).toMatchObject({ alive: false, shape: [3], dtype: 'f32' });
    expectThrow(() => addon.tensorToArray(h), TypeError, 'tensorToArray: tensor has been disposed');
    expectThrow(() => addon.tensorToFloat32(h), TypeError, 'tensorToFloat32: tensor has been disposed');
    expectThrow(() => addon.tensorWrite(h, new Float32Array(3)), TypeError, 'tensorWrite: tensor has been disposed');
  });

  it('every native op: no arguments, junk arguments, missing tensors, non-handles, disposed handles', () => {
    const x = addon.tensorFromArray('cpu', 'f32', [2, 4], randValues(8, 1));
    const gone = addon.tensorFromArray('cpu', 'f32', [2, 4], randValues(8, 2));
    addon.tensorDispose(gone);
    expect(OP_FUNCTIONS.length).toBeGreaterThanOrEqual(11);
    for (const fn of OP_FUNCTIONS) {
      const op = addon[fn] as (...a: unknown[]) => unknown;
      expectThrow(() => op(), TypeError, /: expected an argument object$/);
      expectThrow(() => op(42), TypeError, /: expected an argument object$/);
      expectThrow(() => op({}), TypeError, /: missing tensor '(x|q|v)'$/);
      expectThrow(() => op({}, true), TypeError, /: missing tensor '(x|q|v)'$/);
      const first = fn === 'linearAttention' ? 'q' : fn === 'samplerUpdate' ? 'v' : 'x';
      expectThrow(() => op({ [first]: 3 }), TypeError, new RegExp(`: ${first} is not a native backend tensor$`));
      expectThrow(() => op({ [first]: new Float32Array(8) }), TypeError, new RegExp(`: ${first} is not a native backend tensor$`));
      expectThrow(() => op({ [first]: gone }), TypeError, new RegExp(`: ${first} has been disposed$`));
      expectThrow(() => op({ [first]: x }), TypeError, /: missing tensor '\w+'$/);
    }
    addon.tensorDispose(x);
  });

  it('conversions: wrong array types and detached buffers', () => {
    expectThrow(() => addon.f32ToBf16(new Uint16Array(2) as unknown as Float32Array), TypeError, 'f32ToBf16: expected one Float32Array');
    expectThrow(() => addon.bf16ToF32(new Float32Array(2) as unknown as Uint16Array), TypeError, 'bf16ToF32: expected one Uint16Array of bf16 bit patterns');
    expect(addon.f32ToBf16(detached(new Float32Array(4))).length).toBe(0);
    expect(addon.bf16ToF32(detached(new Uint16Array(4))).length).toBe(0);
    expectThrow(() => addon.setCpuThreads(0), RangeError, 'setCpuThreads: want an integer in [1, 1024]');
    expectThrow(() => addon.setCpuThreads(1.5), RangeError, 'setCpuThreads: want an integer in [1, 1024]');
    expectThrow(() => addon.measureFmaPeak(-1), RangeError, 'measureFmaPeak: seconds must be in (0, 10]');
  });

  it('fromArray (public) on a detached array names the cause', () => {
    for (const be of [cpu, ops.getBackend('reference')]) {
      expectThrow(() => be.fromArray(detached(new Float32Array(6)), [2, 3]), TypeError, /fromArray: the array's ArrayBuffer is detached/);
      expectThrow(() => be.fromArray(detached(new Uint16Array(6)), [2, 3], 'bf16'), TypeError, /fromArray: the array's ArrayBuffer is detached/);
      expectThrow(() => be.fromArray(new Float32Array(5), [2, 3]), RangeError, 'fromArray: 5 values for shape [2, 3] (6 elements)');
    }
  });

  it('a forged BackendTensor whose shape lies about its native storage is caught by the kernel checks', () => {
    const small = cpu.fromArray(randValues(12, 3), [3, 4]);
    const liar = new BackendTensor('cpu', 'f32', [3000, 4], small.storage('test'));
    const w = cpu.fromArray(randValues(20, 4), [5, 4]);
    // The TS layer sees [3000, 4] and allocates out [3000, 5]; the kernel sees x [3, 4] and refuses.
    expectThrow(() => ops.gemmSync(liar, w), RangeError, 'gemm: out [3000, 5] does not match x [3, 4] and w [5, 4]');
    const big = cpu.fromArray(randValues(64 * 64, 5), [64, 64]);
    const shrunk = new BackendTensor('cpu', 'f32', [1, 2, 64], big.storage('test'));
    expectThrow(() => ops.linearAttentionSync(shrunk, shrunk, shrunk), RangeError, /linear-attention: q \[64, 64\], k \[64, 64\], v \[64, 64\] .*|linear-attention: want q, k, v \(B, N, C\)/);
    const wrongBackend = new BackendTensor('cpu', 'f32', [3, 4], { read: () => new Float32Array(12), write: () => {}, free: () => {} });
    expectThrow(() => ops.gemmSync(wrongBackend, w), TypeError, 'gemm: x is not a cpu tensor');
    const refT = ops.getBackend('reference').fromArray(randValues(12, 6), [3, 4]);
    const posing = new BackendTensor('reference', 'f32', [3, 4], small.storage('test'));
    expectThrow(() => ops.gemmSync(posing, ops.getBackend('reference').fromArray(randValues(20, 7), [5, 4])), TypeError, 'gemm: x is not a reference-backend tensor');
    for (const t of [small, w, big, refT]) t.dispose();
  });
});

// ---- differential fuzz: public API vs native addon on the same mutated inputs ----

type Outcome = { ok: true; values: Float32Array } | { ok: false; error: Error };

/** Runs `f` on a freshly poisoned `out`: the native and API calls share it, and neither may pass on what the other wrote. */
function outcome(f: () => unknown, out: BackendTensor): Outcome {
  try {
    repoison(out);
    f();
    return { ok: true, values: out.toFloat32() };
  } catch (e) {
    return { ok: false, error: e as Error };
  }
}

describe('differential fuzz: the kernels accept exactly what the TS validation accepts', () => {
  for (const c of OP_CASES) {
    it(`${c.op}: random shape/dtype/option mutations — both layers agree, errors are TypeError/RangeError`, () => {
      let accepted = 0;
      let rejected = 0;
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 0, maxLength: 2 }), fc.nat(1000), (muts, seed) => {
          const b = build(c, muts, seed);
          try {
            const handles = Object.fromEntries(Object.entries(b.tensors).map(([k, t]) => [k, handleOf(t)])) as Record<string, NativeTensorHandle>;
            const native = outcome(() => c.native(handles, b.opts, handleOf(b.out), false), b.out);
            const api = outcome(() => c.call(b.tensors, { ...b.opts, out: b.out }, true), b.out);
            const label = `${c.op} ${JSON.stringify(muts)}: native ${native.ok ? 'accepted' : `rejected (${native.error.message})`}, API ${api.ok ? 'accepted' : `rejected (${api.error.message})`}`;
            for (const o of [native, api]) {
              if (!o.ok) expect(o.error instanceof TypeError || o.error instanceof RangeError, `${label}: ${o.error.constructor.name}`).toBe(true);
            }
            expect(native.ok, label).toBe(api.ok);
            if (native.ok && api.ok) {
              accepted++;
              // NaN-safe (an unwritten, poisoned output fails; toEqual would call NaN equal to NaN).
              expectBits(label, api.values, native.values);
            } else rejected++;
          } finally {
            for (const t of b.all) t.dispose();
          }
        }),
        { seed: 20261128 + c.op.length, numRuns: 80 },
      );
      // Both kinds of case must occur, or the fuzz proves nothing.
      console.log(`[fuzz ${c.op}] ${accepted} accepted by both layers, ${rejected} rejected by both`);
      expect(accepted).toBeGreaterThan(3);
      expect(rejected).toBeGreaterThan(10);
    });
  }
});

describe('option sweep: every numeric option × out-of-range values, both layers agree', () => {
  for (const c of OP_CASES) {
    const keys = [...new Set([...Object.keys(c.options).filter((k) => typeof c.options[k] === 'number'), ...(c.op === 'dit-block' ? ['headDim'] : [])])];
    if (keys.length === 0) continue;
    it(`${c.op}: ${keys.join(', ')}`, () => {
      const b = build(c, [], 1);
      const handles = Object.fromEntries(Object.entries(b.tensors).map(([k, t]) => [k, handleOf(t)])) as Record<string, NativeTensorHandle>;
      try {
        for (const key of keys) {
          for (const value of [-1, 0, 0.5, NaN, Infinity, -Infinity, 2 ** 53, 1e300]) {
            const opts = { ...b.opts, [key]: value };
            const native = outcome(() => c.native(handles, opts, handleOf(b.out), false), b.out);
            const api = outcome(() => c.call(b.tensors, { ...opts, out: b.out }, true), b.out);
            const label = `${c.op} ${key}=${value}: native ${native.ok ? 'accepted' : `rejected (${native.error.message})`}, API ${api.ok ? 'accepted' : `rejected (${api.error.message})`}`;
            expect(native.ok, label).toBe(api.ok);
            if (native.ok && api.ok) expectBits(label, api.values, native.values); // NaN-safe, unlike toEqual
            for (const o of [native, api]) if (!o.ok) expect(o.error instanceof RangeError || o.error instanceof TypeError, label).toBe(true);
          }
        }
      } finally {
        for (const t of b.all) t.dispose();
      }
    });
  }
});
