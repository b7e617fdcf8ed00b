import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../../bench/backends/index.js';
import { createTorchBackend, findTorchPython, TORCH_OPS, TORCH_WORKER, TorchBenchBackend } from '../../../bench/backends/torch.js';
import { OP_NAMES, opEntry, type OpName } from '../../../bench/catalogue.js';
import { runBench } from '../../../bench/runner.js';
import { parseResolution, type OpShape } from '../../../bench/shapes.js';

const found = findTorchPython();
const haveTorch = !('error' in found);
if (!haveTorch) console.warn(`[torch backend tests] skipped: ${found.error}`);
const compiled = resolve(dirname(fileURLToPath(import.meta.url)), '../../../dist/bench/backends/torch.js');
const haveDist = existsSync(compiled);
if (!haveDist) console.warn('[torch backend tests] dist/ not built: compiled-path check skipped');

function testShape(op: OpName): OpShape {
  const e = opEntry(op);
  return { op, dims: e.testShapes[0]!, model: e.family === 'dit' ? '0.6b' : 'dcae', variant: 'test', res: 'test', height: 32, width: 32, tokens: 1, batch: 1 } as OpShape;
}

describe('torch backend discovery', () => {
  it('is unavailable, saying why, when the Python given has no torch', async () => {
    const saved = process.env.SANA_LAB_PYTHON;
    process.env.SANA_LAB_PYTHON = '/nonexistent/python3';
    try {
      const b = await createTorchBackend();
      const a = b.available();
      expect(a.ok).toBe(false);
      if (!a.ok) expect(a.reason).toMatch(/no Python with torch .*\/nonexistent\/python3.*SANA_LAB_PYTHON/);
    } finally {
      if (saved === undefined) delete process.env.SANA_LAB_PYTHON;
      else process.env.SANA_LAB_PYTHON = saved;
    }
  });

  // Reported as skipped (the reason is warned above), not as a pass, on a machine without torch.
  it.skipIf(!haveTorch)('rejects a bad SANA_LAB_TORCH_DEVICE', async () => {
    process.env.SANA_LAB_TORCH_DEVICE = 'tpu';
    try {
      const a = (await createTorchBackend()).available();
      expect(a.ok ? '' : a.reason).toMatch(/SANA_LAB_TORCH_DEVICE must be cpu or cuda, got "tpu"/);
    } finally {
      delete process.env.SANA_LAB_TORCH_DEVICE;
    }
  });

  it('finds its Python worker from the source tree', () => {
    expect(existsSync(TORCH_WORKER)).toBe(true);
  });

  it.skipIf(!haveDist)('finds its Python worker from the compiled dist/', async () => {
    const m = (await import(pathToFileURL(compiled).href)) as { TORCH_WORKER: string };
    expect(existsSync(m.TORCH_WORKER), m.TORCH_WORKER).toBe(true);
  });

  it('names only catalogue ops', () => {
    for (const op of TORCH_OPS) expect(OP_NAMES).toContain(op);
  });
});

describe.skipIf(!haveTorch)('the torch backend (PyTorch eager in a worker)', () => {
  let torch: TorchBenchBackend;
  afterAll(() => torch?.close());

  it('computes the ops it stands for (bench/torch/selfcheck.py against float64 formulas)', () => {
    const py = (found as { python: string }).python;
    const r = spawnSync(py, [join(TORCH_WORKER, '..', 'selfcheck.py')], { encoding: 'utf8', timeout: 120_000 });
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { check?: string; ok?: boolean; rel?: number; failures?: number });
    expect(r.status, r.stderr).toBe(0);
    expect(lines.at(-1)!.failures).toBe(0);
    const la = lines.find((l) => l.check === 'linear-attention')!;
    expect(la.ok && la.rel! < 1e-5).toBe(true);
  }, 120_000);

  it('prepares, runs and times every op it has at f32 and bf16, timing inside the worker', async () => {
    torch = (await createBackend('torch')) as TorchBenchBackend;
    expect(torch.available().ok).toBe(true);
    expect(torch.environment().torch).toMatch(/^\d+\.\d+/);
    for (const op of OP_NAMES) {
      const sup = torch.supports(op, 'f32');
      expect(sup.ok, op).toBe(TORCH_OPS.includes(op));
      if (!sup.ok) {
        expect(sup.reason).toMatch(/not in the torch baseline/);
        continue;
      }
      for (const dtype of ['f32', 'bf16'] as const) {
        const p = await torch.prepareOp(testShape(op), dtype);
        await p.run();
        const t = await torch.timeDevice(p, { minSamples: 3, maxTimeS: 0.01 });
        expect(t.samplesMs.length).toBeGreaterThanOrEqual(3);
        expect(t.samplesMs.every((s) => s > 0 && Number.isFinite(s))).toBe(true);
        expect(t.timer).toMatch(/^torch: /);
        p.dispose();
        p.dispose();
      }
    }
  }, 120_000);

  it('turns worker failures into errors naming the op, and keeps working after one', async () => {
    const bad = { ...testShape('gemm'), dims: { M: 4, N: 5, K: 6, bias: true, activation: 'swish' } } as unknown as OpShape;
    await expect(torch.prepareOp(bad, 'f32')).rejects.toThrow(/torch prepare gemm: KeyError: .*swish/);
    const p = await torch.prepareOp(testShape('gemm'), 'f32');
    await p.run();
    p.dispose();
  });

  it('records torch cases beside cpu cases in one bench run, torch as the baseline', async () => {
    const cpu = await createBackend('cpu');
    const file = await runBench(
      {
        backends: [cpu, torch],
        ops: ['linear-attention'],
        resolutions: [parseResolution('256')],
        model: '0.6b',
        dtypes: ['f32'],
        batches: [1],
        budgetMs: 5000,
        minSamples: 2,
        maxTimeS: 0.01,
        baselines: ['torch'],
      },
      { progress: null, ceilings: [] },
    );
    const byBackend = (b: string) => file.records.filter((r) => r.backend === b);
    expect(byBackend('torch')).toHaveLength(1);
    expect(byBackend('torch')[0]!.status).toBe('ok');
    expect(byBackend('torch')[0]!.note).toMatch(/PyTorch .* eager/);
    expect(byBackend('cpu').length).toBeGreaterThanOrEqual(1);
    expect(file.baselines).toEqual(['torch']);
    expect(file.environment.extra['torch.torch']).toMatch(/^\d/);
  }, 60_000);
});
