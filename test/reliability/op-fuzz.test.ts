/**
 * Property suite over op shapes and options (fast-check, fixed seeds, bounded runs — cheap enough for
 * CI and for the ASan run):
 *   1. random VALID shapes and options of every op: the cpu backend matches the reference backend
 *      (float64-accumulated TS spec) — f32 ‖out − ref‖/‖ref‖ ≤ 1e-5, bf16 ≤ 3e-2 (a sanity bound; the
 *      tight bf16 rule lives in test/kernels), never NaN/Inf;
 *   2. random MUTATIONS of a valid call (most invalid): the reference and the cpu backend accept
 *      exactly the same calls, agree on the results of the accepted ones, and reject the others with a
 *      TypeError or RangeError naming the op — never another exception, a crash or a hang.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ops from '../../bindings/ops.js';
import type { BackendTensor, TensorDType } from '../../bindings/tensor.js';
import { errorStats, formatStats } from '../../reference/core/compare.js';
import { randTensor, type BackendKind } from './helpers.js';
import { buildMutated, mutation } from './mutations.js';
import { OP_CASES } from './op-cases.js';

const TOL: Record<TensorDType, number> = { f32: 1e-5, bf16: 3e-2 };
const dim = (lo: number, hi: number) => fc.integer({ min: lo, max: hi });

/** A random valid call: tensor shapes by name, the call itself, and an optional mask to fill. */
interface Valid {
  shapes: Record<string, number[]>;
  call(t: Record<string, BackendTensor>): BackendTensor;
  /** Tensors that get values other than N(0, 0.5²): name → values generator. */
  special?: Record<string, (n: number) => Float32Array>;
}

const ACTS = ['none', 'relu', 'silu', 'gelu-tanh'] as const;

const maskOf = (B: number, L: number) => (n: number) => {
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = i % L === 0 || (i * 7919) % 3 !== 0 ? 0 : -10000;
  void B;
  return m;
};

