/**
 * The "Whole model" section rendered: the committed CPU profiles (older files, extrapolated), a
 * synthetic cuda merged file (queued step, decode) and a bench + parity run in one report.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { reportCommand } from '../../cli/commands/report.js';
import { generateReport, type ReportResult } from '../../reports/generate.js';
import { HOST_OVERHEAD_TARGET_PCT } from '../../reports/profile-figures.js';
import { OLDER_PROFILES, cudaProfiles, GPU_DEVICE, syntheticBench, syntheticParity } from './fixtures.js';
import { loadPlotlyValidate } from './plotly-node.js';

interface Trace {
  type: string;
  name: string;
  x: unknown[];
  y: (number | null)[];
  line?: { dash?: string };
}
interface Fig {
  id: string;
  kind: string;
  data: Trace[];
  layout: { title: { text: string }; xaxis: { type?: string }; yaxis: { type?: string }; barmode?: string; shapes?: { y0: number }[] };
}

const dir = mkdtempSync(join(tmpdir(), 'sana-report-profiles-'));
const gpuPath = join(dir, 'profiles.json');
const benchPath = join(dir, 'bench.json');
const parityPath = join(dir, 'parity.json');
let r: ReportResult;
let html = '';
let md = '';
let figs: Fig[] = [];

const drawnFigures = (page: string) => JSON.parse(/<script type="application\/json" id="sana-lab-figures">([\s\S]*?)<\/script>/.exec(page)![1]!) as Fig[];

beforeAll(() => {
  writeFileSync(gpuPath, JSON.stringify(cudaProfiles()));
  writeFileSync(benchPath, JSON.stringify(syntheticBench()));
  writeFileSync(parityPath, JSON.stringify(syntheticParity()));
  r = generateReport({ inputs: [benchPath, parityPath, ...OLDER_PROFILES, gpuPath], out: join(dir, 'all.html') });
  html = readFileSync(r.html, 'utf8');
  md = readFileSync(r.markdown, 'utf8');
  figs = drawnFigures(html).filter((f) => f.kind.startsWith('whole-model'));
});

afterEach(() => vi.restoreAllMocks());

describe('the Whole model section of the HTML', () => {
  it('draws every whole-model figure in a div of the section, each valid under plotly’s schema', () => {
    const section = /<h2>Whole model<\/h2>([\s\S]*?)<h2>/.exec(html)![1]!;
    const divs = [...section.matchAll(/<div class="chart" id="([^"]+)"><\/div>/g)].map((m) => m[1]);
    expect(divs).toEqual(figs.map((f) => f.id));
    expect(figs.map((f) => f.kind)).toEqual([
      'whole-model step',
      'whole-model images/s',
      'whole-model decode',
      'whole-model host overhead',
      'whole-model memory',
      ...Array<string>(3).fill('whole-model breakdown'),
      ...Array<string>(3).fill('whole-model decode breakdown'),
    ]);
    const validate = loadPlotlyValidate();
    for (const f of figs) expect(validate(f.data, f.layout) ?? [], f.id).toEqual([]);
    // the bench charts are still there, before the section
    expect(drawnFigures(html)[0]!.kind).toBe('throughput');
  });

  it('step time and images/s are log-log against the resolution; extrapolated traces are dotted and named so', () => {
    const step = figs.find((f) => f.kind === 'whole-model step')!;
    expect([step.layout.xaxis.type, step.layout.yaxis.type]).toEqual(['log', 'log']);
    expect(step.data.map((t) => t.name)).toEqual(['sana-0.6b cpu bf16 ops (extrapolated)', 'sana-0.6b cpu f32 ops (extrapolated)', 'sana-0.6b cuda bf16 dit-block']);
    expect(step.data.map((t) => t.line?.dash)).toEqual(['dot', 'dot', undefined]);
    const f32 = JSON.parse(readFileSync(OLDER_PROFILES[0]!, 'utf8')) as { step_ms: number };
    expect(step.data[1]!.y[0]).toBe(f32.step_ms);
    expect(step.data[2]!.y).toEqual([5, 20, 80]);
    const img = figs.find((f) => f.kind === 'whole-model images/s')!;
    expect(img.layout.yaxis.type).toBe('log');
    expect(img.data.map((t) => t.name)).toContain('sana-0.6b cuda bf16 dit-block + decode');
  });

  it('the per-op breakdown stacks one bar trace per op over the resolutions', () => {
    const bd = figs.find((f) => f.kind === 'whole-model breakdown' && f.layout.title.text.includes('cuda'))!;
    expect(bd.layout.title.text).toBe('DiT step per op — sana-0.6b cuda bf16 dit-block (share of the step)');
    expect(bd.layout.barmode).toBe('stack');
    expect(bd.data.map((t) => [t.type, t.name])).toEqual([
      ['bar', 'block.dit-block'],
      ['bar', 'adaln.gemm'],
      ['bar', 'host.cfg'],
    ]);
    expect(bd.data[0]!.x).toEqual(['1024', '2048', '4096']);
    expect(bd.data[0]!.y).toEqual([5 * 1.25 * 0.9, 20 * 1.25 * 0.9, 80 * 1.25 * 0.9]);
    const cpu = figs.find((f) => f.kind === 'whole-model breakdown' && f.layout.title.text.includes('cpu f32'))!;
    expect(cpu.data[0]!.x).toEqual(['256 (extrapolated)', '512 (extrapolated)']);
    const dec = figs.find((f) => f.kind === 'whole-model decode breakdown' && f.layout.title.text.includes('cuda'))!;
    expect(dec.data.map((t) => t.name)).toEqual(['s0.dcae-resblock', 'head.dcae-head']);
  });

  it('decode time where present, the host overhead share with its 5% line, planned peak memory', () => {
    const dec = figs.find((f) => f.kind === 'whole-model decode')!;
    expect(dec.data.find((t) => t.name === 'DC-AE cuda bf16')!.y).toEqual([20, 400]);
    const host = figs.find((f) => f.kind === 'whole-model host overhead')!;
    expect(host.layout.yaxis.type).toBe('linear');
    expect(host.layout.shapes![0]!.y0).toBe(HOST_OVERHEAD_TARGET_PCT);
    expect(host.data.find((t) => t.name === 'sana-0.6b cuda bf16 dit-block')!.y).toEqual([3, 3, 3]);
    const mem = figs.find((f) => f.kind === 'whole-model memory')!;
    expect(mem.data.every((t) => t.y.every((v) => v !== null && v > 0))).toBe(true);
  });

  it('lists every profile in a table with the device, blocks and host-overhead source', () => {
    expect(html).toContain(`<td>${GPU_DEVICE}</td>`);
    expect(html).toContain('<td>2/28 (extrapolated)</td>');
    expect(html).toContain('<td>3.00% (queued.share)</td>');
    expect(html).toContain('<code>sana-lab profile --json</code>');
  });
});

describe('the Whole model section of the Markdown', () => {
  it('one row per profile', () => {
    const section = /## Whole model\n([\s\S]*?)\n## /.exec(md)![1]!;
    const rows = section.split('\n').filter((l) => /^\| (profile-cpu|profiles\.json)/.test(l));
    expect(rows).toHaveLength(7);
    const gpuRow = md.split('\n').find((l) => l.startsWith('| profiles.json › p-0.6b-1024 |'))!;
    expect(gpuRow.startsWith(`| profiles.json › p-0.6b-1024 | sana-0.6b | cuda | ${GPU_DEVICE} | bf16 | dit-block | 1024 | 28/28 | 5 ms | 6.25 ms | 2 ms | 20 ms | 122 ms | 8.2 | `)).toBe(true);
    expect(gpuRow).toMatch(/ \| 5\d\.\d% \/ \d+\.\d% \(on 800 TFLOP\/s, 3000 GB\/s\) \| 3\.00% \(queued\.share\) \| 4 GiB \| 1 GiB \|$/);
    expect(md).toMatch(/\| profile-cpu-0\.6b-256-f32\.json \| sana-0\.6b \| cpu \| AMD EPYC, 2 threads \| f32 \| ops \| 256 \| 2\/28 \(extrapolated\) \| 4\.35 s \| – \| 305 ms \| 14\.5 s \| 102 s \| 0\.00983 \| – \| 0\.66% \(host_overhead\.share\) \|/);
  });

  it('the per-op breakdowns as tables of the largest ops', () => {
    expect(md).toContain('### DiT step per op — sana-0.6b cuda bf16 dit-block');
    expect(md).toMatch(/\| 1024 \| 6\.25 ms \| block\.dit-block 5\.63 ms \(90\.0%\); adaln\.gemm 0\.375 ms \(6\.0%\); host\.cfg 0\.25 ms \(4\.0%\) \|/);
    expect(md).toContain('### DC-AE decode per op — DC-AE cpu f32');
    expect(md).toMatch(/\| 256 \(extrapolated\) \| 4\.34 s \| block\.cross-attention 1\.64 s \(37\.7%\);.* … 10 more \|/);
  });
});

describe('reports without profiles', () => {
  it('say so and draw no whole-model chart', () => {
    const o = generateReport({ inputs: [benchPath], out: join(dir, 'bench-only.html') });
    const page = readFileSync(o.html, 'utf8');
    expect(page).toContain('No whole-model profile given');
    expect(drawnFigures(page).some((f) => f.kind.startsWith('whole-model'))).toBe(false);
    expect(readFileSync(o.markdown, 'utf8')).toContain('_No whole-model profile given._');
  });

  it('profiles alone make a report', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(await reportCommand.run(['--in', ...OLDER_PROFILES, '--out', join(dir, 'cpu-profiles.html')])).toBe(0);
    expect(log.mock.calls.flat().join('\n')).toMatch(/4 whole-model profile\(s\) in 4 file\(s\)/);
    const page = readFileSync(join(dir, 'cpu-profiles.html'), 'utf8');
    expect(drawnFigures(page).filter((f) => f.kind === 'whole-model step')).toHaveLength(1);
  });
});
