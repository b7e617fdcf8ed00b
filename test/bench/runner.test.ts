import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Availability, BenchBackend, PreparedOp } from '../../bench/backends/backend.js';
import { UnavailableBackend } from '../../bench/backends/index.js';
import { ReferenceBackend } from '../../bench/backends/reference.js';
import { measureCpuCeilings, measureGemmPeak, measureStreamCopy, referenceLinearGemm } from '../../bench/ceilings-cpu.js';
import { opCost } from '../../bench/catalogue.js';
import { readResults, writeResults } from '../../bench/record.js';
import type { Ceilings } from '../../bench/roofline.js';
import { bestCeilings, runBench, summaryTable } from '../../bench/runner.js';
import { parseResolution, type OpShape } from '../../bench/shapes.js';

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin */
  }
}

const ctx = { model: '0.6b' as const, res: 'tiny', height: 32, width: 32, tokens: 1, batch: 1 };
const tinyGemm: OpShape = { ...ctx, op: 'gemm', variant: 'tiny', dims: { M: 8, N: 16, K: 32, bias: true, activation: 'silu' } };
const tinyConv: OpShape = { ...ctx, model: 'dcae', op: 'conv3x3', variant: 'tiny', dims: { B: 1, Cin: 2, Cout: 3, H: 6, W: 6, stride: 2, bias: true } };
const tinyLa: OpShape = { ...ctx, op: 'linear-attention', variant: '', dims: { B: 1, N: 4, C: 32, heads: 1, headDim: 32 } };

// Fixed, made-up ceilings so the roofline arithmetic can be checked exactly.
const CEIL = (device: string): Ceilings => ({ device, dtype: 'any', peakFlops: 1e9, bandwidth: 1e9, peakSource: 'test', bandwidthSource: 'test', measuredAt: '2026-01-01T00:00:00Z' });

describe('a tiny bench run of the reference backend', () => {
  it('writes valid records: timed, skipped by budget, unavailable', async () => {
    const ref = new ReferenceBackend();
    const cpu = new UnavailableBackend('cpu', 'not available yet: a stand-in for a backend that is not built');
    const overBudget = { ...tinyGemm, variant: 'big', dims: { M: 1024, N: 1024, K: 1024, bias: false, activation: 'none' as const } };
    const file = await runBench(
      {
        model: '0.6b',
        ops: ['gemm', 'conv3x3', 'linear-attention'],
        resolutions: [],
        batches: [1],
        dtypes: ['f32', 'bf16'],
        backends: [ref, cpu],
        shapes: [tinyGemm, tinyConv, tinyLa, overBudget],
        budgetMs: 400,
        minSamples: 3,
        maxTimeS: 0.05,
      },
      { progress: null, ceilings: [CEIL(ref.device())], command: 'test' },
    );
    const dir = mkdtempSync(join(tmpdir(), 'sana-bench-'));
    writeResults(join(dir, 'r.json'), file);
    const back = readResults(join(dir, 'r.json'));
    expect(back.records).toHaveLength(4 * 2 * 2);
    expect(back.baselines).toEqual(['reference']);

    const find = (variant: string, op: string, backend: string, dtype: string) =>
      back.records.find((r) => r.variant === variant && r.op === op && r.backend === backend && r.dtype === dtype)!;
    for (const [s, dtype] of [[tinyGemm, 'f32'], [tinyGemm, 'bf16'], [tinyConv, 'f32'], [tinyLa, 'f32']] as const) {
      const r = find(s.variant, s.op, 'reference', dtype);
      expect(r.status, `${s.op} ${dtype}`).toBe('ok');
      expect(r.timer).toBe('benchmark.js');
      expect(r.samples).toBeGreaterThanOrEqual(3);
      const cost = opCost(s, dtype);
      expect([r.flops, r.bytes]).toEqual([cost.flops, cost.bytes]);
      // GFLOP/s, GB/s and roofline % follow from the median and the ceilings (1 GFLOP/s, 1 GB/s)
      expect(r.gflops!).toBeCloseTo(r.flops / (r.median_ms! / 1e3) / 1e9, 9);
      expect(r.gbs!).toBeCloseTo(r.bytes / (r.median_ms! / 1e3) / 1e9, 9);
      const attainable = Math.min(1e9, (r.flops / r.bytes) * 1e9);
      expect(r.roofline_pct!).toBeCloseTo(((r.flops / (r.median_ms! / 1e3)) / attainable) * 100, 6);
    }
    expect(find('tiny', 'gemm', 'reference', 'bf16').note).toMatch(/bf16 storage/);
    const big = find('big', 'gemm', 'reference', 'f32');
    expect(big.status).toBe('skipped: budget');
    expect(big.median_ms).toBeNull();
    expect(big.note).toMatch(/budget/);
    expect(find('', 'linear-attention', 'reference', 'bf16').status).toBe('ok');
    const cpuGemm = find('tiny', 'gemm', 'cpu', 'f32');
    expect(cpuGemm.status).toBe('unavailable');
    expect(cpuGemm.note).toMatch(/not available yet/);
    expect(summaryTable(back)).toMatch(/gemm:tiny/);
  }, 30_000);

  it('expands the catalogue and refuses ops outside the model', async () => {
    const ref = new ReferenceBackend();
    const file = await runBench(
      { model: '0.6b', ops: ['gemm'], variants: ['t-embed-1'], resolutions: [parseResolution('256')], batches: [1, 2], dtypes: ['f32'], backends: [ref], budgetMs: 2000, minSamples: 2, maxTimeS: 0.02 },
      { progress: null, ceilings: [] },
    );
    expect(file.records.map((r) => [r.variant, r.batch, r.status])).toEqual([
      ['t-embed-1', 1, 'ok'],
      ['t-embed-1', 2, 'ok'],
    ]);
    expect(file.records[0]!.roofline_pct).toBeNull();
    expect(file.records[0]!.note).toMatch(/no ceilings/);
    await expect(
      runBench({ model: '0.6b', ops: ['conv3x3'], resolutions: [parseResolution('256')], batches: [1], dtypes: ['f32'], backends: [ref], budgetMs: 1 }, { progress: null, ceilings: [] }),
    ).rejects.toThrow(/not part of model/);
  });
});

