/**
 * NaN and Inf in the inputs are computed through, never hidden: every op on both backends turns a
 * NaN in its first input into NaN outputs (a ReLU, a max, a clamp or a mask must not swallow it), the
 * cpu kernels put the NaNs exactly where the reference does, an Inf input gives non-finite outputs,
 * and the parity metric (errorStats / withinTolerance) flags all of it — two NaNs in the same place are
 * not "equal", so a run on NaN inputs can never pass a parity check.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as ops from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { errorStats, formatStats, withinTolerance } from '../../reference/core/compare.js';
import { numelOf, randValues } from './helpers.js';
import { OP_CASES, type OpCase } from './op-cases.js';

const made: BackendTensor[] = [];
afterAll(() => made.forEach((t) => t.dispose()));

/** The op's valid call on `backend` with `poison` written into element `at` of the first input. */
function runPoisoned(c: OpCase, backend: 'cpu' | 'reference', poison: number, at: number): Float32Array {
  const be = ops.getBackend(backend);
  const names = Object.keys(c.shapes);
  const t: Record<string, BackendTensor> = {};
  names.forEach((n, i) => {
    const v = randValues(numelOf(c.shapes[n]!), 900 + i, 0.5);
    if (i === 0) v[at] = poison;
    t[n] = be.fromArray(v, c.shapes[n]!);
    made.push(t[n]!);
  });
  const out = c.call(t, c.options, true) as BackendTensor;
  made.push(out);
  return out.toFloat32();
}

const nonFiniteMask = (a: Float32Array) => Array.from(a, (v) => !Number.isFinite(v));

describe('NaN/Inf inputs are computed through and flagged', () => {
  for (const c of OP_CASES) {
    it(`${c.op}: NaN in ${Object.keys(c.shapes)[0]} → NaN outputs, at the same positions on cpu and reference; Inf → non-finite`, () => {
      const at = Math.floor(numelOf(Object.values(c.shapes)[0]!) / 2);
      const ref = runPoisoned(c, 'reference', NaN, at);
      const cpu = runPoisoned(c, 'cpu', NaN, at);
      const nanCount = cpu.filter(Number.isNaN).length;
      expect(nanCount, `${c.op}: the NaN input vanished`).toBeGreaterThan(0);
      expect(nonFiniteMask(cpu), `${c.op}: NaN positions differ from the reference`).toEqual(nonFiniteMask(ref));
      const s = errorStats(cpu, ref);
      expect(s.nonFinite, formatStats(s)).toBe(nanCount);
      expect(s.refNonFinite).toBe(nanCount);
      expect(withinTolerance(s, { rel: 1, maxAbs: 1e9 })).toBe(false);
      expect(s.rel, 'a non-finite output must make rel infinite').toBe(Infinity);
      // The finite positions still agree (the NaN did not corrupt unrelated outputs); the masks are equal (above).
      const finite = nonFiniteMask(ref).map((bad) => !bad);
      const sf = errorStats(cpu.filter((_, i) => finite[i]), ref.filter((_, i) => finite[i]));
      expect(sf.nonFinite).toBe(0);
      expect(sf.rel, formatStats(sf)).toBeLessThanOrEqual(1e-5);

      for (const inf of [Infinity, -Infinity]) {
        const ri = runPoisoned(c, 'reference', inf, at);
        const ci = runPoisoned(c, 'cpu', inf, at);
        expect(ci.some((v) => !Number.isFinite(v)), `${c.op}: ${inf} input gave only finite outputs on cpu`).toBe(ri.some((v) => !Number.isFinite(v)));
        if (ri.some((v) => !Number.isFinite(v))) expect(withinTolerance(errorStats(ci, ri), { rel: 1 })).toBe(false);
      }
    });
  }
});

describe('errorStats never lets NaN pass', () => {
  it('a NaN in both out and ref is flagged, as is a reference NaN the output lacks', () => {
    const both = errorStats([1, NaN, 3], [1, NaN, 3]);
    expect(both).toMatchObject({ nonFinite: 1, refNonFinite: 1, rel: Infinity, maxAbs: Infinity, maxRel: Infinity });
    expect(withinTolerance(both, { rel: 1 })).toBe(false);
    const hidden = errorStats([1, 0, 3], [1, NaN, 3]);
    expect(hidden).toMatchObject({ nonFinite: 1, refNonFinite: 1 });
    expect(withinTolerance(hidden, { rel: 1 })).toBe(false);
    const inf = errorStats([1, Infinity], [1, Infinity]);
    expect(inf.nonFinite).toBe(1);
    expect(formatStats(inf)).toMatch(/nonFinite=1 \(1 in the reference\)/);
    expect(withinTolerance(errorStats([1, 2], [1, 2]), { rel: 0 })).toBe(true);
  });
});
