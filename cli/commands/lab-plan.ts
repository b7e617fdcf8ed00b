/**
 * What `sana-lab lab` benchmarks: which backends (every one available here, found in one place), which
 * of them are baselines, and the bench parts — one per (model, resolution), so the sampling can shrink
 * as the calls grow. The defaults are sized to finish the whole lab in about ten minutes on 2 cores:
 *   DiT ops of Sana-0.6B, batch 2 (one CFG step), f32, at 256², 512², 1024², 2048²;
 *   the DC-AE decoder's ops (exactly the calls of a decode, bench/shapes.ts dcaeDecodePlan), batch 1,
 *   f32, at 256², 512², 1024² (2048² alone would take longer than the rest of the lab together);
 *   the native backends everywhere; the budgeted pure-TS reference only at 256²; the other baselines
 *   (torch) on the DiT ops up to 1024² and on the DC-AE ops at 256² only — torch eager takes 2–4× the
 *   native time on the big ops (mix-ffn, the DC-AE ResBlocks), so at 2048² (DiT) and from 512² (DC-AE)
 *   it alone would take longer than the rest of the lab.
 * And the whole-model profiles (`sana-lab profile`): Sana-0.6B with one of its 28 blocks run as one
 * dit-block op and the step extrapolated to the full depth, at 256² (+ the DC-AE decode), 512² and
 * 1024² on every native backend present — about 20 s on 2 cores, so the report's "Whole model"
 * section is filled on every machine.
 */
import { BACKEND_NAMES, createBackend } from '../../bench/backends/index.js';
import type { BenchBackend } from '../../bench/backends/backend.js';
import { DCAE_OPS, DIT_OPS, type OpName } from '../../bench/catalogue.js';
import type { ModelKey } from '../../bench/models.js';
import { dcaeDecodePlan, parseResolution, resLabel, tokensOf, type OpShape } from '../../bench/shapes.js';

/** The lab's own kernels; every other backend (reference, torch, …) is a baseline they are compared with. */
export const NATIVE_BACKENDS: readonly string[] = ['cpu', 'cuda'];

/** The baselines among `names`: every backend that is not one of the lab's native kernels. */
export function baselineNames(names: readonly string[]): string[] {
  return names.filter((n) => !NATIVE_BACKENDS.includes(n));
}

export interface BackendDiscovery {
  /** Usable here, in BACKEND_NAMES order. */
  available: BenchBackend[];
  /** Named but not usable here, with the backend's own reason. */
  unavailable: { name: string; reason: string }[];
}

/**
 * Every registered bench backend (bench/backends/index.ts BACKEND_NAMES) that can run on this machine.
 * A backend whose factory throws counts as unavailable with that error as the reason.
 */
export async function discoverBackends(
  names: readonly string[] = BACKEND_NAMES,
  create: (name: string) => Promise<BenchBackend> = createBackend,
): Promise<BackendDiscovery> {
  const out: BackendDiscovery = { available: [], unavailable: [] };
  for (const name of names) {
    let b: BenchBackend;
    try {
      b = await create(name);
    } catch (e) {
      out.unavailable.push({ name, reason: `could not be created: ${(e as Error).message}` });
      continue;
    }
    const av = b.available();
    if (av.ok) out.available.push(b);
    else {
      out.unavailable.push({ name, reason: av.reason });
      closeBackend(b);
    }
  }
  return out;
}

/** Release what a backend holds open (the torch backend's Python worker); a no-op for the others. */
export function closeBackend(b: BenchBackend): void {
  (b as { close?: () => void }).close?.();
}

export interface LabScope {
  /** DiT (Sana-0.6B) resolutions. */
  ditRes: string[];
  /** DC-AE decode resolutions. */
  dcaeRes: string[];
  /** Where budgeted backends (the pure-TS reference) run; elsewhere they are left out. */
  budgetedRes: string[];
  /** Where the other baselines (neither native nor budgeted: torch) run the DiT ops and the DC-AE ops. */
  ditBaselineRes: string[];
  dcaeBaselineRes: string[];
  ditBatch: number;
  dcaeBatch: number;
  /** benchmark.js minimum samples; undefined = 3 up to 512², 2 above. */
  minSamples?: number;
  maxTimeS: number;
  /** DiT ops (default all) and, for --quick, the gemm instances to keep. */
  ditOps: readonly OpName[];
  ditVariants?: string[];
  /** Whole-model profile resolutions, those that also decode, and extra `sana-lab profile` arguments. */
  profileRes: string[];
  profileDecodeRes: string[];
  profileArgs: readonly string[];
}

export const DEFAULT_SCOPE: LabScope = {
  ditRes: ['256', '512', '1024', '2048'],
  dcaeRes: ['256', '512'],
  budgetedRes: ['256'],
  ditBaselineRes: ['256', '512', '1024'],
  dcaeBaselineRes: ['256'],
  ditBatch: 2,
  dcaeBatch: 1,
  maxTimeS: 0.5,
  ditOps: DIT_OPS,
  profileRes: ['256', '512', '1024'],
  profileDecodeRes: ['256'],
  profileArgs: [],
};

/** CI-sized: three small DiT cases at 256², short timings. */
export const QUICK_SCOPE: LabScope = {
  ditRes: ['256'],
  dcaeRes: [],
  budgetedRes: ['256'],
  ditBaselineRes: ['256'],
  dcaeBaselineRes: ['256'],
  ditBatch: 2,
  dcaeBatch: 1,
  minSamples: 2,
  maxTimeS: 0.05,
  ditOps: ['gemm', 'linear-attention', 'layernorm-modulate'],
  ditVariants: ['t-embed-2'],
  profileRes: ['256'],
  profileDecodeRes: [],
  profileArgs: ['--text-len', '16', '--repeat', '1'],
};