const GENERATORS: Record<string, fc.Arbitrary<Valid>> = {
  gemm: fc
    .record({ lead: fc.array(dim(1, 4), { minLength: 1, maxLength: 3 }), K: dim(1, 40), N: dim(1, 40), bias: fc.boolean(), act: fc.constantFrom(...ACTS), gate: fc.boolean(), residual: fc.boolean() })
    .map(({ lead, K, N, bias, act, gate, residual }) => {
      const shapes: Record<string, number[]> = { x: [...lead, K], w: [N, K] };
      if (bias) shapes.bias = [N];
      if (gate) shapes.gate = [lead[0]!, ...lead.slice(1).map(() => 1), N];
      if (residual) shapes.residual = [...lead, N];
      return { shapes, call: (t) => ops.gemmSync(t.x!, t.w!, { bias: t.bias, gate: t.gate, residual: t.residual, activation: act }) };
    }),
  'linear-attention': fc
    .record({ B: dim(1, 2), N: dim(1, 20), M: dim(1, 20), d: fc.constantFrom(1, 4, 8, 16, 32), heads: dim(1, 3), eps: fc.constantFrom(1e-15, 1e-8) })
    .map(({ B, N, M, d, heads, eps }) => ({
      shapes: { q: [B, N, heads * d], k: [B, M, heads * d], v: [B, M, heads * d] },
      call: (t) => ops.linearAttentionSync(t.q!, t.k!, t.v!, { headDim: d, eps }),
    })),
  'linear-attention-block': fc
    .record({ B: dim(1, 2), N: dim(1, 10), d: fc.constantFrom(8, 16, 32), heads: dim(1, 2), Cout: dim(1, 40), bo: fc.boolean(), gate: fc.boolean(), residual: fc.boolean() })
    .map(({ B, N, d, heads, Cout, bo, gate, residual }) => {
      const C = heads * d;
      const shapes: Record<string, number[]> = { x: [B, N, C], wq: [C, C], wk: [C, C], wv: [C, C], wo: [Cout, C] };
      if (bo) shapes.bo = [Cout];
      if (gate) shapes.gate = [B, 1, Cout];
      if (residual) shapes.residual = [B, N, Cout];
      return { shapes, call: (t) => ops.linearAttentionBlockSync(t.x!, { wq: t.wq!, wk: t.wk!, wv: t.wv!, wo: t.wo!, bo: t.bo }, { headDim: d, gate: t.gate, residual: t.residual }) };
    }),
  'mix-ffn': fc
    .record({ B: dim(1, 2), H: dim(1, 4), W: dim(1, 4), C: dim(1, 16), h: dim(1, 12), Cout: dim(1, 16), gate: fc.boolean(), residual: fc.boolean(), dw3: fc.boolean() })
    .map(({ B, H, W, C, h, Cout, gate, residual, dw3 }) => {
      const shapes: Record<string, number[]> = { x: [B, H * W, C], wInv: [2 * h, C, 1, 1], bInv: [2 * h], wDw: dw3 ? [2 * h, 3, 3] : [2 * h, 1, 3, 3], bDw: [2 * h], wPoint: [Cout, h] };
      if (gate) shapes.gate = [B, 1, Cout];
      if (residual) shapes.residual = [B, H * W, Cout];
      return {
        shapes,
        call: (t) => ops.mixFfnSync(t.x!, { wInv: t.wInv!, bInv: t.bInv!, wDw: t.wDw!, bDw: t.bDw!, wPoint: t.wPoint! }, { height: H, width: W, gate: t.gate, residual: t.residual }),
      };
    }),
  'cross-attention': fc
    .record({ B: dim(1, 2), N: dim(1, 8), L: dim(1, 6), heads: fc.constantFrom(1, 2, 4), hd: fc.constantFrom(2, 4, 8), Cy: dim(1, 12), Cout: dim(1, 16), biases: fc.boolean(), mask: fc.boolean(), residual: fc.boolean() })
    .map(({ B, N, L, heads, hd, Cy, Cout, biases, mask, residual }) => {
      const C = heads * hd;
      const shapes: Record<string, number[]> = { x: [B, N, C], y: [B, L, Cy], wq: [C, C], wk: [C, Cy], wv: [C, Cy], wo: [Cout, C] };
      if (biases) Object.assign(shapes, { bq: [C], bk: [C], bv: [C], bo: [Cout] });
      if (mask) shapes.maskBias = [B, L];
      if (residual) shapes.residual = [B, N, Cout];
      return {
        shapes,
        special: mask ? { maskBias: maskOf(B, L) } : undefined,
        call: (t) => ops.crossAttentionSync(t.x!, t.y!, { wq: t.wq!, bq: t.bq, wk: t.wk!, bk: t.bk, wv: t.wv!, bv: t.bv, wo: t.wo!, bo: t.bo }, { heads, maskBias: t.maskBias, residual: t.residual }),
      };
    }),
  'layernorm-modulate': fc
    .record({ B: dim(1, 2), N: dim(1, 6), C: dim(2, 32), form: fc.constantFrom('BC', 'B1C', 'C') })
    .map(({ B, N, C, form }) => {
      const mod = form === 'BC' ? [B, C] : form === 'B1C' ? [B, 1, C] : [C];
      return { shapes: { x: [B, N, C], shift: mod, scale: mod }, call: (t) => ops.layerNormModulateSync(t.x!, t.shift!, t.scale!) };
    }),
  rmsnorm: fc
    .record({ lead: fc.array(dim(1, 5), { maxLength: 2 }), C: dim(1, 32), weight: fc.boolean(), bias: fc.boolean(), residual: fc.boolean() })
    .map(({ lead, C, weight, bias, residual }) => {
      const shapes: Record<string, number[]> = { x: [...lead, C] };
      if (weight) shapes.weight = [C];
      if (bias) shapes.bias = [C];
      if (residual) shapes.residual = [...lead, C];
      return { shapes, call: (t) => ops.rmsNormSync(t.x!, { weight: t.weight, bias: t.bias, residual: t.residual }) };
    }),
  rmsnorm2d: fc
    .record({ B: dim(1, 2), H: dim(1, 4), W: dim(1, 4), C: dim(1, 16) })
    .map(({ B, H, W, C }) => ({ shapes: { x: [B, H, W, C], weight: [C], bias: [C] }, call: (t) => ops.rmsNorm2dSync(t.x!, { weight: t.weight, bias: t.bias }) })),
  conv3x3: fc
    .record({ B: dim(1, 2), H: dim(1, 6), W: dim(1, 6), Cin: dim(1, 8), Cout: dim(1, 8), stride: fc.constantFrom(1, 2) as fc.Arbitrary<1 | 2>, act: fc.constantFrom(...ACTS), bias: fc.boolean(), residual: fc.boolean() })
    .map(({ B, H, W, Cin, Cout, stride, act, bias, residual }) => {
      const Ho = Math.floor((H - 1) / stride) + 1;
      const Wo = Math.floor((W - 1) / stride) + 1;
      const shapes: Record<string, number[]> = { x: [B, H, W, Cin], w: [Cout, Cin, 3, 3] };
      if (bias) shapes.bias = [Cout];
      if (residual) shapes.residual = [B, Ho, Wo, Cout];
      return { shapes, call: (t) => ops.conv3x3Sync(t.x!, t.w!, { bias: t.bias, residual: t.residual, stride, activation: act }) };
    }),
  'dcae-resblock': fc
    .record({ H: dim(1, 5), W: dim(1, 5), C: dim(1, 8) })
    .map(({ H, W, C }) => ({
      shapes: { x: [1, H, W, C], w1: [C, C, 3, 3], b1: [C], w2: [C, C, 3, 3], normWeight: [C], normBias: [C] },
      call: (t) => ops.dcaeResBlockSync(t.x!, { w1: t.w1!, b1: t.b1!, w2: t.w2!, normWeight: t.normWeight!, normBias: t.normBias! }),
    })),
  'lite-mla': fc
    .record({ H: dim(1, 4), W: dim(1, 4), C: dim(1, 16), d: fc.constantFrom(4, 8), heads: dim(1, 2), k: fc.constantFrom(1, 3, 5), grouped4: fc.boolean() })
    .map(({ H, W, C, d, heads, k, grouped4 }) => {
      const I = heads * d;
      return {
        shapes: { x: [1, H, W, C], wq: [I, C], wk: [I, C], wv: [I, C], wDw: [3 * I, 1, k, k], wGroup: grouped4 ? [3 * I, d, 1, 1] : [3 * I, d], wOut: [C, 2 * I], normWeight: [C], normBias: [C] },
        call: (t) =>
          ops.liteMlaSync(t.x!, { wq: t.wq!, wk: t.wk!, wv: t.wv!, wDw: t.wDw!, wGroup: t.wGroup!, wOut: t.wOut!, normWeight: t.normWeight!, normBias: t.normBias! }, { headDim: d }),
      };
    }),
  'dit-block': fc
    .record({ B: dim(1, 2), H: dim(1, 3), W: dim(1, 3), L: dim(1, 4), C: fc.constantFrom(32, 64), crossHeads: fc.constantFrom(1, 2, 4), h: dim(1, 24), mask: fc.boolean() })
    .map(({ B, H, W, L, C, crossHeads, h, mask }) => {
      const sq = [C, C];
      const shapes: Record<string, number[]> = {
        x: [B, H * W, C], y: [B, L, C], t0: [B, 6 * C], table: [6, C],
        a1wq: sq, a1wk: sq, a1wv: sq, a1wo: sq, a1bo: [C], a2wq: sq, a2bq: [C], a2wk: sq, a2bk: [C], a2wv: sq, a2bv: [C], a2wo: sq, a2bo: [C],
        wInv: [2 * h, C], bInv: [2 * h], wDw: [2 * h, 1, 3, 3], bDw: [2 * h], wPoint: [C, h],
      };
      if (mask) shapes.maskBias = [B, L];
      return {
        shapes,
        special: mask ? { maskBias: maskOf(B, L) } : undefined,
        call: (t) =>
          ops.ditBlockSync(
            t.x!,
            {
              table: t.table!,
              attn1: { wq: t.a1wq!, wk: t.a1wk!, wv: t.a1wv!, wo: t.a1wo!, bo: t.a1bo! },
              attn2: { wq: t.a2wq!, bq: t.a2bq!, wk: t.a2wk!, bk: t.a2bk!, wv: t.a2wv!, bv: t.a2bv!, wo: t.a2wo!, bo: t.a2bo! },
              ff: { wInv: t.wInv!, bInv: t.bInv!, wDw: t.wDw!, bDw: t.bDw!, wPoint: t.wPoint! },
            },
            { y: t.y!, t0: t.t0!, maskBias: t.maskBias, height: H, width: W, crossHeads },
          ),
      };
    }),
};

