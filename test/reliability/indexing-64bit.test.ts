/**
 * 64-bit sizes. A 4096² DC-AE decode has 128 × 4096 × 4096 = 2³¹ elements at its full-resolution stage:
 * one past int32. Checked here:
 *   - host-side plans: the bench shape catalogue / cost model's DC-AE decode plan and the reference's
 *     decode memory plan at 4096² count exactly (2³¹·B elements, scaling exactly with batch and area —
 *     a 32-bit wrap anywhere would break the ratios);
 *   - native bookkeeping: a bf16 [1, 4096, 4096, 128] tensor (4 GiB, allocated but never touched) has
 *     numel 2³¹ and 2³² bytes on both sides of the boundary, and an op validates it without overflow;
 *   - the kernels: gemm writes and linear-attention reads a bf16 tensor whose element offsets cross
 *     2³¹, checked value by value. It needs ~4.6 GiB of RSS and 20–50 s on this VM, so it runs only with
 *       SANA_LAB_HUGE_TESTS=1 npx vitest run test/reliability/indexing-64bit.test.ts
 */
import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../bindings/addon.js';
import * as ops from '../../bindings/ops.js';
import { conv3x3Count, dcaeEvitBlockCount, dcaeResBlockCount, dcaeUpsampleCount, rmsNorm2dCount, type OpCount } from '../../bench/cost-model.js';
import { dcaeDecodePlan, type PlanEntry } from '../../bench/shapes.js';
import { dcaePreset } from '../../reference/dcae/config.js';
import { planDecode } from '../../reference/dcae/decode-plan.js';
import { expectThrow, handleOf } from './helpers.js';

const TWO31 = 2 ** 31;

function countOf(e: PlanEntry): OpCount {
  const s = e.shape as unknown as { op: string; dims: never };
  switch (s.op) {
    case 'conv3x3':
      return conv3x3Count(s.dims);
    case 'dcae-resblock':
      return dcaeResBlockCount(s.dims);
    case 'dcae-evit-block':
      return dcaeEvitBlockCount(s.dims);
    case 'dcae-upsample':
      return dcaeUpsampleCount(s.dims);
    case 'rmsnorm2d':
      return rmsNorm2dCount(s.dims);
    default:
      throw new Error(`no count for ${s.op}`);
  }
}

describe('host-side plans past 2^31 elements', () => {
  it('bench DC-AE decode plan at 4096²: the full-resolution stage holds 2^31·B elements, counted exactly', () => {
    for (const B of [1, 2]) {
      const plan = dcaeDecodePlan({ height: 4096, width: 4096 }, B);
      const res0 = plan.find((e) => e.shape.op === 'dcae-resblock' && (e.shape.dims as { H: number }).H === 4096)!;
      expect(res0, 'stage-0 ResBlock at 4096²').toBeDefined();
      expect(res0.shape.dims).toMatchObject({ B, C: 128, H: 4096, W: 4096 });
      const c = dcaeResBlockCount(res0.shape.dims as never);
      expect(c.inElems).toBe(TWO31 * B);
      expect(c.outElems).toBe(TWO31 * B);
      // 2 convs (2·9·C per output, + bias on the first), SiLU (3), RMSNorm2d (5/elem + 3/pixel), residual (1).
      expect(c.flops).toBe(TWO31 * B * (2 * 9 * 128 * 2 + 1 + 3 + 5 + 1) + 3 * B * 4096 * 4096);
      for (const e of plan) {
        for (const v of Object.values(countOf(e))) expect(Number.isSafeInteger(v) && v >= 0, `${e.shape.op} ${JSON.stringify(e.shape.dims)}: ${v}`).toBe(true);
      }
    }
  });

  it('every count scales exactly: ×2 with the batch, ×4 from 2048² to 4096² for per-pixel terms (no wrap at 2^31)', () => {
    const at = (side: number, B: number) => dcaeDecodePlan({ height: side, width: side }, B).map(countOf);
    const b1 = at(4096, 1);
    const b2 = at(4096, 2);
    const small = at(2048, 1);
    b1.forEach((c, i) => {
      expect(b2[i]!.inElems).toBe(2 * c.inElems);
      expect(b2[i]!.outElems).toBe(2 * c.outElems);
      expect(b2[i]!.weightElems).toBe(c.weightElems);
      expect(c.outElems).toBe(4 * small[i]!.outElems);
    });
    const total = b2.reduce((s, c) => s + c.flops, 0);
    expect(total).toBeGreaterThan(2 ** 44);
    expect(Number.isSafeInteger(total)).toBe(true);
  });

  it('the reference decode memory plan at 4096² (untiled and tiled) is exact and scales with the batch', () => {
    const real = dcaePreset('dc-ae-f32c32-sana-1.0');
    const one = planDecode(real, { height: 4096, width: 4096 });
    const two = planDecode(real, { height: 4096, width: 4096, batch: 2 });
    expect(one.outputShape).toEqual([1, 3, 4096, 4096]);
    // The dominant term: 448·H·W f32 values at the full-resolution up block (> 2^31 · 3.5 elements).
    expect(one.memory.untiledTotalBytes - one.memory.weightsBytes).toBeGreaterThanOrEqual(4 * 448 * 4096 * 4096);
    expect(two.memory.untiledTotalBytes - two.memory.weightsBytes).toBe(2 * (one.memory.untiledTotalBytes - one.memory.weightsBytes));
    expect(Number.isSafeInteger(two.memory.untiledTotalBytes)).toBe(true);
    const tiled = planDecode(real, { height: 4096, width: 4096, batch: 2, tiling: { tileHeight: 1024, tileWidth: 1024, strideHeight: 896, strideWidth: 896 } });
    expect(tiled.tiled).toBe(true);
    expect(tiled.memory.totalBytes).toBeLessThan(two.memory.untiledTotalBytes / 4);
  });
});

