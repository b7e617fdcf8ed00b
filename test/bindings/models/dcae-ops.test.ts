import { afterAll, describe, expect, it } from 'vitest';
import { captureCall, timeOnDevice, withVersion } from '../../../bindings/ops.js';
import type { BackendTensor } from '../../../bindings/tensor.js';
import { dcaeEvitBlockSync, dcaeHeadSync, dcaeUpsampleSync, type DcaeEvitBlockOptions, type DcaeEvitBlockWeights, type DcaeHeadOptions, type DcaeUpsampleOptions, type UpsampleMode } from '../../../bindings/models/dcae-ops.js';
import { cpu, expectBf16, expectF32, input, poisoned, printParity, ref, type Input } from '../../kernels/parity.js';

afterAll(() => printParity('models/dcae-ops'));

type Which = 'ref' | 'f32' | 'bf16';
/** The plain bf16 computation: the reference backend on bf16 tensors (one rounding per op). */
const r16 = (i: Input): BackendTensor => ref.fromArray(i.data, i.shape, 'bf16');
const on = (i: Input, k: Which | 'plain'): BackendTensor => (k === 'plain' ? r16(i) : i.on(k));
/** A NaN-poisoned output for run `k` (its backend and dtype), so that an element the op never writes fails the check. */
const outFor = (k: Which | 'plain', shape: readonly number[]): BackendTensor =>
  poisoned(shape, k === 'bf16' || k === 'plain' ? 'bf16' : 'f32', k === 'ref' || k === 'plain' ? 'reference' : 'cpu');

describe('dcae-upsample (cpu) vs the reference up block / conv_in', () => {
  const cases: { mode: UpsampleMode; C: number; Nc: number; shortcut: boolean }[] = [
    { mode: 'interpolate', C: 24, Nc: 12, shortcut: true },
    { mode: 'interpolate', C: 16, Nc: 16, shortcut: true },
    { mode: 'pixel-shuffle', C: 12, Nc: 24, shortcut: true },
    { mode: 'none', C: 8, Nc: 32, shortcut: true },
    { mode: 'interpolate', C: 10, Nc: 7, shortcut: false },
  ];
  for (const [n, cse] of cases.entries()) {
    it(`${cse.mode}, C ${cse.C} → conv ${cse.Nc}${cse.shortcut ? ' + shortcut' : ''}, 5×7, B=2`, () => {
      const B = 2, H = 5, W = 7;
      const x = input([B, H, W, cse.C], 300 + 10 * n);
      const w = input([cse.Nc, cse.C, 3, 3], 301 + 10 * n, 1 / Math.sqrt(9 * cse.C));
      const b = input([cse.Nc], 302 + 10 * n, 0.3);
      const run = (k: Which | 'plain', out?: BackendTensor) =>
        dcaeUpsampleSync(on(x, k), on(w, k), { bias: on(b, k), mode: cse.mode, shortcut: cse.shortcut, out });
      const reference = run('ref');
      const f = cse.mode === 'none' ? 1 : 2;
      const Co = cse.mode === 'pixel-shuffle' ? cse.Nc / 4 : cse.Nc;
      expect(reference.shape).toEqual([B, f * H, f * W, Co]);
      const o32 = poisoned(reference.shape, 'f32');
      run('f32', o32);
      expectF32(`dcae-upsample ${cse.mode}`, o32.toFloat32(), reference.toFloat32());
      const o16 = run('bf16', outFor('bf16', reference.shape));
      expectBf16(`dcae-upsample ${cse.mode}`, o16.toFloat32(), run('plain', outFor('plain', reference.shape)).toFloat32(), reference.toFloat32());
    });
  }

  for (const mode of ['interpolate', 'none', 'pixel-shuffle'] as const) {
    it(`${mode}: large enough for several 4 MiB row chunks (C 2 → 256, 48×48, B=2)`, () => {
      const B = 2, H = 48, W = 48, C = 2, Nc = 256;
      const x = input([B, H, W, C], 360);
      const w = input([Nc, C, 3, 3], 361, 1 / Math.sqrt(9 * C));
      const b = input([Nc], 362, 0.3);
      const reference = dcaeUpsampleSync(x.ref, w.ref, { bias: b.ref, mode });
      const out = dcaeUpsampleSync(x.f32, w.f32, { bias: b.f32, mode, out: poisoned(reference.shape, 'f32') });
      expectF32(`dcae-upsample ${mode} chunked`, out.toFloat32(), reference.toFloat32());
    });
  }

  it('rejects bad shapes, modes and a shortcut that does not divide', () => {
    const x = cpu.fromArray(new Float32Array(2 * 4 * 4 * 6).fill(1), [2, 4, 4, 6]);
    const w = cpu.fromArray(new Float32Array(4 * 6 * 9).fill(1), [4, 6, 3, 3]);
    expect(() => dcaeUpsampleSync(x, cpu.fromArray(new Float32Array(4 * 5 * 9), [4, 5, 3, 3]), { mode: 'interpolate' })).toThrow(/dcae-upsample: w \[4, 5, 3, 3\] is not \(Nc, 6, 3, 3\)/);
    expect(() => dcaeUpsampleSync(x, w, { mode: 'bilinear' as UpsampleMode })).toThrow(TypeError);
    expect(() => dcaeUpsampleSync(x, w, { mode: 'none' })).toThrow(/cannot repeat the 6 channels/);
    const w6 = cpu.fromArray(new Float32Array(6 * 6 * 9).fill(1), [6, 6, 3, 3]);
    expect(() => dcaeUpsampleSync(x, w6, { mode: 'pixel-shuffle', shortcut: false })).toThrow(/4·Co/);
    expect(() => dcaeUpsampleSync(x, w, { mode: 'interpolate', out: x })).toThrow(RangeError);
  });

  it('refuses a misspelt option (it would silently keep the default) and a missing options object, naming the op', () => {
    const x = cpu.fromArray(new Float32Array(2 * 4 * 4 * 4).fill(1), [2, 4, 4, 4]);
    const w = cpu.fromArray(new Float32Array(4 * 4 * 9).fill(1), [4, 4, 3, 3]);
    const misspelt = { mode: 'none', shortcutt: false } as unknown as DcaeUpsampleOptions;
    expect(() => dcaeUpsampleSync(x, w, misspelt)).toThrow(/^dcae-upsample: unknown options key "shortcutt" \(accepted: bias, mode, shortcut, out\)$/);
    expect(() => dcaeUpsampleSync(x, w, null as unknown as DcaeUpsampleOptions)).toThrow(/^dcae-upsample: options must be an object, got null$/);
    const nw = cpu.fromArray(new Float32Array(4).fill(1), [4]);
    const wh = cpu.fromArray(new Float32Array(3 * 4 * 9).fill(1), [3, 4, 3, 3]);
    expect(() => dcaeHeadSync(x, nw, nw, wh, { act: 'silu' } as unknown as DcaeHeadOptions)).toThrow(/^dcae-head: unknown options key "act"/);
    expect(() => dcaeHeadSync(x, nw, nw, wh, { eps: 0 })).toThrow(/^dcae-head: eps must be a finite number > 0, got 0$/);
    // null options = the defaults, as for every op
    expect(dcaeHeadSync(x, nw, nw, wh, null as unknown as DcaeHeadOptions).shape).toEqual([2, 3, 4, 4]);
  });
});

