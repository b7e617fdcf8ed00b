import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../../bindings/addon.js';
import { createBackend } from '../../../bench/backends/index.js';
import { NativeBenchBackend } from '../../../bench/backends/native.js';
import { OP_NAMES, opEntry, type OpName } from '../../../bench/catalogue.js';
import { measureGemmPeak } from '../../../bench/ceilings-cpu.js';
import { runBench } from '../../../bench/runner.js';
import type { OpShape } from '../../../bench/shapes.js';

const addon = loadAddon();
const cpu = new NativeBenchBackend('cpu', addon);

/** The op's first catalogue test shape as a bench shape. */
function testShape(op: OpName): OpShape {
  const e = opEntry(op);
  return { op, dims: e.testShapes[0]!, model: e.family === 'dit' ? '0.6b' : 'dcae', variant: 'test', res: 'test', height: 32, width: 32, tokens: 1, batch: 1 } as OpShape;
}

describe('the cpu bench backend', () => {
  it('runs every op the catalogue gives a cpu kernel, at f32 and bf16, on inputs built outside the timed call', async () => {
    for (const op of OP_NAMES) {
      const sup = cpu.supports(op, 'f32');
      expect(sup.ok, op).toBe(opEntry(op).native.cpu.length > 0);
      if (!sup.ok) {
        expect(sup.reason).toMatch(/not available yet/);
        continue;
      }
      for (const dtype of ['f32', 'bf16'] as const) {
        for (const v of cpu.versions(op)) {
          const p = await cpu.prepareOp(testShape(op), dtype, v);
          expect(p.note).toMatch(/preallocated/);
          p.run();
          p.run();
          p.dispose();
          p.dispose(); // idempotent
        }
      }
    }
    expect(cpu.versions('linear-attention')).toEqual([1, 2]);
    await expect(cpu.prepareOp(testShape('gemm'), 'f32', 7)).rejects.toThrow(/no version 7/);
  });

  it('times native cases in a bench run, with its threads and the device the reference shares', async () => {
    const ref = await createBackend('reference');
    const file = await runBench(
      { model: '0.6b', ops: ['linear-attention'], resolutions: [], batches: [1], dtypes: ['f32'], backends: [ref, cpu], shapes: [testShape('linear-attention')], budgetMs: 2000, minSamples: 2, maxTimeS: 0.02 },
      { progress: null, ceilings: [] },
    );
    expect(file.records.map((r) => `${r.backend} v${r.version} ${r.status}`)).toEqual(['reference v0 ok', 'cpu v1 ok', 'cpu v2 ok']);
    const native = file.records.filter((r) => r.backend === 'cpu');
    expect(native.every((r) => r.threads === addon.cpuThreads() && r.device === ref.device())).toBe(true);
    expect(native[0]!.note).toMatch(/unfused/);
    expect(file.environment.extra['cpu.gemm_kernel']).toBe(addon.gemmKernel());
  });

  it('measures its gemm peak and the FMA peak of all threads at once', async () => {
    const g = cpu.peakGemm();
    expect(g.label).toMatch(/native cpu gemm .* threads, f32/);
    const peak = await measureGemmPeak(g, [[64, 64, 64]], 2);
    expect(peak.flops).toBeGreaterThan(0);
    const fma = cpu.fmaPeak()!;
    expect(fma.flops).toBeGreaterThan(0);
    expect(fma.source).toMatch(/all \d+ threads at once \(one thread alone: [\d.]+ GFLOP\/s\)/);
  });

  it('refuses cases that cannot be staged in memory', () => {
    const huge = { ...testShape('conv3x3'), dims: { B: 2, Cin: 128, Cout: 128, H: 16384, W: 16384, stride: 1, bias: true } } as OpShape;
    const fit = cpu.fits(huge, 'f32');
    expect(fit.ok).toBe(false);
    expect(cpu.fits(testShape('conv3x3'), 'f32').ok).toBe(true);
  });
});

describe('the cuda bench backend', () => {
  it('says why it cannot run when the addon reports no usable device', async () => {
    const cuda = await createBackend('cuda');
    const info = addon.cudaInfo();
    if (info.available) {
      expect(cuda.available().ok).toBe(true);
      return;
    }
    const av = cuda.available();
    expect(av.ok).toBe(false);
    expect(!av.ok && av.reason).toMatch(/^unavailable: (no device|the addon was built without CUDA)/);
  });
});
