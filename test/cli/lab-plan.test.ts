import { describe, expect, it } from 'vitest';
import type { BenchBackend } from '../../bench/backends/backend.js';
import { UnavailableBackend } from '../../bench/backends/index.js';
import { dcaeDecodePlan, parseResolution } from '../../bench/shapes.js';
import {
  baselineNames,
  DEFAULT_SCOPE,
  dcaeDecodeShapes,
  defaultMinSamples,
  discoverBackends,
  labBenchParts,
  labProfiles,
  LAB_PROFILE_ARGS,
  QUICK_SCOPE,
  scopeResolutions,
} from '../../cli/commands/lab-plan.js';

/** A usable stand-in backend (only what discovery looks at). */
function usable(name: string, onClose?: () => void): BenchBackend {
  const b = new UnavailableBackend(name, 'unused');
  return Object.assign(Object.create(b) as BenchBackend, { available: () => ({ ok: true as const }), close: onClose });
}

describe('which backends the lab runs', () => {
  it('every backend but the native kernels is a baseline, whatever its name', () => {
    expect(baselineNames(['reference', 'cpu', 'cuda', 'torch'])).toEqual(['reference', 'torch']);
    expect(baselineNames(['cpu', 'onnx'])).toEqual(['onnx']);
    expect(baselineNames(['cpu'])).toEqual([]);
  });

  it('discovers every registered backend: usable ones, and the others with their reason (a throwing factory included)', async () => {
    const closed: string[] = [];
    const factories: Record<string, () => Promise<BenchBackend>> = {
      reference: async () => usable('reference'),
      cpu: async () => usable('cpu'),
      cuda: async () => new UnavailableBackend('cuda', 'no CUDA device'),
      torch: async () => {
        throw new Error('python3 has no torch');
      },
      extra: async () => Object.assign(new UnavailableBackend('extra', 'worker exited'), { close: () => closed.push('extra') }),
    };
    const found = await discoverBackends(Object.keys(factories), (n) => factories[n]!());
    expect(found.available.map((b) => b.name)).toEqual(['reference', 'cpu']);
    expect(found.unavailable).toEqual([
      { name: 'cuda', reason: 'no CUDA device' },
      { name: 'torch', reason: 'could not be created: python3 has no torch' },
      { name: 'extra', reason: 'worker exited' },
    ]);
    expect(closed).toEqual(['extra']); // an unusable backend's worker is released at once
  });

  it('uses the real registry by default (cpu is available wherever the addon is built)', async () => {
    const found = await discoverBackends(['reference', 'cpu']);
    expect(found.available.map((b) => b.name)).toContain('reference');
    expect([...found.available.map((b) => b.name), ...found.unavailable.map((u) => u.name)].sort()).toEqual(['cpu', 'reference']);
  });
});

