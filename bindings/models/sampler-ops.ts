/**
 * The `sampler-update` op: one sampling step's elementwise tail on the backend — classifier-free
 * guidance, the scheduler's update (reference/schedulers/flow-update.ts) and the next model input — so
 * that a denoising loop keeps its latents where the model runs and reads back only the final latent.
 *
 *   g  = v                                or  v_u + guidance·(v_c − v_u)      (halves = 2: v = [uncond | cond])
 *   x' = the flow update of x with g      (dpm1 / dpm2, which also replaces mState by m = x − σ·g; euler)
 *   tokens = [x' | x' | …]                (the next model input, in the model's dtype)
 *
 * v and tokens are in the model's dtype; x, mState and the coefficient vector (samplerCoefficients) are
 * f32. Every element is computed with the reference's float32 operations in the reference's order, so
 * on every backend the result equals the host scheduler's bit for bit. The coefficients are a tensor
 * (written with BackendTensor.write before the op or the graph that holds it runs), not arguments: a
 * captured CUDA graph then replays each step with that step's coefficients.
 */
import { cfgCombine } from '../../reference/schedulers/guidance.js';
import { applyFlowUpdate, dataPrediction, flowUpdateOfCoefficients, SAMPLER_COEFFS, samplerCoefficients, type FlowUpdate } from '../../reference/schedulers/flow-update.js';
import { loadAddon, type NativeOp, type NativeOpArgs } from '../addon.js';
import { nativeHandle } from '../backend-cpu.js';
import { scopedVersion } from '../ops.js';
import type { BackendTensor } from '../tensor.js';
import { OpCheck } from '../validate.js';

export interface SamplerUpdateOptions {
  /** 2: v holds the [uncond | cond] halves and the update uses their CFG combination (default 1). */
  halves?: 1 | 2;
  /** dpm kinds: the previous data prediction (f32, like x), read, then overwritten with this step's. */
  mState?: BackendTensor | null;
  /** Receives x' once per copy (its element count is a multiple of x's), in v's dtype. */
  tokens?: BackendTensor | null;
}

/**
 * Writes the update `u` (with the CFG scale) into a coefficient tensor (f32, 8 values) on any backend.
 * Checked here, on the host, because the device reads it without a round trip.
 */
export function writeSamplerCoefficients(coeffs: BackendTensor, u: FlowUpdate, guidance = 1): void {
  const c = samplerCoefficients(u, guidance);
  if (!c.every(Number.isFinite)) throw new RangeError(`sampler-update: coefficients of ${u.kind} must be finite, got [${Array.from(c).join(', ')}]`);
  if (coeffs.dtype !== 'f32' || coeffs.numel !== SAMPLER_COEFFS) throw new RangeError(`sampler-update: coeffs must be f32 with ${SAMPLER_COEFFS} values, got ${coeffs.describe()}`);
  coeffs.write(c);
}

/** Runs the update in place on x (and mState, tokens). Returns x. */
export function samplerUpdateSync(v: BackendTensor, x: BackendTensor, coeffs: BackendTensor, opts: SamplerUpdateOptions = {}): BackendTensor {
  const op = 'sampler-update';
  const c = new OpCheck(op);
  c.tensor('v', v);
  c.f32('x', x);
  c.f32('coeffs', coeffs);
  const mState = opts.mState === undefined || opts.mState === null ? null : c.f32('mState', opts.mState);
  const tokens = c.optional('tokens', opts.tokens);
  const halves = opts.halves ?? 1;
  if (halves !== 1 && halves !== 2) throw new RangeError(`${op}: halves must be 1 or 2, got ${String(halves)}`);
  const n = x.numel;
  c.shape(v.numel === halves * n, `v ${v.describe()} does not hold ${halves} × the ${n} values of x ${x.describe()}`);
  c.shape(coeffs.numel === SAMPLER_COEFFS, `coeffs ${coeffs.describe()} must hold ${SAMPLER_COEFFS} values`);
  c.shape(mState === null || mState.numel === n, `mState ${mState?.describe()} differs from x ${x.describe()} in size`);
  c.shape(tokens === null || (tokens.numel % n === 0 && tokens.numel >= n), `tokens ${tokens?.describe()} is not a whole number of copies of x ${x.describe()}`);
  const seen = new Set<BackendTensor>();
  for (const [name, t] of c.tensors) {
    if (seen.has(t)) throw new RangeError(`${op}: ${name} is the same tensor as another argument`);
    seen.add(t);
  }
  if (c.backend === 'reference') {
    referenceUpdate(v, x, coeffs, mState, tokens, halves);
    return x;
  }
  const addon = loadAddon() as unknown as Record<string, unknown>;
  const fn = addon.samplerUpdate;
  if (typeof fn !== 'function') throw new Error(`${op}: the native addon has no samplerUpdate (built before this op was added: run "npm run build:native")`);
  const args: NativeOpArgs = { v: nativeHandle(op, 'v', v), x: nativeHandle(op, 'x', x), coeffs: nativeHandle(op, 'coeffs', coeffs), halves };
  if (mState) args.mState = nativeHandle(op, 'mState', mState);
  if (tokens) args.tokens = nativeHandle(op, 'tokens', tokens);
  const version = scopedVersion(op);
  if (version !== undefined && version !== 0) args.version = version;
  (fn as NativeOp)(args, false);
  return x;
}

/** The reference backend: the scheduler's own host arithmetic (reference/schedulers). */
function referenceUpdate(v: BackendTensor, x: BackendTensor, coeffs: BackendTensor, mState: BackendTensor | null, tokens: BackendTensor | null, halves: number): void {
  const { u, guidance } = flowUpdateOfCoefficients(coeffs.toFloat32());
  if (u.kind !== 'euler' && mState === null) throw new TypeError('sampler-update: the dpm kinds need mState (the previous data prediction)');
  const n = x.numel;
  const vAll = v.toFloat32();
  const g = halves === 2 ? cfgCombine(vAll.subarray(0, n), vAll.subarray(n), guidance) : vAll;
  const xs = x.toFloat32();
  const out = new Float32Array(n);
  if (u.kind === 'euler') {
    applyFlowUpdate(u, xs, g, null, out, Math.fround);
  } else {
    const m = new Float32Array(n);
    dataPrediction(u.sigma, g, xs, m, Math.fround);
    applyFlowUpdate(u, xs, m, u.kind === 'dpm2' ? mState!.toFloat32() : null, out, Math.fround);
    mState!.write(m);
  }
  x.write(out);
  if (tokens) {
    const rep = new Float32Array(tokens.numel);
    for (let j = 0; j < rep.length; j += n) rep.set(out, j);
    tokens.write(rep);
  }
}
