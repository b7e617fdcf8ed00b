/**
 * The op API: one set of functions for every backend. Tensors come from a backend
 * (`getBackend('cpu').fromArray(...)`), ops take and return BackendTensors on that backend, and the
 * backend of the inputs picks the implementation. Each op has an async form (the default name, a
 * Promise; native backends compute off the JS thread) and a sync form (`…Sync`).
 *
 * Every op validates its arguments (bindings/validate.ts) before touching memory: wrong kind of value,
 * disposed tensor, mixed backends or dtypes, an unknown option key → TypeError; shapes and options →
 * RangeError; the message names the op and the shapes. Async forms report these as rejected Promises.
 *
 * Outputs: allocated by the op, or written into `opts.out` (same shape/dtype/backend; it may be the
 * `residual` tensor for an in-place residual update — and, for the block ops that read x completely
 * before writing (linear-attention-block, mix-ffn, cross-attention, the norms), x itself — never
 * another input).
 *
 * Kernel versions: every op takes `opts.version` (0 = the backend's default; the numbered versions of
 * `backend.versions(op)`: cuda's from its kernel files, cpu 1, linear-attention 1 = unfused and 2 =
 * fused). An unknown version is a RangeError listing the versions; a version that cannot run the
 * arguments (e.g. a bf16-only tensor-core kernel given f32) is the kernel's own RangeError.
 * Device timing: `timeOnDevice(() => ops.gemmSync(x, w, { out }))` validates the call, does not run
 * it, and times it with CUDA events (cuda backend).
 */
import { shapeStr } from '../reference/core/tensor.js';
import { loadAddon, type NativeGraphHandle } from './addon.js';
import { CpuBackend, NativeBackend } from './backend-cpu.js';
import { ReferenceBackend } from './backend-reference.js';
import type { Backend, DeviceTiming, DeviceTimingOptions, OpArgs, OpName } from './backend.js';
import type { BackendName } from './backends.js';
import type { BackendTensor } from './tensor.js';
import { OpCheck } from './validate.js';

// ---- backends ----

const backends = new Map<BackendName, Backend>();

/**
 * The backend `name` (cached). 'cpu' loads the native addon (AddonLoadError when it is not built);
 * 'cuda' also needs an addon built with CUDA and a usable device (an Error saying which is missing).
 */
export function getBackend(name: BackendName): Backend {
  let b = backends.get(name);
  if (b) return b;
  if (name === 'reference') b = new ReferenceBackend();
  else if (name === 'cpu') b = new CpuBackend();
  else if (name === 'cuda') b = new NativeBackend('cuda');
  else throw new TypeError(`getBackend: unknown backend '${String(name)}' (have: reference, cpu, cuda)`);
  backends.set(name, b);
  return b;
}

// ---- shared runner ----

interface Prepared {
  op: OpName;
  check: OpCheck;
  args: OpArgs;
  out: BackendTensor | null;
  outShape: readonly number[];
}

// ---- call scopes: a default version, and capturing calls instead of running them ----

/** One validated op call, as the backend would run it (captureCall). */
export interface CapturedCall {
  /** The op (an op-API name, or a model op of bindings/models/dcae-ops.ts). */
  op: string;
  backend: Backend;
  args: OpArgs;
  out: BackendTensor;
  /** The op allocated `out` (the call gave none): the caller disposes it. */
  fresh: boolean;
  /** CUDA-event timing of this call (cuda; elsewhere a TypeError naming the op). */
  time(opts?: DeviceTimingOptions): Promise<DeviceTiming>;
}

const scope: { version: number | undefined; opVersions: Readonly<Record<string, number>> | null; capture: CapturedCall[] | null } = {
  version: undefined,
  opVersions: null,
  capture: null,
};

/**
 * Runs `fn` with `version` as the kernel version of the op calls it makes that do not give their own
 * (bench and parity drive the catalogue's calls, bench/api-calls.ts, at each version this way). The
 * version applies to calls made synchronously inside `fn` — the async op forms read it before their
 * first await — and is checked against the backend like `opts.version`.
 */
export function withVersion<T>(version: number, fn: () => T): T {
  if (!Number.isSafeInteger(version) || version < 0) throw new RangeError(`withVersion: version must be an integer >= 0, got ${String(version)}`);
  const saved = scope.version;
  scope.version = version;
  try {
    return fn();
  } finally {
    scope.version = saved;
  }
}

/**
 * Runs `fn` with a kernel version per op name (e.g. { 'dcae-resblock': 4, 'dcae-head': 3 }) for the op
 * calls it makes that give none and are not inside a withVersion: how a whole model is run with chosen
 * versions (`sana-lab profile --op-versions`). Checked like `opts.version` when each call starts.
 */
export function withOpVersions<T>(versions: Readonly<Record<string, number>>, fn: () => T): T {
  for (const [op, v] of Object.entries(versions)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`withOpVersions: the version of ${op} must be an integer >= 0, got ${String(v)}`);
  }
  const saved = scope.opVersions;
  scope.opVersions = { ...(saved ?? {}), ...versions };
  try {
    return fn();
  } finally {
    scope.opVersions = saved;
  }
}

/**
 * Validates the one op call `fn` makes (sync or async form) without running it, and returns it. Inputs
 * are checked and a missing output is allocated, exactly as for a real call; nothing is computed.
 */
export async function captureCall(fn: () => unknown): Promise<CapturedCall> {
  const saved = scope.capture;
  const calls: CapturedCall[] = [];
  scope.capture = calls;
  let r: unknown;
  try {
    r = fn();
  } finally {
    scope.capture = saved;
  }
  if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') await r;
  if (calls.length !== 1) {
    for (const c of calls) if (c.fresh) c.out.dispose();
    throw new TypeError(`captureCall: expected exactly one op call, the function made ${calls.length}`);
  }
  return calls[0]!;
}

/**
 * Device time of one op call: `fn` (e.g. `() => ops.gemmSync(x, w, { out })`) is captured, not run,
 * and its kernel is launched `warmup` + up to `maxReps` times with CUDA events around each timed run
 * and an L2 flush before it (cuda backend; other backends reject with a TypeError naming the op).
 */
export async function timeOnDevice(fn: () => unknown, opts: DeviceTimingOptions = {}): Promise<DeviceTiming> {
  const c = await captureCall(fn);
  try {
    return await c.time(opts);
  } finally {
    if (c.fresh) c.out.dispose();
  }
}

/**
 * Runs `fn` with queued dispatch on the cuda backend: its ops return once their kernels are queued (no
 * host round trip per op, as PyTorch eager), then one synchronize. A kernel fault inside surfaces at a
 * device→host copy or at that synchronize, named after `what` (not after the op that caused it: rerun
 * with per-op sync to find it). Other backends run their ops synchronously anyway: `fn` runs as is.
 */
export function queued<T>(backend: Backend, what: string, fn: () => T): T {
  if (backend.name !== 'cuda') return fn();
  const runtime = loadAddon().runtime;
  const previous = runtime.setSyncEachOp(false);
  try {
    const r = fn();
    runtime.synchronize(what);
    return r;
  } catch (e) {
    // Argument and out-of-memory errors (TypeError/RangeError) are raised by the op that met them.
    if (e instanceof TypeError || e instanceof RangeError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`${what} (queued cuda ops; a fault may come from any op queued before this point): ${msg}`, { cause: e });
  } finally {
    runtime.setSyncEachOp(previous);
  }
}

