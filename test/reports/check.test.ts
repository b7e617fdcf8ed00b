import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResultsFile } from '../../bench/record.js';
import { ALL_CHARTS, checkReport, checkSummary, figureProblems, profileExpectations } from '../../reports/check.js';
import { generateReport } from '../../reports/generate.js';
import { reportFigures, type Figure } from '../../reports/html.js';
import type { ProfileInput } from '../../reports/inputs.js';
import { buildModel } from '../../reports/model.js';
import { validateProfile, validateProfiles } from '../../reports/profile-input.js';
import { PROFILE_CHARTS } from '../../reports/profiles.js';
import { CEILINGS, cudaProfile, cudaProfiles, syntheticLab, syntheticParity } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'sana-report-check-'));

function model(bench: BenchResultsFile, withParity = true) {
  const inputs = [{ kind: 'bench' as const, name: 'lab-bench.json', path: 'lab-bench.json', file: bench }];
  const parity = { kind: 'parity' as const, name: 'lab-parity.json', path: 'lab-parity.json', file: syntheticParity() };
  const m = buildModel(withParity ? [...inputs, parity] : inputs, 'check');
  return { m, figs: reportFigures(m) };
}

describe('the report check on a lab-shaped run at four resolutions', () => {
  const bench = syntheticLab();
  const benchPath = join(dir, 'lab-bench.json');
  const parityPath = join(dir, 'lab-parity.json');
  writeFileSync(benchPath, JSON.stringify(bench));
  writeFileSync(parityPath, JSON.stringify(syntheticParity()));
  const r = generateReport({ inputs: [benchPath, parityPath], out: join(dir, 'lab.html') });
  const html = readFileSync(r.html, 'utf8');
  const drawn = JSON.parse(/<script type="application\/json" id="sana-lab-figures">([\s\S]*?)<\/script>/.exec(html)![1]!) as Figure[];

  it('passes: every kind of chart is drawn and every trace of every drawn figure has data', () => {
    const c = checkReport(r.model, drawn, { minResolutions: 4 });
    expect(c.problems).toEqual([]);
    expect(c.ok).toBe(true);
    expect(c.resolutions).toEqual(['256', '512', '1024', '2048']);
    for (const k of ALL_CHARTS) expect(c.counts[k], k).toBeGreaterThan(0);
    // the check looked at real data, not at an empty list
    for (const f of drawn) {
      expect(f.data.length, f.id).toBeGreaterThan(0);
      for (const t of f.data as { x: unknown[]; y: (number | null)[] }[]) expect(t.y.some((v) => v !== null && Number.isFinite(v)), f.id).toBe(true);
    }
    expect(checkSummary(c)).toMatch(/^4 resolution\(s\) \(256, 512, 1024, 2048\); charts: \d+ throughput, 1 roofline, 2 DiT block, 2 DiT step, 2 DC-AE decode; every chart has data$/);
  });

  it('checks the figures the HTML embeds: the same figures reportFigures builds', () => {
    expect(drawn.map((f) => [f.id, f.kind])).toEqual(r.figures.map((f) => [f.id, f.kind]));
    const breakdown = drawn.find((f) => f.kind === 'DC-AE decode')!;
    expect((breakdown.data[0] as { x: string[] }).x).toEqual(['256', '512', '1024', '2048']);
  });

  it('computes speed-ups against a baseline that is not the reference (here "torch")', () => {
    expect(r.model.speedups.length).toBe(bench.records.length / 2);
    expect(new Set(r.model.speedups.map((s) => s.baseline))).toEqual(new Set(['torch']));
    for (const s of r.model.speedups) expect(s.speedup).toBeCloseTo(4, 6); // 40 vs 10 GFLOP/s
    expect(readFileSync(r.markdown, 'utf8')).toMatch(/\| torch \(.+\) \| cpu v1 \(.+\) \| 4× \|/);
  });
});

describe('the report check fails when a chart is empty or missing', () => {
  it('a figure whose trace has no measured point', () => {
    const { figs } = model(syntheticLab());
    const broken = figs.map((f, i) => (i === 0 ? { ...f, data: [{ ...(f.data[0] as object), x: [], y: [] }] } : f));
    const { m } = model(syntheticLab());
    const c = checkReport(m, broken);
    expect(c.ok).toBe(false);
    expect(c.problems.join('\n')).toMatch(/throughput chart ".+": trace ".+" has no data/);
  });

  it('a breakdown bar trace of nulls, a figure with no traces, a roofline without points or without its roof', () => {
    const base = { layout: { title: { text: 'T' } } };
    expect(figureProblems({ ...base, id: 'a', kind: 'DiT step', data: [{ type: 'bar', name: 'x', x: ['256'], y: [null] }] })).toEqual(['DiT step chart "T": trace "x" has no data']);
    expect(figureProblems({ ...base, id: 'b', kind: 'throughput', data: [] })).toEqual(['throughput chart "T" has no traces']);
    expect(figureProblems({ ...base, id: 'c', kind: 'roofline', data: [{ name: 'roofline (any)', x: [1, 2], y: [1, 2] }] })).toEqual(['roofline chart "T" has the ceilings but no measured points']);
    expect(figureProblems({ ...base, id: 'd', kind: 'roofline', data: [{ name: 'cpu v1 f32', x: [1], y: [NaN] }] })).toEqual([
      'roofline chart "T": trace "cpu v1 f32" has no data',
      'roofline chart "T" has points but no roofline',
    ]);
  });

  it('no DC-AE records: no DC-AE decode chart', () => {
    const lab = syntheticLab();
    const { m, figs } = model({ ...lab, records: lab.records.filter((r) => r.model !== 'dcae') });
    const c = checkReport(m, figs, { minResolutions: 4 });
    expect(c.problems).toEqual(['no DC-AE decode chart with data']);
  });

  it('fewer resolutions than expected', () => {
    const { m, figs } = model(syntheticLab(['256', '512', '1024']));
    expect(checkReport(m, figs, { minResolutions: 4 }).problems).toEqual(['timed records cover 3 resolution(s) (256, 512, 1024); at least 4 expected']);
    expect(checkReport(m, figs, { minResolutions: 3 }).ok).toBe(true);
  });

  it('ceilings for a device with no timed record, no baseline records, no parity', () => {
    const lab = syntheticLab(['256'], 'reference');
    const other = { ...CEILINGS, device: 'cpu: another machine' };
    const { m, figs } = model({ ...lab, ceilings: [CEILINGS, other], records: lab.records.filter((r) => r.backend !== 'reference') }, false);
    const problems = checkReport(m, figs).problems;
    expect(problems).toContain('roofline of lab-bench.json (cpu: another machine): ceilings measured but no timed records on that device');
    expect(problems).toContain('no speed-ups: no record shares a shape with a baseline (reference)');
    expect(problems).toContain('the parity table is empty');
  });
});