describe('native tensors past 2^31 elements (allocated, never touched)', () => {
  it.skipIf(totalmem() < 8 * 2 ** 30)('bf16 [1, 4096, 4096, 128]: numel 2^31, 2^32 bytes on both sides; validation does not overflow', () => {
    const cpu = ops.getBackend('cpu');
    const x = cpu.empty([1, 4096, 4096, 128], 'bf16');
    expect(x.numel).toBe(TWO31);
    expect(loadAddon().tensorInfo(handleOf(x))).toMatchObject({ shape: [1, 4096, 4096, 128], bytes: 2 ** 32, dtype: 'bf16', alive: true });
    const w = cpu.fromArray(new Float32Array(127).fill(1), [127], 'bf16');
    expectThrow(() => ops.rmsNorm2dSync(x, { weight: w, out: x }), RangeError, 'rmsnorm2d: weight [127] is not a vector of 128');
    const wrongOut = cpu.empty([1, 4096, 4096, 64], 'bf16');
    expectThrow(() => loadAddon().rmsNorm({ x: handleOf(x), out: handleOf(wrongOut) }, false), RangeError, /rmsnorm/);
    for (const t of [x, w, wrongOut]) t.dispose();
  });
});

// The kernel run needs ~4.6 GiB of RSS and 20–50 s here (page faults on this VM cost ~6 s per GiB of
// first touch, more under load), which alone would take the suite past its 60 s budget on 2 shared
// cores: it runs only with SANA_LAB_HUGE_TESTS=1 (CI: a separate step on a runner with >= 8 GiB).
const HUGE = process.env.SANA_LAB_HUGE_TESTS === '1';
if (!HUGE) console.warn('[indexing-64bit] skipped: the kernel run past 2^31 elements (needs ~4.6 GiB of RAM; run it with SANA_LAB_HUGE_TESTS=1)');

describe.skipIf(!HUGE)('kernels on a bf16 tensor whose offsets cross 2^31 elements', () => {
  it('gemm writes rows past 2^31; linear-attention reads them back; the values are exact', async () => {
    // H = x ⊗ w: (1, M, 64) bf16 with M·64 = 2^31 + 4096, written by gemm (K = 1). x is zero on the rows
    // below 2^25 (element offsets < 2^31) and known on the last 64 rows, all past 2^31; so every
    // non-zero value the reduction below sees had to be written and read at an offset past 2^31.
    const C = 64;
    const base = 2 ** 25;
    const tail = 64;
    const M = base + tail;
    const cpu = ops.getBackend('cpu');
    const xs = new Float32Array(M);
    for (let r = 0; r < tail; r++) xs[base + r] = 0.25 + ((r * 5) % 7) * 0.125;
    const ws = new Float32Array(C).map((_, c) => 0.5 + (c % 4) * 0.25);
    const x = cpu.fromArray(xs, [1, M, 1], 'bf16');
    const w = cpu.fromArray(ws, [C, 1], 'bf16');
    const h = await ops.gemm(x, w);
    x.dispose();
    expect(h.shape).toEqual([1, M, C]);
    expect(h.numel).toBeGreaterThan(TWO31);
    const q = cpu.fromArray(new Float32Array(C).fill(1), [1, 1, C], 'bf16');
    const out = await ops.linearAttention(q, h, h, { headDim: 32 });
    const got = out.toFloat32();
    // Expected from the tail rows alone (all values are exact in bf16 and in f32 sums):
    // per head, out_i = Σ_m (Σ_j H_mj) H_mi / Σ_m Σ_j H_mj   (q = 1; ReLU is a no-op on H ≥ 0).
    for (let hd = 0; hd < 2; hd++) {
      let den = 0;
      const num = new Array<number>(32).fill(0);
      for (let r = 0; r < tail; r++) {
        const row = Array.from({ length: C }, (_, c) => xs[base + r]! * ws[c]!);
        const ks = row.slice(hd * 32, hd * 32 + 32).reduce((a, b) => a + b, 0);
        den += ks;
        for (let i = 0; i < 32; i++) num[i]! += ks * row[hd * 32 + i]!;
      }
      for (let i = 0; i < 32; i++) {
        const want = num[i]! / den;
        expect(Math.abs(got[hd * 32 + i]! - want) / want, `head ${hd} channel ${i}: ${got[hd * 32 + i]} vs ${want}`).toBeLessThan(1e-2);
      }
    }
    for (const t of [h, w, q, out]) t.dispose();
  }, 600_000);
});