/** A stand-in for a native backend: async ops, versions, memory limits, failures. */
class FakeNative implements BenchBackend {
  readonly name = 'fake';
  readonly budgeted = false;
  disposed = 0;
  available(): Availability { return { ok: true }; }
  supports(): Availability { return { ok: true }; }
  versions(): number[] { return [1, 2]; }
  device(): string { return 'fake-device'; }
  threads(): number { return 4; }
  fits(shape: OpShape): Availability {
    return shape.variant === 'huge' ? { ok: false, reason: 'needs 99 GiB' } : { ok: true };
  }
  async prepareOp(shape: OpShape, _dtype: string, version: number): Promise<PreparedOp> {
    if (shape.variant === 'broken') throw new Error('no kernel');
    return {
      run: async () => busyWait(version), // async like a native op; busy so the time is exact
      dispose: () => void this.disposed++,
    };
  }
}

describe('the runner with a native-like backend', () => {
  it('awaits async ops per version, records memory skips and errors, disposes what it prepared', async () => {
    const fake = new FakeNative();
    const file = await runBench(
      {
        model: '0.6b',
        ops: ['gemm'],
        resolutions: [],
        batches: [1],
        dtypes: ['f32'],
        backends: [fake],
        shapes: [tinyGemm, { ...tinyGemm, variant: 'huge' }, { ...tinyGemm, variant: 'broken' }],
        budgetMs: 1,
        minSamples: 3,
        maxTimeS: 0.05,
      },
      { progress: null, ceilings: [CEIL('fake-device')] },
    );
    const st = file.records.map((r) => `${r.variant} v${r.version} ${r.status}`);
    expect(st).toEqual(['tiny v1 ok', 'tiny v2 ok', 'huge v1 skipped: memory', 'huge v2 skipped: memory', 'broken v1 error', 'broken v2 error']);
    expect(file.records[1]!.median_ms!).toBeGreaterThanOrEqual(2); // version 2 busy-waits 2 ms
    expect(file.records[4]!.note).toMatch(/no kernel/);
    expect(fake.disposed).toBe(2);
    expect(file.baselines).toEqual([]);

    const only2 = await runBench(
      { model: '0.6b', ops: ['gemm'], resolutions: [], batches: [1], dtypes: ['f32'], backends: [fake], shapes: [tinyGemm], budgetMs: 1, version: 3, minSamples: 2, maxTimeS: 0.01 },
      { progress: null, ceilings: [] },
    );
    expect(only2.records[0]!.status).toBe('unavailable');
    expect(only2.records[0]!.note).toMatch(/no version 3/);
  });

  it('an unavailable backend says why in every record', async () => {
    const un = new UnavailableBackend('cuda', 'not available yet: no GPU');
    const file = await runBench(
      { model: '0.6b', ops: ['gemm'], resolutions: [], batches: [1], dtypes: ['bf16'], backends: [un], shapes: [tinyGemm], budgetMs: 1 },
      { progress: null, ceilings: [] },
    );
    expect(file.records[0]!.status).toBe('unavailable');
    expect(file.records[0]!.note).toBe('not available yet: no GPU');
  });
});

