/**
 * The README's "From code" snippet: `ops.gemm(x, w, { activation: 'silu' })`. A misspelt option key
 * (`act`) must not be ignored — the op would compute without the activation, a silent wrong answer —
 * so every op of bindings/ops.ts rejects keys it does not read with a TypeError naming the op, the key
 * and the keys it accepts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ops from '../../bindings/ops.js';
import { projectRoot } from '../../reference/core/golden.js';

describe('README "From code" snippet and option keys', () => {
  it('the README passes the gemm option by its real name', () => {
    const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
    expect(readme).toMatch(/ops\.gemm\(x, w, \{ activation: 'silu' \}\)/);
    expect(readme).not.toMatch(/\{ act: 'silu' \}/);
  });

  it('an unknown option key is a TypeError naming the op, the key and the accepted keys (sync and async)', async () => {
    const ref = ops.getBackend('reference');
    const x = ref.fromArray(new Float32Array(2 * 8).fill(0.5), [2, 8]);
    const w = ref.fromArray(new Float32Array(4 * 8).fill(0.01), [4, 8]);
    const want = /^gemm: unknown options key "act" \(accepted: bias, gate, residual, activation, out, version\)$/;
    expect(() => ops.gemmSync(x, w, { act: 'silu' } as never)).toThrow(TypeError);
    expect(() => ops.gemmSync(x, w, { act: 'silu' } as never)).toThrow(want);
    await expect(ops.gemm(x, w, { act: 'silu' } as never)).rejects.toThrow(want);
    expect(() => ops.layerNormModulateSync(ref.fromArray(new Float32Array(8), [1, 1, 8]), x, x, { eps: 1e-6, epsilon: 1 } as never)).toThrow(/^layernorm-modulate: unknown options key "epsilon"/);
    // the documented spelling runs, and computes silu
    const y = ops.gemmSync(x, w, { activation: 'silu' });
    const z = 8 * 0.5 * 0.01;
    expect(y.toFloat32()[0]).toBeCloseTo(z / (1 + Math.exp(-z)), 6);
  });
});
