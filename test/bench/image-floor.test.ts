import { describe, expect, it } from 'vitest';
import { planCost } from '../../bench/catalogue.js';
import { ACT_FLOPS } from '../../bench/cost-model.js';
import { imageFloor } from '../../bench/image-floor.js';
import { dcaeDecodePlan, ditStepPlan, parseResolution } from '../../bench/shapes.js';

const H100 = { peakFlops: 798e12, bandwidth: 3.0e12 }; // the ceilings NOTES.md uses (torch bf16 gemm, device copy)

describe('imageFloor', () => {
  it('moves the caption work out of the step without losing or inventing any FLOP', () => {
    for (const model of ['0.6b', '1.6b'] as const) {
      const r = parseResolution('1024');
      const f = imageFloor({ model, resolution: r, batch: 2, steps: 20, decode: false, dtype: 'bf16' }, H100);
      expect(f.step.flops + f.caption.flops).toBe(planCost(ditStepPlan(model, r, 2), 'bf16').flops);
      expect(f.decode).toBeNull();
    }
  });

  it('the caption unit is the caption projection plus every block\'s text K/V gemm (hand count, Sana-0.6B, batch 2)', () => {
    const f = imageFloor({ model: '0.6b', resolution: parseResolution('512'), batch: 2, steps: 1, decode: false, dtype: 'bf16' }, H100);
    const L = 2 * 300; // CFG batch × text tokens
    const C = 1152;
    // 2·M·N·K + bias (M·N) + activation (per output element)
    const gemm = (M: number, K: number, N: number, act = 0) => 2 * M * N * K + M * N + act * M * N;
    const yProj = gemm(L, 2304, C, ACT_FLOPS['gelu-tanh']) + gemm(L, C, C);
    const yNorm = 4 * L * C + 3 * L; // square + add, ×rstd, ×weight per element; mean, eps, rsqrt per row
    const kv = gemm(L, C, 2 * C); // K and V of the 300 text tokens, 16 heads × 72
    expect(f.caption.flops).toBe(yProj + yNorm + 28 * kv);
  });

  it('is FLOPs / peak when bandwidth is unlimited and bytes / bandwidth when compute is', () => {
    const r = parseResolution('1024');
    const opts = { model: '0.6b' as const, resolution: r, batch: 2, steps: 20, decode: true, dtype: 'bf16' as const };
    const computeOnly = imageFloor(opts, { peakFlops: 1e15, bandwidth: Infinity });
    expect(computeOnly.step.floorMs).toBeCloseTo((computeOnly.step.flops / 1e15) * 1e3, 9);
    expect(computeOnly.step.computeShare).toBe(1);
    const bytesOnly = imageFloor(opts, { peakFlops: Infinity, bandwidth: 1e12 });
    expect(bytesOnly.decode!.floorMs).toBeCloseTo((planCost(dcaeDecodePlan(r, 1), 'bf16').bytes / 1e12) * 1e3, 9);
    expect(bytesOnly.decode!.computeShare).toBe(0);
    expect(computeOnly.imageMs).toBeCloseTo(20 * computeOnly.step.floorMs + computeOnly.caption.floorMs + computeOnly.decode!.floorMs, 9);
  });

  it('on an H100 (798 TFLOP/s, 3 TB/s) Sana-0.6B at 1024² needs ≥ 60 ms per image, under the 150 ms target; at 4096² ≥ 1 s, under 3 s', () => {
    const at = (res: string) => imageFloor({ model: '0.6b', resolution: parseResolution(res), batch: 2, steps: 20, decode: true, dtype: 'bf16' }, H100);
    // 20 × 2.25 TFLOP (step) + 7.4 TFLOP (decode, up blocks in sub-pixel form) at 798 TFLOP/s ≈ 64 ms; the step is compute-bound.
    expect(at('1024').imageMs).toBeGreaterThan(60);
    expect(at('1024').imageMs).toBeLessThan(75);
    expect(at('1024').step.computeShare).toBeGreaterThan(0.9);
    expect(at('4096').imageMs).toBeGreaterThan(1000);
    expect(at('4096').imageMs).toBeLessThan(1100);
  });

  it('refuses ceilings that are not positive', () => {
    const opts = { model: '0.6b' as const, resolution: parseResolution('512'), batch: 1, steps: 1, decode: false, dtype: 'f32' as const };
    expect(() => imageFloor(opts, { peakFlops: 0, bandwidth: 1 })).toThrow(/ceilings must be positive/);
    expect(() => imageFloor(opts, { peakFlops: 1, bandwidth: NaN })).toThrow(/ceilings must be positive/);
  });
});
