/**
 * Every public op, on the cpu and the reference backend, in its sync and async form, rejects every
 * class of bad input with the right error before touching memory:
 *   TypeError  — a missing tensor or a non-tensor value, a disposed tensor, a tensor on another
 *                backend or of another dtype, options/weights that are not objects, a bad enum option;
 *   RangeError — zero-size dimensions, shapes that do not fit together, out-of-range numeric options,
 *                a wrong or aliased `out`;
 * and every message starts with the op's name. Async forms reject (they never throw synchronously).
 * Each op's valid call runs first (the positive control), so a rejection cannot come from a broken
 * fixture.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as ops from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { expectFailure, randTensor, type BackendKind } from './helpers.js';
import { OP_CASES, type OpCase } from './op-cases.js';

const MODES = ['sync', 'async'] as const;

/** The op's sync form (returns the tensor / throws) or async form (returns a Promise). */
function run(c: OpCase, t: Record<string, unknown>, opts: Record<string, unknown>, mode: 'sync' | 'async', over?: { weights?: unknown; options?: unknown }): BackendTensor | Promise<BackendTensor> {
  return c.call(t, opts, mode === 'sync', over) as BackendTensor | Promise<BackendTensor>;
}

const made: BackendTensor[] = [];
afterAll(() => {
  for (const t of made) t.dispose();
});
function tensor(backend: BackendKind, shape: number[], seed: number, dtype: 'f32' | 'bf16' = 'f32'): BackendTensor {
  const t = randTensor(backend, shape, seed, dtype, 0.5);
  made.push(t);
  return t;
}

