import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { addonPath, loadAddon } from '../../bindings/addon.js';
import { conv3x3Sync, gemm, gemmSync, type Activation } from '../../bindings/ops.js';
import { dcaeUpsampleSync } from '../../bindings/models/dcae-ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { errorStats, withinTolerance } from '../../reference/core/compare.js';
import { geluTanh, relu, silu } from '../../reference/ops/activations.js';
import { linear } from '../../reference/ops/linear.js';
import { Tensor } from '../../reference/core/tensor.js';
import { expectBf16, expectF32, input, poisoned, printParity, r16, randData } from './parity.js';

afterAll(() => printParity('gemm'));

const ACT: Record<Activation, ((t: Tensor) => Tensor) | null> = { none: null, relu, silu, 'gelu-tanh': geluTanh };

/** Plain bf16 gemm: bf16 inputs, each stage's output rounded to bf16. */
function plainBf16(x: Tensor, w: Tensor, bias: Tensor | null, act: Activation, gate: Tensor | null, residual: Tensor | null): Float32Array {
  let y = r16(linear(x, w, bias));
  const f = ACT[act];
  if (f) y = r16(f(y));
  const ys = y.data as Float32Array;
  const N = w.shape[0]!;
  if (gate) {
    const g = gate.toFloat32();
    const rowsPer = ys.length / N / (g.length / N);
    for (let i = 0; i < ys.length; i++) ys[i] = ys[i]! * g[Math.floor(i / N / rowsPer) * N + (i % N)]!;
    y = r16(y);
  }
  if (residual) {
    const r = residual.toFloat32();
    const yy = y.data as Float32Array;
    for (let i = 0; i < yy.length; i++) yy[i] = yy[i]! + r[i]!;
    y = r16(y);
  }
  return y.data as Float32Array;
}

interface Case {
  name: string;
  x: number[];
  n: number;
  bias?: boolean;
  act?: Activation;
  gate?: number[];
  residual?: boolean;
}

// Odd sizes, M/N/K crossing the micro-tile (8×32), the cache blocks (MC 128, NC 256, KC 256), batch 2,
// M = 1, and Sana-0.6B's C = 1152.
const CASES: Case[] = [
  { name: 'odd 3×7×37 → 45, bias + silu + gate (3,1,45) + residual', x: [3, 7, 37], n: 45, bias: true, act: 'silu', gate: [3, 1, 45], residual: true },
  { name: 'M = 1', x: [1, 13], n: 5, bias: true },
  { name: 'relu, K = 300 (two KC slices), N = 300 (two NC blocks), M = 130', x: [130, 300], n: 300, act: 'relu' },
  { name: 'gelu-tanh, K = 600, gate per row', x: [2, 9, 600], n: 33, bias: true, act: 'gelu-tanh', gate: [2, 9, 33] },
  { name: 'Sana-0.6B out-proj shape (B=2, 24 tokens, C=1152)', x: [2, 24, 1152], n: 1152, bias: true, gate: [2, 1, 1152], residual: true },
  // M ≤ 8: B read in place (no packing; gemm_engine.cpp's small-M path)
  { name: 'small M 5 (passes of 4 + 1 rows), K 37 (a 16-lane tail), N 130 (64-column tasks, ragged), every operand', x: [5, 37], n: 130, bias: true, act: 'silu', gate: [5, 130], residual: true },
  { name: 'small M 8 (the most read in place), K 1152, N 300, gelu-tanh, gate per item', x: [2, 4, 1152], n: 300, bias: true, act: 'gelu-tanh', gate: [2, 1, 300], residual: true },
];

