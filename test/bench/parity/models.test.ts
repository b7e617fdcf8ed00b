/**
 * bench/parity/models.ts: the whole-model parity that the GPU script runs on cuda, run here on the cpu
 * backend (every record must pass), and its checker rejecting wrong outputs.
 */
import { describe, expect, it } from 'vitest';
import { formatStats } from '../../../reference/core/compare.js';
import { randn } from '../../../reference/core/random.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { judgeModelBf16, judgeModelF32, modelParity } from '../../../bench/parity/models.js';

describe('modelParity on the cpu backend', () => {
  it('DiT (both block modes), its denoising loop on the backend and the DC-AE decoder pass in f32 and bf16', () => {
    const seen: string[] = [];
    const records = modelParity('cpu', (r) => seen.push(`${r.model} ${r.variant}`));
    console.log(`[model parity cpu]\n  ${records.map((r) => `${r.model} ${r.variant} ${r.dtype}: ${formatStats(r.verdict.stats)}${r.verdict.plain ? ` | plain ${formatStats(r.verdict.plain)}` : ''} ${r.verdict.pass ? 'pass' : `FAIL ${r.verdict.reason}`}`).join('\n  ')}`);
    expect(records.map((r) => `${r.model} ${r.variant} ${r.dtype}`)).toEqual([
      'dit dit-block f32', 'dit dit-block bf16', 'dit ops f32', 'dit ops bf16',
      'dit denoise loop on the backend (5 dpm steps, CFG) vs the host loop bf16',
      'dcae-decoder whole f32', 'dcae-decoder whole bf16',
    ]);
    expect(seen).toHaveLength(7);
    for (const r of records) expect(r.verdict.pass, `${r.model} ${r.variant} ${r.dtype}: ${r.verdict.reason}`).toBe(true);
    expect(records[0]!.shape).toEqual([2, 12, 10, 14]);
    expect(records[4]!.shape).toEqual([1, 12, 10, 14]);
    expect(records[5]!.shape).toEqual([1, 3, 24, 40]);
  });
});

describe('the whole-model checker rejects wrong outputs', () => {
  const ref = randn([2, 12, 10, 14], 5);
  const near = (scale: number, seed: number) => {
    const noise = randn(ref.shape, seed).toFloat32();
    return new Tensor(ref.shape, 'f32', ref.toFloat32().map((v, i) => v + scale * noise[i]!));
  };
  it('f32: 1e-5 noise passes, 1e-3 noise, a NaN or another tensor fail', () => {
    expect(judgeModelF32(near(1e-5, 6), ref).pass).toBe(true);
    expect(judgeModelF32(near(1e-3, 6), ref).pass).toBe(false);
    const nan = near(1e-6, 6);
    nan.toFloat32()[17] = NaN;
    expect(judgeModelF32(nan, ref).reason).toMatch(/1 non-finite/);
    expect(judgeModelF32(randn(ref.shape, 9), ref).pass).toBe(false);
  });
  it('bf16: within 2× of the plain model passes, 3× fails, a plain model without bf16-level error cannot judge', () => {
    const plain = near(4e-3, 7);
    expect(judgeModelBf16(near(6e-3, 8), plain, ref).pass).toBe(true);
    expect(judgeModelBf16(near(1.2e-2, 8), plain, ref).pass).toBe(false);
    expect(judgeModelBf16(near(1e-6, 8), near(1e-7, 7), ref).reason).toMatch(/cannot judge/);
  });
});
