/**
 * Parity metrics used by every test, the parity command and the reports:
 * relative error ‖out − ref‖₂ / ‖ref‖₂, max-abs error, max-abs error over max|ref| (the golden
 * README's metric), and how many positions hold a NaN/Inf. NaN never passes: a NaN/Inf in `out` is
 * flagged even where the reference has one too (NaN/Inf inputs are computed through by every op, and a
 * parity check must show them rather than call two NaNs equal), and so is a reference NaN/Inf that the
 * output lacks. When any position is non-finite, rel, maxAbs and maxRel are Infinity (so a check on
 * them alone cannot pass an all-NaN output); otherwise they are taken over all positions.
 */

export interface ErrorStats {
  /** ‖out − ref‖₂ / ‖ref‖₂ (‖out − ref‖₂ when ref is all zeros); Infinity when nonFinite > 0. */
  rel: number;
  /** max |out − ref|; Infinity when nonFinite > 0. */
  maxAbs: number;
  /** max |out − ref| / max |ref|; Infinity when nonFinite > 0. */
  maxRel: number;
  /** max |ref| over the finite positions (0 when there are none). */
  refMaxAbs: number;
  /** Positions where `out` or `ref` is NaN/±Inf (any of them fails parity). */
  nonFinite: number;
  /** Of those, the positions where `ref` is NaN/±Inf (the input had NaN/Inf, or the reference overflowed). */
  refNonFinite: number;
  n: number;
}

export function errorStats(out: ArrayLike<number>, ref: ArrayLike<number>): ErrorStats {
  if (out.length !== ref.length) throw new RangeError(`errorStats: ${out.length} outputs vs ${ref.length} reference values`);
  let diff2 = 0;
  let ref2 = 0;
  let maxAbs = 0;
  let refMax = 0;
  let nonFinite = 0;
  let refNonFinite = 0;
  for (let i = 0; i < out.length; i++) {
    const o = out[i]!;
    const r = ref[i]!;
    const oFinite = Number.isFinite(o);
    const rFinite = Number.isFinite(r);
    if (!oFinite || !rFinite) {
      nonFinite++;
      if (!rFinite) refNonFinite++;
      continue;
    }
    const d = Math.abs(o - r);
    diff2 += d * d;
    ref2 += r * r;
    if (d > maxAbs) maxAbs = d;
    if (Math.abs(r) > refMax) refMax = Math.abs(r);
  }
  const n = out.length;
  // A NaN/Inf anywhere is an infinite error: callers that assert only rel/maxRel/maxAbs must fail too.
  if (nonFinite > 0) return { rel: Infinity, maxAbs: Infinity, maxRel: Infinity, refMaxAbs: refMax, nonFinite, refNonFinite, n };
  const rel = ref2 > 0 ? Math.sqrt(diff2 / ref2) : Math.sqrt(diff2);
  return { rel, maxAbs, maxRel: refMax > 0 ? maxAbs / refMax : maxAbs, refMaxAbs: refMax, nonFinite, refNonFinite, n };
}

/** True when the stats are within tolerance and nothing became NaN/Inf. */
export function withinTolerance(s: ErrorStats, tol: { rel?: number; maxAbs?: number; maxRel?: number }): boolean {
  if (s.nonFinite > 0) return false;
  if (tol.rel !== undefined && !(s.rel <= tol.rel)) return false;
  if (tol.maxAbs !== undefined && !(s.maxAbs <= tol.maxAbs)) return false;
  if (tol.maxRel !== undefined && !(s.maxRel <= tol.maxRel)) return false;
  return true;
}

export function formatStats(s: ErrorStats): string {
  return `rel=${s.rel.toExponential(3)} maxAbs=${s.maxAbs.toExponential(3)} maxRel=${s.maxRel.toExponential(3)}${s.nonFinite ? ` nonFinite=${s.nonFinite}${s.refNonFinite ? ` (${s.refNonFinite} in the reference)` : ''}` : ''}`;
}

/** Where the output is wrong: the positions off by more than `bound` (or NaN/Inf in either), flat (row-major) indices. */
export interface ErrorLocation {
  bad: number;
  n: number;
  /** -1 when nothing is off. */
  first: number;
  last: number;
  /** The position with the largest error (a NaN/Inf counts as the largest). */
  worst: number;
  worstOut: number;
  worstRef: number;
}

/**
 * Locates the wrong elements, so that a failed check says which part of the output is wrong (a tile, an
 * edge, an unwritten stripe shows as the count and the span), not only how much.
 */
export function locateErrors(out: ArrayLike<number>, ref: ArrayLike<number>, bound: number): ErrorLocation {
  if (out.length !== ref.length) throw new RangeError(`locateErrors: ${out.length} outputs vs ${ref.length} reference values`);
  const loc: ErrorLocation = { bad: 0, n: out.length, first: -1, last: -1, worst: -1, worstOut: NaN, worstRef: NaN };
  let worst = -1;
  for (let i = 0; i < out.length; i++) {
    const o = out[i]!;
    const r = ref[i]!;
    const d = Number.isFinite(o) && Number.isFinite(r) ? Math.abs(o - r) : Infinity;
    if (!(d > bound)) continue;
    if (loc.bad++ === 0) loc.first = i;
    loc.last = i;
    if (d > worst) {
      worst = d;
      loc.worst = i;
      loc.worstOut = o;
      loc.worstRef = r;
    }
  }
  return loc;
}

/** Row-major coordinates of flat index `i` in `shape`, e.g. [1, 17, 5]. */
export function coordinatesOf(i: number, shape: readonly number[]): number[] {
  const c = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return c;
}

/** The location as text; with the output's `shape` (whose size must be `l.n`) the indices are coordinates. */
export function formatLocation(l: ErrorLocation, bound: number, shape?: readonly number[]): string {
  if (l.bad === 0) return `no element off by more than ${bound.toExponential(2)}`;
  const useShape = shape !== undefined && shape.reduce((a, b) => a * b, 1) === l.n;
  const at = (i: number) => (useShape ? `[${coordinatesOf(i, shape).join(', ')}]` : String(i));
  return `${l.bad} of ${l.n} elements off by > ${bound.toExponential(2)} or non-finite (${useShape ? `of shape [${shape.join(', ')}]` : 'flat index'} first ${at(l.first)}, last ${at(l.last)}, worst ${at(l.worst)}: out ${l.worstOut.toPrecision(6)}, ref ${l.worstRef.toPrecision(6)})`;
}