describe('the report check and whole-model profiles', () => {
  const bench = { kind: 'bench' as const, name: 'lab-bench.json', path: 'lab-bench.json', file: syntheticLab() };
  const parity = { kind: 'parity' as const, name: 'lab-parity.json', path: 'lab-parity.json', file: syntheticParity() };
  const profiles = (json: unknown, name = 'profiles.json'): ProfileInput => ({ kind: 'profile', name, path: name, profiles: validateProfiles(json, name) });
  const check = (extra: ProfileInput[]) => {
    const m = buildModel([bench, parity, ...extra], 'check');
    return { m, figs: reportFigures(m), c: checkReport(m, reportFigures(m), { minResolutions: 4 }) };
  };

  it('without profile inputs, no whole-model chart is required and the summary does not list them', () => {
    const { m, c } = check([]);
    expect(profileExpectations(m)).toEqual([]);
    expect(c.ok).toBe(true);
    expect(c.profiles).toBe(false);
    expect(checkSummary(c)).not.toContain('whole model');
  });

  it('with profiles, every whole-model chart is required and drawn with data', () => {
    const { m, c } = check([profiles(cudaProfiles())]);
    expect(profileExpectations(m)).toEqual(PROFILE_CHARTS);
    expect(c.problems).toEqual([]);
    for (const k of PROFILE_CHARTS) expect(c.counts[k], k).toBeGreaterThan(0);
    expect(checkSummary(c)).toMatch(/; whole model: 1 step, 1 images\/s, 1 breakdown, 1 decode, 1 decode breakdown, 1 host overhead, 1 memory; every chart has data$/);
  });

  it('profiles without a decode do not require the decode charts', () => {
    const one: ProfileInput = { kind: 'profile', name: 'p.json', path: 'p.json', profiles: [validateProfile(cudaProfile(1024, 5), 'p.json')] };
    const { m, c } = check([one]);
    expect(profileExpectations(m)).toEqual(['whole-model step', 'whole-model images/s', 'whole-model breakdown', 'whole-model host overhead', 'whole-model memory']);
    expect(c.ok).toBe(true);
    expect(c.counts['whole-model decode']).toBe(0);
  });

  it('a profile file with no profile fails: every whole-model chart is missing', () => {
    const { c } = check([profiles({ schema: 'sana-lab-profiles/1', profiles: [] }, 'none.json')]);
    expect(c.ok).toBe(false);
    expect(c.problems).toContain('profile input none.json holds no profile');
    expect(c.problems).toContain('no whole-model step chart with data');
    expect(c.problems).toContain('no whole-model breakdown chart with data');
    expect(c.problems).not.toContain('no whole-model decode chart with data');
  });

  it('an empty whole-model trace fails, and so does a value ≤ 0 on a log axis', () => {
    const { m, figs } = check([profiles(cudaProfiles())]);
    const step = figs.find((f) => f.kind === 'whole-model step')!;
    const zero = { ...step, data: [{ ...(step.data[0] as object), y: [0, 0, 0] }] };
    const nulls = figs.find((f) => f.kind === 'whole-model breakdown')!;
    const blank = { ...nulls, data: [{ ...(nulls.data[0] as object), y: [null, null, null] }] };
    const c = checkReport(m, figs.map((f) => (f === step ? zero : f === nulls ? blank : f)));
    expect(c.problems).toEqual([
      'whole-model step chart "DiT step time vs resolution (one step, CFG batch)": trace "sana-0.6b cuda bf16 dit-block" has no data',
      'whole-model breakdown chart "DiT step per op — sana-0.6b cuda bf16 dit-block (share of the step)": trace "block.dit-block" has no data',
    ]);
    // a host-overhead share of 0 on its linear axis is a value
    const host = figs.find((f) => f.kind === 'whole-model host overhead')!;
    expect(figureProblems({ ...host, data: [{ ...(host.data[0] as object), y: [0, 0, 0] }] })).toEqual([]);
  });

  it('the caller can name the whole-model charts it wants', () => {
    const { m, figs } = check([]);
    expect(checkReport(m, figs, { minResolutions: 4, profileCharts: ['whole-model step'] }).problems).toEqual(['no whole-model step chart with data']);
  });
});
