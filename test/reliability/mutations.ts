/**
 * Random mutations of an op's valid call (test/reliability/op-cases.ts) for the fuzz suites: change a
 * dimension by ±1/±2 or to 0, flip a tensor to bf16, drop an optional tensor, add or remove a
 * dimension, set a numeric option to an edge value, or change the `out` shape. Most mutated calls are
 * invalid; some stay valid (e.g. a broadcastable gate), which keeps the acceptance side honest too.
 */
import fc from 'fast-check';
import * as ops from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { randTensor, type BackendKind } from './helpers.js';
import { repoison } from '../kernels/parity.js';
import type { OpCase } from './op-cases.js';

export type Mutation = { target: number; kind: 'dim' | 'zero' | 'dtype' | 'drop' | 'rank' | 'option' | 'out'; dim: number; delta: number; value: number };

export const mutation = fc.record({
  target: fc.nat(40),
  kind: fc.constantFrom('dim', 'dim', 'zero', 'dtype', 'drop', 'rank', 'option', 'option', 'out') as fc.Arbitrary<Mutation['kind']>,
  dim: fc.nat(7),
  delta: fc.constantFrom(-1, 1, 2, -2),
  value: fc.constantFrom(0, -1, 1, 2, 3, 4, 8, 16, 32, 64, 1e-3, NaN, Infinity),
});

export interface Built {
  tensors: Record<string, BackendTensor>;
  opts: Record<string, unknown>;
  out: BackendTensor;
  all: BackendTensor[];
}

/** The mutated call's tensors (on `backend`), options and a preallocated, NaN-poisoned `out`. */
export function buildMutated(c: OpCase, muts: Mutation[], seed: number, backend: BackendKind = 'cpu'): Built {
  const names = Object.keys(c.shapes);
  const shapes: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [...c.shapes[n]!]]));
  const dtypes: Record<string, 'f32' | 'bf16'> = {};
  const dropped = new Set<string>();
  const opts: Record<string, unknown> = { ...c.options };
  let outShape = [...c.outShape];
  for (const m of muts) {
    const name = names[m.target % names.length]!;
    const s = shapes[name]!;
    if (m.kind === 'dim') s[m.dim % s.length] = Math.max(0, s[m.dim % s.length]! + m.delta);
    else if (m.kind === 'zero') s[m.dim % s.length] = 0;
    else if (m.kind === 'dtype') dtypes[name] = 'bf16';
    else if (m.kind === 'drop') {
      if (c.optional.includes(name)) dropped.add(name);
    } else if (m.kind === 'rank') {
      if (m.delta > 0) s.unshift(1);
      else if (s.length > 1) s.splice(m.dim % s.length, 1);
    } else if (m.kind === 'option') {
      const keys = Object.keys(opts).filter((k) => typeof opts[k] === 'number');
      if (keys.length) opts[keys[m.target % keys.length]!] = m.value;
    } else {
      outShape = [...outShape];
      outShape[m.dim % outShape.length] = Math.max(1, outShape[m.dim % outShape.length]! + m.delta);
    }
  }
  const tensors: Record<string, BackendTensor> = {};
  names.forEach((n, i) => {
    if (!dropped.has(n)) tensors[n] = randTensor(backend, shapes[n]!, seed + i, dtypes[n] ?? 'f32', 0.5);
  });
  // Poisoned (NaN), not empty(): an element the op never writes must show up, not read as stale memory.
  const out = repoison(ops.getBackend(backend).empty(outShape, 'f32'));
  return { tensors, opts, out, all: [...Object.values(tensors), out] };
}
