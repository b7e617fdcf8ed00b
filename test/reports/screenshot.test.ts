import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reportCommand } from '../../cli/commands/report.js';
import { generateReport } from '../../reports/generate.js';
import { reportFigures } from '../../reports/html.js';
import { buildModel } from '../../reports/model.js';
import { findChromium, pickFigures } from '../../reports/screenshot.js';
import { loadInput } from '../../reports/inputs.js';
import { COMMITTED_PROFILES, syntheticLab, syntheticParity } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'sana-report-png-'));
const benchPath = join(dir, 'lab-bench.json');
const parityPath = join(dir, 'lab-parity.json');
writeFileSync(benchPath, JSON.stringify(syntheticLab()));
writeFileSync(parityPath, JSON.stringify(syntheticParity()));

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('finding Chromium', () => {
  it('honours $SANA_LAB_CHROMIUM, searches PATH, and says null when there is none', () => {
    expect(findChromium({ PATH: '' })).toBeNull();
    expect(findChromium({ SANA_LAB_CHROMIUM: join(dir, 'missing'), PATH: '/usr/bin' })).toBeNull();
    const fake = join(dir, 'chromium');
    writeFileSync(fake, '#!/bin/sh\nexit 0\n');
    chmodSync(fake, 0o755);
    expect(findChromium({ PATH: `/nonexistent:${dir}` })).toBe(fake);
    expect(findChromium({ SANA_LAB_CHROMIUM: fake, PATH: '' })).toBe(fake);
  });
});

describe('choosing the charts to photograph', () => {
  it('takes the dit-block throughput, the roofline and the breakdowns with the most resolutions, the native backend first', () => {
    const lab = syntheticLab();
    // a baseline measured only at 256: its breakdowns must lose against the cpu ones at four resolutions
    const m = buildModel([{ kind: 'bench', name: 'b.json', path: 'b.json', file: { ...lab, records: lab.records.filter((r) => r.backend === 'cpu' || r.res === '256') } }], 't');
    const picks = pickFigures(m, reportFigures(m));
    const titles = picks.map((f) => (f.layout.title as { text: string }).text);
    expect(titles.slice(0, 5)).toEqual([
      'dit-block — 0.6b',
      'Roofline — cpu: synthetic test CPU (2 cores) (b.json)',
      'DiT block — 0.6b, cpu, f32, batch 2 (share of measured time)',
      'DC-AE decode — dcae, cpu, f32, batch 1 (share of measured time)',
      'DiT step — 0.6b, cpu, f32, batch 2 (share of measured time)',
    ]);
    expect(picks).toHaveLength(6);
    expect(picks[5]!.kind).toBe('throughput');
    expect(picks[5]!.data.length).toBeLessThanOrEqual(8);
  });

  it('adds the whole-model step time and the step breakdown with the most bars when profiles are given', () => {
    const profiles = COMMITTED_PROFILES.map((p) => loadInput(p));
    const m = buildModel([{ kind: 'bench', name: 'b.json', path: 'b.json', file: syntheticLab() }, ...profiles], 't');
    const picks = pickFigures(m, reportFigures(m));
    expect(picks).toHaveLength(8);
    expect(picks.slice(6).map((f) => f.kind)).toEqual(['whole-model step', 'whole-model breakdown']);
    const onlyProfiles = buildModel(profiles, 't');
    expect(pickFigures(onlyProfiles, reportFigures(onlyProfiles)).map((f) => f.kind)).toEqual(['whole-model step', 'whole-model breakdown']);
  });
});

describe('without Chromium', () => {
  it('generateReport: "required" fails with the reason, "if-available" writes the report and says why there is no PNG', () => {
    vi.stubEnv('SANA_LAB_CHROMIUM', join(dir, 'no-such-chromium'));
    const out = join(dir, 'nochrome.html');
    expect(() => generateReport({ inputs: [benchPath], out, png: 'required' })).toThrow(/cannot write a PNG: no Chromium found .*apt-get install chromium/);
    const r = generateReport({ inputs: [benchPath], out, png: 'if-available' });
    expect(r.png).toEqual({ skipped: expect.stringMatching(/^no Chromium found/) });
    expect(existsSync(out)).toBe(true);
    expect(existsSync(join(dir, 'nochrome.png'))).toBe(false);
  });

  it('sana-lab report --png exits 1 with a clear message, after writing the HTML', async () => {
    vi.stubEnv('SANA_LAB_CHROMIUM', join(dir, 'no-such-chromium'));
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const out = join(dir, 'cli-nochrome.html');
    expect(await reportCommand.run(['--in', benchPath, '--out', out, '--png', join(dir, 'cli.png')])).toBe(1);
    expect(err.mock.calls.flat().join('\n')).toMatch(/cannot write .*cli\.png: no Chromium found/);
    expect(existsSync(out)).toBe(true);
    await expect(reportCommand.run(['--in', benchPath, '--out', out, '--png', join(dir, 'cli.jpg')])).rejects.toThrow(/--png must end in \.png/);
  });
});

const chromium = findChromium();
if (chromium === null) console.warn('test/reports/screenshot.test.ts: no Chromium installed — the real screenshot test is skipped');

describe.skipIf(chromium === null)('with Chromium', () => {
  it('photographs the report’s charts into a PNG', async () => {
    const png = join(dir, 'shot.png');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(await reportCommand.run(['--in', benchPath, parityPath, '--out', join(dir, 'shot.html'), '--png', png])).toBe(0);
    const bytes = readFileSync(png);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // IHDR: width and height of the page that was photographed (two columns of three rows)
    expect(bytes.readUInt32BE(16)).toBe(1400);
    expect(bytes.readUInt32BE(20)).toBeGreaterThan(1000);
    // the charts were drawn: a good share of the page is ink, in many colours (a blank or half-loaded
    // page is white, or white and black text)
    const img = PNG.sync.read(bytes);
    let ink = 0;
    const colours = new Set<number>();
    for (let i = 0; i < img.data.length; i += 4) {
      const [r, g, b] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
      if (r < 240 || g < 240 || b < 240) ink++;
      colours.add((r << 16) | (g << 8) | b);
    }
    expect(ink / (img.width * img.height)).toBeGreaterThan(0.03);
    expect(colours.size).toBeGreaterThan(50);
    expect(log.mock.calls.flat().join('\n')).toMatch(/wrote .*shot\.png \(\d+ KiB: dit-block — 0\.6b; Roofline/);
  }, 60_000);
});