const RUNS: Record<string, number> = { 'dit-block': 8, 'lite-mla': 12, 'dcae-resblock': 12 };

function tensors(v: Valid, backend: BackendKind, dtype: TensorDType, seed: number): Record<string, BackendTensor> {
  const be = ops.getBackend(backend);
  return Object.fromEntries(
    Object.entries(v.shapes).map(([name, shape], i) => {
      const special = v.special?.[name];
      const t = special ? be.fromArray(special(shape.reduce((a, b) => a * b, 1)), shape, dtype) : randTensor(backend, shape, seed + i, dtype, 0.5);
      return [name, t];
    }),
  );
}

describe('valid random shapes: the cpu backend matches the reference backend', () => {
  for (const [op, gen] of Object.entries(GENERATORS)) {
    it(op, () => {
      let worst = { f32: 0, bf16: 0 };
      fc.assert(
        fc.property(gen, fc.nat(10_000), fc.constantFrom<TensorDType>('f32', 'bf16'), (v, seed, dtype) => {
          const onRef = tensors(v, 'reference', dtype, seed);
          const onCpu = tensors(v, 'cpu', dtype, seed);
          try {
            const want = v.call(onRef).toFloat32();
            const out = v.call(onCpu);
            const got = out.toFloat32();
            out.dispose();
            const s = errorStats(got, want);
            const label = `${op} ${dtype} ${JSON.stringify(v.shapes)}: ${formatStats(s)}`;
            expect(s.nonFinite, label).toBe(0);
            expect(want.every(Number.isFinite), `${label}: reference not finite`).toBe(true);
            expect(s.rel, label).toBeLessThanOrEqual(TOL[dtype]);
            worst[dtype] = Math.max(worst[dtype], s.rel);
          } finally {
            for (const t of [...Object.values(onRef), ...Object.values(onCpu)]) t.dispose();
          }
        }),
        { seed: 1128 + op.length, numRuns: RUNS[op] ?? 20 },
      );
      console.log(`[parity fuzz ${op}] worst rel error: f32 ${worst.f32.toExponential(2)}, bf16 ${worst.bf16.toExponential(2)}`);
      worst = { f32: 0, bf16: 0 };
    });
  }
});

