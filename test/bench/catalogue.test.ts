import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../reference/core/golden.js';
import { BACKEND_OP_NAMES } from '../../bindings/index.js';
import { getBackend } from '../../bindings/ops.js';
import { API_CALLS, apiCall } from '../../bench/api-calls.js';
import { REFERENCE_OPS } from '../../bench/backends/reference-ops.js';
import { API_OP_NAMES, DCAE_OPS, DEFAULT_PARITY, DIT_OPS, OP_CATALOGUE, OP_NAMES, opCount, opEntry, opsOfModel, type OpName } from '../../bench/catalogue.js';
import { MODEL_KEYS } from '../../bench/models.js';
import * as benchOps from '../../bench/ops.js';
import { PLAIN_BF16 } from '../../bench/parity/plain-bf16.js';
import { BATCHES, catalogue, parseResolution, RESOLUTIONS } from '../../bench/shapes.js';

const entries = OP_NAMES.map((op) => opEntry(op));

describe('the op catalogue', () => {
  it('declares each op once, in family order, and bench/ops re-exports the same names', () => {
    expect(new Set(OP_NAMES).size).toBe(OP_NAMES.length);
    expect(OP_NAMES.length).toBe(15);
    expect([...DIT_OPS, ...DCAE_OPS]).toEqual(OP_NAMES);
    expect(benchOps.OP_NAMES).toBe(OP_NAMES);
    for (const op of OP_NAMES) expect(OP_CATALOGUE[op].op).toBe(op);
    expect(() => opEntry('softmax' as OpName)).toThrow(/unknown op "softmax"/);
  });

  it('points each op at its TS reference implementation, a file and function that exist', () => {
    for (const e of entries) {
      const [file, fn] = e.reference.split(': ') as [string, string];
      const src = readFileSync(join(projectRoot(), file), 'utf8');
      expect(src, `${e.op}: ${e.reference}`).toMatch(new RegExp(`export function ${fn.split(' ')[0]}\\b`));
    }
  });

  it('gives every op a cost model that counts its test shapes and every catalogue shape', () => {
    for (const e of entries) {
      expect(e.testShapes.length, e.op).toBeGreaterThan(0);
      for (const dims of e.testShapes) {
        const c = opCount({ op: e.op, dims } as never);
        expect(c.flops, e.op).toBeGreaterThan(0);
        expect(c.inElems + c.outElems, e.op).toBeGreaterThan(0);
      }
    }
    for (const model of MODEL_KEYS) {
      for (const s of catalogue(model, parseResolution('512'), 2)) {
        const c = opCount(s);
        expect(Number.isSafeInteger(c.flops) && c.flops > 0, `${s.op}:${s.variant}`).toBe(true);
      }
    }
  });

  it('lists exactly the variants bench/shapes.ts generates for each op of its model', () => {
    for (const model of MODEL_KEYS) {
      for (const r of [RESOLUTIONS[0]!, RESOLUTIONS[5]!]) {
        for (const b of BATCHES) {
          const shapes = catalogue(model, r, b);
          for (const op of opsOfModel(model)) {
            const variants = shapes.filter((s) => s.op === op).map((s) => s.variant);
            expect(variants, `${model} ${op}`).toEqual([...opEntry(op).variants]);
          }
          expect(shapes.every((s) => opsOfModel(model).includes(s.op))).toBe(true);
        }
      }
    }
    expect(opsOfModel('0.6b')).toEqual(DIT_OPS);
    expect(opsOfModel('dcae')).toEqual(DCAE_OPS);
  });

  it('has a parity rule per op (f32 1e-5 relative, bf16 within 2× plain bf16) and test shapes unlike any benchmark shape', () => {
    const benchDims = new Set<string>();
    for (const model of MODEL_KEYS) for (const r of RESOLUTIONS) for (const b of BATCHES) for (const s of catalogue(model, r, b)) benchDims.add(`${s.op} ${JSON.stringify(s.dims)}`);
    for (const e of entries) {
      expect(e.parity.f32.rel, e.op).toBeLessThanOrEqual(1e-5);
      expect(e.parity.bf16.factor, e.op).toBe(2);
      for (const dims of e.testShapes) expect(benchDims.has(`${e.op} ${JSON.stringify(dims)}`), `${e.op} test shape`).toBe(false);
    }
    expect(DEFAULT_PARITY.f32.rel).toBe(1e-5);
  });

  it('ties the op API to the catalogue: bindings OP_NAMES ⊆ catalogue, and every callable op (op API or DC-AE model op) has a call, a plain bf16 and a cpu version', () => {
    expect(BACKEND_OP_NAMES).toBe(API_OP_NAMES);
    for (const op of BACKEND_OP_NAMES) expect(OP_NAMES).toContain(op);
    const ref = getBackend('reference');
    const modelOps = ['dcae-upsample', 'dcae-evit-block']; // bindings/models/dcae-ops.ts, not op-API names
    for (const e of entries) {
      const inApi = e.apiOp !== null;
      const callable = inApi || modelOps.includes(e.op);
      expect(API_CALLS[e.op] !== undefined, `${e.op} call`).toBe(callable);
      expect(PLAIN_BF16[e.op] !== undefined, `${e.op} plain bf16`).toBe(callable);
      expect(e.native.cpu.length > 0, `${e.op} cpu versions`).toBe(callable);
      if (inApi) {
        expect(BACKEND_OP_NAMES as readonly string[]).toContain(e.apiOp);
        expect(ref.supports(e.apiOp as never), `${e.op} on the reference backend`).toBe(true);
      }
      for (const v of [...e.native.cpu, ...e.native.cuda]) expect(v.version, e.op).toBeGreaterThan(0);
      expect(new Set(e.native.cpu.map((v) => v.version)).size).toBe(e.native.cpu.length);
      expect(REFERENCE_OPS[e.op], `${e.op} in the bench reference`).toBeDefined();
    }
  });

  it('sizes each op-API call like the cost model: inputs + weights and the output element counts agree', () => {
    for (const e of entries) {
      for (const dims of e.testShapes) {
        const call = apiCall(e.op, dims as never);
        if (call === null) continue;
        const c = opCount({ op: e.op, dims } as never);
        const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
        expect(n(call.outShape), `${e.op} output`).toBe(c.outElems);
        const inputs = Object.values(call.inputs).reduce((a, s) => a + n(s.shape), 0);
        // The call reads at least what the cost model counts (the cost model may count a mask as B·L
        // where the op API takes (B, 1, L), and composite ops fold a few small vectors differently).
        expect(inputs, `${e.op} inputs`).toBeGreaterThanOrEqual(0.9 * (c.inElems + c.weightElems));
        expect(inputs, `${e.op} inputs`).toBeLessThanOrEqual(1.1 * (c.inElems + c.weightElems));
      }
    }
  });
});
