import { describe, expect, it } from 'vitest';
import { getBackend } from '../../bindings/ops.js';
import { apiCall, inputSeeds, inputValues } from '../../bench/api-calls.js';
import { DEFAULT_PARITY, opEntry } from '../../bench/catalogue.js';
import { judgeBf16, judgeF32, poisonValues, randData, roundedBf16 } from '../../bench/parity/rules.js';
import { parityPassed, parityTable, runParity, selfChecks, WRONG_KERNELS } from '../../bench/parity/run.js';
import { validateParity } from '../../reports/parity.js';
import { errorStats } from '../../reference/core/compare.js';

describe('the parity rules', () => {
  const ref = randData([500], 1);

  it('f32: passes f32 rounding noise, fails bf16-sized errors, NaN and a large single-element error', () => {
    const close = Float32Array.from(ref, (v) => v * (1 + 1e-7));
    expect(judgeF32(close, ref, DEFAULT_PARITY.f32).pass).toBe(true);
    const bf16 = judgeF32(roundedBf16(ref), ref, DEFAULT_PARITY.f32);
    expect(bf16.pass).toBe(false);
    expect(bf16.reason).toMatch(/rel .* > 1e-5/);
    const nan = ref.slice();
    nan[3] = NaN;
    expect(judgeF32(nan, ref, DEFAULT_PARITY.f32).reason).toMatch(/1 non-finite/);
    // One element off by 1e-3 of the largest value: small in L2 over 500 values, caught by max-abs.
    const spike = ref.slice();
    const big = Math.max(...Array.from(ref, Math.abs));
    spike[7] = spike[7]! + 3e-4 * big;
    const v = judgeF32(spike, ref, DEFAULT_PARITY.f32);
    expect(v.stats.rel).toBeLessThan(1e-4);
    expect(v.reason).toMatch(/max-abs/);
  });

  it('bf16: within 2× of a plain bf16 computation passes, 3× fails, and a plain computation without bf16 error cannot judge', () => {
    const plain = roundedBf16(ref);
    const err = (k: number) => Float32Array.from(ref, (r, i) => r + k * (plain[i]! - r));
    expect(judgeBf16(err(1.9), plain, ref, DEFAULT_PARITY.bf16).pass).toBe(true);
    const three = judgeBf16(err(3), plain, ref, DEFAULT_PARITY.bf16);
    expect(three.pass).toBe(false);
    expect(three.reason).toMatch(/3\.00× plain/);
    expect(judgeBf16(ref, ref, ref, DEFAULT_PARITY.bf16).reason).toMatch(/cannot judge/);
    // One element off by 3× the plain computation's worst error: the L2 error stays within 2× plain,
    // the max-abs half of the rule catches it.
    const spike = err(1);
    const worst = errorStats(plain, ref).maxAbs;
    spike[11] = ref[11]! + 3 * worst;
    const v = judgeBf16(spike, plain, ref, DEFAULT_PARITY.bf16);
    expect(v.stats.rel).toBeLessThan(2 * errorStats(plain, ref).rel);
    expect(v.pass).toBe(false);
    expect(v.reason).toMatch(/max-abs .* \(3\.00× plain\)/);
  });

  it('a failure says where the output is wrong: the count and the first, last and worst flat index', () => {
    // A stripe [100, 140) left unwritten (NaN poison) and one element far off at 300.
    const out = ref.slice();
    for (let i = 100; i < 140; i++) out[i] = NaN;
    out[300] = out[300]! + 10;
    const v = judgeF32(out, ref, DEFAULT_PARITY.f32);
    expect(v.reason).toMatch(/41 of 500 elements off by > .* \(flat index first 100, last 300, worst 100: out NaN/);
    const b = judgeBf16(out, roundedBf16(ref), ref, DEFAULT_PARITY.bf16);
    expect(b.reason).toMatch(/41 of 500 elements off .*first 100, last 300/);
    // Errors spread evenly over the output (3× plain bf16) are located everywhere, not nowhere.
    const plain = roundedBf16(ref);
    const three = judgeBf16(Float32Array.from(ref, (r, i) => r + 3 * (plain[i]! - r)), plain, ref, DEFAULT_PARITY.bf16);
    expect(three.reason).toMatch(/\d+ of 500 elements off/);
    expect(judgeF32(ref, ref, DEFAULT_PARITY.f32).reason).toBe('');
    // With the output's shape the places are coordinates: 500 = 5 × 100 → index 100 is [1, 0], 300 is [3, 0].
    expect(judgeF32(out, ref, DEFAULT_PARITY.f32, [5, 100]).reason).toMatch(/of shape \[5, 100\] first \[1, 0\], last \[3, 0\], worst \[1, 0\]/);
    // A shape that does not match the output's size falls back to flat indices.
    expect(judgeF32(out, ref, DEFAULT_PARITY.f32, [7]).reason).toMatch(/flat index first 100/);
  });

  it('poisons outputs with NaN in both storage dtypes', () => {
    expect(Array.from(poisonValues(3, 'f32') as Float32Array).every(Number.isNaN)).toBe(true);
    expect(Array.from(poisonValues(2, 'bf16'))).toEqual([0x7fc0, 0x7fc0]);
  });
});

describe('the checker rejects deliberately wrong kernels', () => {
  it('an off-by-one output and an unwritten element, on the cpu backend, f32 and bf16', async () => {
    const checks = await selfChecks('cpu');
    expect(checks).toHaveLength(WRONG_KERNELS.length * 2);
    for (const c of checks) expect(c.rejected, `${c.kernel} ${c.dtype}`).toBe(true);
    expect(checks.find((c) => c.kernel.includes('off-by-one') && c.dtype === 'f32')!.reason).toMatch(/rel/);
    expect(checks.find((c) => c.kernel.includes('never written') && c.dtype === 'bf16')!.reason).toMatch(/non-finite/);
  });

  it('a kernel whose output column 5 is off by that column\'s bias fails, while the real kernel passes on the same inputs', async () => {
    const dims = opEntry('gemm').testShapes[0]!;
    const call = apiCall('gemm', dims)!;
    const seeds = inputSeeds(call, 5);
    const values = Object.fromEntries(Object.entries(call.inputs).map(([k, s]) => [k, inputValues(s, seeds[k]!)]));
    const on = (name: 'cpu' | 'reference') => {
      const b = getBackend(name);
      return Object.fromEntries(Object.entries(call.inputs).map(([k, s]) => [k, b.fromArray(values[k]!, s.shape)]));
    };
    const run = async (name: 'cpu' | 'reference') => {
      const b = getBackend(name);
      const out = b.fromArray(poisonValues(dims.M * dims.N, 'f32'), call.outShape, 'f32');
      await call.run(on(name), out, 'async');
      return out.toFloat32();
    };
    const reference = await run('reference');
    const good = await run('cpu');
    expect(judgeF32(good, reference, DEFAULT_PARITY.f32).pass).toBe(true);
    const bias = values.b!;
    const wrong = good.slice();
    for (let m = 0; m < dims.M; m++) wrong[m * dims.N + 5] = wrong[m * dims.N + 5]! - bias[5]!;
    expect(judgeF32(wrong, reference, DEFAULT_PARITY.f32).pass).toBe(false);
  });
});

describe('runParity', () => {
  it('checks a tiny scope on cpu (two native versions of linear-attention) and writes valid sana-lab-parity/1', async () => {
    const seen: string[] = [];
    const f = await runParity({ backends: ['cpu', 'cuda'], ops: ['linear-attention', 'rmsnorm2d', 'dcae-downsample'], dtypes: ['f32', 'bf16'], maxShapes: 1, onRecord: (r) => seen.push(r.op) });
    validateParity(JSON.parse(JSON.stringify(f)));
    expect(f.records.map((r) => `${r.op} v${r.version} ${r.dtype}`)).toEqual([
      'linear-attention v1 f32',
      'linear-attention v1 bf16',
      'linear-attention v2 f32',
      'linear-attention v2 bf16',
      'rmsnorm2d v1 f32',
      'rmsnorm2d v1 bf16',
    ]);
    expect(seen).toHaveLength(6);
    for (const r of f.records) {
      expect(r.pass, `${r.op} ${r.dtype}: ${r.note}`).toBe(true);
      expect(r.rel!).toBeGreaterThan(0); // a real comparison, not identical arrays
      if (r.dtype === 'bf16') expect(r.ratio!).toBeLessThanOrEqual(2);
      else expect(r.rel!).toBeLessThanOrEqual(1e-5);
    }
    expect(f.skipped!.some((s) => s.op === 'dcae-downsample' && /not in the op API/.test(s.reason))).toBe(true);
    const cudaOk = getBackendOk('cuda');
    if (!cudaOk) expect(f.skipped!.some((s) => s.backend === 'cuda' && /unavailable/.test(s.reason))).toBe(true);
    expect(f.self_checks!.every((s) => s.rejected)).toBe(true);
    expect(parityPassed(f)).toBe(true);
    expect(parityTable(f)).toMatch(/self-check ok/);
  });

  it('fails the run when a record fails or a wrong kernel is accepted', () => {
    const base = { format: 'sana-lab-parity/1' as const, records: [], self_checks: [] };
    expect(parityPassed({ ...base, records: [{ op: 'gemm', backend: 'cpu', dtype: 'f32', shape: 's', rel: 1, max_abs: 1, tolerance: null, pass: false }] })).toBe(false);
    expect(parityPassed({ ...base, self_checks: [{ kernel: 'k', op: 'gemm', dtype: 'f32', shape: 's', rel: 0, max_abs: 0, rejected: false, reason: '' }] })).toBe(false);
  });
});

function getBackendOk(name: 'cuda'): boolean {
  try {
    getBackend(name);
    return true;
  } catch {
    return false;
  }
}
