/** `sana-lab bench`: time ops at catalogue shapes on one or more backends and write a results JSON. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createBackend, BACKEND_NAMES } from '../../bench/backends/index.js';
import { isBenchDType, type BenchDType } from '../../bench/cost-model.js';
import { isModelKey, MODEL_KEYS } from '../../bench/models.js';
import { isOpName, opsOfModel, type OpName } from '../../bench/catalogue.js';
import { writeResults } from '../../bench/record.js';
import { backendStatus, cudaEmulationNotice } from '../../bindings/backends.js';
import { runBench, summaryTable } from '../../bench/runner.js';
import { catalogue, parseResolution } from '../../bench/shapes.js';
import { intOption, outputFile, parseArgs } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { checkVersionExists } from '../version-option.js';

const USAGE = `usage: sana-lab bench --json FILE [options]

Times the catalogue's ops (bench/catalogue.ts) at the shapes they take in the model (bench/shapes.ts)
and writes one results file with median / p20 / p80, achieved GFLOP/s and GB/s and % of the measured
roofline for every case. Cases that cannot run are recorded with the reason (unavailable, skipped:
budget, skipped: memory, error). The cpu and reference backends are timed on the host (benchmark.js);
the cuda backend on the device (CUDA events, warm-up, an L2 flush before each timed run), every
catalogue version of each op (or --version N), against the device's measured ceilings (bf16).

  --json FILE          where to write the results (required)
  --model M            ${MODEL_KEYS.join(' | ')} (default 0.6b)
  --ops LIST           comma-separated op names (default: every op of the model)
  --res LIST           resolutions, N or HxW (default 256,512,1024)
  --backend LIST       ${BACKEND_NAMES.join(', ')} (default reference,cpu; unavailable ones are recorded as such)
  --dtype LIST         f32 | bf16 (default f32)
  --batch LIST         batch sizes; 2 = one CFG step (default 1)
  --version N          only kernel version N (default: every version; see bench/catalogue.ts native)
  --variant LIST       only these instances of multi-instance ops (e.g. qkv,ffn-in or s3,up-s0)
  --budget-s S         per-case time budget for the slow reference backend (default 20)
  --min-samples N      benchmark.js minimum samples (default 5)
  --max-time-s S       benchmark.js max sampling time per case (default 2)
  --baseline LIST      backends that are this run's baselines (default: reference if run)
  --no-ceilings        skip the ceiling measurement (records get no roofline %)
  --quiet              no progress bar

example: sana-lab bench --model 0.6b --ops gemm --res 256,512 --backend reference,cpu --json reports/gemm.json`;

const SPEC = {
  json: { type: 'string' },
  model: { type: 'string' },
  ops: { type: 'list' },
  res: { type: 'list' },
  backend: { type: 'list' },
  dtype: { type: 'list' },
  batch: { type: 'list' },
  version: { type: 'string' },
  variant: { type: 'list' },
  'budget-s': { type: 'string' },
  'min-samples': { type: 'string' },
  'max-time-s': { type: 'string' },
  baseline: { type: 'list' },
  'no-ceilings': { type: 'flag' },
  quiet: { type: 'flag' },
} as const;

function positiveNumber(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`bench: --${name} must be a positive number, got "${v}"`);
  return n;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'time ops at model shapes per backend; write median/p20/p80, GFLOP/s, % roofline to JSON',
  usage: USAGE,
  async run(argv) {
    const a = parseArgs('bench', argv, SPEC);
    if (a.positionals.length > 0) throw new UsageError(`bench: unexpected argument "${a.positionals[0]}"`);
    const json = a.values.get('json');
    if (json === undefined) throw new UsageError('bench: --json FILE is required');
    outputFile('bench', 'json', json);
    const model = a.values.get('model') ?? '0.6b';
    if (!isModelKey(model)) throw new UsageError(`bench: --model must be one of ${MODEL_KEYS.join(', ')}, got "${model}"`);
    const own = opsOfModel(model);
    const opNames = a.lists.get('ops') ?? [...own];
    for (const o of opNames) {
      if (!isOpName(o)) throw new UsageError(`bench: unknown op "${o}" (ops of ${model}: ${own.join(', ')})`);
      if (!own.includes(o)) throw new UsageError(`bench: op "${o}" is not part of model ${model} (its ops: ${own.join(', ')})`);
    }
    let resolutions;
    try {
      resolutions = (a.lists.get('res') ?? ['256', '512', '1024']).map(parseResolution);
    } catch (e) {
      throw new UsageError(`bench: --res: ${(e as Error).message}`);
    }
    const dtypes = a.lists.get('dtype') ?? ['f32'];
    for (const d of dtypes) if (!isBenchDType(d)) throw new UsageError(`bench: --dtype must be f32 or bf16, got "${d}"`);
    const batches = (a.lists.get('batch') ?? ['1']).map((b) => intOption('bench', 'batch', b, 1));
    // A variant no chosen op has would filter every case out ("wrote 0 records"): name the ones there are.
    const variants = a.lists.get('variant');
    if (variants !== undefined) {
      const known = new Set(resolutions.flatMap((r) => batches.flatMap((b) => catalogue(model, r, b))).filter((s) => opNames.includes(s.op) && s.variant !== '').map((s) => s.variant));
      const unknown = variants.filter((v) => !known.has(v));
      if (unknown.length > 0) {
        throw new UsageError(
          `bench: unknown --variant ${unknown.join(', ')} for ${opNames.join(', ')} (${known.size ? `variants: ${[...known].join(', ')}` : 'these ops have one instance each: drop --variant'})`,
        );
      }
    }
    const version = a.values.has('version') ? intOption('bench', 'version', a.values.get('version'), 0, 0) : undefined;
    const backendNames = a.lists.get('backend') ?? ['reference', 'cpu'];
    for (const b of backendNames) if (!BACKEND_NAMES.includes(b)) throw new UsageError(`bench: unknown backend "${b}" (backends: ${BACKEND_NAMES.join(', ')})`);
    const baselines = a.lists.get('baseline');
    for (const b of baselines ?? []) if (!backendNames.includes(b)) throw new UsageError(`bench: baseline "${b}" is not among --backend ${backendNames.join(',')}`);
    if (version !== undefined) checkVersionExists('bench', backendNames, opNames as OpName[], version);

    const backends = await Promise.all(backendNames.map(createBackend));
    const notice = backendNames.includes('cuda') ? cudaEmulationNotice(backendStatus('cuda')) : undefined;
    if (notice) console.warn(`[sana-lab] bench: ${notice}`);
    for (const b of backends) {
      const av = b.available();
      if (!av.ok) console.error(`bench: backend ${b.name}: ${av.reason} (its cases are recorded as unavailable)`);
    }
    const file = await runBench(
      {
        model,
        ops: opNames as OpName[],
        resolutions,
        batches,
        dtypes: dtypes as BenchDType[],
        backends,
        ...(version !== undefined ? { version } : {}),
        ...(variants !== undefined ? { variants } : {}),
        ...(baselines !== undefined ? { baselines } : {}),
        budgetMs: positiveNumber('budget-s', a.values.get('budget-s'), 20) * 1e3,
        minSamples: intOption('bench', 'min-samples', a.values.get('min-samples'), 5),
        maxTimeS: positiveNumber('max-time-s', a.values.get('max-time-s'), 2),
      },
      {
        progress: a.flags.has('quiet') ? null : process.stderr,
        ...(a.flags.has('no-ceilings') ? { ceilings: [] } : {}),
        command: `sana-lab bench ${argv.join(' ')}`,
      },
    );
    mkdirSync(dirname(json), { recursive: true });
    writeResults(json, file);
    console.log(summaryTable(file));
    const errors = file.records.filter((r) => r.status === 'error').length;
    console.log(`\nwrote ${file.records.length} records to ${json}${errors ? ` (${errors} errors)` : ''}`);
    return errors > 0 ? 1 : 0;
  },
};
