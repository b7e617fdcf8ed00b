/**
 * The parity suite: every catalogue op at its test shapes (bench/catalogue.ts), on every requested
 * backend and native version, at f32 and bf16, against the reference backend (the TS spec, float64
 * accumulation) on the same random inputs. Outputs are poisoned with NaN before each run (on native
 * backends every byte set to 0xFF where the tensor lives, which is NaN in f32 and bf16), so an element a
 * kernel never writes fails as non-finite. Results are `sana-lab-parity/1` records (reports/parity.ts).
 *
 * Versions run through the op API's `version` option. A version that does not run a dtype (catalogue
 * `dtypes`) or refuses a shape by design (the kernel's "<op>: version N …" RangeError, e.g. a
 * tensor-core version given K % 8 ≠ 0) is listed under `skipped` with the reason, not failed; the
 * cuda backend also checks aligned shapes those versions accept (bench/parity/cuda-shapes.ts).
 *
 * The suite also checks itself: deliberately wrong kernels (an off-by-one output, an element left
 * unwritten) go through the same checker and must be rejected, or the run fails.
 */
import { tryLoadAddon } from '../../bindings/addon.js';
import { getBackend, withVersion } from '../../bindings/ops.js';
import type { BackendName } from '../../bindings/backends.js';
import type { Backend } from '../../bindings/backend.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { Tensor } from '../../reference/core/tensor.js';
import { PARITY_FORMAT, type ParityFile, type ParityRecord, type ParitySelfCheck, type ParitySkip } from '../../reports/parity.js';
import { apiCall, inputSeeds, inputValues, type ApiCall } from '../api-calls.js';
import { nativeVersions, OP_CATALOGUE, OP_NAMES, opEntry, type NativeVersion, type OpName } from '../catalogue.js';
import type { OpDimsMap } from '../ops.js';
import { captureEnvironment } from '../record.js';
import { dimsStr } from '../shapes.js';
import { CUDA_EXTRA_SHAPES } from './cuda-shapes.js';
import { plainBf16 } from './plain-bf16.js';
import { judgeBf16, judgeF32, poisonValues, roundedBf16, type Verdict } from './rules.js';

export type ParityDType = 'f32' | 'bf16';
export type ParityBackend = Exclude<BackendName, 'reference'>;

export interface ParityOptions {
  backends: readonly ParityBackend[];
  ops: readonly OpName[];
  dtypes: readonly ParityDType[];
  /** Only the first N test shapes of each op (CI-sized runs; the cuda backend's extra aligned shapes come after them). */
  maxShapes?: number;
  /** Only this native version (catalogue numbering); default every version. */
  version?: number;
  /** Called after each check (progress lines). */
  onRecord?: (r: ParityRecord) => void;
  /** Run the deliberately wrong kernels through the checker (default true). */
  selfCheck?: boolean;
  command?: string;
}

/** One op at one test shape: its inputs' values, the f32 reference output and (lazily) the plain bf16 one. */
class ShapeCase {
  readonly values: Record<string, Float32Array>;
  readonly label: string;
  private ref: Float32Array | null = null;
  private plain: Float32Array | null | undefined;

  constructor(
    readonly op: OpName,
    readonly dims: OpDimsMap[OpName],
    readonly call: ApiCall,
    seed: number,
  ) {
    const seeds = inputSeeds(call, seed);
    this.values = Object.fromEntries(Object.entries(call.inputs).map(([k, spec]) => [k, inputValues(spec, seeds[k]!)]));
    this.label = dimsStr(dims);
  }

  get outShape(): number[] {
    return this.call.outShape;
  }

  /** The tensors of this case on a backend, at a storage dtype. */
  tensors(b: Backend, dtype: ParityDType): Record<string, BackendTensor> {
    return Object.fromEntries(Object.entries(this.call.inputs).map(([k, spec]) => [k, b.fromArray(this.values[k]!, spec.shape, dtype)]));
  }

