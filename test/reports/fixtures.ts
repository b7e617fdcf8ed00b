/**
 * Synthetic bench and parity files for the report tests. The timings are invented (clearly not
 * measurements); FLOPs and bytes come from the real cost model so derived numbers are consistent.
 */
import { imageFloor } from '../../bench/image-floor.js';
import { opCost } from '../../bench/catalogue.js';
import type { BenchDType } from '../../bench/cost-model.js';
import { RESULTS_FORMAT, type BenchRecord, type BenchResultsFile } from '../../bench/record.js';
import type { Ceilings } from '../../bench/roofline.js';
import { dcaeDecodePlan, ditBlockPlan, ditStepPlan, parseResolution, shapesFor, type OpShape } from '../../bench/shapes.js';
import { PARITY_FORMAT, type ParityFile } from '../../reports/parity.js';

export const DEVICE = 'cpu: synthetic test CPU (2 cores)';

export const CEILINGS: Ceilings = {
  device: DEVICE,
  dtype: 'any',
  peakFlops: 50e9,
  peakSource: 'synthetic',
  bandwidth: 20e9,
  bandwidthSource: 'synthetic',
  measuredAt: '2026-01-01T00:00:00.000Z',
  fmaPeakFlops: 80e9,
  fmaPeakSource: 'synthetic FMA loop',
};

export function rec(shape: OpShape, backend: string, version: number, medianMs: number | null, dtype: BenchDType = 'f32'): BenchRecord {
  const c = opCost(shape, dtype);
  const s = medianMs === null ? null : medianMs / 1e3;
  return {
    op: shape.op,
    backend,
    version,
    model: shape.model,
    res: shape.res,
    height: shape.height,
    width: shape.width,
    tokens: shape.tokens,
    batch: shape.batch,
    dtype,
    variant: shape.variant,
    dims: { ...shape.dims },
    median_ms: medianMs,
    p20_ms: medianMs === null ? null : medianMs * 0.9,
    p80_ms: medianMs === null ? null : medianMs * 1.1,
    mean_ms: medianMs,
    rme_pct: medianMs === null ? null : 1,
    samples: medianMs === null ? 0 : 5,
    calls_per_sample: medianMs === null ? 0 : 1,
    flops: c.flops,
    bytes: c.bytes,
    gflops: s === null ? null : c.flops / s / 1e9,
    gbs: s === null ? null : c.bytes / s / 1e9,
    roofline_pct: s === null ? null : ((c.flops / s) / Math.min(CEILINGS.peakFlops, c.intensity * CEILINGS.bandwidth)) * 100,
    device: DEVICE,
    threads: backend === 'reference' ? 1 : 2,
    timer: medianMs === null ? 'none' : 'benchmark.js',
    status: medianMs === null ? 'skipped: budget' : 'ok',
    note: medianMs === null ? 'estimated 99 s per call exceeds the 20 s budget' : '',
  };
}

/** DiT-block parts and the fused block at 256/512/1024 for reference (100 ms × res factor) and cpu v1/v2. */
export function syntheticBench(): BenchResultsFile {
  const records: BenchRecord[] = [];
  for (const [res, f] of [['256', 1], ['512', 4], ['1024', 16]] as const) {
    const r = parseResolution(res);
    for (const { shape } of ditBlockPlan('0.6b', r, 1)) {
      records.push(rec(shape, 'reference', 0, 100 * f), rec(shape, 'cpu', 1, 20 * f), rec(shape, 'cpu', 2, 10 * f));
    }
    const [block] = shapesFor('dit-block', '0.6b', r, 1);
    records.push(rec(block!, 'cpu', 2, 45 * f));
  }
  const [decIn] = shapesFor('conv3x3', 'dcae', parseResolution('512'), 1).filter((s) => s.variant === 'dec-in');
  records.push(rec(decIn!, 'reference', 0, 300), rec(decIn!, 'cpu', 1, 3));
  const [qkv] = shapesFor('gemm', '0.6b', parseResolution('4096'), 1).filter((s) => s.variant === 'qkv');
  records.push(rec(qkv!, 'reference', 0, null));
  return {
    format: RESULTS_FORMAT,
    environment: {
      cpu_model: 'synthetic test CPU',
      cpu_cores: 2,
      total_mem_gib: 8,
      node: 'v20.0.0',
      platform: 'linux',
      arch: 'x64',
      git_commit: '0123456789abcdef0123456789abcdef01234567',
      git_dirty: false,
      date: '2026-01-01T00:00:00.000Z',
      command: 'sana-lab bench (synthetic)',
      extra: {},
    },
    ceilings: [CEILINGS],
    baselines: ['reference'],
    records,
  };
}