for (const c of OP_CASES) {
  for (const backend of ['cpu', 'reference'] as const) {
    describe(`${c.op} on ${backend}`, () => {
      const other: BackendKind = backend === 'cpu' ? 'reference' : 'cpu';
      const names = Object.keys(c.shapes);
      const base: Record<string, BackendTensor> = {};
      names.forEach((n, i) => (base[n] = tensor(backend, c.shapes[n]!, 100 + i)));
      const start = `${c.op}: `;
      const withT = (name: string, v: unknown) => ({ ...base, [name]: v });

      it('positive control: the valid call (all tensors, then optional ones left out) succeeds', async () => {
        for (const mode of MODES) {
          const out = await run(c, base, c.options, mode);
          expect(out.shape).toEqual(c.outShape);
          expect(out.toFloat32().every(Number.isFinite)).toBe(true);
          out.dispose();
          const minimal = Object.fromEntries(Object.entries(base).filter(([k]) => !c.optional.includes(k)));
          const out2 = await run(c, minimal, c.options, mode);
          expect(out2.shape).toEqual(c.outShape);
          out2.dispose();
        }
      });

      it('each tensor argument: missing, not a tensor, disposed, other backend, other dtype → TypeError', async () => {
        for (const mode of MODES) {
          for (const [i, name] of names.entries()) {
            const shape = c.shapes[name]!;
            if (!c.optional.includes(name)) {
              await expectFailure(() => run(c, withT(name, undefined), c.options, mode), TypeError, new RegExp(`^${start}.*must be a BackendTensor, got undefined`), mode);
            }
            await expectFailure(() => run(c, withT(name, new Float32Array(8)), c.options, mode), TypeError, new RegExp(`^${start}.*must be a BackendTensor, got Float32Array`), mode);
            await expectFailure(() => run(c, withT(name, { shape, dtype: 'f32' }), c.options, mode), TypeError, new RegExp(`^${start}.*must be a BackendTensor, got Object`), mode);
            const gone = randTensor(backend, shape, 7);
            gone.dispose();
            await expectFailure(() => run(c, withT(name, gone), c.options, mode), TypeError, new RegExp(`^${start}.*f32\\[.*\\] on ${backend} has been disposed`), mode);
            const foreign = tensor(other, shape, 200 + i);
            await expectFailure(() => run(c, withT(name, foreign), c.options, mode), TypeError, new RegExp(`^${start}.* is on backend '(cpu|reference)' but .* is on '(cpu|reference)'`), mode);
            const half = tensor(backend, shape, 300 + i, 'bf16');
            await expectFailure(() => run(c, withT(name, half), c.options, mode), TypeError, new RegExp(`^${start}.* is (bf16|f32) but .* is (f32|bf16) \\(all tensors of an op share one dtype\\)`), mode);
          }
        }
      });

      it('each tensor argument: a zero-size dimension or a mis-sized last dimension → RangeError', async () => {
        for (const mode of MODES) {
          for (const [i, name] of names.entries()) {
            const shape = c.shapes[name]!;
            const empty = tensor(backend, [0, ...shape.slice(1)], 400 + i);
            await expectFailure(() => run(c, withT(name, empty), c.options, mode), RangeError, new RegExp(`^${start}${name.replace(/^(attn[12]|ff)([A-Z])/, (_m, a: string, b: string) => `${a}.${b.toLowerCase()}`)} \\[0.*\\] has a zero-size dimension`), mode);
            const off = tensor(backend, [...shape.slice(0, -1), shape[shape.length - 1]! + 1], 500 + i);
            await expectFailure(() => run(c, withT(name, off), c.options, mode), RangeError, new RegExp(`^${start}`), mode);
          }
        }
      });

      it('options and weights: bad values → RangeError/TypeError; null options are "none"; null weights → TypeError', async () => {
        for (const mode of MODES) {
          for (const [patch, cls, message] of c.badOptions) {
            await expectFailure(() => run(c, base, { ...c.options, ...patch }, mode), cls, message, mode);
          }
          if (c.weights !== null) {
            for (const junk of [null, undefined, 42, 'weights', [base[names[1]!]]]) {
              await expectFailure(() => run(c, base, c.options, mode, { weights: junk }), TypeError, new RegExp(`^${start}weights must be an object, got (null|undefined|number|string|Array)`), mode);
            }
          }
          for (const junk of [42, 'opts', [1]]) {
            await expectFailure(() => run(c, base, c.options, mode, { options: junk }), TypeError, new RegExp(`^${start}options must be an object, got (number|string|Array)`), mode);
          }
          // null/undefined options mean "no options": the op runs with its defaults, or names the first
          // required option (or a default that does not fit these shapes) — never a raw JS TypeError.
          for (const none of [null, undefined]) {
            try {
              const out = await run(c, base, c.options, mode, { options: none });
              out.dispose();
            } catch (e) {
              expect(e instanceof TypeError || e instanceof RangeError, String(e)).toBe(true);
              expect((e as Error).message).toMatch(new RegExp(`^${start}`));
            }
          }
        }
      });

      it('out: wrong shape, wrong dtype, other backend, disposed or aliasing an input is rejected; a right one is used', async () => {
        for (const mode of MODES) {
          const wrong = tensor(backend, [...c.outShape.slice(0, -1), c.outShape[c.outShape.length - 1]! + 1], 600);
          await expectFailure(() => run(c, base, { ...c.options, out: wrong }, mode), RangeError, new RegExp(`^${start}out \\[.*\\] differs from the expected output shape`), mode);
          await expectFailure(() => run(c, base, { ...c.options, out: tensor(backend, c.outShape, 601, 'bf16') }, mode), TypeError, new RegExp(`^${start}out is bf16 but`), mode);
          await expectFailure(() => run(c, base, { ...c.options, out: tensor(other, c.outShape, 602) }, mode), TypeError, new RegExp(`^${start}out is on backend`), mode);
          const gone = randTensor(backend, c.outShape, 603);
          gone.dispose();
          await expectFailure(() => run(c, base, { ...c.options, out: gone }, mode), TypeError, new RegExp(`^${start}out .* has been disposed`), mode);
          const same = names.find((n) => !c.mayAlias.includes(n) && c.shapes[n]!.join() === c.outShape.join());
          if (same !== undefined) {
            await expectFailure(() => run(c, base, { ...c.options, out: base[same] }, mode), RangeError, new RegExp(`^${start}out must not be the same tensor as ${same}`), mode);
          }
          const out = tensor(backend, c.outShape, 604);
          expect(await run(c, base, { ...c.options, out }, mode)).toBe(out);
        }
      });
    });
  }
}

describe('coverage', () => {
  it('every op of bindings/ops.ts has a case here (add one to op-cases.ts with each new op)', () => {
    const exported = Object.keys(ops).filter((k) => k.endsWith('Sync')).map((k) => k.slice(0, -4)).sort();
    expect(exported).toEqual(OP_CASES.map((c) => c.fn).sort());
    for (const c of OP_CASES) expect(typeof (ops as Record<string, unknown>)[c.fn]).toBe('function');
  });
});
