/**
 * The `version` option of the op API and addon.runtime: version lists (static, no GPU needed), the
 * checks (TS layer and native layer agree), cpu numbering (linear-attention 1 = unfused, 2 = fused),
 * withVersion / captureCall / timeOnDevice plumbing, and the runtime's fills and argument checks.
 */
import { describe, expect, it } from 'vitest';
import { loadAddon, type NativeOpArgs, type NativeTensorHandle } from '../../bindings/addon.js';
import * as ops from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { API_OP_NAMES, CUDA_VERSIONS, OP_NAMES, opEntry } from '../../bench/catalogue.js';
import { Rng } from '../../reference/core/random.js';

const addon = loadAddon();
const cpu = ops.getBackend('cpu');
const ref = ops.getBackend('reference');

let seed = 1;
function rand(shape: number[], be = cpu, dtype: 'f32' | 'bf16' = 'f32'): BackendTensor {
  const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
  new Rng(seed++).fillNormal(a, 0, 1);
  return be.fromArray(a, shape, dtype);
}

const handle = (t: BackendTensor) => (t.storage('test') as unknown as { handle: NativeTensorHandle }).handle;

describe('version lists (addon.runtime.opVersions)', () => {
  it('cpu: one version per op, linear-attention 1 = unfused and 2 = fused, the numbering of the catalogue', () => {
    const list = new Map(addon.runtime.opVersions('cpu').map((o) => [o.op, o.versions]));
    for (const op of API_OP_NAMES) {
      expect(list.get(op)?.map((v) => v.version), op).toEqual(opEntry(op).native.cpu.map((v) => v.version));
    }
    expect(list.get('linear-attention')!.map((v) => v.summary)).toEqual([expect.stringMatching(/^unfused/), expect.stringMatching(/^fused/)]);
    expect(cpu.versions('gemm').map((v) => v.version)).toEqual([1]);
    expect(ref.versions('gemm')).toEqual([]);
  });

  it('cuda: static data from the kernel files, the same versions and summaries as the catalogue (no GPU needed)', () => {
    if (!addon.buildInfo().cuda) {
      expect(() => addon.runtime.opVersions('cuda')).toThrow('opVersions: this addon was built without CUDA');
      return;
    }
    const list = addon.runtime.opVersions('cuda');
    expect(list.map((o) => o.op).sort()).toEqual(Object.keys(CUDA_VERSIONS).sort());
    for (const { op, versions } of list) {
      const cat = CUDA_VERSIONS[op]!;
      expect(versions.map((v) => [v.version, v.summary, v.needs]), op).toEqual(cat.map((v) => [v.version, v.description, v.needs ?? '']));
      // bf16-only versions say so in both places.
      for (const v of cat) expect(v.dtypes?.join() === 'bf16', `${op} v${v.version}`).toBe((v.needs ?? '').startsWith('bf16'));
    }
    // The catalogue runs these lists: op-API ops under their own name (rmsnorm2d as the rmsnorm kernel), the
    // DC-AE model ops (dcae-upsample, dcae-evit-block) under theirs; dcae-head and sampler-update are listed without a catalogue entry.
    for (const op of OP_NAMES) {
      const cuda = opEntry(op).native.cuda;
      if (cuda.length > 0) expect(cuda, op).toEqual(CUDA_VERSIONS[opEntry(op).apiOp ?? op]);
    }
    expect(API_OP_NAMES.filter((o) => opEntry(o).native.cuda.length > 0).sort()).toEqual(API_OP_NAMES.filter((o) => CUDA_VERSIONS[o] !== undefined).sort());
    expect(opEntry('rmsnorm2d').native.cuda).toEqual(opEntry('rmsnorm').native.cuda);
    expect(list.find((o) => o.op === 'dcae-upsample')?.versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(list.find((o) => o.op === 'dcae-evit-block')?.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(list.find((o) => o.op === 'dcae-head')?.versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
    expect(list.find((o) => o.op === 'sampler-update')?.versions.map((v) => v.version)).toEqual([1]);
  });

  it('rejects a bad backend name', () => {
    expect(() => (addon.runtime.opVersions as (b: unknown) => unknown)(3)).toThrow(new TypeError("opVersions: expected a backend name ('cpu' or 'cuda')"));
    expect(() => addon.runtime.opVersions('tpu' as 'cpu')).toThrow("opVersions: unknown native backend 'tpu' (have: cpu, cuda)");
  });
});

describe('the version option', () => {
  const x = rand([3, 8]);
  const w = rand([5, 8]);

  it('0 and 1 run the cpu kernel (same result); others are a RangeError listing the versions', async () => {
    const a = ops.gemmSync(x, w).toFloat32();
    expect(ops.gemmSync(x, w, { version: 0 }).toFloat32()).toEqual(a);
    expect(ops.gemmSync(x, w, { version: 1 }).toFloat32()).toEqual(a);
    const listing = /^gemm: no version 2 on the cpu backend \(versions: 1 = the native kernel; 0 = the default\)$/;
    expect(() => ops.gemmSync(x, w, { version: 2 })).toThrow(RangeError);
    expect(() => ops.gemmSync(x, w, { version: 2 })).toThrow(listing);
    await expect(ops.gemm(x, w, { version: 2 })).rejects.toThrow(listing);
    for (const bad of [-1, 1.5, NaN, '1']) {
      expect(() => ops.gemmSync(x, w, { version: bad as number })).toThrow(/^gemm: option version must be an integer >= 0, got /);
    }
  });

  it('the reference backend has only its default', () => {
    expect(() => ops.gemmSync(rand([3, 8], ref), rand([5, 8], ref), { version: 1 })).toThrow(
      'gemm: no version 1 on the reference backend (it has no numbered versions; 0 = the default)',
    );
    expect(ops.gemmSync(rand([3, 8], ref), rand([5, 8], ref), { version: 0 }).shape).toEqual([3, 5]);
  });

  it('the native layer checks it too (a caller bypassing the TS checks)', () => {
    const out = cpu.empty([3, 5], 'f32');
    const args: NativeOpArgs = { x: handle(x), w: handle(w), out: handle(out) };
    expect(() => addon.gemm({ ...args, version: 7 })).toThrow(/^gemm: no version 7 on the cpu backend \(versions: 1 = the native kernel; 0 = the default\)$/);
    expect(() => addon.gemm({ ...args, version: -2 })).toThrow(RangeError);
    expect(() => addon.gemm({ ...args, version: 'x' })).toThrow(new TypeError("gemm: option 'version' must be a number"));
    addon.gemm({ ...args, version: 1 });
    expect(out.toFloat32()).toEqual(ops.gemmSync(x, w).toFloat32());
  });

  it('linear-attention on cpu: version 1 is the unfused variant, version 2 the fused kernel; a contradiction is a RangeError', () => {
    // 300 tokens: long enough for the two summation orders to differ in the last bits.
    const q = rand([2, 300, 64]);
    const k = rand([2, 300, 64]);
    const v = rand([2, 300, 64]);
    const unfused = ops.linearAttentionSync(q, k, v, { variant: 'unfused' }).toFloat32();
    const fused = ops.linearAttentionSync(q, k, v).toFloat32();
    expect(unfused).not.toEqual(fused); // different summation orders: the two kernels really differ
    expect(ops.linearAttentionSync(q, k, v, { version: 1 }).toFloat32()).toEqual(unfused);
    expect(ops.linearAttentionSync(q, k, v, { version: 2 }).toFloat32()).toEqual(fused);
    expect(ops.linearAttentionSync(q, k, v, { version: 1, variant: 'unfused' }).toFloat32()).toEqual(unfused);
    expect(() => ops.linearAttentionSync(q, k, v, { version: 1, variant: 'fused' })).toThrow(
      "linear-attention: variant 'fused' contradicts version 1 (on the cpu backend version 1 is the unfused variant, version 2 the fused kernel)",
    );
    expect(() => ops.linearAttentionSync(q, k, v, { version: 3 })).toThrow(/^linear-attention: no version 3 on the cpu backend \(versions: 1 = unfused .*; 2 = fused .*; 0 = the default\)$/);
  });

  it('reaches every op through its options object (cross-attention included)', () => {
    const xa = rand([1, 4, 8]);
    const y = rand([1, 3, 8]);
    const sq = () => rand([8, 8]);
    const weights = { wq: sq(), wk: sq(), wv: sq(), wo: sq() };
    expect(() => ops.crossAttentionSync(xa, y, weights, { heads: 2, version: 4 })).toThrow(/^cross-attention: no version 4 on the cpu backend/);
    expect(ops.crossAttentionSync(xa, y, weights, { heads: 2, version: 1 }).shape).toEqual([1, 4, 8]);
    expect(() => ops.rmsNorm2dSync(rand([1, 2, 2, 8]), { version: 3 })).toThrow(/^rmsnorm: no version 3 on the cpu backend/);
  });
});

describe('withVersion, captureCall and timeOnDevice', () => {
  const x = rand([3, 8]);
  const w = rand([5, 8]);

  it('withVersion sets the version of the calls made inside it; an explicit option wins', async () => {
    expect(() => ops.withVersion(2, () => ops.gemmSync(x, w))).toThrow(/gemm: no version 2 on the cpu backend/);
    await expect(ops.withVersion(2, () => ops.gemm(x, w))).rejects.toThrow(/no version 2/);
    expect(ops.withVersion(2, () => ops.gemmSync(x, w, { version: 1 })).shape).toEqual([3, 5]);
    expect(ops.withVersion(1, () => ops.gemmSync(x, w)).shape).toEqual([3, 5]);
    // The scope ends with the function.
    expect(ops.gemmSync(x, w).shape).toEqual([3, 5]);
    expect(() => ops.withVersion(-1, () => 0)).toThrow(RangeError);
  });

  it('withOpVersions sets a version per op name; withVersion and an explicit option win; scopes nest and end', async () => {
    expect(() => ops.withOpVersions({ gemm: 2 }, () => ops.gemmSync(x, w))).toThrow(/gemm: no version 2 on the cpu backend/);
    // another op's entry does not touch gemm
    expect(ops.withOpVersions({ 'mix-ffn': 9 }, () => ops.gemmSync(x, w)).shape).toEqual([3, 5]);
    expect(ops.withOpVersions({ gemm: 2 }, () => ops.gemmSync(x, w, { version: 1 })).shape).toEqual([3, 5]);
    expect(ops.withOpVersions({ gemm: 2 }, () => ops.withVersion(1, () => ops.gemmSync(x, w))).shape).toEqual([3, 5]);
    const c = await ops.withOpVersions({ gemm: 1 }, () => ops.captureCall(() => ops.gemmSync(x, w)));
    expect(c.args.version).toBe(1);
    c.out.dispose();
    // nested: the inner entry wins for its op, the outer ones stay
    expect(() => ops.withOpVersions({ gemm: 1 }, () => ops.withOpVersions({ gemm: 3 }, () => ops.gemmSync(x, w)))).toThrow(/no version 3/);
    expect(ops.scopedVersion('gemm')).toBeUndefined();
    expect(ops.withOpVersions({ gemm: 1 }, () => ops.withOpVersions({ rmsnorm: 1 }, () => ops.scopedVersion('gemm')))).toBe(1);
    expect(() => ops.withOpVersions({ gemm: -1 }, () => 0)).toThrow(/the version of gemm must be an integer >= 0/);
  });

  it('an op-allocated output starts as NaN under SANA_LAB_POISON_OUTPUTS=1 (vitest.config.ts sets it), so unwritten elements cannot pass', async () => {
    expect(process.env.SANA_LAB_POISON_OUTPUTS).toBe('1');
    for (const name of ['cpu', 'reference'] as const) {
      for (const dtype of ['f32', 'bf16'] as const) {
        const be = ops.getBackend(name);
        const xa = be.fromArray(x.toFloat32(), x.shape, dtype);
        const wa = be.fromArray(w.toFloat32(), w.shape, dtype);
        const c = await ops.captureCall(() => ops.gemmSync(xa, wa)); // validated and allocated, not run
        expect(c.fresh).toBe(true);
        expect(Array.from(c.out.toFloat32()).every(Number.isNaN), `${name} ${dtype}`).toBe(true);
        for (const t of [c.out, xa, wa]) t.dispose();
      }
    }
  });

  it('captureCall validates the call and returns it without running it', async () => {
    const out = cpu.fromArray(new Float32Array(15).fill(7), [3, 5]);
    const c = await ops.withVersion(1, () => ops.captureCall(() => ops.gemmSync(x, w, { out })));
    expect(c.op).toBe('gemm');
    expect(c.backend.name).toBe('cpu');
    expect(c.args.version).toBe(1);
    expect(c.out).toBe(out);
    expect(c.fresh).toBe(false);
    expect(Array.from(out.toFloat32())).toEqual(new Array(15).fill(7)); // not run
    const async = await ops.captureCall(() => ops.gemm(x, w));
    expect(async.fresh).toBe(true);
    async.out.dispose();
    await expect(ops.captureCall(() => ops.gemmSync(x, rand([5, 7])))).rejects.toThrow('gemm: w [5, 7] does not match x [3, 8] (want w (N, 8))');
    await expect(ops.captureCall(() => ops.gemm(x, w, { version: 9 }))).rejects.toThrow(/no version 9/);
    await expect(ops.captureCall(() => [ops.gemmSync(x, w), ops.gemmSync(x, w)])).rejects.toThrow('captureCall: expected exactly one op call, the function made 2');
    await expect(ops.captureCall(() => 1)).rejects.toThrow('captureCall: expected exactly one op call, the function made 0');
  });

  it('timeOnDevice: the cpu backend is refused natively naming the op, the reference backend by the API', async () => {
    const out = cpu.empty([3, 5], 'f32');
    await expect(ops.timeOnDevice(() => ops.gemmSync(x, w, { out }))).rejects.toThrow(new TypeError('gemm: device timing needs tensors on the cuda backend, these are on cpu'));
    await expect(ops.timeOnDevice(() => ops.gemmSync(rand([3, 8], ref), rand([5, 8], ref)))).rejects.toThrow(
      new TypeError('gemm: device timing needs the cuda backend, these tensors are on reference'),
    );
  });
});

describe('addon.runtime: argument checks and fills', () => {
  it('timeOp rejects unknown ops, non-object args and bad timing options before running anything', () => {
    const x = rand([3, 8]);
    const w = rand([5, 8]);
    const args: NativeOpArgs = { x: handle(x), w: handle(w), out: handle(cpu.empty([3, 5], 'f32')) };
    const t = addon.runtime.timeOp as (...a: unknown[]) => unknown;
    expect(() => t('gemmm', args)).toThrow(/^timeOp: unknown op function 'gemmm' \(have: gemm, linearAttention, .*dcaeEvitBlock, samplerUpdate\)$/);
    expect(() => t('gemm', 3)).toThrow(TypeError);
    expect(() => t('gemm', args, { minReps: 5, maxReps: 2 })).toThrow(new RangeError('timeOp: maxReps 2 < minReps 5'));
    expect(() => t('gemm', args, { warmup: -1 })).toThrow(/^timeOp: option 'warmup' must be an integer in \[0, 1000\]$/);
    expect(() => t('gemm', args, { flushL2: 1 })).toThrow(new TypeError("timeOp: option 'flushL2' must be a boolean"));
    expect(() => t('gemm', { x: args.x })).toThrow("gemm: missing tensor 'w'");
    // A timing request does not outlive its call: the next plain op call runs normally.
    addon.gemm(args);
  });

  it('fillBytes poisons (0xFF = NaN in f32 and bf16) and fillRandom fills seeded uniform values in [lo, hi)', () => {
    const f = cpu.empty([1000], 'f32');
    const b = cpu.empty([1000], 'bf16');
    addon.runtime.fillBytes(handle(f), 0xff);
    addon.runtime.fillBytes(handle(b), 0xff);
    expect(Array.from(f.toFloat32()).every(Number.isNaN)).toBe(true);
    expect(Array.from(b.toArray()).every((bits) => bits === 0xffff)).toBe(true);
    addon.runtime.fillRandom(handle(f), 5, -2, 3);
    const v = f.toFloat32();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...v)).toBeLessThan(3);
    const mean = v.reduce((a, c) => a + c, 0) / v.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.2);
    addon.runtime.fillRandom(handle(b), 5, -2, 3);
    const vb = b.toFloat32();
    for (let i = 0; i < 1000; i++) expect(Math.abs(vb[i]! - v[i]!)).toBeLessThanOrEqual(Math.abs(v[i]!) * 2 ** -8);
    const again = cpu.empty([1000], 'f32');
    addon.runtime.fillRandom(handle(again), 5, -2, 3);
    expect(again.toFloat32()).toEqual(v);
    expect(() => addon.runtime.fillBytes(handle(f), 256)).toThrow(new RangeError('fillBytes: byteValue must be an integer in [0, 255]'));
    expect(() => addon.runtime.fillRandom(handle(f), 1, 3, 3)).toThrow(new RangeError('fillRandom: want finite lo < hi'));
    expect(() => addon.runtime.fillRandom(handle(f), -1, 0, 1)).toThrow(new RangeError('fillRandom: seed must be a non-negative integer'));
    expect(() => (addon.runtime.fillBytes as (...a: unknown[]) => unknown)({}, 1)).toThrow(new TypeError('fillBytes: tensor is not a native backend tensor'));
  });

  it('the backend fill methods reach the same entries', () => {
    const t = cpu.empty([4], 'f32');
    cpu.fillBytes!(t, 0);
    expect(Array.from(t.toFloat32())).toEqual([0, 0, 0, 0]);
    cpu.fillRandom!(t, 1, 1, 2);
    expect(Array.from(t.toFloat32()).every((v) => v >= 1 && v < 2)).toBe(true);
    expect(() => cpu.fillBytes!(rand([2], ref), 0)).toThrow(TypeError);
  });
});