export function syntheticParity(): ParityFile {
  return {
    format: PARITY_FORMAT,
    environment: { cpu_model: 'synthetic test CPU', cpu_cores: 2, cpu_threads: 2, backends: 'cpu', git_commit: 'abc123', git_dirty: false, date: '2026-01-01T00:00:00.000Z', command: 'sana-lab parity (synthetic)' },
    records: [
      { op: 'linear-attention', backend: 'cpu', dtype: 'f32', shape: '[1, 1024, 1152]', rel: 3.2e-7, max_abs: 1.1e-6, tolerance: 1e-5, pass: true },
      { op: 'mix-ffn', backend: 'cpu', version: 1, dtype: 'bf16', shape: '[2, 256, 1152]', rel: 9e-2, max_abs: 0.5, plain_rel: 2e-3, ratio: 45, tolerance: '≤ 2× plain bf16 (4.0e-3)', pass: false },
    ],
    skipped: [{ op: 'dcae-upsample', backend: 'cpu', dtype: 'f32', reason: 'not in the op API (synthetic)' }],
    self_checks: [{ kernel: 'cpu gemm, off-by-one (synthetic)', op: 'gemm', dtype: 'f32', shape: 'M=37', rel: 1.3, max_abs: 2, rejected: true, reason: 'rel 1.3 > 1e-5' }],
  };
}

/**
 * A lab-shaped run at four resolutions: every op of a DiT block, a DiT step and a DC-AE decode, on the
 * native cpu backend and on a baseline named `baseline` (not 'reference': the report must work with any
 * baseline). Invented timings: FLOPs over a fixed rate (cpu 40 GFLOP/s, the baseline 10 GFLOP/s).
 */