  /** The reference backend's output on the f32 inputs (the spec). */
  async reference(): Promise<Float32Array> {
    if (this.ref === null) this.ref = await runOn(this, getBackend('reference'), 'f32', undefined);
    return this.ref;
  }

  /** The plain bf16 computation on the bf16-rounded inputs. */
  plainBf16(): Float32Array | null {
    if (this.plain === undefined) {
      const v = (name: string) => {
        const spec = this.call.inputs[name];
        if (spec === undefined) throw new RangeError(`parity: ${this.op} has no input "${name}"`);
        return new Tensor(spec.shape, 'f32', roundedBf16(this.values[name]!));
      };
      this.plain = plainBf16(this.op, this.dims as never, v);
    }
    return this.plain;
  }
}

/** A NaN-poisoned output: 0xFF bytes written where the tensor lives, or NaN values copied in. */
function poisonedOutput(b: Backend, shape: readonly number[], dtype: ParityDType): BackendTensor {
  if (b.fillBytes === undefined) return b.fromArray(poisonValues(shape.reduce((x, y) => x * y, 1), dtype), shape, dtype);
  const out = b.empty(shape, dtype);
  try {
    b.fillBytes(out, 0xff);
  } catch (e) {
    out.dispose();
    throw e;
  }
  return out;
}

