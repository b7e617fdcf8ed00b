/**
 * GPU results (the cuda backend's versions against the torch baseline, as bench/gpu/check.sh's node-bench
 * step writes them) render in the same report as CPU results: their own device and roofline, throughput
 * traces per cuda version, and speed-ups against torch measured in the same run. The first test's timings are
 * synthetic; the second renders the committed H200 run itself.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResultsFile } from '../../bench/record.js';
import { parseResolution, shapesFor } from '../../bench/shapes.js';
import { generateReport } from '../../reports/generate.js';
import { CEILINGS, rec, syntheticBench } from './fixtures.js';

const H200 = join(import.meta.dirname, '../../reports/gpu-h200-2026-11-28');

const GPU = 'cuda: NVIDIA H100 80GB HBM3 (synthetic)';

function gpuBench(): BenchResultsFile {
  const cpu = syntheticBench();
  const records = [];
  for (const [res, f] of [['1024', 1], ['4096', 16]] as const) {
    const [la] = shapesFor('linear-attention', '0.6b', parseResolution(res), 2);
    for (const [backend, version, ms] of [['torch', 0, 1.0], ['cuda', 1, 0.5], ['cuda', 2, 0.2]] as const) {
      records.push({ ...rec(la!, backend, version, ms * f, 'bf16'), device: GPU, threads: 0, timer: 'CUDA events, L2 flush' });
    }
  }
  return {
    ...cpu,
    environment: { ...cpu.environment, command: 'sana-lab bench --backend cuda,torch --baseline torch (synthetic)' },
    ceilings: [{ ...CEILINGS, device: GPU, dtype: 'bf16', peakFlops: 800e12, bandwidth: 3e12, peakSource: 'synthetic bf16 gemm', bandwidthSource: 'synthetic copy' }],
    baselines: ['torch'],
    records,
  };
}

describe('GPU results in the report', () => {
  it('draws cuda versions beside the cpu runs, with speed-ups against torch of the same run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sana-report-gpu-'));
    const cpuPath = join(dir, 'bench-cpu.json');
    const gpuPath = join(dir, 'bench-gpu.json');
    writeFileSync(cpuPath, JSON.stringify(syntheticBench()));
    writeFileSync(gpuPath, JSON.stringify(gpuBench()));
    const r = generateReport({ inputs: [cpuPath, gpuPath], out: join(dir, 'both.html') });
    const md = readFileSync(r.markdown, 'utf8');
    expect(md).toContain(GPU);
    expect(md).toMatch(/\| bench-gpu\.json \| linear-attention \| 0\.6b \| 4096 \| 2 \| bf16 \| torch \(16 ms\) \| cuda v2 \(3\.2 ms\) \| 5× \|/);
    expect(md).toMatch(/\| bench-gpu\.json \| linear-attention \| 0\.6b \| 1024 \| 2 \| bf16 \| torch \(1 ms\) \| cuda v1 \(0\.5 ms\) \| 2× \|/);
    const traces = r.figures.flatMap((f) => (f as { data: { name: string; y: unknown[] }[] }).data);
    const cudaTraces = traces.filter((t) => /cuda v[12]/.test(t.name));
    expect(cudaTraces.length).toBeGreaterThanOrEqual(2);
    expect(cudaTraces.every((t) => t.y.length > 0)).toBe(true);
    expect(traces.some((t) => /cpu v1/.test(t.name))).toBe(true);
  });

  it('renders the committed H200 run (reports/gpu-h200-2026-11-28): every record, the torch speed-ups, the parity and the profiles', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sana-report-h200-'));
    const inputs = ['check/node_bench.json', 'check/parity.json', 'models/parity_litemla_evit.json', 'models/profiles.json'].map((f) => join(H200, f));
    const r = generateReport({ inputs, out: join(dir, 'h200.html') });
    const md = readFileSync(r.markdown, 'utf8');
    expect(md).toContain('cuda: NVIDIA H200');
    expect(md).toContain('328 of 328 bench records were timed');
    // a speed-up row of the same run: dit-block at 4096², batch 2, torch vs the wgmma composition (7.17 / 4.77 ms)
    expect(md).toMatch(/\| dit-block \| 0\.6b \| 4096 \| 2 \| bf16 \| torch \([0-9.]+ ms\) \| cuda v3 \(4\.7\d ms\) \| 1\.5\d?× \|/);
    // the whole-model profiles (11 in models/profiles.json) and the Node parity of the cuda ops
    for (const name of ['p-0.6b-1024-wgmma', 'p-0.6b-4096', 'p-1.6b-4096']) expect(md).toContain(name);
    expect(md).toMatch(/\| lite-mla \| cuda v2 \| bf16 \|/);
    const traces = r.figures.flatMap((f) => (f as { data: { name: string; y: unknown[] }[] }).data);
    expect(traces.filter((t) => /cuda v3/.test(t.name) && t.y.length > 0).length).toBeGreaterThan(0);
  });
});
