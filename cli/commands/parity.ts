/** `sana-lab parity`: every catalogue op on every available backend against the TS reference → JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isOpName, OP_NAMES, type OpName } from '../../bench/catalogue.js';
import { parityPassed, parityTable, runParity, type ParityBackend, type ParityDType } from '../../bench/parity/run.js';
import { validateParity, type ParityFile, type ParityRecord } from '../../reports/parity.js';
import { intOption, outputFile, parseArgs } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { checkVersionExists } from '../version-option.js';

export const PARITY_BACKENDS: readonly ParityBackend[] = ['cpu', 'cuda'];

const USAGE = `usage: sana-lab parity --json FILE [options]

Runs every op of the catalogue (bench/catalogue.ts) at its small test shapes on each backend and native
version, on fresh random inputs with NaN-poisoned outputs, against the reference backend (the TS spec,
float64 accumulation), and writes a "sana-lab-parity/1" JSON file:
  f32   relative error ‖out−ref‖/‖ref‖ ≤ 1e-5 and max-abs ≤ 1e-4·max|ref|, no NaN/Inf;
  bf16  relative error and max-abs error each ≤ 2× those of a plain bf16 computation of the same op
        (both against the f64-accumulated reference), no NaN/Inf.
Deliberately wrong kernels (an off-by-one output, an unwritten element) are run through the same
checker and must be rejected. Exits 1 when any check fails; backends that are not available here are
listed as skipped (cuda: no GPU or driver, or an addon built without CUDA), as are versions that do
not run a dtype or refuse a shape by design (e.g. a bf16-only tensor-core kernel at f32). The cuda
backend also runs aligned shapes its tensor-core versions accept (bench/parity/cuda-shapes.ts).

  --json FILE        where to write the results (required)
  --backend LIST     ${PARITY_BACKENDS.join(', ')} (default: all of them; unavailable ones are skipped;
                     a backend named here that is unavailable makes the exit code 1)
  --ops LIST         op names (default: every op of the catalogue)
  --dtype LIST       f32, bf16 (default both)
  --max-shapes N     only the first N test shapes of each op
  --version N        only native version N (catalogue numbering, e.g. cuda gemm 2 = tensor cores)
  --no-self-check    skip the wrong-kernel checks
  --quiet            no per-check progress lines

example: sana-lab parity --backend cpu --ops gemm,mix-ffn --json reports/parity.json
         sana-lab parity --backend cuda --version 2 --json parity-cuda-v2.json`;

const SPEC = {
  json: { type: 'string' },
  backend: { type: 'list' },
  ops: { type: 'list' },
  dtype: { type: 'list' },
  'max-shapes': { type: 'string' },
  version: { type: 'string' },
  'no-self-check': { type: 'flag' },
  quiet: { type: 'flag' },
} as const;

function progressLine(r: ParityRecord): string {
  const err = r.rel === null ? r.note ?? '' : `rel ${r.rel.toExponential(2)}${r.ratio !== undefined ? ` (${r.ratio.toFixed(2)}× plain bf16)` : ''}`;
  return `[parity] ${r.pass ? 'pass' : 'FAIL'} ${r.op} ${r.backend}${r.version ? ` v${r.version}` : ''} ${r.dtype} ${r.shape}: ${err}`;
}

export interface ParityRun {
  file: ParityFile;
  passed: boolean;
}

/** Parse, run and write (shared with `sana-lab lab`). */
export async function parityRun(opts: {
  json: string;
  backends?: readonly ParityBackend[];
  ops?: readonly OpName[];
  dtypes?: readonly ParityDType[];
  maxShapes?: number;
  version?: number;
  selfCheck?: boolean;
  quiet?: boolean;
  command?: string;
}): Promise<ParityRun> {
  const file = await runParity({
    backends: opts.backends ?? PARITY_BACKENDS,
    ops: opts.ops ?? OP_NAMES,
    dtypes: opts.dtypes ?? ['f32', 'bf16'],
    ...(opts.maxShapes !== undefined ? { maxShapes: opts.maxShapes } : {}),
    ...(opts.version !== undefined ? { version: opts.version } : {}),
    selfCheck: opts.selfCheck ?? true,
    ...(opts.quiet ? {} : { onRecord: (r: ParityRecord) => console.error(progressLine(r)) }),
    ...(opts.command !== undefined ? { command: opts.command } : {}),
  });
  validateParity(file, opts.json);
  mkdirSync(dirname(opts.json), { recursive: true });
  writeFileSync(opts.json, JSON.stringify(file, null, 1) + '\n');
  return { file, passed: parityPassed(file) };
}

export const parityCommand: Command = {
  name: 'parity',
  summary: 'check every op on every available backend against the TS reference (f32, bf16); write JSON',
  usage: USAGE,
  async run(argv) {
    const a = parseArgs('parity', argv, SPEC);
    if (a.positionals.length > 0) throw new UsageError(`parity: unexpected argument "${a.positionals[0]}"`);
    const json = a.values.get('json');
    if (json === undefined) throw new UsageError('parity: --json FILE is required');
    outputFile('parity', 'json', json);
    const backends = a.lists.get('backend') ?? [...PARITY_BACKENDS];
    for (const b of backends) {
      if (!(PARITY_BACKENDS as readonly string[]).includes(b)) {
        throw new UsageError(`parity: backend "${b}" cannot be checked (backends: ${PARITY_BACKENDS.join(', ')}; the reference is what they are checked against)`);
      }
    }
    const ops = a.lists.get('ops') ?? [...OP_NAMES];
    for (const o of ops) if (!isOpName(o)) throw new UsageError(`parity: unknown op "${o}" (ops: ${OP_NAMES.join(', ')})`);
    const dtypes = a.lists.get('dtype') ?? ['f32', 'bf16'];
    for (const d of dtypes) if (d !== 'f32' && d !== 'bf16') throw new UsageError(`parity: --dtype must be f32 or bf16, got "${d}"`);
    const maxShapes = a.values.has('max-shapes') ? intOption('parity', 'max-shapes', a.values.get('max-shapes'), 1) : undefined;
    const version = a.values.has('version') ? intOption('parity', 'version', a.values.get('version'), 1) : undefined;
    if (version !== undefined) checkVersionExists('parity', backends, ops as OpName[], version);
    const { file, passed } = await parityRun({
      json,
      backends: backends as ParityBackend[],
      ops: ops as OpName[],
      dtypes: dtypes as ParityDType[],
      ...(maxShapes !== undefined ? { maxShapes } : {}),
      ...(version !== undefined ? { version } : {}),
      selfCheck: !a.flags.has('no-self-check'),
      quiet: a.flags.has('quiet'),
      command: `sana-lab parity ${argv.join(' ')}`,
    });
    console.log(parityTable(file));
    const fails = file.records.filter((r) => !r.pass).length;
    const accepted = (file.self_checks ?? []).filter((s) => !s.rejected).length;
    console.log(
      `\n${file.records.length - fails} of ${file.records.length} checks pass${accepted ? `; ${accepted} wrong kernel(s) ACCEPTED by the checker` : ''}; ` +
        `${(file.skipped ?? []).length} skipped; wrote ${json}`,
    );
    // Asked for by name but not checked at all (no device, no CUDA build): not a pass.
    const missing = a.lists.has('backend') ? backends.filter((b) => (file.skipped ?? []).some((s) => s.op === '*' && s.backend === b)) : [];
    if (missing.length > 0) console.log(`parity: backend ${missing.join(', ')} was asked for but is unavailable here (see skipped): exit code 1`);
    return passed && missing.length === 0 ? 0 : 1;
  },
};
