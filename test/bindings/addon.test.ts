import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../bindings/addon.js';
import { listBackends } from '../../bindings/backends.js';
import { f32FromBits, f32ToBf16Bits } from '../../reference/core/dtype.js';
import { Rng } from '../../reference/core/random.js';

describe('native addon', () => {
  const addon = loadAddon();

  it('converts f32 → bf16 bit-identically to the TypeScript reference (ties, NaN, Inf, subnormals)', () => {
    const specials = [0, -0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, Infinity, -Infinity, NaN, f32FromBits(0x7f800001), f32FromBits(0x00008000), f32FromBits(0x7f7fffff)];
    const x = new Float32Array(100000 + specials.length);
    new Rng(11).fillNormal(x, 0, 1e3);
    x.set(specials, 100000);
    const got = addon.f32ToBf16(x);
    for (let i = 0; i < x.length; i++) if (got[i] !== f32ToBf16Bits(x[i]!)) expect.fail(`element ${i} (${x[i]})`);
    const back = addon.bf16ToF32(got);
    expect(back.length).toBe(x.length);
  });

  it('rejects wrong argument types with a TypeError naming the function', () => {
    expect(() => (addon.f32ToBf16 as (x: unknown) => unknown)(new Float64Array(2))).toThrow(TypeError);
    expect(() => (addon.f32ToBf16 as (x: unknown) => unknown)(new Float64Array(2))).toThrow(/f32ToBf16: expected one Float32Array/);
    expect(() => (addon.bf16ToF32 as (x: unknown) => unknown)('nope')).toThrow(/bf16ToF32/);
  });

  it('reports CUDA as compiled-or-not and available-or-not with a reason, without crashing', () => {
    const c = addon.cudaInfo();
    expect(c.compiled).toBe(addon.buildInfo().cuda);
    if (!c.available) {
      expect(c.reason).toMatch(/\S/);
      expect(c.devices).toEqual([]);
    } else {
      expect(c.devices.length).toBeGreaterThan(0);
    }
  });

  it('is the sanitizer build when the ASan run asks for one', () => {
    if (process.env.SANA_LAB_EXPECT_SANITIZE === '1') expect(addon.buildInfo().sanitize).toBe(true);
    else expect(typeof addon.buildInfo().sanitize).toBe('boolean');
  });

  it('lists the three backends, cpu available', () => {
    const b = listBackends();
    expect(b.map((x) => x.name)).toEqual(['reference', 'cpu', 'cuda']);
    expect(b[1]!.available).toBe(true);
    expect(addon.cpuInfo().threads).toBeGreaterThan(0);
  });
});
