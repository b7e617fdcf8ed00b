/**
 * GPU results (the cuda backend's versions against the torch baseline, as bench/gpu/check.sh's node-bench
 * step writes them) render in the same report as CPU results: their own device and roofline, throughput
 * traces per cuda version, and speed-ups against torch measured in the same run. Timings are synthetic.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResultsFile } from '../../bench/record.js';
import { parseResolution, shapesFor } from '../../bench/shapes.js';
import { generateReport } from '../../reports/generate.js';
import { CEILINGS, rec, syntheticBench } from './fixtures.js';

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
});
