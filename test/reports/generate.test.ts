import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { reportCommand } from '../../cli/commands/report.js';
import { generateReport } from '../../reports/generate.js';
import { jsonForScript, plotlyBundlePath, scriptSafe } from '../../reports/plotly.js';
import { CEILINGS, syntheticBench, syntheticParity } from './fixtures.js';
import { loadPlotlyValidate } from './plotly-node.js';

interface Fig {
  id: string;
  data: { name: string; x: unknown[]; y: (number | null)[]; type: string }[];
  layout: { title: { text: string }; xaxis?: { type?: string }; yaxis?: { type?: string } };
}

const dir = mkdtempSync(join(tmpdir(), 'sana-report-'));
const benchPath = join(dir, 'bench.json');
const parityPath = join(dir, 'parity.json');
const out = join(dir, 'reports', 'synthetic.html');
let html = '';
let md = '';
let figs: Fig[] = [];

beforeAll(() => {
  writeFileSync(benchPath, JSON.stringify(syntheticBench()));
  writeFileSync(parityPath, JSON.stringify(syntheticParity()));
  const r = generateReport({ inputs: [benchPath, parityPath], out, title: 'Synthetic report' });
  html = readFileSync(r.html, 'utf8');
  md = readFileSync(r.markdown, 'utf8');
  const m = /<script type="application\/json" id="sana-lab-figures">([\s\S]*?)<\/script>/.exec(html);
  figs = JSON.parse(m![1]!) as Fig[];
});

afterEach(() => vi.restoreAllMocks());

