import { describe, expect, it } from 'vitest';
import * as ops from '../../bindings/ops.js';
import { Rng } from '../../reference/core/random.js';
import { expectBits, poisoned } from '../kernels/parity.js';

describe('async ops on the cpu backend run off the JS thread', () => {
  const cpu = ops.getBackend('cpu');
  const rand = (shape: number[], seed: number) => {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    new Rng(seed).fillNormal(a, 0, 1);
    return cpu.fromArray(a, shape);
  };
  // 2·1024·2304·1152 ≈ 5.4 GFLOP: tens of milliseconds on two cores.
  const x = rand([1024, 1152], 1);
  const w = rand([2304, 1152], 2);

  it('timers fire while a large gemm computes, and the result equals the sync form', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let settled = false;
    // Poisoned outputs: a form that skips the kernel leaves NaNs, which expectBits rejects.
    const pending = ops.gemm(x, w, { out: poisoned([1024, 2304], 'f32') }).then((r) => {
      settled = true;
      return r;
    });
    const sawPending = await new Promise<boolean>((resolve) => setTimeout(() => resolve(!settled), 0));
    const out = await pending;
    clearInterval(timer);
    expect(sawPending).toBe(true);
    expect(ticks).toBeGreaterThanOrEqual(2);

    const sync = ops.gemmSync(x, w, { out: poisoned([1024, 2304], 'f32') });
    expectBits('async vs sync gemm', out.toFloat32(), sync.toFloat32());
    out.dispose();
    sync.dispose();
  });

  it('several async ops in flight at once all complete correctly', async () => {
    const small = rand([64, 1152], 3);
    const out = () => ({ out: poisoned([64, 2304], 'f32') });
    const expected = ops.gemmSync(small, w, out()).toFloat32();
    const results = await Promise.all([ops.gemm(small, w, out()), ops.gemm(small, w, out()), ops.linearAttention(rand([1, 64, 64], 4), rand([1, 64, 64], 5), rand([1, 64, 64], 6)), ops.gemm(small, w, out())]);
    for (const i of [0, 1, 3]) expectBits(`gemm in flight #${i}`, results[i]!.toFloat32(), expected);
  });
});
