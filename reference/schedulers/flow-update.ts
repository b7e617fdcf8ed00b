/**
 * One flow-sampler update as coefficients, and its float32 arithmetic: what the schedulers' `step`
 * computes per latent element, written once so that the native `sampler-update` op
 * (bindings/models/sampler-ops.ts, kernels/{cpu,cuda}/sampler_update.*) can apply the same update on the
 * device and be checked against it bit for bit.
 *
 *   dpm1 (Flow-DPM-Solver++ 1st order):  m = x − σ·v;  x' = cX·x − cD0·m
 *   dpm2 (2nd order, midpoint):          m = x − σ·v;  D1 = invR0·(m − m_prev);  x' = (cX·x − cD0·m) − cD1·D1
 *   euler (Flow-Euler):                  x' = x + dt·v
 *
 * with every operation rounded to the sample's precision (float32: Math.fround) in exactly this order.
 * The coefficients are float32 scalars computed by the scheduler (flow-dpm-solver.ts, flow-euler.ts).
 */

export type FlowUpdate =
  | { kind: 'dpm1'; sigma: number; cX: number; cD0: number }
  | { kind: 'dpm2'; sigma: number; cX: number; cD0: number; cD1: number; invR0: number }
  | { kind: 'euler'; dt: number };

/** The Flow-DPM-Solver++ updates (the ones with a data prediction). */
export type DpmUpdate = Extract<FlowUpdate, { kind: 'dpm1' | 'dpm2' }>;

/** The kind's code in the op's coefficient vector. */
export const FLOW_UPDATE_KIND_CODES = { dpm1: 0, dpm2: 1, euler: 2 } as const;

/** Values in the `sampler-update` op's coefficient vector: [kind, guidance, σ, cX, cD0, cD1, invR0, dt]. */
export const SAMPLER_COEFFS = 8;

/** The op's coefficient vector for `u` (guidance: the CFG scale, used when the op combines two halves). */
export function samplerCoefficients(u: FlowUpdate, guidance = 1): Float32Array {
  const c = new Float32Array(SAMPLER_COEFFS);
  c[0] = FLOW_UPDATE_KIND_CODES[u.kind];
  c[1] = guidance;
  if (u.kind === 'euler') {
    c[7] = u.dt;
  } else {
    c[2] = u.sigma;
    c[3] = u.cX;
    c[4] = u.cD0;
    if (u.kind === 'dpm2') {
      c[5] = u.cD1;
      c[6] = u.invR0;
    }
  }
  return c;
}

/** The inverse of samplerCoefficients: the update and the CFG scale a coefficient vector holds. */
export function flowUpdateOfCoefficients(c: ArrayLike<number>): { u: FlowUpdate; guidance: number } {
  const kind = (Object.keys(FLOW_UPDATE_KIND_CODES) as FlowUpdate['kind'][]).find((k) => FLOW_UPDATE_KIND_CODES[k] === c[0]);
  if (kind === undefined) throw new RangeError(`sampler-update: coeffs[0] (kind) must be 0, 1 or 2, got ${c[0]}`);
  const u: FlowUpdate =
    kind === 'euler' ? { kind, dt: c[7]! } : kind === 'dpm1' ? { kind, sigma: c[2]!, cX: c[3]!, cD0: c[4]! } : { kind, sigma: c[2]!, cX: c[3]!, cD0: c[4]!, cD1: c[5]!, invR0: c[6]! };
  return { u, guidance: c[1]! };
}

/** Data prediction m = x − σ·v of the dpm kinds (into `m`). */
export function dataPrediction(sigma: number, v: ArrayLike<number>, x: ArrayLike<number>, m: Float32Array | Float64Array, r: (v: number) => number): void {
  for (let k = 0; k < m.length; k++) m[k] = r(x[k]! - r(sigma * v[k]!));
}

/**
 * x' of the update into `out`: from the data prediction m (and the previous one, dpm2) for the dpm
 * kinds, from the velocity v for euler.
 */
export function applyFlowUpdate(
  u: FlowUpdate,
  x: ArrayLike<number>,
  mOrV: ArrayLike<number>,
  mPrev: ArrayLike<number> | null,
  out: Float32Array | Float64Array,
  r: (v: number) => number,
): void {
  if (u.kind === 'euler') {
    for (let k = 0; k < out.length; k++) out[k] = r(x[k]! + r(u.dt * mOrV[k]!));
  } else if (u.kind === 'dpm1') {
    for (let k = 0; k < out.length; k++) out[k] = r(r(u.cX * x[k]!) - r(u.cD0 * mOrV[k]!));
  } else {
    if (mPrev === null) throw new TypeError('applyFlowUpdate: a 2nd-order update needs the previous data prediction');
    for (let k = 0; k < out.length; k++) {
      const d1 = r(u.invR0 * r(mOrV[k]! - mPrev[k]!));
      out[k] = r(r(r(u.cX * x[k]!) - r(u.cD0 * mOrV[k]!)) - r(u.cD1 * d1));
    }
  }
}