/** Runs the case on a backend (at a native version: the op API's `version`) into a poisoned output; returns it as f32. */
async function runOn(c: ShapeCase, b: Backend, dtype: ParityDType, version: NativeVersion | undefined): Promise<Float32Array> {
  const t = c.tensors(b, dtype);
  let out: BackendTensor | null = null;
  try {
    out = poisonedOutput(b, c.outShape, dtype);
    const o = out;
    const call = () => c.call.run(t, o, 'async', version?.options);
    await (version === undefined ? call() : withVersion(version.version, call));
    return out.toFloat32();
  } finally {
    out?.dispose();
    for (const x of Object.values(t)) x.dispose();
  }
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** A kernel's by-design refusal of these arguments ("<op>: version N needs …"), as opposed to a failure. */
function versionRefusal(e: unknown, version: number): boolean {
  return e instanceof RangeError && new RegExp(`^[\\w-]+: version ${version} `).test(e.message);
}

function judge(c: ShapeCase, dtype: ParityDType, out: Float32Array, reference: Float32Array): Verdict {
  const rule = opEntry(c.op).parity;
  if (dtype === 'f32') return judgeF32(out, reference, rule.f32, c.outShape);
  const plain = c.plainBf16();
  if (plain === null) throw new Error(`parity: ${c.op} has no plain bf16 computation (bench/parity/plain-bf16.ts)`);
  return judgeBf16(out, plain, reference, rule.bf16, c.outShape);
}

function record(c: ShapeCase, backend: string, version: number, dtype: ParityDType, v: Verdict): ParityRecord {
  const r: ParityRecord = {
    op: c.op,
    backend,
    version,
    dtype,
    shape: c.label,
    // errorStats reports Infinity when an output is NaN/Inf; the JSON holds null there (non_finite says why).
    rel: finiteOrNull(v.stats.rel),
    max_abs: finiteOrNull(v.stats.maxAbs),
    max_rel: finiteOrNull(v.stats.maxRel),
    non_finite: v.stats.nonFinite,
    tolerance: v.tolerance,
    pass: v.pass,
  };
  if (v.plain) {
    // Only finite values: JSON would turn Infinity into null, which these number-typed fields do not allow.
    if (Number.isFinite(v.plain.rel)) r.plain_rel = v.plain.rel;
    const ratio = v.stats.rel / v.plain.rel;
    if (Number.isFinite(ratio)) r.ratio = ratio;
  }
  if (v.reason) r.note = v.reason;
  return r;
}

/** The test-shape cases of an op (null when the op API lacks it); `extra` adds the cuda backend's aligned shapes. */
function casesOf(op: OpName, maxShapes: number, extra = false): ShapeCase[] | null {
  const shapes = (OP_CATALOGUE[op].testShapes as readonly OpDimsMap[OpName][]).slice(0, maxShapes);
  if (extra) shapes.push(...((CUDA_EXTRA_SHAPES[op] ?? []) as readonly OpDimsMap[OpName][]));
  const cases: ShapeCase[] = [];
  for (const [i, dims] of shapes.entries()) {
    const call = apiCall(op, dims as never);
    if (call === null) return null;
    cases.push(new ShapeCase(op, dims, call, 1000 + 37 * OP_NAMES.indexOf(op) + i));
  }
  return cases;
}

/** Why a backend cannot be checked here, or null when it can. */
function backendUnavailable(name: ParityBackend): string | null {
  try {
    getBackend(name);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Run the suite. Never throws for a failing kernel: failures are records with pass = false. */
export async function runParity(opts: ParityOptions): Promise<ParityFile> {
  const records: ParityRecord[] = [];
  const skipped: ParitySkip[] = [];
  const maxShapes = opts.maxShapes ?? Infinity;
  const usable = opts.backends.filter((b) => {
    const why = backendUnavailable(b);
    // getBackend's own message may already say so ("cuda backend unavailable: …"): not twice.
    const reason = why !== null && /backend unavailable/.test(why) ? why : `backend unavailable: ${why}`;
    if (why !== null) for (const dtype of opts.dtypes) skipped.push({ op: '*', backend: b, dtype, reason });
    return why === null;
  });
  for (const op of opts.ops) {
    // The cuda backend also checks the aligned extra shapes; other backends the catalogue's only.
    const allCases = casesOf(op, maxShapes, usable.includes('cuda'));
    const cases = allCases?.slice(0, Math.min(maxShapes, OP_CATALOGUE[op].testShapes.length)) ?? null;
    if (cases === null) {
      for (const b of usable) for (const dtype of opts.dtypes) skipped.push({ op, backend: b, dtype, reason: 'not in the op API (only the pure-TS bench reference implements it)' });
      continue;
    }
    for (const b of usable) {
      const backend = getBackend(b);
      // Model-level ops (apiOp null: the DC-AE decoder's dcae-ops.ts) are declared per backend in the catalogue.
      const apiOp = opEntry(op).apiOp;
      const declared = nativeVersions(op, b);
      const versions = opts.version === undefined ? declared : declared.filter((v) => v.version === opts.version);
      if ((apiOp !== null && !backend.supports(apiOp as never)) || declared.length === 0) {
        for (const dtype of opts.dtypes) skipped.push({ op, backend: b, dtype, reason: `no ${b} kernel declared in the catalogue` });
        continue;
      }
      if (versions.length === 0) {
        const have = declared.map((v) => v.version).join(', ');
        for (const dtype of opts.dtypes) skipped.push({ op, backend: b, dtype, reason: `no version ${String(opts.version)} on ${b} (versions: ${have})` });
        continue;
      }
      for (const [i, c] of (b === 'cuda' ? allCases! : cases).entries()) {
        for (const version of versions) {
          for (const dtype of opts.dtypes) {
            if (version.dtypes !== undefined && !version.dtypes.includes(dtype)) {
              if (i === 0) skipped.push({ op, backend: b, dtype, reason: `v${version.version} runs ${version.dtypes.join(', ')} only` });
              continue;
            }
            let r: ParityRecord;
            try {
              const out = await runOn(c, backend, dtype, version);
              r = record(c, b, version.version, dtype, judge(c, dtype, out, await c.reference()));
            } catch (e) {
              if (versionRefusal(e, version.version)) {
                skipped.push({ op, backend: b, dtype, reason: `v${version.version} at ${c.label}: ${(e as Error).message}` });
                continue;
              }
              r = { op, backend: b, version: version.version, dtype, shape: c.label, rel: null, max_abs: null, tolerance: null, pass: false, note: `error: ${(e as Error).message}` };
            }
            records.push(r);
            opts.onRecord?.(r);
          }
        }
      }
    }
  }
  const self_checks = opts.selfCheck === false ? [] : await selfChecks(usable[0] ?? null);
  const env = captureEnvironment(opts.command);
  const { addon } = tryLoadAddon();
  const cuda = usable.includes('cuda') && addon ? addon.cudaInfo() : null;
  const device = cuda?.devices[0];
  return {
    format: PARITY_FORMAT,
    environment: {
      ...env,
      backends: usable.join(', '),
      ...(addon ? { cpu_threads: addon.cpuThreads() } : {}),
      ...(device ? { cuda_device: `${device.name} (sm_${device.computeCapability.replace('.', '')})`, cuda_driver: cuda!.driverVersion, cuda_runtime: cuda!.runtimeVersion } : {}),
      ...(opts.version !== undefined ? { version: opts.version } : {}),
    },
    records,
    skipped,
    self_checks,
  };
}

// ---- the checker checks itself ----

/** A deliberately wrong kernel: the correct output of a real backend, then corrupted. */
export interface WrongKernel {
  name: string;
  corrupt(out: Float32Array): void;
}

export const WRONG_KERNELS: readonly WrongKernel[] = [
  {
    name: 'off-by-one: element i gets the value of element i−1',
    corrupt(out) {
      for (let i = out.length - 1; i > 0; i--) out[i] = out[i - 1]!;
    },
  },
  {
    name: 'the last output element is never written (poison left)',
    corrupt(out) {
      out[out.length - 1] = NaN;
    },
  },
];

/**
 * Each wrong kernel on gemm at its first test shape, f32 and bf16, through the same judge as the real
 * kernels: it must be rejected. Runs on `backend` (cpu when available, else the reference backend as
 * the "correct kernel" being corrupted).
 */
export async function selfChecks(backend: ParityBackend | null): Promise<ParitySelfCheck[]> {
  const b = backend === null ? getBackend('reference') : getBackend(backend);
  const [c] = casesOf('gemm', 1)!;
  const out: ParitySelfCheck[] = [];
  for (const k of WRONG_KERNELS) {
    for (const dtype of ['f32', 'bf16'] as const) {
      const values = await runOn(c!, b, dtype, undefined);
      k.corrupt(values);
      const v = judge(c!, dtype, values, await c!.reference());
      out.push({
        kernel: `${b.name} gemm, ${k.name}`,
        op: 'gemm',
        dtype,
        shape: c!.label,
        rel: Number.isFinite(v.stats.rel) ? v.stats.rel : null,
        max_abs: Number.isFinite(v.stats.maxAbs) ? v.stats.maxAbs : null,
        rejected: !v.pass,
        reason: v.pass ? 'ACCEPTED a wrong kernel: the checker is broken' : v.reason,
      });
    }
  }
  return out;
}

/** True when every check passed and every wrong kernel was rejected. */
export function parityPassed(f: ParityFile): boolean {
  return f.records.every((r) => r.pass) && (f.self_checks ?? []).every((s) => s.rejected);
}

/** The terminal table of a parity file. */
export function parityTable(f: ParityFile): string {
  const rows = f.records.map((r) => [
    r.op,
    `${r.backend}${r.version ? ` v${r.version}` : ''}`,
    r.dtype,
    r.shape,
    r.rel === null ? '-' : r.rel.toExponential(2),
    r.max_abs === null ? '-' : r.max_abs.toExponential(2),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.pass ? 'pass' : 'FAIL',
    r.note ?? '',
  ]);
  const head = ['op', 'backend', 'dtype', 'shape', 'rel', 'max abs', 'vs plain bf16', 'result', 'note'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const lines = all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
  for (const s of f.skipped ?? []) lines.push(`skipped: ${s.op} on ${s.backend} ${s.dtype}: ${s.reason}`);
  for (const s of f.self_checks ?? []) lines.push(`self-check ${s.rejected ? 'ok  ' : 'FAIL'}: ${s.kernel} (${s.dtype}) ${s.rejected ? 'rejected' : 'accepted'}: ${s.reason}`);
  return lines.join('\n');
}
