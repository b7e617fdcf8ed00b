import { describe, expect, it } from 'vitest';
import type { ProfileInput } from '../../reports/inputs.js';
import { validateProfile, validateProfiles } from '../../reports/profile-input.js';
import { decodeLabel, groupLabel, profileLineCharts, profileRuns, profileSection, profileStacks, type ProfileRun } from '../../reports/profiles.js';
import { loadInput } from '../../reports/inputs.js';
import { profileTable } from '../../reports/profile-figures.js';
import { OLDER_PROFILES, cudaProfile, cudaProfiles, GPU_DEVICE } from './fixtures.js';

const committed = () => OLDER_PROFILES.map((p) => loadInput(p) as ProfileInput);
const gpu = (): ProfileInput => ({ kind: 'profile', name: 'profiles.json', path: 'profiles.json', profiles: validateProfiles(cudaProfiles(), 'profiles.json') });

describe('flattening profiles into runs', () => {
  const runs = profileRuns([...committed(), gpu()]);

  it('one run per profile, ordered by model, backend, dtype, block mode, then resolution', () => {
    expect(runs.map((r) => `${r.backend} ${r.dtype} ${r.blockMode} ${r.res}`)).toEqual([
      'cpu bf16 ops 256',
      'cpu bf16 ops 512',
      'cpu f32 ops 256',
      'cpu f32 ops 512',
      'cuda bf16 dit-block 1024',
      'cuda bf16 dit-block 2048',
      'cuda bf16 dit-block 4096',
    ]);
  });

  it('takes the numbers from the files: step, images/s, decode, memory; the entry name in a merged file', () => {
    const f32 = runs.find((r) => r.backend === 'cpu' && r.dtype === 'f32' && r.res === '256')!;
    expect(f32).toMatchObject({ source: 'profile-cpu-0.6b-256-f32.json', blocks: '2/28', extrapolated: true, syncedStepMs: null, device: 'AMD EPYC, 2 threads', hostShareOf: 'host_overhead.share' });
    expect(f32.stepMs).toBeCloseTo(4345.235354499987, 9);
    expect(f32.imagesPerS).toBeCloseTo(0.009831653495031204, 12);
    expect(f32.decodeMs).toBeCloseTo(14502.987281, 6);
    expect(f32.hostShare).toBeCloseTo(0.006619991283144777, 12);
    expect(f32.peakBytes).toBe(2403503232);
    const g = runs.find((r) => r.res === '2048')!;
    expect(g).toMatchObject({ source: 'profiles.json › p-0.6b-2048', device: GPU_DEVICE, extrapolated: false, blocks: '28/28', decodeMs: null, stepMs: 20, syncedStepMs: 25 });
  });

  it('carries the roofline floor where the profile has one (older profiles: none)', () => {
    const g = runs.find((r) => r.res === '1024')!;
    // Sana-0.6B 1024², 20 steps + decode on 800 TFLOP/s, 3 TB/s: ≈ 2.8 ms per step floor, measured (synthetic) 5 ms.
    expect(g.stepFloorPct).toBeGreaterThan(50);
    expect(g.stepFloorPct).toBeLessThan(60);
    expect(g.floorOn).toBe('800 TFLOP/s, 3000 GB/s');
    const t = profileTable(runs);
    const col = t.head.indexOf('step / image at % of floor');
    expect(t.rows[runs.indexOf(g)]![col]).toMatch(/^5\d\.\d% \/ \d+\.\d% \(on 800 TFLOP\/s/);
    const older = runs.find((r) => r.backend === 'cpu')!;
    expect([older.stepFloorPct, older.imageFloorPct, older.floorOn]).toEqual([null, null, null]);
    expect(t.rows[runs.indexOf(older)]![col]).toBe('–');
    const why = profileRuns([{ kind: 'profile', name: 'c.json', path: 'c.json', profiles: [validateProfile({ ...cudaProfile(1024, 9), roofline: { reason: 'the cuda ceilings are measured for bf16' } }, 'c.json')] }]);
    expect(profileTable(why).rows[0]![col]).toBe('no floor: the cuda ceilings are measured for bf16');
    expect(() => validateProfile({ ...cudaProfile(1024, 9), roofline: { step_pct: 'x' } }, 'd.json')).toThrow(/roofline\.step_floor_ms/);
  });

  it('cuda: the host share is the queued step’s (queued.share), not host_overhead.share', () => {
    const g = runs.find((r) => r.res === '1024')!;
    expect([g.hostShare, g.hostShareOf]).toEqual([0.03, 'queued.share']);
  });

  it('profiles run with chosen kernel versions are their own series, named by the versions', () => {
    const hopper = validateProfile({ ...cudaProfile(1024, 5, { decodeMs: 12 }), opVersions: { 'dcae-resblock': 4, 'dcae-head': 3 } }, 'h.json');
    const rs = profileRuns([gpu(), { kind: 'profile', name: 'h.json', path: 'h.json', profiles: [hopper] }]);
    const h = rs.find((r) => r.source === 'h.json')!;
    expect(h.versions).toBe('dcae-resblock v4, dcae-head v3');
    expect(groupLabel(h, rs)).toBe('sana-0.6b cuda bf16 dit-block [dcae-resblock v4, dcae-head v3]');
    expect(decodeLabel(h, rs)).toBe('DC-AE cuda bf16 [dcae-resblock v4, dcae-head v3]');
    const plain = rs.find((r) => r.source === 'profiles.json › p-0.6b-1024')!;
    expect([plain.versions, decodeLabel(plain, rs)]).toEqual(['', 'DC-AE cuda bf16']);
    expect(() => validateProfile({ ...cudaProfile(1024, 5), opVersions: { gemm: 'x' } }, 'bad.json')).toThrow(/opVersions\.gemm/);
  });

  it('names the device only when one label ran on several', () => {
    const other = { kind: 'profile' as const, name: 'b.json', path: 'b.json', profiles: [validateProfile({ ...cudaProfile(1024, 9), machine: { device: 'NVIDIA A100 (synthetic)' } }, 'b.json')] };
    const rs = profileRuns([gpu(), other]);
    expect(new Set(rs.map((r) => groupLabel(r, rs)))).toEqual(new Set([`sana-0.6b cuda bf16 dit-block @ ${GPU_DEVICE}`, 'sana-0.6b cuda bf16 dit-block @ NVIDIA A100 (synthetic)']));
    expect(groupLabel(runs[0]!, runs)).toBe('sana-0.6b cpu bf16 ops');
  });
});

describe('the whole-model line charts', () => {
  const runs = profileRuns([...committed(), gpu()]);
  const charts = profileLineCharts(runs);
  const chart = (kind: string) => charts.find((c) => c.kind === kind)!;

  it('five charts: step, images/s, decode, host overhead, memory', () => {
    expect(charts.map((c) => c.kind)).toEqual(['whole-model step', 'whole-model images/s', 'whole-model decode', 'whole-model host overhead', 'whole-model memory']);
    expect(chart('whole-model step').tickvals).toEqual([256 ** 2, 512 ** 2, 1024 ** 2, 2048 ** 2, 4096 ** 2]);
    expect(chart('whole-model step').ticktext).toEqual(['256', '512', '1024', '2048', '4096']);
  });

  it('step time: one trace per model × backend × dtype × block mode, extrapolated ones labelled', () => {
    const c = chart('whole-model step');
    expect(c.yLog).toBe(true);
    expect(c.series.map((s) => [s.name, s.extrapolated])).toEqual([
      ['sana-0.6b cpu bf16 ops (extrapolated)', true],
      ['sana-0.6b cpu f32 ops (extrapolated)', true],
      ['sana-0.6b cuda bf16 dit-block', false],
    ]);
    const cuda = c.series[2]!;
    expect(cuda.x).toEqual([1024 ** 2, 2048 ** 2, 4096 ** 2]);
    expect(cuda.y).toEqual([5, 20, 80]);
    expect(cuda.text[0]).toMatch(/^1024: 5\.00 ms per step \(28\/28 blocks, batch 2\); queued — 6\.25 ms with a synchronize per op; profiles\.json › p-0\.6b-1024$/);
    expect(c.series[0]!.text[0]).toMatch(/2\/28 blocks, extrapolated/);
  });

  it('images/s: profiles with and without the decode are separate traces', () => {
    const c = chart('whole-model images/s');
    const names = c.series.map((s) => s.name);
    expect(names).toContain('sana-0.6b cuda bf16 dit-block + decode');
    expect(names).toContain('sana-0.6b cuda bf16 dit-block');
    const dec = c.series.find((s) => s.name === 'sana-0.6b cuda bf16 dit-block + decode')!;
    expect(dec.x).toEqual([1024 ** 2, 4096 ** 2]);
    expect(dec.y[0]).toBeCloseTo(1000 / (20 * 5 + 2 + 20), 12);
  });

  it('decode time only where a profile decoded, grouped by the DC-AE’s backend and dtype (never extrapolated)', () => {
    const c = chart('whole-model decode');
    expect(c.series.map((s) => [s.name, s.x.length, s.extrapolated])).toEqual([
      ['DC-AE cpu bf16', 2, false],
      ['DC-AE cpu f32', 2, false],
      ['DC-AE cuda bf16', 2, false],
    ]);
    expect(c.series[2]!.y).toEqual([20, 400]);
  });

  it('host overhead in percent on a linear axis; memory in GiB', () => {
    const h = chart('whole-model host overhead');
    expect(h.yLog).toBe(false);
    expect(h.series.find((s) => s.name === 'sana-0.6b cuda bf16 dit-block')!.y).toEqual([3, 3, 3]);
    const m = chart('whole-model memory');
    expect(m.series.find((s) => s.name === 'sana-0.6b cuda bf16 dit-block')!.y).toEqual([(2048 ** 2 * 4096) / 2 ** 30]);
  });

  it('no decode anywhere: no decode chart; no runs: no charts', () => {
    const one = profileRuns([{ kind: 'profile', name: 'x.json', path: 'x.json', profiles: [validateProfile(cudaProfile(512, 2), 'x.json')] }]);
    expect(profileLineCharts(one).map((c) => c.kind)).not.toContain('whole-model decode');
    expect(profileLineCharts([])).toEqual([]);
  });
});

describe('the stacked per-op breakdowns', () => {
  it('one per series of the step, then one per decode series; components ordered by time, null where absent', () => {
    const runs = profileRuns([...committed(), gpu()]);
    const stacks = profileStacks(runs);
    expect(stacks.map((s) => `${s.kind}: ${s.label}`)).toEqual([
      'whole-model breakdown: sana-0.6b cpu bf16 ops',
      'whole-model breakdown: sana-0.6b cpu f32 ops',
      'whole-model breakdown: sana-0.6b cuda bf16 dit-block',
      'whole-model decode breakdown: DC-AE cpu bf16',
      'whole-model decode breakdown: DC-AE cpu f32',
      'whole-model decode breakdown: DC-AE cuda bf16',
    ]);
    const f32 = stacks[1]!;
    expect(f32.categories).toEqual(['256 (extrapolated)', '512 (extrapolated)']);
    const src = runs.filter((r) => r.backend === 'cpu' && r.dtype === 'f32');
    expect(f32.components.length).toBe(16);
    for (const [i, r] of src.entries()) {
      expect(f32.totals[i]).toBeCloseTo(r.breakdown.reduce((s, e) => s + e.ms, 0), 9);
      const ca = r.breakdown.find((e) => e.name === 'block.cross-attention')!;
      expect(f32.components.find((c) => c.name === 'block.cross-attention')!.ms[i]).toBe(ca.ms);
    }
    const total = (n: string) => f32.components.find((c) => c.name === n)!.ms.reduce((s: number, v) => s + (v ?? 0), 0);
    for (let i = 1; i < f32.components.length; i++) expect(total(f32.components[i - 1]!.name)).toBeGreaterThanOrEqual(total(f32.components[i]!.name));
    const cudaDecode = stacks[5]!;
    expect(cudaDecode.categories).toEqual(['1024', '4096']);
    expect(cudaDecode.components.map((c) => c.name)).toEqual(['s0.dcae-resblock', 'head.dcae-head']);
  });

  it('two profiles at one resolution in one series: the bars name their source', () => {
    const a = validateProfile(cudaProfile(1024, 5), 'a.json');
    const b = validateProfile({ ...cudaProfile(1024, 6), breakdown: [{ name: 'block.mix-ffn', kind: 'op', calls: 28, ms: 6, share: 1, extrapolated: false }] }, 'b.json');
    const runs: ProfileRun[] = profileRuns([
      { kind: 'profile', name: 'a.json', path: 'a.json', profiles: [a] },
      { kind: 'profile', name: 'b.json', path: 'b.json', profiles: [b] },
    ]);
    const [s] = profileStacks(runs);
    expect(s!.categories).toEqual(['1024 a.json', '1024 b.json']);
    expect(s!.components.find((c) => c.name === 'block.mix-ffn')!.ms).toEqual([null, 6]);
  });

  it('the section lists inputs without a profile', () => {
    const empty: ProfileInput = { kind: 'profile', name: 'none.json', path: 'none.json', profiles: [] };
    const s = profileSection([empty, gpu()]);
    expect(s.emptyInputs).toEqual(['none.json']);
    expect(s.runs).toHaveLength(3);
  });
});