describe('the default bench scope', () => {
  const parts = labBenchParts(DEFAULT_SCOPE, ['reference', 'cpu', 'torch'], ['reference']);

  it('covers four resolutions: DiT ops at 256…2048, DC-AE decode ops at 256 and 512, smallest first', () => {
    expect(parts.map((p) => `${p.model}@${p.res}`)).toEqual(['0.6b@256', 'dcae@256', '0.6b@512', 'dcae@512', '0.6b@1024', '0.6b@2048']);
    expect(scopeResolutions(DEFAULT_SCOPE)).toBe(4);
    expect(parts.filter((p) => p.model === '0.6b').every((p) => p.batch === 2)).toBe(true);
  });

  it('runs the native backends at every resolution, the budgeted reference only at 256, torch on the DiT ops up to 1024 and the DC-AE ops at 256', () => {
    for (const p of parts) {
      const want = p.res === '256' ? ['reference', 'cpu', 'torch'] : p.model === 'dcae' || p.res === '2048' ? ['cpu'] : ['cpu', 'torch'];
      expect(p.backends, p.label).toEqual(want);
    }
    const wider = labBenchParts({ ...DEFAULT_SCOPE, dcaeRes: ['256', '512', '1024'], dcaeBaselineRes: ['256', '512'] }, ['cpu', 'torch'], []);
    expect(wider.filter((p) => p.model === 'dcae').map((p) => p.backends)).toEqual([['cpu', 'torch'], ['cpu', 'torch'], ['cpu']]);
    expect(labBenchParts({ ...DEFAULT_SCOPE, budgetedRes: ['256', '512'] }, ['reference', 'cpu'], ['reference']).filter((p) => p.backends.includes('reference')).map((p) => p.res)).toEqual([
      '256',
      '256',
      '512',
      '512',
    ]);
    // a backend list with only the budgeted reference drops the resolutions it does not run at
    expect(labBenchParts(DEFAULT_SCOPE, ['reference'], ['reference']).map((p) => p.res)).toEqual(['256', '256']);
  });

  it('times the DC-AE decode calls exactly: each distinct call of the decode plan once', () => {
    const dcae = parts.find((p) => p.model === 'dcae' && p.res === '512')!;
    const want = new Set(dcaeDecodePlan(parseResolution('512'), 1).map((e) => `${e.shape.op}:${e.shape.variant}`));
    expect(dcae.shapes!.map((s) => `${s.op}:${s.variant}`).sort()).toEqual([...want].sort());
    expect(dcaeDecodeShapes('256', 1).every((s) => s.batch === 1 && s.res === '256')).toBe(true);
  });

  it('samples less where calls take seconds', () => {
    expect([defaultMinSamples('256'), defaultMinSamples('512'), defaultMinSamples('1024'), defaultMinSamples('2048')]).toEqual([3, 3, 2, 2]);
    expect(parts.map((p) => p.minSamples)).toEqual([3, 3, 3, 3, 2, 2]);
    expect(labBenchParts({ ...DEFAULT_SCOPE, minSamples: 5 }, ['cpu'], []).every((p) => p.minSamples === 5)).toBe(true);
  });

  it('--quick: three small DiT cases at 256 only', () => {
    const q = labBenchParts(QUICK_SCOPE, ['reference', 'cpu'], ['reference']);
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ model: '0.6b', res: '256', ops: ['gemm', 'linear-attention', 'layernorm-modulate'], variants: ['t-embed-2'], backends: ['reference', 'cpu'] });
  });
});

describe('the whole-model profiles of the lab', () => {
  it('Sana-0.6B, one dit-block extrapolated, at 256 (+ decode), 512 and 1024 on every native backend present', () => {
    const plan = labProfiles(DEFAULT_SCOPE, ['reference', 'cpu', 'cuda', 'torch']);
    expect(plan.map((p) => p.name)).toEqual(['p-cpu-256-decode', 'p-cpu-512', 'p-cpu-1024', 'p-cuda-256-decode', 'p-cuda-512', 'p-cuda-1024']);
    expect(plan[0]!.argv).toEqual([...LAB_PROFILE_ARGS, '--width', '256', '--height', '256', '--backend', 'cpu', '--decode']);
    expect(plan[2]!.argv).toEqual([...LAB_PROFILE_ARGS, '--width', '1024', '--height', '1024', '--backend', 'cpu']);
    expect(LAB_PROFILE_ARGS).toEqual(['--model', '0.6b', '--blocks', '1', '--block-mode', 'dit-block']);
  });

  it('nothing without a native backend or resolutions; non-square sizes pass as width and height; duplicates once', () => {
    expect(labProfiles(DEFAULT_SCOPE, ['reference', 'torch'])).toEqual([]);
    expect(labProfiles({ ...DEFAULT_SCOPE, profileRes: [] }, ['cpu'])).toEqual([]);
    const odd = labProfiles({ ...DEFAULT_SCOPE, profileRes: ['512x1024', '256', '256'], profileDecodeRes: [] }, ['cpu']);
    expect(odd.map((p) => p.res)).toEqual(['256', '512x1024']);
    expect(odd[1]!.argv.slice(LAB_PROFILE_ARGS.length, LAB_PROFILE_ARGS.length + 4)).toEqual(['--width', '1024', '--height', '512']);
  });

  it('--quick: one short profile at 256 (16 text tokens, one timed step after the warm-up), no decode', () => {
    const q = labProfiles(QUICK_SCOPE, ['reference', 'cpu']);
    expect(q.map((p) => p.name)).toEqual(['p-cpu-256']);
    expect(q[0]!.argv.slice(-4)).toEqual(['--text-len', '16', '--repeat', '1']);
  });
});
