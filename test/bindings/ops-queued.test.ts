/**
 * ops.queued (queued dispatch on cuda) and the runtime switch under it. Without a GPU only the
 * pass-through and the switch itself can run here; the queued cuda path is exercised by the GPU
 * script (bench/gpu/models.sh: `sana-lab profile --backend cuda`).
 */
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../bindings/addon.js';
import * as ops from '../../bindings/ops.js';

describe('ops.queued', () => {
  it('runs fn as is on the cpu backend (its ops are synchronous) and returns its value', () => {
    const cpu = ops.getBackend('cpu');
    const x = cpu.fromArray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const w = cpu.fromArray(new Float32Array([1, 0, 0, 0, 1, 0]), [2, 3]);
    const y = ops.queued(cpu, 'test', () => ops.gemmSync(x, w));
    expect(Array.from(y.toFloat32())).toEqual([1, 2, 4, 5]);
    for (const t of [x, w, y]) t.dispose();
  });

  it('passes errors of fn through unchanged (argument errors name the op, not the queue)', () => {
    const cpu = ops.getBackend('cpu');
    const x = cpu.fromArray(new Float32Array(6).fill(1), [2, 3]);
    const w = cpu.fromArray(new Float32Array(8).fill(1), [2, 4]);
    expect(() => ops.queued(cpu, 'test', () => ops.gemmSync(x, w))).toThrow(RangeError);
    for (const t of [x, w]) t.dispose();
  });

  it('runtime.setSyncEachOp returns the previous setting (always true without CUDA compiled in)', () => {
    const rt = loadAddon().runtime;
    const cuda = loadAddon().cudaInfo().compiled;
    const before = rt.setSyncEachOp(false);
    expect(before).toBe(true);
    expect(rt.setSyncEachOp(true)).toBe(!cuda);
    expect(rt.setSyncEachOp(true)).toBe(true);
    expect(() => (rt.setSyncEachOp as (v: unknown) => boolean)('no')).toThrow('setSyncEachOp: expected a boolean');
    expect(() => rt.synchronize('step')).not.toThrow();
    expect(() => (rt.synchronize as (v: unknown) => void)(3)).toThrow('synchronize: the optional name must be a string');
  });
});
