import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32,
  f16BitsToF32,
  f32Bits,
  f32FromBits,
  f32ToBf16Bits,
  f32ToF16Bits,
} from '../../../reference/core/dtype.js';
import { Rng } from '../../../reference/core/random.js';

describe('bf16 rounding (round to nearest, ties to even)', () => {
  it('is exact on representable values', () => {
    for (const v of [0, 1, -1, 2, 0.5, 1.5, -3.25, 65536, 1.9921875, 2 ** -126, 3.3895313892515355e38]) {
      expect(bf16BitsToF32(f32ToBf16Bits(v))).toBe(Math.fround(v));
    }
  });

  it('rounds ties to even', () => {
    // 1 + 2^-8 lies exactly between bf16 1.0 (even) and 1 + 2^-7 (odd): goes down to 1.0.
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    // 1 + 3·2^-8 lies between 1 + 2^-7 (odd mantissa 1) and 1 + 2^-6 (even): goes up.
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    // Just above the tie rounds up; just below rounds down.
    expect(f32ToBf16Bits(f32FromBits(0x3f808001))).toBe(0x3f81);
    expect(f32ToBf16Bits(f32FromBits(0x3f807fff))).toBe(0x3f80);
  });

  it('keeps ±Inf, ±0 and NaN, and overflows to Inf like PyTorch', () => {
    expect(f32ToBf16Bits(Infinity)).toBe(0x7f80);
    expect(f32ToBf16Bits(-Infinity)).toBe(0xff80);
    expect(f32ToBf16Bits(-0)).toBe(0x8000);
    expect(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN)))).toBe(true);
    // A NaN whose payload sits only in the low 16 bits must stay NaN (not collapse to Inf).
    expect(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(f32FromBits(0x7f800001))))).toBe(true);
    // Largest f32 rounds up past the largest bf16 to Inf.
    expect(f32ToBf16Bits(f32FromBits(0x7f7fffff))).toBe(0x7f80);
  });

  it('keeps f32 subnormals (bf16 has the f32 exponent range)', () => {
    const sub = f32FromBits(0x00010000); // exactly representable subnormal
    expect(bf16BitsToF32(f32ToBf16Bits(sub))).toBe(sub);
    expect(f32ToBf16Bits(f32FromBits(0x00008000))).toBe(0x0000); // tie → even (0)
    expect(f32ToBf16Bits(f32FromBits(0x00018000))).toBe(0x0002); // tie → even (2)
  });

  it('has relative error ≤ 2^-8 (half an ulp of an 8-bit significand) on random values', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 10000; i++) {
      const v = Math.fround(rng.normal() * 10 ** (rng.uniform() * 20 - 10));
      const r = bf16BitsToF32(f32ToBf16Bits(v));
      expect(Math.abs(r - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -8);
    }
  });
});

describe('f16 rounding', () => {
  it('matches known bit patterns', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(0.333251953125)).toBe(0x3555);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
  });

  it('rounds ties to even and overflows to Inf', () => {
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // halfway to 2^16 → rounds to Inf
    expect(f32ToF16Bits(65519)).toBe(0x7bff);
    expect(f32ToF16Bits(1e6)).toBe(0x7c00);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN)))).toBe(true);
  });

  it('produces and reads subnormals exactly', () => {
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // exactly half the smallest → tie → 0
    expect(f32ToF16Bits(3 * 2 ** -25)).toBe(0x0002); // 1.5 ulp → tie → even (2)
    expect(f32ToF16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the smallest normal
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
  });

  it('round-trips every f16 bit pattern', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = f16BitsToF32(h);
      if (Number.isNaN(v)) continue;
      expect(f32ToF16Bits(v), `0x${h.toString(16)}`).toBe(h);
    }
  });

  it('agrees with a float64 nearest-even oracle on random f32 values', () => {
    const rng = new Rng(2);
    // Oracle: among all finite f16 values pick the nearest, ties to the even mantissa.
    const values: number[] = [];
    for (let h = 0; h < 0x7c00; h++) values.push(f16BitsToF32(h));
    for (let i = 0; i < 2000; i++) {
      const v = Math.abs(Math.fround(rng.normal() * 10 ** (rng.uniform() * 9 - 6)));
      if (v > 65504) continue;
      let lo = 0;
      let hi = values.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (values[mid]! <= v) lo = mid;
        else hi = mid;
      }
      const dl = v - values[lo]!;
      const dh = values[hi]! - v;
      const want = dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi;
      expect(f32ToF16Bits(v)).toBe(want);
    }
  });
});

describe('f32 bit helpers', () => {
  it('round-trips bits', () => {
    expect(f32Bits(1)).toBe(0x3f800000);
    expect(f32FromBits(0x3f800000)).toBe(1);
  });
});
