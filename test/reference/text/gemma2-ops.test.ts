import { describe, expect, it } from 'vitest';
import { errorStats, randn, roundToBf16InPlace } from '../../../reference/core/index.js';
import { geluTanhScalar as geluTanh } from '../../../reference/ops/activations.js';
import { applyRope, causalGqaAttention, gemmaRmsNorm, ropeTables } from '../../../reference/text/gemma2-ops.js';

const id = (a: Float32Array) => a;

describe('Gemma RMSNorm with (1 + w)', () => {
  it('w = 0 gives unit-RMS rows; w scales each channel by (1 + w)', () => {
    const x = randn([3, 8], 1).data as Float32Array;
    const w = randn([8], 2, 0.5).data as Float32Array;
    const y0 = gemmaRmsNorm(x, new Float32Array(8), 1e-6, id);
    for (let r = 0; r < 3; r++) {
      const row = y0.subarray(r * 8, r * 8 + 8);
      expect(Math.sqrt(row.reduce((a, v) => a + v * v, 0) / 8)).toBeCloseTo(1, 5);
    }
    const y = gemmaRmsNorm(x, w, 1e-6, id);
    expect(errorStats(y, Float64Array.from(y0, (v, i) => v * (1 + w[i % 8]!))).maxRel).toBeLessThanOrEqual(1e-6);
  });

  it('bf16 rounding is applied to the output only', () => {
    const x = randn([2, 16], 3).data as Float32Array;
    const w = randn([16], 4, 0.2).data as Float32Array;
    const y = gemmaRmsNorm(x, w, 1e-6, roundToBf16InPlace);
    expect(Array.from(y)).toEqual(Array.from(roundToBf16InPlace(gemmaRmsNorm(x, w, 1e-6, id))));
  });
});

describe('GELU (tanh approximation) as Gemma uses it', () => {
  it('matches ½x(1 + tanh(√(2/π)(x + 0.044715x³))) at known points', () => {
    expect(geluTanh(0)).toBe(0);
    expect(geluTanh(1)).toBeCloseTo(0.8411919906, 9); // torch.nn.functional.gelu(1, approximate='tanh')
    expect(geluTanh(-3)).toBeCloseTo(-0.0036373920, 9);
  });
});

describe('RoPE', () => {
  it('position 0 is the identity and the norm of each pair is kept', () => {
    const d = 8;
    const { cos, sin } = ropeTables(5, d, 10000, id);
    const x = randn([5, 2, d], 5).data as Float32Array;
    const before = Float32Array.from(x);
    applyRope(x, 5, 2, d, cos, sin, id);
    expect(Array.from(x.subarray(0, 2 * d))).toEqual(Array.from(before.subarray(0, 2 * d)));
    for (let i = 2 * d; i < x.length; i += d) {
      for (let k = 0; k < d / 2; k++) {
        const a = Math.hypot(x[i + k]!, x[i + k + d / 2]!);
        const b = Math.hypot(before[i + k]!, before[i + k + d / 2]!);
        expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-5 * b + 1e-6);
      }
    }
  });

  it('q·k depends only on the relative position', () => {
    const d = 16;
    const L = 40;
    const { cos, sin } = ropeTables(L, d, 10000, id);
    const q = randn([d], 6).data as Float32Array;
    const k = randn([d], 7).data as Float32Array;
    const at = (v: Float32Array, p: number): Float32Array => {
      const buf = new Float32Array(L * d);
      buf.set(v, p * d);
      return applyRope(buf, L, 1, d, cos, sin, id).slice(p * d, p * d + d);
    };
    const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);
    const base = dot(at(q, 9), at(k, 4)); // distance 5
    for (const shift of [1, 7, 30]) expect(dot(at(q, 9 + shift), at(k, 4 + shift))).toBeCloseTo(base, 4);
    expect(Math.abs(dot(at(q, 9), at(k, 2)) - base)).toBeGreaterThan(1e-3); // another distance differs
  });
});

describe('causal GQA attention core', () => {
  const shape1 = { seqLen: 2, numHeads: 1, numKvHeads: 1, headDim: 1 };

  it('soft-cap bounds the logits: two keys with logits ±1e6 and cap c weigh e^{2c} : 1', () => {
    const q = Float32Array.of(1, 1e3);
    const k = Float32Array.of(-1e3, 1e3); // query 1 scores: key 0 → −1e6, key 1 → +1e6
    const v = Float32Array.of(0, 1);
    for (const cap of [1, 2.5]) {
      const out = causalGqaAttention(q, k, v, shape1, { scaling: 1, softcap: cap, window: null, keyMask: [1, 1] }, id);
      const e = Math.exp(2 * cap);
      expect(out[1]).toBeCloseTo(e / (1 + e), 6); // uncapped this would be exactly 1
    }
    const uncapped = causalGqaAttention(q, k, v, shape1, { scaling: 1, softcap: null, window: null, keyMask: [1, 1] }, id);
    expect(uncapped[1]).toBe(1);
  });

  it('masked keys get zero weight and scaling multiplies the logits', () => {
    const q = Float32Array.of(0.3, 0.7);
    const k = Float32Array.of(0.5, -0.2);
    const v = Float32Array.of(4, -1);
    const masked = causalGqaAttention(q, k, v, shape1, { scaling: 1, softcap: null, window: null, keyMask: [0, 1] }, id);
    expect(masked[1]).toBe(-1);
    const s = 0.25;
    const out = causalGqaAttention(q, k, v, shape1, { scaling: s, softcap: null, window: null, keyMask: [1, 1] }, id);
    const l0 = 0.7 * 0.5 * s;
    const l1 = 0.7 * -0.2 * s;
    const p0 = Math.exp(l0) / (Math.exp(l0) + Math.exp(l1));
    expect(out[1]).toBeCloseTo(p0 * 4 + (1 - p0) * -1, 6);
    expect(out[0]).toBeCloseTo(4, 6); // the first query sees only itself
  });
});