describe('dcae-head (cpu) vs norm_out → act → conv_out', () => {
  for (const act of ['relu', 'silu'] as const) {
    it(`${act}, C 20 → 3, 6×5, B=2, output NCHW`, () => {
      const B = 2, H = 6, W = 5, C = 20;
      const x = input([B, H, W, C], 400, 2);
      const nw = input([C], 401, 0.5, 1);
      const nb = input([C], 402, 0.3);
      const w = input([3, C, 3, 3], 403, 1 / Math.sqrt(9 * C));
      const b = input([3], 404, 0.3);
      const run = (k: Which | 'plain') => dcaeHeadSync(on(x, k), on(nw, k), on(nb, k), on(w, k), { bias: on(b, k), activation: act, out: outFor(k, [B, 3, H, W]) });
      const reference = run('ref');
      expect(reference.shape).toEqual([B, 3, H, W]);
      expectF32(`dcae-head ${act}`, run('f32').toFloat32(), reference.toFloat32());
      expectBf16(`dcae-head ${act}`, run('bf16').toFloat32(), run('plain').toFloat32(), reference.toFloat32());
    });
  }
});

describe('dcae-head in several row bands', () => {
  it('C 256, 130×32 (bands of 126 rows + halo), B=1', () => {
    const x = input([1, 130, 32, 256], 450, 2);
    const nw = input([256], 451, 0.5, 1);
    const nb = input([256], 452, 0.3);
    const w = input([3, 256, 3, 3], 453, 1 / 48);
    const b = input([3], 454, 0.3);
    const reference = dcaeHeadSync(x.ref, nw.ref, nb.ref, w.ref, { bias: b.ref });
    const out = dcaeHeadSync(x.f32, nw.f32, nb.f32, w.f32, { bias: b.f32, out: poisoned(reference.shape, 'f32') });
    expectF32('dcae-head banded', out.toFloat32(), reference.toFloat32());
  });
});