/**
 * A CUDA graph: a sequence of cuda op calls recorded once (`captureCudaGraph`) and replayed with one
 * launch. Each launch reads and writes the tensors the recorded ops named, at their addresses: change
 * inputs with `BackendTensor.write` (not by replacing the tensor), and keep every tensor the ops used
 * alive until the graph is disposed. Op arguments (shapes, versions, scalars) are fixed at capture.
 */
export class CudaGraph {
  #handle: NativeGraphHandle | null;
  constructor(
    handle: NativeGraphHandle,
    readonly what: string,
  ) {
    this.#handle = handle;
  }
  get disposed(): boolean {
    return this.#handle === null;
  }
  /** Runs the recorded ops again, after the work queued before; synchronized like an op unless inside `queued`. */
  launch(): void {
    if (this.#handle === null) throw new TypeError(`CudaGraph(${this.what}).launch: the graph has been disposed`);
    loadAddon().runtime.graphLaunch(this.#handle, this.what);
  }
  /** Frees the graph (idempotent). Waits for queued work first: a graph may still be running. */
  dispose(): void {
    if (this.#handle === null) return;
    const rt = loadAddon().runtime;
    try {
      rt.synchronize(`CudaGraph(${this.what}).dispose`);
    } finally {
      rt.graphDispose(this.#handle);
      this.#handle = null;
    }
  }
}

/**
 * Records the cuda ops `fn` calls into a CUDA graph instead of running them (nothing is computed yet:
 * the outputs are filled by `graph.launch()`), and returns the graph with `fn`'s result. The ops must
 * name all their outputs (`out`) or allocate them before the capture, and must not read results back
 * (a device→host copy or a synchronize breaks the capture: the Error says so). Run the same calls once
 * uncaptured first, so one-time setup (lazy module loading, device queries) is not met inside.
 */
export function captureCudaGraph<T>(backend: Backend, what: string, fn: () => T): { graph: CudaGraph; result: T } {
  if (backend.name !== 'cuda') throw new TypeError(`captureCudaGraph(${what}): CUDA graphs need the cuda backend, got ${backend.name}`);
  const rt = loadAddon().runtime;
  rt.graphBegin(what);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    // End the capture (and drop what it recorded) before reporting the op's own error.
    try {
      rt.graphDispose(rt.graphEnd(what));
    } catch {
      // the capture was broken by the same failure: its error adds nothing
    }
    if (e instanceof Error) e.message = `${e.message} (while capturing the CUDA graph ${what})`;
    throw e;
  }
  return { graph: new CudaGraph(rt.graphEnd(what), what), result };
}

/** RangeError unless `version` is 0 (the default) or one of the backend's versions of `op`. */
function checkVersion(backend: Backend, op: OpName, version: number): void {
  if (version === 0) return;
  const versions = backend.versions(op);
  if (versions.some((v) => v.version === version)) return;
  const listed = versions.map((v) => `${v.version} = ${v.summary}${v.needs ? ` [needs ${v.needs}]` : ''}`).join('; ');
  throw new RangeError(`${op}: no version ${version} on the ${backend.name} backend (${listed ? `versions: ${listed}` : 'it has no numbered versions'}; 0 = the default)`);
}

function start(p: Prepared): { backend: Backend; out: BackendTensor; fresh: boolean; captured: boolean } {
  const backend = getBackend(p.check.backend!);
  if (!backend.supports(p.op)) throw new Error(`${p.op}: not implemented on the ${backend.name} backend`);
  const version = p.check.version ?? scopedVersion(p.op) ?? 0;
  checkVersion(backend, p.op, version);
  if (version !== 0) p.args.version = version;
  const fresh = p.out === null;
  const out = p.out ?? allocateOutput(backend, p);
  p.args.out = out;
  const time = (opts?: DeviceTimingOptions) =>
    backend.time === undefined ? Promise.reject(new TypeError(`${p.op}: device timing needs the cuda backend, these tensors are on ${backend.name}`)) : backend.time(p.op, p.args, opts);
  if (captureOpCall({ op: p.op, backend, args: p.args, out, fresh, time })) return { backend, out, fresh, captured: true };
  return { backend, out, fresh, captured: false };
}

/**
 * The scope's kernel version for a call of `op` that gives none: an enclosing withVersion's, else an
 * enclosing withOpVersions' entry for `op`; undefined outside both. Also for the ops outside the op API
 * (bindings/models/dcae-ops.ts), which pass it to the addon themselves.
 */
export function scopedVersion(op: string): number | undefined {
  return scope.version ?? scope.opVersions?.[op];
}

/** Inside captureCall: records the validated call instead of running it (returns true); else false. */
export function captureOpCall(call: CapturedCall): boolean {
  if (scope.capture === null) return false;
  scope.capture.push(call);
  return true;
}

/**
 * SANA_LAB_POISON_OUTPUTS=1 (the test suite sets it, vitest.config.ts): every output an op allocates
 * starts as NaN (0xFF bytes), so an element the op never writes fails a parity check instead of passing
 * with whatever the allocator left there (zeros in JS memory, stale values in native memory). Read once
 * at load: not a process.env lookup on every op call's allocation.
 */
const POISON_OUTPUTS = process.env.SANA_LAB_POISON_OUTPUTS === '1';
function poisonFresh(backend: Backend, t: BackendTensor): void {
  if (!POISON_OUTPUTS) return;
  if (backend.fillBytes) backend.fillBytes(t, 0xff);
  else t.write(new Float32Array(t.numel).fill(NaN));
}

/** The op's own output; a failed allocation (out of memory) is reported under the op's name and shape. */
function allocateOutput(backend: Backend, p: Prepared): BackendTensor {
  let t: BackendTensor;
  try {
    t = backend.empty(p.outShape, p.check.dtype!);
  } catch (e) {
    const Err = e instanceof TypeError ? TypeError : RangeError;
    throw new Err(`${p.op}: cannot allocate the output ${p.check.dtype}${shapeStr(p.outShape)} on ${backend.name}: ${(e as Error).message}`, { cause: e });
  }
  poisonFresh(backend, t);
  return t;
}

function runSync(p: Prepared): BackendTensor {
  const { backend, out, fresh, captured } = start(p);
  if (captured) return out;
  try {
    backend.run(p.op, p.args, 'sync');
  } catch (e) {
    if (fresh) out.dispose();
    throw e;
  }
  return out;
}

async function runAsync(p: Prepared): Promise<BackendTensor> {
  const { backend, out, fresh, captured } = start(p);
  if (captured) return out;
  out.beginWrite();
  try {
    await backend.run(p.op, p.args, 'async');
  } catch (e) {
    out.endWrite();
    if (fresh) out.dispose();
    throw e;
  }
  out.endWrite();
  return out;
}

// ---- gemm ----

export type Activation = 'none' | 'relu' | 'silu' | 'gelu-tanh';
const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'silu', 'gelu-tanh'];

export interface GatedResidual {
  /** Multiplies the result: (G, …, N) broadcast over rows, e.g. a DiT gate (B, 1, C). */
  gate?: BackendTensor | null;
  /** Added last (after the gate); may be the same tensor as `out` (in-place update). */
  residual?: BackendTensor | null;
}

/** The options every op takes (OutOption); each op's record() check accepts these besides its own. */
const OUT_OPTIONS = ['out', 'version'] as const;

export interface OutOption {
  out?: BackendTensor | null;
  /** Kernel version: 0 (default) = the backend's choice for the arguments; N = numbered version N (backend.versions(op)). */
  version?: number;
}

export interface GemmOptions extends GatedResidual, OutOption {
  bias?: BackendTensor | null;
  activation?: Activation;
}

/**
 * gemm: out = residual + gate ⊙ act(x·wᵀ + bias); x (…, K), w (N, K) (torch Linear layout) → (…, N).
 * FLOPs 2·M·N·K.
 */
function prepareGemm(x: BackendTensor, w: BackendTensor, opts: GemmOptions): Prepared {
  const c = new OpCheck('gemm');
  opts = c.record('options', opts, false, ['bias', 'gate', 'residual', 'activation', ...OUT_OPTIONS]);
  c.tensor('x', x);
  c.tensor('w', w);
  const bias = c.optional('bias', opts.bias);
  const gate = c.optional('gate', opts.gate);
  const residual = c.optional('residual', opts.residual);
  c.shape(x.ndim >= 1 && w.ndim === 2 && w.shape[1] === x.shape[x.ndim - 1], `w ${shapeStr(w.shape)} does not match x ${shapeStr(x.shape)} (want w (N, ${x.shape[x.ndim - 1]}))`);
  const N = w.shape[0]!;
  const outShape = [...x.shape.slice(0, -1), N];
  c.vector('bias', bias, N);
  c.gate(gate, x.numel / x.shape[x.ndim - 1]!, N, outShape);
  c.same('residual', residual, outShape, 'the output');
  const act = opts.activation ?? 'none';
  if (!ACTIVATIONS.includes(act)) throw new TypeError(`gemm: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(act)}`);
  const out = c.out(opts.out, outShape, ['residual']);
  return { op: 'gemm', check: c, args: { x, w, bias, gate, residual, act }, out, outShape };
}

export async function gemm(x: BackendTensor, w: BackendTensor, opts: GemmOptions = {}): Promise<BackendTensor> {
  return runAsync(prepareGemm(x, w, opts));
}
export function gemmSync(x: BackendTensor, w: BackendTensor, opts: GemmOptions = {}): BackendTensor {
  return runSync(prepareGemm(x, w, opts));
}

// ---- linear-attention ----

export interface LinearAttentionOptions extends OutOption {
  /** Channels per head (SANA: 32). */
  headDim?: number;
  /** Denominator eps: 1e-15 (diffusers, default) or 1e-8 (NVlabs Sana). */
  eps?: number;
}

export interface LinearAttentionCoreOptions extends LinearAttentionOptions {
  /**
   * 'fused' (default): the one-pass kernel. 'unfused' (cpu only): ReLU → pad → matmul → matmul →
   * divide with every intermediate materialised, the baseline the fused kernel is benchmarked against.
   * The reference backend computes the same math for either.
   */
  variant?: 'fused' | 'unfused';
}

/** linear-attention: the fused ReLU linear-attention core; q (B, N, C), k and v (B, M, C) → (B, N, C). */
function prepareLinearAttention(q: BackendTensor, k: BackendTensor, v: BackendTensor, opts: LinearAttentionCoreOptions): Prepared {
  const c = new OpCheck('linear-attention');
  opts = c.record('options', opts, false, ['headDim', 'eps', 'variant', ...OUT_OPTIONS]);
  c.tensor('q', q);
  c.tensor('k', k);
  c.tensor('v', v);
  c.shape(q.ndim === 3 && k.ndim === 3 && v.ndim === 3, `want q, k, v (B, N, C), got ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`);
  const [B, , C] = q.shape as [number, number, number];
  const M = k.shape[1]!;
  c.shape(
    k.shape[0] === B && k.shape[2] === C && v.shape[0] === B && v.shape[1] === M && v.shape[2] === C,
    `q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)} do not agree (want (B,N,C), (B,M,C), (B,M,C))`,
  );
  const headDim = c.int('headDim', opts.headDim ?? 32);
  c.shape(C % headDim === 0, `${C} channels of q ${shapeStr(q.shape)} are not a multiple of headDim ${headDim}`);
  const eps = c.eps(opts.eps ?? 1e-15);
  const variant = opts.variant;
  if (variant !== undefined && variant !== 'fused' && variant !== 'unfused') throw new TypeError(`linear-attention: variant must be 'fused' or 'unfused', got ${String(variant)}`);
  const out = c.out(opts.out, q.shape);
  // variant absent = the version decides (cpu: 1 unfused, 2 fused; default fused).
  return { op: 'linear-attention', check: c, args: { q, k, v, headDim, eps, ...(variant !== undefined ? { variant } : {}) }, out, outShape: q.shape };
}

export async function linearAttention(q: BackendTensor, k: BackendTensor, v: BackendTensor, opts: LinearAttentionCoreOptions = {}): Promise<BackendTensor> {
  return runAsync(prepareLinearAttention(q, k, v, opts));
}
export function linearAttentionSync(q: BackendTensor, k: BackendTensor, v: BackendTensor, opts: LinearAttentionCoreOptions = {}): BackendTensor {
  return runSync(prepareLinearAttention(q, k, v, opts));
}

// ---- linear-attention-block ----

/** Weights of SANA's attn1 (diffusers keys to_q, to_k, to_v, to_out.0.{weight,bias}). */
export interface LinearAttentionBlockWeights {
  wq: BackendTensor;
  wk: BackendTensor;
  wv: BackendTensor;
  wo: BackendTensor;
  bo?: BackendTensor | null;
}

export interface LinearAttentionBlockOptions extends LinearAttentionOptions, GatedResidual {}

/** linear-attention-block: out = residual + gate ⊙ ((core(x·Wqᵀ, x·Wkᵀ, x·Wvᵀ))·Woᵀ + bo); x (B, N, C). */
function prepareLinearAttentionBlock(x: BackendTensor, w: LinearAttentionBlockWeights, opts: LinearAttentionBlockOptions): Prepared {
  const c = new OpCheck('linear-attention-block');
  w = c.record('weights', w, true);
  opts = c.record('options', opts, false, ['headDim', 'eps', 'gate', 'residual', ...OUT_OPTIONS]);
  c.tensor('x', x);
  c.ndim('x', x, 3, '(B, N, C)');
  const C = x.shape[2]!;
  const wq = c.tensor('wq', w?.wq);
  const wk = c.tensor('wk', w?.wk);
  const wv = c.tensor('wv', w?.wv);
  const wo = c.tensor('wo', w?.wo);
  const bo = c.optional('bo', w?.bo);
  const sq = (t: BackendTensor) => t.ndim === 2 && t.shape[0] === C && t.shape[1] === C;
  c.shape(
    sq(wq) && sq(wk) && sq(wv) && wo.ndim === 2 && wo.shape[1] === C,
    `weights wq ${shapeStr(wq.shape)}, wk ${shapeStr(wk.shape)}, wv ${shapeStr(wv.shape)}, wo ${shapeStr(wo.shape)} do not fit x ${shapeStr(x.shape)} (want (C, C) with C = ${C})`,
  );
  const Cout = wo.shape[0]!;
  const outShape = [x.shape[0]!, x.shape[1]!, Cout];
  c.vector('bo', bo, Cout);
  const headDim = c.int('headDim', opts.headDim ?? 32);
  c.shape(C % headDim === 0, `${C} channels of x ${shapeStr(x.shape)} are not a multiple of headDim ${headDim}`);
  const eps = c.eps(opts.eps ?? 1e-15);
  const gate = c.optional('gate', opts.gate);
  const residual = c.optional('residual', opts.residual);
  c.gate(gate, x.shape[0]! * x.shape[1]!, Cout, outShape);
  c.same('residual', residual, outShape, 'the output');
  const out = c.out(opts.out, outShape, ['residual', 'x']);
  return { op: 'linear-attention-block', check: c, args: { x, wq, wk, wv, wo, bo, headDim, eps, gate, residual }, out, outShape };
}

export async function linearAttentionBlock(x: BackendTensor, w: LinearAttentionBlockWeights, opts: LinearAttentionBlockOptions = {}): Promise<BackendTensor> {
  return runAsync(prepareLinearAttentionBlock(x, w, opts));
}
export function linearAttentionBlockSync(x: BackendTensor, w: LinearAttentionBlockWeights, opts: LinearAttentionBlockOptions = {}): BackendTensor {
  return runSync(prepareLinearAttentionBlock(x, w, opts));
}

// ---- mix-ffn ----

/** GLUMBConv weights (diffusers conv_inverted, conv_depth, conv_point); 1×1 convs as (out, in) or (out, in, 1, 1). */
export interface MixFfnWeights {
  wInv: BackendTensor;
  bInv: BackendTensor;
  wDw: BackendTensor;
  bDw: BackendTensor;
  wPoint: BackendTensor;
}

export interface MixFfnOptions extends GatedResidual, OutOption {
  /** Token grid: N = height · width, token = row · width + col. */
  height: number;
  width: number;
}

function matrixOf(t: BackendTensor): [number, number] | null {
  if (t.ndim === 2) return [t.shape[0]!, t.shape[1]!];
  if (t.ndim === 4 && t.shape[2] === 1 && t.shape[3] === 1) return [t.shape[0]!, t.shape[1]!];
  return null;
}

/** mix-ffn: out = residual + gate ⊙ GLUMBConv(x) on tokens x (B, H·W, C) (= NHWC). */
function prepareMixFfn(x: BackendTensor, w: MixFfnWeights, opts: MixFfnOptions): Prepared {
  const c = new OpCheck('mix-ffn');
  w = c.record('weights', w, true);
  opts = c.record('options', opts, false, ['height', 'width', 'gate', 'residual', ...OUT_OPTIONS]);
  c.tensor('x', x);
  c.ndim('x', x, 3, '(B, H·W, C)');
  const [B, N, C] = x.shape as [number, number, number];
  const height = c.int('height', opts?.height);
  const width = c.int('width', opts?.width);
  c.shape(height * width === N, `grid ${height}×${width} does not match the ${N} tokens of x ${shapeStr(x.shape)}`);
  const wInv = c.tensor('wInv', w?.wInv);
  const bInv = c.tensor('bInv', w?.bInv);
  const wDw = c.tensor('wDw', w?.wDw);
  const bDw = c.tensor('bDw', w?.bDw);
  const wPoint = c.tensor('wPoint', w?.wPoint);
  const inv = matrixOf(wInv);
  const pt = matrixOf(wPoint);
  const bad = `inconsistent weights wInv ${shapeStr(wInv.shape)}, bInv ${shapeStr(bInv.shape)}, wDw ${shapeStr(wDw.shape)}, bDw ${shapeStr(bDw.shape)}, wPoint ${shapeStr(wPoint.shape)} for x ${shapeStr(x.shape)}`;
  c.shape(inv !== null && inv[1] === C && inv[0] % 2 === 0 && pt !== null, bad);
  const two = inv![0];
  const dwOk = (wDw.ndim === 4 && wDw.shape[0] === two && wDw.shape[1] === 1 && wDw.shape[2] === 3 && wDw.shape[3] === 3) || (wDw.ndim === 3 && wDw.shape[0] === two && wDw.shape[1] === 3 && wDw.shape[2] === 3);
  c.shape(dwOk && pt![1] === two / 2, bad);
  c.vector('bInv', bInv, two);
  c.vector('bDw', bDw, two);
  const Cout = pt![0];
  const outShape = [B, N, Cout];
  const gate = c.optional('gate', opts.gate);
  const residual = c.optional('residual', opts.residual);
  c.gate(gate, B * N, Cout, outShape);
  c.same('residual', residual, outShape, 'the output');
  const out = c.out(opts.out, outShape, ['residual', 'x']);
  return { op: 'mix-ffn', check: c, args: { x, wInv, bInv, wDw, bDw, wPoint, height, width, gate, residual }, out, outShape };
}

export async function mixFfn(x: BackendTensor, w: MixFfnWeights, opts: MixFfnOptions): Promise<BackendTensor> {
  return runAsync(prepareMixFfn(x, w, opts));
}
export function mixFfnSync(x: BackendTensor, w: MixFfnWeights, opts: MixFfnOptions): BackendTensor {
  return runSync(prepareMixFfn(x, w, opts));
}

// ---- cross-attention ----

/** Weights of SANA's attn2 (diffusers to_q, to_k, to_v, to_out.0; biases optional). */
export interface CrossAttentionWeights {
  wq: BackendTensor;
  bq?: BackendTensor | null;
  wk: BackendTensor;
  bk?: BackendTensor | null;
  wv: BackendTensor;
  bv?: BackendTensor | null;
  wo: BackendTensor;
  bo?: BackendTensor | null;
}

/** Precomputed text keys and values of a cross-attention, (B, L, C) each: k = y·wkᵀ + bk, v = y·wvᵀ + bv. */
export interface CrossAttentionKv {
  k: BackendTensor;
  v: BackendTensor;
}

/** The weights a cross-attention with precomputed `kv` uses: the query and output projections. */
export type CrossAttentionQueryWeights = Pick<CrossAttentionWeights, 'wq' | 'bq' | 'wo' | 'bo'>;

export interface CrossAttentionOptions extends OutOption {
  heads: number;
  /** Additive key bias (B, L) or (B, 1, L): 0 keep, −10000 drop (diffusers' mask form). */
  maskBias?: BackendTensor | null;
  residual?: BackendTensor | null;
  /**
   * Precomputed text keys/values (the text is the same at every sampling step, so a runner projects it
   * once per prompt). Then y must be null and the weights hold only wq, bq, wo, bo.
   */
  kv?: CrossAttentionKv | null;
}

/**
 * cross-attention: out = residual + softmax(q·kᵀ/√d + maskBias)·v projected; x (B, N, C), and either
 * y (B, L, Cy) projected by wk, wv (bk, bv) or precomputed `opts.kv` (B, L, C) — exactly one of the two.
 */
function prepareCrossAttention(x: BackendTensor, y: BackendTensor | null, w: CrossAttentionWeights | CrossAttentionQueryWeights, opts: CrossAttentionOptions): Prepared {
  const c = new OpCheck('cross-attention');
  const wAll = c.record('weights', w, true) as Partial<CrossAttentionWeights>;
  opts = c.record('options', opts, false, ['heads', 'maskBias', 'residual', 'kv', ...OUT_OPTIONS]);
  c.tensor('x', x);
  const [B, N, C] = x.shape as [number, number, number];
  // The text side: y (B, L, Cy) with wk, wv (bk, bv), or precomputed k, v (B, L, C) — exactly one.
  const kvGiven = opts.kv !== undefined && opts.kv !== null;
  let k: BackendTensor | null = null;
  let v: BackendTensor | null = null;
  if (kvGiven) {
    const kv = c.record('kv', opts.kv);
    if (y !== null && y !== undefined) throw new TypeError('cross-attention: give either y (projected by wk, wv) or precomputed opts.kv, not both (pass y = null with kv)');
    const extra = (['wk', 'bk', 'wv', 'bv'] as const).filter((n) => wAll[n] !== undefined && wAll[n] !== null);
    if (extra.length > 0) throw new TypeError(`cross-attention: with precomputed kv the weights ${extra.join(', ')} are not used; leave them out`);
    k = c.tensor('k', kv.k);
    v = c.tensor('v', kv.v);
    c.shape(
      x.ndim === 3 && k.ndim === 3 && k.shape.every((d, i) => d === v!.shape[i]) && k.shape[0] === B && k.shape[2] === C,
      `want x (B, N, C) and precomputed k, v (B, L, C), got x ${shapeStr(x.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)}`,
    );
  } else {
    if (y === null || y === undefined) throw new TypeError(`cross-attention: y must be a BackendTensor, got ${y === null ? 'null' : 'undefined'} (or give precomputed opts.kv with y = null)`);
    c.tensor('y', y);
    c.shape(x.ndim === 3 && y.ndim === 3 && x.shape[0] === y.shape[0], `want x (B, N, C) and y (B, L, Cy) with the same B, got ${shapeStr(x.shape)} and ${shapeStr(y.shape)}`);
  }
  const L = (k ?? y!).shape[1]!;
  const wq = c.tensor('wq', wAll.wq);
  const wk = kvGiven ? null : c.tensor('wk', wAll.wk);
  const wv = kvGiven ? null : c.tensor('wv', wAll.wv);
  const wo = c.tensor('wo', wAll.wo);
  const is = (t: BackendTensor, a: number, b: number) => t.ndim === 2 && t.shape[0] === a && t.shape[1] === b;
  const qoFit = is(wq, C, C) && wo.ndim === 2 && wo.shape[1] === C;
  if (wk === null || wv === null) c.shape(qoFit, `weights wq ${shapeStr(wq.shape)}, wo ${shapeStr(wo.shape)} do not fit x ${shapeStr(x.shape)}`);
  else {
    const Cy = y!.shape[2]!;
    c.shape(
      qoFit && is(wk, C, Cy) && is(wv, C, Cy),
      `weights wq ${shapeStr(wq.shape)}, wk ${shapeStr(wk.shape)}, wv ${shapeStr(wv.shape)}, wo ${shapeStr(wo.shape)} do not fit x ${shapeStr(x.shape)} and y ${shapeStr(y!.shape)}`,
    );
  }
  const Cout = wo.shape[0]!;
  const bq = c.optional('bq', wAll.bq);
  const bk = kvGiven ? null : c.optional('bk', wAll.bk);
  const bv = kvGiven ? null : c.optional('bv', wAll.bv);
  const bo = c.optional('bo', wAll.bo);
  c.vector('bq', bq, C);
  c.vector('bk', bk, C);
  c.vector('bv', bv, C);
  c.vector('bo', bo, Cout);
  const heads = c.int('heads', opts?.heads);
  c.shape(C % heads === 0, `${C} channels of x ${shapeStr(x.shape)} cannot be split into ${heads} heads`);
  const maskBias = c.optional('maskBias', opts.maskBias);
  if (maskBias) {
    const s = maskBias.shape;
    c.shape(
      (s.length === 2 && s[0] === B && s[1] === L) || (s.length === 3 && s[0] === B && s[1] === 1 && s[2] === L),
      `maskBias ${shapeStr(s)} is not (B, L) or (B, 1, L) for ${k ? `k ${shapeStr(k.shape)}` : `y ${shapeStr(y!.shape)}`}`,
    );
  }
  const outShape = [B, N, Cout];
  const residual = c.optional('residual', opts.residual);
  c.same('residual', residual, outShape, 'the output');
  const out = c.out(opts.out, outShape, ['residual', 'x']);
  return { op: 'cross-attention', check: c, args: { x, y: kvGiven ? null : y, k, v, wq, bq, wk, bk, wv, bv, wo, bo, maskBias, heads, residual }, out, outShape };
}

/** See prepareCrossAttention; with `opts.kv`, pass y = null and only wq, bq, wo, bo. */
export async function crossAttention(x: BackendTensor, y: BackendTensor | null, w: CrossAttentionWeights | CrossAttentionQueryWeights, opts: CrossAttentionOptions): Promise<BackendTensor> {
  return runAsync(prepareCrossAttention(x, y, w, opts));
}
export function crossAttentionSync(x: BackendTensor, y: BackendTensor | null, w: CrossAttentionWeights | CrossAttentionQueryWeights, opts: CrossAttentionOptions): BackendTensor {
  return runSync(prepareCrossAttention(x, y, w, opts));
}

// ---- layernorm-modulate ----

export interface LayerNormModulateOptions extends OutOption {
  /** LayerNorm eps (SANA: 1e-6). */
  eps?: number;
}

/** layernorm-modulate: out = LN(x)·(1 + scale) + shift; x (B, N, C), shift/scale (B, C), (B, 1, C) or (C). */
function prepareLayerNormModulate(x: BackendTensor, shift: BackendTensor, scale: BackendTensor, opts: LayerNormModulateOptions): Prepared {
  const c = new OpCheck('layernorm-modulate');
  opts = c.record('options', opts, false, ['eps', ...OUT_OPTIONS]);
  c.tensor('x', x);
  c.tensor('shift', shift);
  c.tensor('scale', scale);
  c.ndim('x', x, 3, '(B, N, C)');
  const [B, , C] = x.shape as [number, number, number];
  const ok = (t: BackendTensor) => t.shape[t.ndim - 1] === C && (t.numel === C || (t.numel === B * C && t.shape[0] === B && t.shape.slice(1, -1).every((d) => d === 1)));
  c.shape(ok(shift) && ok(scale) && shift.ndim === scale.ndim && shift.shape.every((d, i) => d === scale.shape[i]), `shift ${shapeStr(shift.shape)} and scale ${shapeStr(scale.shape)} must be (B, C), (B, 1, C) or (C) for x ${shapeStr(x.shape)}`);
  const eps = c.eps(opts.eps ?? 1e-6);
  const out = c.out(opts.out, x.shape, ['x']);
  return { op: 'layernorm-modulate', check: c, args: { x, shift, scale, eps }, out, outShape: x.shape };
}

export async function layerNormModulate(x: BackendTensor, shift: BackendTensor, scale: BackendTensor, opts: LayerNormModulateOptions = {}): Promise<BackendTensor> {
  return runAsync(prepareLayerNormModulate(x, shift, scale, opts));
}
export function layerNormModulateSync(x: BackendTensor, shift: BackendTensor, scale: BackendTensor, opts: LayerNormModulateOptions = {}): BackendTensor {
  return runSync(prepareLayerNormModulate(x, shift, scale, opts));
}

// ---- rmsnorm / rmsnorm2d ----

export interface RmsNormOptions extends OutOption {
  weight?: BackendTensor | null;
  bias?: BackendTensor | null;
  /** Default 1e-5 (SANA caption norm and DC-AE). */
  eps?: number;
  residual?: BackendTensor | null;
}

/** rmsnorm: out = residual + x / √(mean(x²) + eps) · weight + bias over the last dim. */
function prepareRmsNorm(op: 'rmsnorm' | 'rmsnorm2d', x: BackendTensor, opts: RmsNormOptions): Prepared {
  const c = new OpCheck(op);
  opts = c.record('options', opts, false, ['weight', 'bias', 'eps', 'residual', ...OUT_OPTIONS]);
  c.tensor('x', x);
  if (op === 'rmsnorm2d') c.ndim('x', x, 4, '(B, H, W, C) (NHWC)');
  else c.shape(x.ndim >= 1, `x must have at least one dimension, got ${shapeStr(x.shape)}`);
  const C = x.shape[x.ndim - 1]!;
  const weight = c.optional('weight', opts.weight);
  const bias = c.optional('bias', opts.bias);
  c.vector('weight', weight, C);
  c.vector('bias', bias, C);
  const residual = c.optional('residual', opts.residual);
  c.same('residual', residual, x.shape, 'x');
  const eps = c.eps(opts.eps ?? 1e-5);
  const out = c.out(opts.out, x.shape, ['x', 'residual']);
  return { op: 'rmsnorm', check: c, args: { x, weight, bias, eps, residual }, out, outShape: x.shape };
}

export async function rmsNorm(x: BackendTensor, opts: RmsNormOptions = {}): Promise<BackendTensor> {
  return runAsync(prepareRmsNorm('rmsnorm', x, opts));
}
export function rmsNormSync(x: BackendTensor, opts: RmsNormOptions = {}): BackendTensor {
  return runSync(prepareRmsNorm('rmsnorm', x, opts));
}
/** rmsnorm2d: DC-AE's RMSNorm over channels of an NHWC image (weight and bias, eps 1e-5). */
export async function rmsNorm2d(x: BackendTensor, opts: RmsNormOptions = {}): Promise<BackendTensor> {
  return runAsync(prepareRmsNorm('rmsnorm2d', x, opts));
}
export function rmsNorm2dSync(x: BackendTensor, opts: RmsNormOptions = {}): BackendTensor {
  return runSync(prepareRmsNorm('rmsnorm2d', x, opts));
}

// ---- conv3x3 ----

export interface Conv3x3Options extends OutOption {
  bias?: BackendTensor | null;
  stride?: 1 | 2;
  activation?: Activation;
  residual?: BackendTensor | null;
}

/** conv3x3 on NHWC: x (B, H, W, Cin), w (Cout, Cin, 3, 3) torch layout, pad 1 → (B, Ho, Wo, Cout). */
function prepareConv3x3(x: BackendTensor, w: BackendTensor, opts: Conv3x3Options): Prepared {
  const c = new OpCheck('conv3x3');
  opts = c.record('options', opts, false, ['bias', 'stride', 'activation', 'residual', ...OUT_OPTIONS]);
  c.tensor('x', x);
  c.tensor('w', w);
  c.ndim('x', x, 4, '(B, H, W, Cin) (NHWC)');
  const [B, H, W, Cin] = x.shape as [number, number, number, number];
  c.shape(w.ndim === 4 && w.shape[1] === Cin && w.shape[2] === 3 && w.shape[3] === 3, `w ${shapeStr(w.shape)} is not (Cout, ${Cin}, 3, 3) for x ${shapeStr(x.shape)}`);
  const Cout = w.shape[0]!;
  const bias = c.optional('bias', opts.bias);
  c.vector('bias', bias, Cout);
  const stride = opts.stride ?? 1;
  if (stride !== 1 && stride !== 2) throw new RangeError(`conv3x3: stride must be 1 or 2, got ${String(stride)}`);
  const act = opts.activation ?? 'none';
  if (!ACTIVATIONS.includes(act)) throw new TypeError(`conv3x3: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(act)}`);
  const Ho = Math.floor((H - 1) / stride) + 1;
  const Wo = Math.floor((W - 1) / stride) + 1;
  const outShape = [B, Ho, Wo, Cout];
  const residual = c.optional('residual', opts.residual);
  c.same('residual', residual, outShape, 'the output');
  const out = c.out(opts.out, outShape, ['residual']);
  return { op: 'conv3x3', check: c, args: { x, w, bias, stride, act, residual }, out, outShape };
}

export async function conv3x3(x: BackendTensor, w: BackendTensor, opts: Conv3x3Options = {}): Promise<BackendTensor> {
  return runAsync(prepareConv3x3(x, w, opts));
}
export function conv3x3Sync(x: BackendTensor, w: BackendTensor, opts: Conv3x3Options = {}): BackendTensor {
  return runSync(prepareConv3x3(x, w, opts));
}

// ---- dcae-resblock ----

/** DC-AE ResBlock weights (diffusers conv1.weight/bias, conv2.weight, norm.weight/bias). */
export interface DcaeResBlockWeights {
  w1: BackendTensor;
  b1: BackendTensor;
  w2: BackendTensor;
  normWeight: BackendTensor;
  normBias: BackendTensor;
}

/** dcae-resblock on NHWC: out = x + RMSNorm2d(conv3x3(SiLU(conv3x3(x) + b1))). */
function prepareDcaeResBlock(x: BackendTensor, w: DcaeResBlockWeights, opts: OutOption & { eps?: number }): Prepared {
  const c = new OpCheck('dcae-resblock');
  w = c.record('weights', w, true);
  opts = c.record('options', opts, false, ['eps', ...OUT_OPTIONS]);
  c.tensor('x', x);
  c.ndim('x', x, 4, '(B, H, W, C) (NHWC)');
  const C = x.shape[3]!;
  const w1 = c.tensor('w1', w?.w1);
  const b1 = c.tensor('b1', w?.b1);
  const w2 = c.tensor('w2', w?.w2);
  const normWeight = c.tensor('normWeight', w?.normWeight);
  const normBias = c.tensor('normBias', w?.normBias);
  const conv = (t: BackendTensor) => t.ndim === 4 && t.shape[0] === C && t.shape[1] === C && t.shape[2] === 3 && t.shape[3] === 3;
  c.shape(conv(w1) && conv(w2), `w1 ${shapeStr(w1.shape)} and w2 ${shapeStr(w2.shape)} must be (${C}, ${C}, 3, 3) for x ${shapeStr(x.shape)}`);
  c.vector('b1', b1, C);
  c.vector('normWeight', normWeight, C);
  c.vector('normBias', normBias, C);
  const eps = c.eps(opts.eps ?? 1e-5);
  const out = c.out(opts.out, x.shape);
  return { op: 'dcae-resblock', check: c, args: { x, w1, b1, w2, normWeight, normBias, eps }, out, outShape: x.shape };
}

export async function dcaeResBlock(x: BackendTensor, w: DcaeResBlockWeights, opts: OutOption & { eps?: number } = {}): Promise<BackendTensor> {
  return runAsync(prepareDcaeResBlock(x, w, opts));
}
export function dcaeResBlockSync(x: BackendTensor, w: DcaeResBlockWeights, opts: OutOption & { eps?: number } = {}): BackendTensor {
  return runSync(prepareDcaeResBlock(x, w, opts));
}

// ---- lite-mla ----

/**
 * DC-AE LiteMLA weights (diffusers keys to_q/to_k/to_v.weight (I, C), to_qkv_multiscale.0.proj_in.weight
 * (3I, 1, k, k), to_qkv_multiscale.0.proj_out.weight (3I, d, 1, 1), to_out.weight (C, 2I), norm_out.weight/bias).
 */
export interface LiteMlaWeights {
  wq: BackendTensor;
  wk: BackendTensor;
  wv: BackendTensor;
  wDw: BackendTensor;
  wGroup: BackendTensor;
  wOut: BackendTensor;
  normWeight: BackendTensor;
  normBias: BackendTensor;
}

export interface LiteMlaOptions extends OutOption {
  /** Channels per head (SANA's DC-AE: 32). */
  headDim?: number;
  /** Attention denominator eps (diffusers: 1e-15). The RMSNorm2d eps is 1e-5. */
  eps?: number;
}

/** lite-mla on NHWC: out = x + RMSNorm2d(LiteMLA(x)); ReLU linear attention when H·W > headDim, else quadratic. */
function prepareLiteMla(x: BackendTensor, w: LiteMlaWeights, opts: LiteMlaOptions): Prepared {
  const c = new OpCheck('lite-mla');
  w = c.record('weights', w, true);
  opts = c.record('options', opts, false, ['headDim', 'eps', ...OUT_OPTIONS]);
  c.tensor('x', x);
  c.ndim('x', x, 4, '(B, H, W, C) (NHWC)');
  const C = x.shape[3]!;
  const headDim = c.int('headDim', opts.headDim ?? 32);
  const wq = c.tensor('wq', w?.wq);
  const wk = c.tensor('wk', w?.wk);
  const wv = c.tensor('wv', w?.wv);
  const wDw = c.tensor('wDw', w?.wDw);
  const wGroup = c.tensor('wGroup', w?.wGroup);
  const wOut = c.tensor('wOut', w?.wOut);
  const normWeight = c.tensor('normWeight', w?.normWeight);
  const normBias = c.tensor('normBias', w?.normBias);
  const I = wq.shape[0]!;
  const is = (t: BackendTensor, s: number[]) => t.ndim === s.length && t.shape.every((d, i) => d === s[i]);
  const k = wDw.shape[2]!;
  c.shape(
    wq.ndim === 2 && wq.shape[1] === C && I % headDim === 0 && is(wk, [I, C]) && is(wv, [I, C]) && wDw.ndim === 4 && k % 2 === 1 && is(wDw, [3 * I, 1, k, k]) &&
      (is(wGroup, [3 * I, headDim, 1, 1]) || is(wGroup, [3 * I, headDim])) && is(wOut, [C, 2 * I]),
    `weights wq ${shapeStr(wq.shape)}, wk ${shapeStr(wk.shape)}, wv ${shapeStr(wv.shape)}, wDw ${shapeStr(wDw.shape)}, wGroup ${shapeStr(wGroup.shape)}, wOut ${shapeStr(wOut.shape)} do not fit x ${shapeStr(x.shape)} with headDim ${headDim}`,
  );
  c.vector('normWeight', normWeight, C);
  c.vector('normBias', normBias, C);
  const eps = c.eps(opts.eps ?? 1e-15);
  const out = c.out(opts.out, x.shape);
  return { op: 'lite-mla', check: c, args: { x, wq, wk, wv, wDw, wGroup, wOut, normWeight, normBias, headDim, eps }, out, outShape: x.shape };
}

export async function liteMla(x: BackendTensor, w: LiteMlaWeights, opts: LiteMlaOptions = {}): Promise<BackendTensor> {
  return runAsync(prepareLiteMla(x, w, opts));
}
export function liteMlaSync(x: BackendTensor, w: LiteMlaWeights, opts: LiteMlaOptions = {}): BackendTensor {
  return runSync(prepareLiteMla(x, w, opts));
}

// ---- dit-block ----

/** One SANA block's weights (diffusers transformer_blocks.<i>.*; 1×1 convs as (out, in) or (out, in, 1, 1)). */
export interface DitBlockWeights {
  /** scale_shift_table (6, C): shift/scale/gate of the attention, then of the FFN. */
  table: BackendTensor;
  attn1: { wq: BackendTensor; wk: BackendTensor; wv: BackendTensor; wo: BackendTensor; bo: BackendTensor };
  /** With precomputed `opts.kv`, only wq, bq, wo, bo (the text side is already projected). */
  attn2: { wq: BackendTensor; bq: BackendTensor; wk?: BackendTensor; bk?: BackendTensor; wv?: BackendTensor; bv?: BackendTensor; wo: BackendTensor; bo: BackendTensor };
  ff: MixFfnWeights;
}

export interface DitBlockOptions extends OutOption {
  /** Text tokens after caption projection and norm, (B, L, C), projected by attn2's wk, wv — or null with `kv`. */
  y?: BackendTensor | null;
  /**
   * The cross-attention's precomputed text keys/values (B, L, C) (attn2 wk·y + bk, wv·y + bv, made once
   * per prompt by a runner): then y is null and attn2 holds only wq, bq, wo, bo.
   */
  kv?: CrossAttentionKv | null;
  /** adaLN-single modulation t₀ (B, 6C). */
  t0: BackendTensor;
  /** Additive key bias (B, L) or (B, 1, L). */
  maskBias?: BackendTensor | null;
  height: number;
  width: number;
  /** Linear self-attention head dim (SANA 32). */
  headDim?: number;
  /** Cross-attention heads (Sana-0.6B: 16). */
  crossHeads: number;
  /** LayerNorm eps (1e-6). */
  normEps?: number;
  /** Linear-attention eps (1e-15 diffusers, 1e-8 NVlabs). */
  eps?: number;
}

/** dit-block: one Linear-DiT block on tokens x (B, N, C) (see kernels/cpu/dit_block.cpp). */
function prepareDitBlock(x: BackendTensor, w: DitBlockWeights, opts: DitBlockOptions): Prepared {
  const c = new OpCheck('dit-block');
  w = c.record('weights', w, true);
  opts = c.record('options', opts, false, ['y', 'kv', 't0', 'maskBias', 'height', 'width', 'headDim', 'crossHeads', 'normEps', 'eps', ...OUT_OPTIONS]);
  c.tensor('x', x);
  c.ndim('x', x, 3, '(B, N, C)');
  const [B, N, C] = x.shape as [number, number, number];
  const a2 = w.attn2 ?? ({} as DitBlockWeights['attn2']);
  // The cross-attention's text side: y projected by attn2 wk, wv (bk, bv), or precomputed kv — exactly one.
  const kvGiven = opts?.kv !== undefined && opts.kv !== null;
  let y: BackendTensor | null = null;
  let text: BackendTensor;
  if (kvGiven) {
    const kv = c.record('kv', opts.kv!);
    if (opts.y !== undefined && opts.y !== null) throw new TypeError('dit-block: give either opts.y (projected by attn2 wk, wv) or precomputed opts.kv, not both');
    const extra = (['wk', 'bk', 'wv', 'bv'] as const).filter((n) => a2[n] !== undefined && a2[n] !== null);
    if (extra.length > 0) throw new TypeError(`dit-block: with precomputed kv the weights attn2.${extra.join(', attn2.')} are not used; leave them out`);
    const k = c.tensor('kv.k', kv.k);
    const v = c.tensor('kv.v', kv.v);
    c.shape(k.ndim === 3 && k.shape[0] === B && k.shape[2] === C && k.shape.every((d, i) => d === v.shape[i]), `kv.k ${shapeStr(k.shape)} and kv.v ${shapeStr(v.shape)} are not both (B, L, C) for x ${shapeStr(x.shape)}`);
    text = k;
  } else {
    y = c.tensor('y', opts?.y);
    c.shape(y.ndim === 3 && y.shape[0] === B && y.shape[2] === C, `y ${shapeStr(y.shape)} is not (B, L, C) for x ${shapeStr(x.shape)}`);
    text = y;
  }
  const L = text.shape[1]!;
  const t0 = c.tensor('t0', opts.t0);
  const table = c.tensor('table', w?.table);
  c.shape(t0.ndim === 2 && t0.shape[0] === B && t0.shape[1] === 6 * C, `t0 ${shapeStr(t0.shape)} is not (B, 6C) = [${B}, ${6 * C}]`);
  c.shape(table.ndim === 2 && table.shape[0] === 6 && table.shape[1] === C, `table ${shapeStr(table.shape)} is not (6, C) = [6, ${C}]`);
  const maskBias = c.optional('maskBias', opts.maskBias);
  if (maskBias) {
    const s = maskBias.shape;
    c.shape((s.length === 2 && s[0] === B && s[1] === L) || (s.length === 3 && s[0] === B && s[1] === 1 && s[2] === L), `maskBias ${shapeStr(s)} is not (B, L) or (B, 1, L) for ${kvGiven ? 'kv.k' : 'y'} ${shapeStr(text.shape)}`);
  }
  const sq = (name: string, v: unknown, rows: number, cols: number) => {
    const t = c.tensor(name, v);
    c.shape(t.ndim === 2 && t.shape[0] === rows && t.shape[1] === cols, `${name} ${shapeStr(t.shape)} is not (${rows}, ${cols})`);
    return t;
  };
  const vec = (name: string, v: unknown, n: number) => {
    const t = c.tensor(name, v);
    c.vector(name, t, n);
    return t;
  };
  const a1 = w.attn1 ?? ({} as DitBlockWeights['attn1']);
  const ff = w.ff ?? ({} as MixFfnWeights);
  const args: OpArgs = {
    x,
    y,
    t0,
    table,
    maskBias,
    attn1Wq: sq('attn1.wq', a1.wq, C, C),
    attn1Wk: sq('attn1.wk', a1.wk, C, C),
    attn1Wv: sq('attn1.wv', a1.wv, C, C),
    attn1Wo: sq('attn1.wo', a1.wo, C, C),
    attn1Bo: vec('attn1.bo', a1.bo, C),
    attn2Wq: sq('attn2.wq', a2.wq, C, C),
    attn2Bq: vec('attn2.bq', a2.bq, C),
    ...(kvGiven
      ? { attn2K: opts.kv!.k, attn2V: opts.kv!.v }
      : { attn2Wk: sq('attn2.wk', a2.wk, C, C), attn2Bk: vec('attn2.bk', a2.bk, C), attn2Wv: sq('attn2.wv', a2.wv, C, C), attn2Bv: vec('attn2.bv', a2.bv, C) }),
    attn2Wo: sq('attn2.wo', a2.wo, C, C),
    attn2Bo: vec('attn2.bo', a2.bo, C),
  };
  const height = c.int('height', opts.height);
  const width = c.int('width', opts.width);
  c.shape(height * width === N, `grid ${height}×${width} does not match the ${N} tokens of x ${shapeStr(x.shape)}`);
  const ffWInv = c.tensor('ff.wInv', ff.wInv);
  const ffBInv = c.tensor('ff.bInv', ff.bInv);
  const ffWDw = c.tensor('ff.wDw', ff.wDw);
  const ffBDw = c.tensor('ff.bDw', ff.bDw);
  const ffWPoint = c.tensor('ff.wPoint', ff.wPoint);
  const inv = matrixOf(ffWInv);
  const pt = matrixOf(ffWPoint);
  const two = inv?.[0] ?? -1;
  const dwOk = (ffWDw.ndim === 4 && ffWDw.shape[0] === two && ffWDw.shape[1] === 1 && ffWDw.shape[2] === 3 && ffWDw.shape[3] === 3) || (ffWDw.ndim === 3 && ffWDw.shape[0] === two && ffWDw.shape[1] === 3 && ffWDw.shape[2] === 3);
  c.shape(
    inv !== null && inv[1] === C && two % 2 === 0 && pt !== null && pt[0] === C && pt[1] === two / 2 && dwOk,
    `ff weights wInv ${shapeStr(ffWInv.shape)}, wDw ${shapeStr(ffWDw.shape)}, wPoint ${shapeStr(ffWPoint.shape)} do not fit C = ${C}`,
  );
  c.vector('ff.bInv', ffBInv, two);
  c.vector('ff.bDw', ffBDw, two);
  const headDim = c.int('headDim', opts.headDim ?? 32);
  c.shape(C % headDim === 0, `${C} channels are not a multiple of headDim ${headDim}`);
  const crossHeads = c.int('crossHeads', opts.crossHeads);
  c.shape(C % crossHeads === 0, `${C} channels cannot be split into ${crossHeads} cross-attention heads`);
  const normEps = c.eps(opts.normEps ?? 1e-6, 'normEps');
  const eps = c.eps(opts.eps ?? 1e-15);
  const out = c.out(opts.out, x.shape);
  Object.assign(args, { ffWInv, ffBInv, ffWDw, ffBDw, ffWPoint, height, width, headDim, crossHeads, normEps, eps });
  return { op: 'dit-block', check: c, args, out, outShape: x.shape };
}

export async function ditBlock(x: BackendTensor, w: DitBlockWeights, opts: DitBlockOptions): Promise<BackendTensor> {
  return runAsync(prepareDitBlock(x, w, opts));
}
export function ditBlockSync(x: BackendTensor, w: DitBlockWeights, opts: DitBlockOptions): BackendTensor {
  return runSync(prepareDitBlock(x, w, opts));
}