/** One runBench call of the lab. */
export interface LabBenchPart {
  label: string;
  model: ModelKey;
  res: string;
  batch: number;
  ops: OpName[];
  variants?: string[];
  /** Explicit shapes (the DC-AE decode's calls) instead of the whole catalogue. */
  shapes?: OpShape[];
  backends: string[];
  minSamples: number;
  maxTimeS: number;
}

/** Fewer samples where one call takes seconds: 3 up to 512² (256 tokens), 2 above. */
export function defaultMinSamples(res: string): number {
  return tokensOf(parseResolution(res)) <= 256 ? 3 : 2;
}

/** The DC-AE decode's distinct calls at one resolution (each once, in decode order). */
export function dcaeDecodeShapes(res: string, batch: number): OpShape[] {
  const shapes = new Map<string, OpShape>();
  for (const { shape } of dcaeDecodePlan(parseResolution(res), batch)) {
    const k = `${shape.op}:${shape.variant}`;
    if (!shapes.has(k)) shapes.set(k, shape);
  }
  return [...shapes.values()];
}

/**
 * The bench parts, smallest resolution first, DiT before DC-AE at each resolution. `backends` are the
 * available ones; `budgeted` names those capped by a time budget (they join only at scope.budgetedRes).
 */
export function labBenchParts(scope: LabScope, backends: readonly string[], budgeted: readonly string[]): LabBenchPart[] {
  const has = (list: readonly string[], res: string) => list.some((r) => resLabel(parseResolution(r)) === res);
  const at = (res: string) => backends.filter((b) => !budgeted.includes(b) || has(scope.budgetedRes, res));
  // native and budgeted backends as above; the other baselines only where their model's list says
  const joins = (baselineRes: readonly string[]) => (res: string) => at(res).filter((b) => NATIVE_BACKENDS.includes(b) || budgeted.includes(b) || has(baselineRes, res));
  const ditAt = joins(scope.ditBaselineRes);
  const dcaeAt = joins(scope.dcaeBaselineRes);
  const all = [...new Set([...scope.ditRes, ...scope.dcaeRes].map((r) => resLabel(parseResolution(r))))];
  all.sort((a, b) => tokensOf(parseResolution(a)) - tokensOf(parseResolution(b)));
  const parts: LabBenchPart[] = [];
  for (const res of all) {
    const timing = { minSamples: scope.minSamples ?? defaultMinSamples(res), maxTimeS: scope.maxTimeS };
    const names = ditAt(res);
    if (names.length > 0 && has(scope.ditRes, res)) {
      parts.push({
        label: `Sana-0.6B DiT ops at ${res}², batch ${scope.ditBatch}, f32`,
        model: '0.6b',
        res,
        batch: scope.ditBatch,
        ops: [...scope.ditOps],
        ...(scope.ditVariants ? { variants: scope.ditVariants } : {}),
        backends: names,
        ...timing,
      });
    }
    const dcaeNames = dcaeAt(res);
    if (dcaeNames.length > 0 && has(scope.dcaeRes, res)) {
      parts.push({
        label: `DC-AE decode ops at ${res}², batch ${scope.dcaeBatch}, f32`,
        model: 'dcae',
        res,
        batch: scope.dcaeBatch,
        ops: [...DCAE_OPS],
        shapes: dcaeDecodeShapes(res, scope.dcaeBatch),
        backends: dcaeNames,
        ...timing,
      });
    }
  }
  return parts;
}

/** The number of distinct resolutions the scope covers (what the report check expects). */
export function scopeResolutions(scope: LabScope): number {
  return new Set([...scope.ditRes, ...scope.dcaeRes].map((r) => resLabel(parseResolution(r)))).size;
}

/** The lab's profile model: Sana-0.6B, one block timed as one dit-block op, extrapolated to 28. */
export const LAB_PROFILE_ARGS: readonly string[] = ['--model', '0.6b', '--blocks', '1', '--block-mode', 'dit-block'];

/** One `sana-lab profile` run of the lab (its arguments without --json). */
export interface LabProfile {
  /** The entry's name in lab-profiles.json, e.g. "p-cpu-256". */
  name: string;
  backend: string;
  res: string;
  argv: string[];
}

/**
 * The whole-model profiles: every native backend among `backends` at every scope.profileRes, smallest
 * first, with --decode at scope.profileDecodeRes.
 */
export function labProfiles(scope: LabScope, backends: readonly string[]): LabProfile[] {
  const natives = NATIVE_BACKENDS.filter((b) => backends.includes(b));
  const sizes = [...new Set(scope.profileRes.map((r) => resLabel(parseResolution(r))))].sort((a, b) => tokensOf(parseResolution(a)) - tokensOf(parseResolution(b)));
  const decodes = new Set(scope.profileDecodeRes.map((r) => resLabel(parseResolution(r))));
  return natives.flatMap((backend) =>
    sizes.map((res) => {
      const { height, width } = parseResolution(res);
      const argv = [...LAB_PROFILE_ARGS, '--width', String(width), '--height', String(height), '--backend', backend, ...(decodes.has(res) ? ['--decode'] : []), ...scope.profileArgs];
      return { name: `p-${backend}-${res}${decodes.has(res) ? '-decode' : ''}`, backend, res, argv };
    }),
  );
}