describe('dcae-evit-block (cpu) vs LiteMLA + GLUMBConv', () => {
  for (const [H, W] of [[6, 7], [2, 3]] as const) {
    it(`C 32, head dim 8, 5×5 aggregation, ${H}×${W} (${H * W > 8 ? 'linear' : 'quadratic'} attention), B=2`, () => {
      const B = 2, C = 32, d = 8, I = C, hid = 4 * C;
      let seed = 500 + H;
      const m = (shape: number[], std: number, mean = 0) => input(shape, seed++, std, mean);
      const x = m([B, H, W, C], 1);
      const wts: Record<keyof DcaeEvitBlockWeights, Input> = {
        wq: m([I, C], 1 / Math.sqrt(C)),
        wk: m([I, C], 1 / Math.sqrt(C)),
        wv: m([I, C], 1 / Math.sqrt(C)),
        wDw: m([3 * I, 1, 5, 5], 0.2),
        wGroup: m([3 * I, d, 1, 1], 1 / Math.sqrt(d)),
        wOut: m([C, 2 * I], 1 / Math.sqrt(2 * I)),
        attnNormWeight: m([C], 0.3, 1),
        attnNormBias: m([C], 0.2),
        ffWInv: m([2 * hid, C, 1, 1], 1 / Math.sqrt(C)),
        ffBInv: m([2 * hid], 0.2),
        ffWDw: m([2 * hid, 1, 3, 3], 0.3),
        ffBDw: m([2 * hid], 0.2),
        ffWPoint: m([C, hid, 1, 1], 1 / Math.sqrt(hid)),
        ffNormWeight: m([C], 0.3, 1),
        ffNormBias: m([C], 0.2),
      };
      const run = (k: Which | 'plain') => {
        const w = Object.fromEntries(Object.entries(wts).map(([n, i]) => [n, on(i, k)])) as unknown as DcaeEvitBlockWeights;
        return dcaeEvitBlockSync(on(x, k), w, { headDim: d, out: outFor(k, x.shape) });
      };
      const reference = run('ref');
      expectF32(`dcae-evit-block ${H}×${W}`, run('f32').toFloat32(), reference.toFloat32());
      expectBf16(`dcae-evit-block ${H}×${W}`, run('bf16').toFloat32(), run('plain').toFloat32(), reference.toFloat32());
      if (H === 2) {
        const w = Object.fromEntries(Object.entries(wts).map(([n, i]) => [n, on(i, 'f32')])) as unknown as DcaeEvitBlockWeights;
        const xs = on(x, 'f32');
        expect(() => dcaeEvitBlockSync(xs, { ...w, ffNormBais: w.ffNormBias } as DcaeEvitBlockWeights)).toThrow(/^dcae-evit-block: unknown weights key "ffNormBais"/);
        expect(() => dcaeEvitBlockSync(xs, w, { headDim: d, epsilon: 1e-6 } as DcaeEvitBlockOptions)).toThrow(/^dcae-evit-block: unknown options key "epsilon"/);
      }
    });
  }
});

describe('dcae ops inside bench/parity scopes (withVersion, captureCall)', () => {
  const x = input([1, 3, 4, 8], 901);
  const w = input([8, 8, 3, 3], 902, 0.1);
  const call = (out?: BackendTensor) => dcaeUpsampleSync(x.f32, w.f32, { mode: 'interpolate', shortcut: true, out });

  it('withVersion passes the version to the kernel entry, which checks it', () => {
    const plain = call().toFloat32();
    expect(Array.from(withVersion(1, () => call()).toFloat32())).toEqual(Array.from(plain));
    expect(() => withVersion(7, () => call())).toThrow(/dcae-upsample: .*version 7/);
  });

  it('captureCall records the call without running it; device timing names the op and needs cuda', async () => {
    const out = poisoned([1, 6, 8, 8], 'f32');
    const c = await captureCall(() => call(out));
    expect(c.op).toBe('dcae-upsample');
    expect(c.out).toBe(out);
    expect(c.fresh).toBe(false);
    expect(Number.isNaN(out.toFloat32()[0])).toBe(true); // not run
    await expect(c.time()).rejects.toThrow('dcae-upsample: device timing needs the cuda backend, these tensors are on cpu');
    await expect(timeOnDevice(() => call(out))).rejects.toThrow(TypeError);
  });
});