describe('CPU ceilings', () => {
  it('measure a positive copy bandwidth and label the reference gemm peak as a JS baseline', async () => {
    const copy = measureStreamCopy(8 * 2 ** 20, 2);
    expect(copy.bandwidth).toBeGreaterThan(0);
    const peak = await measureGemmPeak(referenceLinearGemm(), [[16, 16, 16]], 2);
    expect(peak.flops).toBeGreaterThan(0);
    const c = await measureCpuCeilings({ copyBytes: 8 * 2 ** 20, gemmSizes: [[16, 16, 16]], repeats: 2 });
    expect(c.device).toMatch(/^cpu: /);
    expect(c.peakSource).toMatch(/not the machine FP32 peak/);
    expect(c.bandwidthSource).toMatch(/TypedArray\.set/);
  });

  it('take a pluggable gemm for the peak', async () => {
    let prepared = 0;
    const c = await measureGemmPeak(
      { label: 'stub gemm', prepare: async () => (prepared++, { run: async () => busyWait(2) }) },
      [[10, 10, 10]],
      2,
    );
    expect(prepared).toBe(1);
    expect(c.label).toBe('stub gemm');
    expect(c.flops).toBeLessThanOrEqual(2000 / 0.002); // 2·10³ FLOPs in ≥ 2 ms
  });
});

describe('ceilings measured before and after a run', () => {
  it('keep the better peak and bandwidth of the two, saying which, and re-place records on them', async () => {
    const before = { ...CEIL('d'), peakFlops: 2e9, bandwidth: 5e9, peakSource: 'gemm A', bandwidthSource: 'copy A', fmaPeakFlops: 9e9, fmaPeakSource: 'fma A' };
    const after = { ...CEIL('d'), peakFlops: 3e9, bandwidth: 4e9, peakSource: 'gemm B', bandwidthSource: 'copy B', fmaPeakFlops: 8e9, fmaPeakSource: 'fma B', measuredAt: 'later' };
    const [c] = bestCeilings([before], [after]);
    expect([c!.peakFlops, c!.bandwidth, c!.fmaPeakFlops]).toEqual([3e9, 5e9, 9e9]);
    expect(c!.peakSource).toMatch(/^gemm B .*after the cases/);
    expect(c!.bandwidthSource).toMatch(/^copy A .*before the cases/);
    expect(c!.fmaPeakSource).toMatch(/^fma A/);
    expect(c!.measuredAt).toMatch(/ and later$/);
    expect(bestCeilings([before], [])).toEqual([before]);

    // A run that measures its own ceilings reports roofline % against the final (best) ones.
    const ref = new ReferenceBackend();
    const file = await runBench(
      { model: '0.6b', ops: ['gemm'], resolutions: [], batches: [1], dtypes: ['f32'], backends: [ref], shapes: [tinyGemm], budgetMs: 2000, minSamples: 2, maxTimeS: 0.01 },
      { progress: null, ceilingOptions: { copyBytes: 4 * 2 ** 20, gemmSizes: [[16, 16, 16]], repeats: 1 } },
    );
    const r = file.records[0]!;
    const ceil = file.ceilings[0]!;
    expect(ceil.measuredAt).toMatch(/ and /);
    const attainable = Math.min(ceil.peakFlops, (r.flops / r.bytes) * ceil.bandwidth);
    expect(r.roofline_pct!).toBeCloseTo((r.flops / (r.median_ms! / 1e3) / attainable) * 100, 6);
  });
});