describe('gemm (cpu) vs the f64-accumulated reference', () => {
  let seed = 100;
  for (const c of CASES) {
    it(c.name, async () => {
      const K = c.x[c.x.length - 1]!;
      const outShape = [...c.x.slice(0, -1), c.n];
      const x = input(c.x, seed++);
      const w = input([c.n, K], seed++, 1 / Math.sqrt(K));
      const b = c.bias ? input([c.n], seed++) : null;
      const g = c.gate ? input(c.gate, seed++, 0.5, 1) : null;
      const res = c.residual ? input(outShape, seed++) : null;
      const act = c.act ?? 'none';
      const opts = (k: 'ref' | 'f32' | 'bf16') => ({ bias: b?.on(k), activation: act, gate: g?.on(k), residual: res?.on(k) });

      const reference = (await gemm(x.ref, w.ref, opts('ref'))).toFloat32();
      const out32 = poisoned(outShape, 'f32');
      await gemm(x.f32, w.f32, { ...opts('f32'), out: out32 });
      expectF32(c.name, out32.toFloat32(), reference);

      const out16 = poisoned(outShape, 'bf16');
      gemmSync(x.bf16, w.bf16, { ...opts('bf16'), out: out16 });
      const plain = plainBf16(x.tensor(true), w.tensor(true), b?.tensor(true) ?? null, act, g?.tensor(true) ?? null, res?.tensor(true) ?? null);
      expectBf16(c.name, out16.toFloat32(), plain, reference);
      for (const t of [x, w, b, g, res]) t?.dispose();
    });
  }

  it('small M (B read in place) agrees with the packed engine (SANA_LAB_GEMM_DIRECT=0) to f32 rounding, for M 1 … 9', () => {
    const saved = process.env.SANA_LAB_GEMM_DIRECT;
    try {
      for (const M of [1, 2, 3, 4, 5, 8, 9]) {
        const x = input([M, 70], 300 + M);
        const w = input([97, 70], 400 + M, 0.1);
        const b = input([97], 500 + M);
        process.env.SANA_LAB_GEMM_DIRECT = '1';
        const direct = gemmSync(x.f32, w.f32, { bias: b.f32, activation: 'relu' }).toFloat32();
        process.env.SANA_LAB_GEMM_DIRECT = '0';
        const packed = gemmSync(x.f32, w.f32, { bias: b.f32, activation: 'relu' }).toFloat32();
        expect(withinTolerance(errorStats(direct, packed), { rel: 1e-6 }), `M ${M}`).toBe(true);
        for (const t of [x, w, b]) t.dispose();
      }
    } finally {
      if (saved === undefined) delete process.env.SANA_LAB_GEMM_DIRECT;
      else process.env.SANA_LAB_GEMM_DIRECT = saved;
    }
  });

  it('the transposing (AVX-512) pack of the weights and the scalar one (SANA_LAB_GEMM_PACK=scalar) give bit-identical outputs', () => {
    const saved = process.env.SANA_LAB_GEMM_PACK;
    try {
      // N 45: a last column group past the end (zero rows); K 37 and 300: 16-wide blocks and a tail; bf16 weights converted in the pack
      for (const [M, N, K, dtype] of [[20, 45, 37, 'f32'], [130, 70, 300, 'f32'], [20, 45, 37, 'bf16'], [64, 100, 300, 'bf16']] as const) {
        const x = input([M, K], 600 + K);
        const w = input([N, K], 700 + N, 0.1);
        const run = () => gemmSync(x[dtype], w[dtype]).toFloat32();
        process.env.SANA_LAB_GEMM_PACK = 'scalar';
        const scalar = run();
        delete process.env.SANA_LAB_GEMM_PACK;
        const fast = run();
        expect(Array.from(fast), `M ${M} N ${N} K ${K} ${dtype}`).toEqual(Array.from(scalar));
        expect(fast.every(Number.isFinite)).toBe(true);
        x.dispose();
        w.dispose();
      }
    } finally {
      if (saved === undefined) delete process.env.SANA_LAB_GEMM_PACK;
      else process.env.SANA_LAB_GEMM_PACK = saved;
    }
  });

  // Each switch turns one of the engine's shortcuts off (the README lists them); with it on or off, the same
  // products are summed in the same order, so the outputs must be bit-identical.
  function bothWays(name: string, off: string, run: () => BackendTensor, what: string): void {
    const saved = process.env[name];
    try {
      process.env[name] = off;
      const without = run().toFloat32();
      delete process.env[name];
      const withIt = run().toFloat32();
      expect(withIt.every(Number.isFinite), what).toBe(true);
      expect(Array.from(withIt), `${what}: ${name} unset vs ${off}`).toEqual(Array.from(without));
    } finally {
      if (saved === undefined) delete process.env[name];
      else process.env[name] = saved;
    }
  }

  // (the conv weights are packed whole at every M: slices_k_cheaply() is false for them)
  it('B packed per micro-panel inside each task (M ≤ 512) and all of B first (SANA_LAB_GEMM_BPACK=whole): bit-identical', () => {
    // M 9 (just past the small-M path) … 128 (one tile row) … 500; K 300 and 600: a second and third KC slice
    // with a tail; N 45 / 1100: a last panel past the end, and more tasks than threads; bias + SiLU in the epilogue
    for (const [M, N, K, dtype] of [[9, 45, 300, 'f32'], [128, 1100, 600, 'f32'], [77, 70, 300, 'bf16'], [500, 300, 300, 'f32']] as const) {
      const x = input([M, K], 800 + M);
      const w = input([N, K], 810 + N, 0.1);
      const b = input([N], 820 + N);
      bothWays('SANA_LAB_GEMM_BPACK', 'whole', () => gemmSync(x[dtype], w[dtype], { bias: b[dtype], activation: 'silu' }), `gemm M ${M} N ${N} K ${K} ${dtype}`);
      for (const t of [x, w, b]) t.dispose();
    }
  });

  it('A packed per tile inside each task (N ≤ 256, or ≥ 4 M tiles per thread) and A packed by chunks first (SANA_LAB_GEMM_APACK=whole): bit-identical', () => {
    const x = input([300, 300], 840);
    const w = input([100, 300], 841, 0.1);
    bothWays('SANA_LAB_GEMM_APACK', 'whole', () => gemmSync(x.f32, w.f32), 'gemm M 300 N 100 K 300');
    bothWays('SANA_LAB_GEMM_APACK', 'whole', () => gemmSync(x.bf16, w.bf16), 'gemm M 300 N 100 K 300 bf16');
    // 9 M tiles (the last one 76 rows) × 2 N tiles (N 300 > 256): one task per M tile running both N tiles
    const xl = input([1100, 300], 846);
    const wl = input([300, 300], 847, 0.1);
    const bl = input([300], 848);
    bothWays('SANA_LAB_GEMM_APACK', 'whole', () => gemmSync(xl.f32, wl.f32, { bias: bl.f32, activation: 'relu' }), 'gemm M 1100 N 300 K 300');
    for (const t of [xl, wl, bl]) t.dispose();
    const cx = input([1, 20, 19, 40], 842);  // M 380: three tiles of 128 rows, the last one short
    const cw = input([24, 40, 3, 3], 843, 0.05);
    bothWays('SANA_LAB_GEMM_APACK', 'whole', () => conv3x3Sync(cx.f32, cw.f32, { stride: 1 }), 'conv3x3 M 380 N 24');
    const ux = input([1, 12, 12, 48], 844);  // 144 rows per phase
    const uw = input([48, 48, 3, 3], 845, 0.05);
    bothWays('SANA_LAB_GEMM_APACK', 'whole', () => dcaeUpsampleSync(ux.f32, uw.f32, { mode: 'interpolate', shortcut: true }), 'dcae-upsample 144 rows per phase');
    for (const t of [x, w, cx, cw, ux, uw]) t.dispose();
  });

  it('N ≤ MR run transposed (Cᵀ = Bᵀ·Aᵀ) and the normal tiles (SANA_LAB_GEMM_SMALL_N=0): bit-identical; the conv rows packed through registers and scalar (SANA_LAB_GEMM_PACK=scalar) too', () => {
    const x = input([301, 300], 850);  // 301 rows: a last 32-row panel with 13 rows
    const w = input([5, 300], 851, 0.1);
    const b = input([5], 852);
    bothWays('SANA_LAB_GEMM_SMALL_N', '0', () => gemmSync(x.f32, w.f32, { bias: b.f32, activation: 'gelu-tanh' }), 'gemm M 301 N 5 K 300');
    bothWays('SANA_LAB_GEMM_SMALL_N', '0', () => gemmSync(x.bf16, w.bf16, { bias: b.bf16 }), 'gemm M 301 N 5 K 300 bf16');
    const cx = input([2, 17, 15, 40], 853);  // K 360: a KC slice that ends inside a tap; padding rows at every edge
    const cw = input([3, 40, 3, 3], 854, 0.05);
    const cb = input([3], 855);
    for (const stride of [1, 2] as const) {
      const run = () => conv3x3Sync(cx.f32, cw.f32, { bias: cb.f32, stride });
      bothWays('SANA_LAB_GEMM_SMALL_N', '0', run, `conv3x3 N 3 stride ${stride}`);
      bothWays('SANA_LAB_GEMM_PACK', 'scalar', run, `conv3x3 N 3 stride ${stride}`);
    }
    bothWays('SANA_LAB_GEMM_SMALL_N', '0', () => conv3x3Sync(cx.bf16, cw.bf16, { bias: cb.bf16 }), 'conv3x3 N 3 bf16');
    // the 8-row A panels of the normal path go through the same transpose (8 zero rows)
    const cw24 = input([24, 40, 3, 3], 856, 0.05);
    for (const dtype of ['f32', 'bf16'] as const) {
      for (const stride of [1, 2] as const) bothWays('SANA_LAB_GEMM_PACK', 'scalar', () => conv3x3Sync(cx[dtype], cw24[dtype], { stride }), `conv3x3 N 24 stride ${stride} ${dtype}`);
    }
    for (const t of [x, w, b, cx, cw, cb, cw24]) t.dispose();
  });

  it('updates in place when out is the residual (x ← x + gate ⊙ (h·wᵀ + b))', async () => {
    const h = input([2, 10, 40], 7);
    const w = input([40, 40], 8, 0.2);
    const b = input([40], 9);
    const g = input([2, 1, 40], 10);
    const x = input([2, 10, 40], 11);
    const expected = (await gemm(h.ref, w.ref, { bias: b.ref, gate: g.ref, residual: x.ref })).toFloat32();
    const same = await gemm(h.f32, w.f32, { bias: b.f32, gate: g.f32, residual: x.f32, out: x.f32 });
    expect(same).toBe(x.f32);
    expectF32('in-place residual', x.f32.toFloat32(), expected);
  });

  it('the parity check rejects a deliberately wrong kernel (an off-by-one column, an unwritten element)', async () => {
    const x = input([4, 33], 20);
    const w = input([17, 33], 21);
    const reference = (await gemm(x.ref, w.ref)).toFloat32();
    const good = (await gemm(x.f32, w.f32)).toFloat32();
    expect(withinTolerance(errorStats(good, reference), { rel: 1e-5 })).toBe(true);
    // Off by one: every row reads column n + 1 (the last column wraps to the next row's first).
    const shifted = good.map((_, i) => good[i + 1] ?? good[0]!);
    expect(withinTolerance(errorStats(shifted, reference), { rel: 1e-5 })).toBe(false);
    // One element never written: the NaN poison survives and the check fails.
    const out = poisoned([4, 17], 'f32');
    await gemm(x.f32, w.f32, { out });
    const holes = out.toFloat32();
    holes[37] = NaN;
    expect(errorStats(holes, reference).nonFinite).toBe(1);
    expect(withinTolerance(errorStats(holes, reference), { rel: 1e-5 })).toBe(false);
  });

  it('expectF32 also bounds the worst element: one wrong element the L2 error hides still fails', () => {
    const reference = randData([64 * 1024], 22);
    const refMax = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const spiked = reference.slice();
    spiked[777]! += 2e-4 * refMax; // max-abs/max|ref| = 2e-4 > 1e-4, diluted to rel ≈ 4e-6 over 64k elements
    expect(errorStats(spiked, reference).rel).toBeLessThan(1e-5);
    expect(() => expectF32('spiked', spiked, reference)).toThrow(/max-abs\/max\|ref\|/);
  });
});

