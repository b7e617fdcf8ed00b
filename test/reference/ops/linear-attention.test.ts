import { describe, expect, it } from 'vitest';
import { randn } from '../../../reference/core/random.js';
import { Tensor } from '../../../reference/core/tensor.js';
import {
  LINEAR_ATTENTION_EPS_SANA,
  linearAttentionModule,
  reluLinearAttention,
} from '../../../reference/ops/linear-attention.js';
import { GOLDEN, maxRelError, OP_TOL, readOp } from './op-golden.js';

/** The quadratic form, straight from the definition: out_n = Σ_m v_m (φk_m·φq_n) / (Σ_m φk_m·φq_n + eps). */
function bruteForce(q: Tensor, k: Tensor, v: Tensor, heads: number, eps: number): Float64Array {
  const [B, N, C] = q.shape as [number, number, number];
  const M = k.shape[1]!;
  const d = C / heads;
  const qs = q.data as Float32Array;
  const ks = k.data as Float32Array;
  const vs = v.data as Float32Array;
  const out = new Float64Array(B * N * C);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      for (let n = 0; n < N; n++) {
        const num = new Float64Array(d);
        let den = 0;
        for (let m = 0; m < M; m++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += Math.max(qs[(b * N + n) * C + h * d + j]!, 0) * Math.max(ks[(b * M + m) * C + h * d + j]!, 0);
          den += s;
          for (let i = 0; i < d; i++) num[i] += s * vs[(b * M + m) * C + h * d + i]!;
        }
        for (let i = 0; i < d; i++) out[(b * N + n) * C + h * d + i] = num[i]! / (den + eps);
      }
    }
  }
  return out;
}

function maxRel(a: ArrayLike<number>, e: ArrayLike<number>): number {
  let m = 0;
  let r = 0;
  for (let i = 0; i < e.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - e[i]!));
    r = Math.max(r, Math.abs(e[i]!));
  }
  return m / r;
}

describe('reluLinearAttention', () => {
  it('equals the quadratic definition (3 heads, N ≠ M, f64 and f32 accumulation)', () => {
    const q = randn([2, 7, 12], 1);
    const k = randn([2, 9, 12], 2);
    const v = randn([2, 9, 12], 3);
    const ref = bruteForce(q, k, v, 3, 1e-15);
    expect(maxRel(reluLinearAttention(q, k, v, { heads: 3 }).data as Float32Array, ref)).toBeLessThan(1e-6);
    expect(maxRel(reluLinearAttention(q, k, v, { heads: 3, accumulate: 'f32' }).data as Float32Array, ref)).toBeLessThan(1e-5);
  });

  it('applies ReLU to q and k but not to v', () => {
    // One head, d = 1: out = Σ v_m relu(k_m) relu(q) / (Σ relu(k_m) relu(q) + eps).
    const q = Tensor.f32([1, 1, 1], [2]);
    const k = Tensor.f32([1, 3, 1], [1, -5, 3]);
    const v = Tensor.f32([1, 3, 1], [-4, 100, 2]);
    const out = reluLinearAttention(q, k, v, { heads: 1 }).data as Float32Array;
    expect(out[0]).toBeCloseTo((-4 * 1 * 2 + 2 * 3 * 2) / (1 * 2 + 3 * 2), 6); // v_1 = 100 is ignored (k_1 < 0)
    // A negative query: φ(q) = 0, numerator and denominator 0 → output 0.
    expect(reluLinearAttention(Tensor.f32([1, 1, 1], [-1]), k, v, { heads: 1 }).data[0]).toBe(0);
  });

  it('eps option: 1e-8 (NVlabs) vs 1e-15 (diffusers) matters only for tiny denominators', () => {
    const q = Tensor.f32([1, 1, 2], [1e-4, 0]);
    const k = Tensor.f32([1, 1, 2], [1e-4, 0]);
    const v = Tensor.f32([1, 1, 2], [1, 1]);
    // denominator 1e-8: with eps 1e-15 → ≈ 1; with eps 1e-8 → ≈ 0.5
    const a = reluLinearAttention(q, k, v, { heads: 1 }).data as Float32Array;
    const b = reluLinearAttention(q, k, v, { heads: 1, eps: LINEAR_ATTENTION_EPS_SANA }).data as Float32Array;
    expect(a[0]).toBeCloseTo(1, 5);
    expect(b[0]).toBeCloseTo(0.5, 3);
  });

  it('propagates NaN', () => {
    const q = randn([1, 3, 4], 5);
    const k = randn([1, 3, 4], 6);
    (k.data as Float32Array)[2] = NaN;
    const out = reluLinearAttention(q, k, randn([1, 3, 4], 7), { heads: 1 }).data as Float32Array;
    expect(out.some((x) => Number.isNaN(x))).toBe(true);
  });

  it('rejects bad shapes and heads', () => {
    const x = randn([2, 4, 8], 1);
    expect(() => reluLinearAttention(x, x, x, { heads: 3 })).toThrow(/8 channels cannot be split into 3 heads/);
    expect(() => reluLinearAttention(x, randn([2, 4, 6], 2), x, { heads: 2 })).toThrow(/do not agree/);
    expect(() => reluLinearAttention(randn([4, 8], 1), x, x, { heads: 2 })).toThrow(/want q, k, v of shape \(B, N, C\)/);
  });
});

describe.skipIf(!GOLDEN)('linear attention module vs diffusers (op_dit_linear_attention)', () => {
  const run = (accumulate: 'f32' | 'f64') => {
    const g = readOp('op_dit_linear_attention.safetensors');
    const out = linearAttentionModule(
      g('input.hidden_states'),
      { toQ: g('params.to_q.weight'), toK: g('params.to_k.weight'), toV: g('params.to_v.weight'), toOut: g('params.to_out.0.weight'), toOutBias: g('params.to_out.0.bias') },
      { heads: 2, accumulate },
    );
    return { g, out };
  };

  it(`f64 accumulation: max|a−e|/max|e| <= ${OP_TOL}`, () => {
    const { g, out } = run('f64');
    expect(maxRelError('linear attention (f64 acc) vs output', out, g('output'))).toBeLessThanOrEqual(OP_TOL);
    expect(maxRelError('linear attention (f64 acc) vs output_f64', out, g('output_f64'))).toBeLessThanOrEqual(OP_TOL);
  });

  it(`f32 accumulation: max|a−e|/max|e| <= ${OP_TOL}`, () => {
    const { g, out } = run('f32');
    expect(maxRelError('linear attention (f32 acc) vs output', out, g('output'))).toBeLessThanOrEqual(OP_TOL);
  });
});