export function syntheticLab(resolutions: readonly string[] = ['256', '512', '1024', '2048'], baseline = 'torch'): BenchResultsFile {
  const records: BenchRecord[] = [];
  const seen = new Set<string>();
  for (const res of resolutions) {
    const r = parseResolution(res);
    const plans = [...ditStepPlan('0.6b', r, 2), ...ditBlockPlan('0.6b', r, 2), ...dcaeDecodePlan(r, 1)];
    for (const { shape } of plans) {
      const k = `${shape.op}:${shape.variant}:${shape.model}:${shape.res}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const ms = (rate: number) => (opCost(shape, 'f32').flops / rate) * 1e3;
      records.push(rec(shape, 'cpu', 1, ms(40e9)), rec(shape, baseline, 0, ms(10e9)));
    }
  }
  return { ...syntheticBench(), baselines: [baseline], records };
}

/**
 * Real CPU whole-model profiles recorded before profiles had a "format" (sana-lab profile --json of commit
 * 88e7111, kept as fixtures: the report must keep reading them, and the tests pin their numbers).
 */
export const OLDER_PROFILES = ['256-f32', '256-bf16', '512-f32', '512-bf16'].map((s) => `test/reports/fixtures/profile-cpu-0.6b-${s}.json`);

/** The committed CPU profiles of reports/ (current format; re-recorded as the runners change). */
export const COMMITTED_PROFILES = ['256-f32', '256-bf16', '512-f32', '512-bf16'].map((s) => `reports/profile-cpu-0.6b-${s}.json`);

export const GPU_DEVICE = 'NVIDIA H100 80GB HBM3 (synthetic)';

/**
 * A cuda-shaped `sana-lab profile` report (synthetic timings): every block run, the queued step with its
 * host overhead, `machine.device`, optionally the decode. `stepMs` is the queued step.
 */
export function cudaProfile(res: number, stepMs: number, o: { decodeMs?: number; blockMode?: string; name?: string } = {}): Record<string, unknown> {
  const entry = (name: string, ms: number, calls = 1) => ({ name, kind: name.startsWith('host.') ? 'host' : 'op', calls, ms, share: 0, extrapolated: false });
  const synced = stepMs * 1.25;
  const breakdown = [entry('block.dit-block', synced * 0.9, 28), entry('adaln.gemm', synced * 0.06), entry('host.cfg', synced * 0.04)];
  const decode = o.decodeMs === undefined ? null : { ms: o.decodeMs, tiled: false, tiles: 1, tile: null, breakdown: [entry('s0.dcae-resblock', o.decodeMs * 0.7, 3), entry('head.dcae-head', o.decodeMs * 0.3)] };
  const captionMs = 2;
  const imageMs = 20 * stepMs + captionMs + (o.decodeMs ?? 0);
  return {
    ...(o.name !== undefined ? { name: o.name } : {}),
    format: 'sana-lab-profile/1',
    command: 'profile',
    model: 'sana-0.6b',
    weights: 'random',
    backend: 'cuda',
    dtype: 'bf16',
    blockMode: o.blockMode ?? 'dit-block',
    machine: { cpu: 'synthetic host CPU', threads: 16, device: GPU_DEVICE, backend: 'cuda' },
    width: res,
    height: res,
    batch: 2,
    steps: 20,
    cfg: 4.5,
    textTokens: 300,
    blocks: { run: 28, depth: 28, extrapolated: false },
    step_ms: stepMs,
    caption_ms: captionMs,
    breakdown,
    queued: { step_ms: stepMs, step_ms_measured: stepMs, samples_ms: [stepMs], synced_step_ms: synced, gpu_busy_ms: stepMs * 0.97, host_overhead_ms: stepMs * 0.03, share: 0.03 },
    host_overhead: { per_step_ms: stepMs * 0.2, share: 0.2 },
    decode,
    image_ms: imageMs,
    images_per_s: 1000 / imageMs,
    memory: { dit: {}, decoder: null, peak_bytes: res * res * 4096, process_max_rss_bytes: 2 ** 30 },
    roofline: syntheticRoofline(res, stepMs, o.decodeMs ?? null, imageMs),
    timestamp: '2026-01-01T00:00:00.000Z',
  };
}

/** profile's roofline object for a cuda-shaped profile, on synthetic H100 ceilings (800 TFLOP/s, 3 TB/s). */
function syntheticRoofline(res: number, stepMs: number, decodeMs: number | null, imageMs: number): Record<string, unknown> {
  const ceilings = { device: `cuda: ${GPU_DEVICE}`, dtype: 'bf16', peakFlops: 800e12, bandwidth: 3e12 };
  const f = imageFloor({ model: '0.6b', resolution: { width: res, height: res }, batch: 2, steps: 20, decode: decodeMs !== null, dtype: 'bf16' }, ceilings);
  return {
    ceilings,
    step_floor_ms: f.step.floorMs,
    step_pct: (100 * f.step.floorMs) / stepMs,
    caption_floor_ms: f.caption.floorMs,
    decode_floor_ms: f.decode?.floorMs ?? null,
    decode_pct: f.decode && decodeMs !== null ? (100 * f.decode.floorMs) / decodeMs : null,
    image_floor_ms: f.imageMs,
    image_pct: (100 * f.imageMs) / imageMs,
  };
}

/** bench/gpu/models.sh's merged file of cuda-shaped profiles at 1024 (+ decode), 2048 and 4096. */
export function cudaProfiles(): { schema: string; profiles: Record<string, unknown>[] } {
  return {
    schema: 'sana-lab-profiles/1',
    profiles: [cudaProfile(1024, 5, { decodeMs: 20, name: 'p-0.6b-1024' }), cudaProfile(2048, 20, { name: 'p-0.6b-2048' }), cudaProfile(4096, 80, { decodeMs: 400, name: 'p-0.6b-4096' })],
  };
}