describe('mutated calls: both backends accept the same calls, agree on them, reject the rest with TypeError/RangeError', () => {
  for (const c of OP_CASES) {
    it(c.op, () => {
      let accepted = 0;
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 2 }), fc.nat(1000), (muts, seed) => {
          const runs = (['reference', 'cpu'] as const).map((backend) => {
            const b = buildMutated(c, muts, seed, backend);
            try {
              c.call(b.tensors, { ...b.opts, out: b.out }, true);
              return { ok: true as const, values: b.out.toFloat32() };
            } catch (e) {
              return { ok: false as const, error: e as Error };
            } finally {
              for (const t of b.all) t.dispose();
            }
          });
          const [r, n] = runs as [(typeof runs)[0], (typeof runs)[0]];
          const label = `${c.op} ${JSON.stringify(muts)}: reference ${r.ok ? 'accepted' : r.error.message}; cpu ${n.ok ? 'accepted' : n.error.message}`;
          for (const x of runs) {
            if (!x.ok) {
              expect(x.error instanceof TypeError || x.error instanceof RangeError, `${label} (${x.error.constructor.name})`).toBe(true);
              expect(x.error.message.startsWith(`${c.op}: `), label).toBe(true);
            }
          }
          expect(r.ok, label).toBe(n.ok);
          if (r.ok && n.ok) {
            accepted++;
            const s = errorStats(n.values, r.values);
            // Outputs start NaN-poisoned (buildMutated): an unwritten element on either backend fails here.
            expect(s.nonFinite, `${label}: ${formatStats(s)}`).toBe(0);
            expect(s.rel, `${label}: ${formatStats(s)}`).toBeLessThanOrEqual(TOL.bf16);
          }
        }),
        { seed: 77 + c.op.length, numRuns: c.op === 'dit-block' ? 25 : 40 },
      );
      expect(accepted, 'some mutations stay valid (the acceptance side is exercised)').toBeGreaterThan(0);
    });
  }
});