describe('gemm micro-kernel fallbacks (chosen at load time; run in child processes)', () => {
  const picked = loadAddon().gemmKernel();
  // Each child builds gemms through the addon, one per path of the engine (M 5: B read in place; M 37: B packed
  // inside the tasks; M 600 × N 300: the tiled path with A packed per task; N 3: transposed), and compares them
  // with a float64 loop; it prints the worst relative error.
  const script = `
    const a = require(process.argv[1]);
    let s = 1; const r = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5);
    let worst = 0;
    for (const [M, N, K] of [[5, 45, 300], [37, 45, 300], [600, 300, 300], [300, 3, 300]]) {
      const x = new Float32Array(M * K), w = new Float32Array(N * K), b = new Float32Array(N);
      x.forEach((_, i) => (x[i] = r())); w.forEach((_, i) => (w[i] = r())); b.forEach((_, i) => (b[i] = r()));
      const out = a.tensorFromArray('cpu', 'f32', [M, N], new Float32Array(M * N).fill(NaN));
      a.gemm({ x: a.tensorFromArray('cpu', 'f32', [M, K], x), w: a.tensorFromArray('cpu', 'f32', [N, K], w), bias: a.tensorFromArray('cpu', 'f32', [N], b), act: 'relu', out });
      const y = a.tensorToArray(out); let d2 = 0, r2 = 0;
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
        let acc = b[n]; for (let k = 0; k < K; k++) acc += x[m * K + k] * w[n * K + k]; acc = Math.max(acc, 0);
        d2 += (y[m * N + n] - acc) ** 2; r2 += acc * acc; }
      const rel = Math.sqrt(d2 / r2);
      worst = Number.isNaN(rel) ? NaN : Math.max(worst, rel);
    }
    console.log(JSON.stringify({ kernel: a.gemmKernel(), rel: worst }));`;
  for (const force of ['avx2', 'generic']) {
    it(`SANA_LAB_GEMM_KERNEL=${force} computes the same gemms on each of the engine's paths (this machine picks "${picked}" by default)`, () => {
      const res = JSON.parse(execFileSync(process.execPath, ['-e', script, addonPath()], { env: { ...process.env, SANA_LAB_GEMM_KERNEL: force }, encoding: 'utf8' })) as {
        kernel: string;
        rel: number;
      };
      if (force === 'generic') expect(res.kernel).toBe('generic 4x16');
      else expect(res.kernel === 'avx2 6x16' || res.kernel === 'generic 4x16').toBe(true);
      expect(res.rel).toBeLessThan(1e-6);
    });
  }
});
