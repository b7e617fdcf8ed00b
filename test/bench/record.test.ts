import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureEnvironment, readResults, RESULTS_FORMAT, validateRecord, validateResults, writeResults, type BenchRecord, type BenchResultsFile } from '../../bench/record.js';

function record(over: Partial<BenchRecord> = {}): BenchRecord {
  return {
    op: 'gemm', backend: 'reference', version: 0, model: '0.6b', res: '256', height: 256, width: 256, tokens: 64, batch: 1,
    dtype: 'f32', variant: 'qkv', dims: { M: 64, N: 3456, K: 1152 }, median_ms: 2, p20_ms: 1.5, p80_ms: 2.5, mean_ms: 2,
    rme_pct: 1, samples: 5, calls_per_sample: 1, flops: 1e9, bytes: 1e7, gflops: 500, gbs: 5, roofline_pct: 50,
    device: 'cpu: test', threads: 1, timer: 'benchmark.js', status: 'ok', note: '', ...over,
  };
}

function file(records: BenchRecord[]): BenchResultsFile {
  return { format: RESULTS_FORMAT, environment: captureEnvironment('test'), ceilings: [], baselines: ['reference'], records };
}

describe('bench records', () => {
  it('accept a timed record and a skipped one', () => {
    expect(() => validateRecord(record())).not.toThrow();
    const skipped = record({ status: 'skipped: budget', median_ms: null, p20_ms: null, p80_ms: null, mean_ms: null, gflops: null, gbs: null, roofline_pct: null });
    expect(() => validateRecord(skipped)).not.toThrow();
  });

  it('reject records that would lie or break the report', () => {
    expect(() => validateRecord(record({ median_ms: null }))).toThrow(/positive median_ms/);
    expect(() => validateRecord(record({ p20_ms: 3 }))).toThrow(/out of order/);
    expect(() => validateRecord(record({ status: 'unavailable' }))).toThrow(/must not carry a median/);
    expect(() => validateRecord(record({ status: 'fast' as never }))).toThrow(/status/);
    expect(() => validateRecord(record({ flops: NaN }))).toThrow(/flops/);
    expect(() => validateRecord({ ...record(), op: 3 })).toThrow(/"op"/);
  });

  it('round-trip through a results file and name the file on errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sana-bench-'));
    const p = join(dir, 'r.json');
    writeResults(p, file([record()]));
    expect(readResults(p).records[0]!.variant).toBe('qkv');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...file([]), format: 'other/1' }));
    expect(() => readResults(bad)).toThrow(/bad\.json.*format/);
    expect(() => validateResults({ ...file([]), records: [{}] })).toThrow(TypeError);
  });

  it('capture the environment, with the git commit of this checkout', () => {
    const e = captureEnvironment('sana-lab bench x');
    expect(e.cpu_cores).toBeGreaterThan(0);
    expect(e.node).toBe(process.version);
    expect(e.command).toBe('sana-lab bench x');
    expect(Number.isNaN(Date.parse(e.date))).toBe(false);
    // null only outside a git checkout; this project is one
    expect(e.git_commit).toMatch(/^[0-9a-f]{40}$/);
  });
});