describe('the HTML report', () => {
  it('is one self-contained file: plotly inlined, no external scripts or stylesheets', () => {
    const version = JSON.parse(readFileSync(join(plotlyBundlePath(), '..', 'package.json'), 'utf8')).version as string;
    expect(html).toContain(`plotly.js v${version}`);
    expect(html.length).toBeGreaterThan(readFileSync(plotlyBundlePath()).length * 0.99);
    expect(html).not.toMatch(/<script\b[^>]*\bsrc\s*=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain('Plotly.newPlot(f.id, f.data, f.layout');
  });

  it('has a figure for every chart div, each valid under plotly’s own schema (Plotly.validate)', () => {
    const divs = [...html.matchAll(/<div class="chart" id="([^"]+)"><\/div>/g)].map((m) => m[1]);
    expect(divs).toEqual(figs.map((f) => f.id));
    expect(figs.length).toBeGreaterThanOrEqual(5);
    const validate = loadPlotlyValidate();
    for (const f of figs) expect(validate(f.data, f.layout) ?? [], f.id).toEqual([]);
    expect(validate([{ type: 'scatter', x: [1], y: [1], bogus: 1 }], {})!.length).toBe(1); // the check can fail
  });

  it('draws every figure through the inline script', () => {
    const init = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!).at(-1)!;
    const json = /<script type="application\/json" id="sana-lab-figures">([\s\S]*?)<\/script>/.exec(html)![1];
    const drawn: string[] = [];
    new Function('document', 'Plotly', init)(
      { getElementById: (id: string) => (id === 'sana-lab-figures' ? { textContent: json } : null) },
      { newPlot: (id: string) => drawn.push(id) },
    );
    expect(drawn).toEqual(figs.map((f) => f.id));
  });

  it('plots throughput vs resolution per op and backend on log-log axes, from the records', () => {
    const f = figs.find((x) => x.layout.title.text === 'linear-attention-block — 0.6b')!;
    expect(f.layout.xaxis!.type).toBe('log');
    expect(f.layout.yaxis!.type).toBe('log');
    expect(f.data.map((d) => d.name).sort()).toEqual(['cpu v1 f32 b1', 'cpu v2 f32 b1', 'reference f32 b1']);
    const v2 = f.data.find((d) => d.name === 'cpu v2 f32 b1')!;
    const recs = syntheticBench().records.filter((r) => r.op === 'linear-attention-block' && r.backend === 'cpu' && r.version === 2);
    expect(v2.x).toEqual(recs.map((r) => r.height * r.width));
    expect(v2.y).toEqual(recs.map((r) => r.gflops));
  });

  it('draws the roofline from the run ceilings with every timed record as a point', () => {
    const f = figs.find((x) => x.layout.title.text.startsWith('Roofline'))!;
    const roof = f.data.find((d) => d.name.startsWith('roofline'))!;
    expect(Math.max(...(roof.y as number[]))).toBeCloseTo(CEILINGS.peakFlops / 1e9, 9);
    const points = f.data.filter((d) => !d.name.startsWith('roofline')).reduce((n, d) => n + d.x.length, 0);
    expect(points).toBe(syntheticBench().records.filter((r) => r.status === 'ok').length);
  });

  it('breaks a DiT block into its ops (median × count) and compares it with the fused block', () => {
    const f = figs.find((x) => x.layout.title.text.startsWith('DiT block — 0.6b, cpu, f32'))!;
    const ln = f.data.find((d) => d.name === 'layernorm-modulate ×2')!;
    expect(ln.y).toEqual([20, 80, 320]); // fastest version (v2: 10 ms × res factor) × 2
    expect(html).toContain('<th>fused dit-block</th>');
    expect(html).toContain('<td>45 ms</td>'); // the fused block measured at 256 (synthetic 45 ms)
    // a DiT step counts the block 28 times (0.6B depth): 28 × 45 ms at 256
    const step = figs.find((x) => x.layout.title.text.startsWith('DiT step — 0.6b, cpu, f32'))!;
    expect(step.data.find((d) => d.name === 'dit-block ×28')!.y[0]).toBeCloseTo(28 * 45, 9);
    expect(figs.some((x) => x.layout.title.text.startsWith('DC-AE decode — dcae, cpu'))).toBe(true);
  });

  it('lists speed-ups against the baseline of the same run, the parity table, skipped cases and the environment', () => {
    expect(md).toMatch(/\| linear-attention-block \| 0\.6b \| 256 \| 1 \| f32 \| reference \(100 ms\) \| cpu v2 \(10 ms\) \| 10× \|/);
    expect(md).toMatch(/\| conv3x3:dec-in \| dcae \| 512 \| 1 \| f32 \| reference \(300 ms\) \| cpu v1 \(3 ms\) \| 100× \|/);
    expect(html).toContain('FAIL');
    expect(md).toMatch(/1 of 2 checks pass/);
    expect(md).toMatch(/\| skipped: budget \| 1 \|/);
    expect(html).toContain('0123456789abcdef0123456789abcdef01234567');
    expect(html).toContain('synthetic test CPU');
  });

  it('shows the parity details: plain bf16 error and ratio, the wrong-kernel checks, what was not checked', () => {
    expect(md).toMatch(/\| mix-ffn \| cpu v1 \| bf16 \| \[2, 256, 1152\] \| 0\.09 \| 0\.5 \| 0\.002 \| 45× \| FAIL/);
    expect(md).toMatch(/\| cpu gemm, off-by-one \(synthetic\) \| f32 \| rejected \(correct\) \|/);
    expect(md).toMatch(/\| dcae-upsample \| cpu \| f32 \| not in the op API \(synthetic\) \|/);
    expect(md).toContain('Run: parity.json: synthetic test CPU (2 cores, 2 kernel threads); backends checked: cpu; commit abc123; 2026-01-01T00:00:00.000Z; `sana-lab parity (synthetic)`');
    expect(html).toContain('The checker checks itself');
    expect(html).toContain('rejected (correct)');
  });

  it('reports both CPU peaks: the achieved gemm peak (the roofline) and the FMA peak beside it', () => {
    expect(md).toMatch(/\| 50 GFLOP\/s \| synthetic \| 80 GFLOP\/s \| synthetic FMA loop \|/);
    expect(html).toContain('<th>FMA peak</th>');
  });

  it('writes the Markdown summary beside the HTML', () => {
    expect(existsSync(join(dir, 'reports', 'synthetic.md'))).toBe(true);
    expect(md).toContain('[synthetic.html](synthetic.html)');
  });
});

describe('inline-script safety', () => {
  it('neutralises closing tags and comment openers', () => {
    expect(scriptSafe('a="</script>";b="<!--"')).toBe('a="<\\/script>";b="<\\!--"');
    const j = jsonForScript({ note: '</script><b>' });
    expect(j).not.toContain('<');
    expect(JSON.parse(j)).toEqual({ note: '</script><b>' });
  });
});

describe('sana-lab report', () => {
  it('writes the report and says where', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const o = join(dir, 'cli.html');
    expect(await reportCommand.run(['--in', benchPath, parityPath, '--out', o])).toBe(0);
    expect(existsSync(o) && existsSync(join(dir, 'cli.md'))).toBe(true);
    expect(log.mock.calls.flat().join('\n')).toContain(`wrote ${o}`);
  });

  it('rejects bad input with a clear error', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'something-else' }));
    await expect(reportCommand.run(['--in', bad, '--out', join(dir, 'x.html')])).rejects.toThrow(/bad\.json has format "something-else"/);
    await expect(reportCommand.run(['--out', join(dir, 'x.html')])).rejects.toThrow(/--in/);
    await expect(reportCommand.run(['--in', benchPath, '--out', join(dir, 'x.pdf')])).rejects.toThrow(/\.html/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ ...syntheticBench(), records: [{ op: 'gemm' }] }));
    await expect(reportCommand.run(['--in', broken, '--out', join(dir, 'y.html')])).rejects.toThrow(/broken\.json/);
  });
});
