/**
 * No leaks across the native boundary, measured with process.memoryUsage().rss. Every bound is far
 * below what a leak would cost: each cycle writes its whole tensor (fromArray copies), so a cycle that
 * leaked its tensor would grow the RSS by (cycles × tensor size) — 4–10× the allowed growth.
 *   - 10,000 allocate / fill / read / dispose cycles (64 KiB, malloc path; f32 and bf16);
 *   - 300 cycles of 1 MiB tensors (the mmap path, returned to the OS on dispose);
 *   - 3,000 op calls (sync and async) whose fresh outputs are disposed;
 *   - 5,000 native op calls that fail inside the kernel's shape checks, on tensors disposed afterwards
 *     (the op's reference to the storage must be released on the error path too);
 *   - 10,000 tensors never disposed: dropped, their N-API finalizers free them once V8 collects
 *     (the addon reports their size as external memory, which is what makes V8 collect in time).
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../bindings/addon.js';
import * as ops from '../../bindings/ops.js';
import { randValues } from './helpers.js';

const cpu = ops.getBackend('cpu');
const addon = loadAddon();
// Under AddressSanitizer (npm run test:asan) every free goes through ASan's quarantine, so the RSS says
// nothing about leaks there; these tests run against the normal build.
const sanitized = addon.buildInfo().sanitize;
if (sanitized) console.warn('[leaks] skipped under the sanitizer build: ASan quarantines freed memory, so RSS cannot show leaks');
const MiB = 2 ** 20;
const rss = () => process.memoryUsage().rss;

// A full GC before each reading, so garbage of earlier tests (and their pending finalizers) does not
// land in this test's numbers.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
async function settle(): Promise<void> {
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
}

/** Runs `cycles` iterations of `body` after a warm-up; returns the RSS growth over the measured part. */
async function growth(cycles: number, body: (i: number) => void | Promise<void>, warmup = Math.min(200, cycles / 10)): Promise<number> {
  for (let i = 0; i < warmup; i++) await body(i);
  await settle();
  const before = rss();
  for (let i = 0; i < cycles; i++) await body(i);
  return rss() - before;
}

describe.skipIf(sanitized)('RSS stays bounded', () => {
  it('10,000 allocate/fill/read/dispose cycles of 64 KiB tensors (a leak would be 625 MiB)', async () => {
    const data = randValues(16 * 1024, 1);
    const bits = cpu.fromArray(data, [16 * 1024], 'bf16').toArray() as Uint16Array;
    let checksum = 0;
    const g = await growth(10_000, (i) => {
      const t = i % 2 === 0 ? cpu.fromArray(data, [128, 128]) : cpu.fromArray(bits, [64, 256], 'bf16');
      // Reading back allocates a JS copy; do it now and then (10,000 copies would be 625 MiB of garbage
      // waiting for the GC, which is not what this test measures).
      if (i % 50 === 0) checksum += t.toArray()[i % 1000]!;
      t.dispose();
    });
    expect(Number.isFinite(checksum)).toBe(true);
    expect(g, `RSS grew by ${(g / MiB).toFixed(1)} MiB`).toBeLessThan(64 * MiB);
  });

  it('300 cycles of 1 MiB tensors on the mmap path (a leak would be 300 MiB)', async () => {
    const data = randValues(256 * 1024, 2);
    const g = await growth(300, () => cpu.fromArray(data, [256, 1024]).dispose(), 20);
    expect(g, `RSS grew by ${(g / MiB).toFixed(1)} MiB`).toBeLessThan(48 * MiB);
  });

  it('3,000 op calls with fresh outputs, sync and async (a leak would be ≥ 187 MiB)', async () => {
    const x = cpu.fromArray(randValues(64 * 256, 3), [64, 256]);
    const w = cpu.fromArray(randValues(256 * 256, 4), [256, 256]);
    const b = cpu.fromArray(randValues(256, 5), [256]);
    const g = await growth(3000, async (i) => {
      const out = i % 3 === 0 ? await ops.gemm(x, w, { bias: b, activation: 'silu' }) : ops.gemmSync(x, w, { bias: b });
      const n = ops.rmsNormSync(out, { weight: b });
      out.dispose();
      n.dispose();
    });
    expect(g, `RSS grew by ${(g / MiB).toFixed(1)} MiB`).toBeLessThan(48 * MiB);
    for (const t of [x, w, b]) t.dispose();
  });

  it('5,000 native op calls failing in the kernel checks release their tensors (a leak would be 312 MiB)', async () => {
    const data = randValues(16 * 1024, 6);
    const w = addon.tensorFromArray('cpu', 'f32', [7, 3], randValues(21, 7));
    const g = await growth(5000, (i) => {
      const x = addon.tensorFromArray('cpu', 'f32', [128, 128], data);
      const out = addon.tensorEmpty('cpu', 'f32', [128, 7]);
      try {
        if (i % 2 === 0) addon.gemm({ x, w, out }, false);
        else addon.rmsNorm({ x, weight: w, out: x }, false);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
      }
      addon.tensorDispose(x);
      addon.tensorDispose(out);
    });
    expect(g, `RSS grew by ${(g / MiB).toFixed(1)} MiB`).toBeLessThan(64 * MiB);
    addon.tensorDispose(w);
  });

  it('async ops whose inputs are disposed while in flight free everything once they settle', async () => {
    const data = randValues(128 * 256, 9);
    const g = await growth(500, async () => {
      const x = cpu.fromArray(data, [128, 256]);
      const w = cpu.fromArray(data.subarray(0, 256 * 128), [128, 256]);
      const p = ops.gemm(x, w);
      x.dispose();
      w.dispose();
      (await p).dispose();
    }, 200);
    // A leak would be ≥ 3 × 128 KiB per cycle = 192 MiB; the warm-up lets every libuv worker's malloc arena settle.
    expect(g, `RSS grew by ${(g / MiB).toFixed(1)} MiB`).toBeLessThan(48 * MiB);
  });

  it('10,000 tensors dropped without dispose() are freed by their finalizers (a leak would be 625 MiB)', async () => {
    const data = randValues(16 * 1024, 8);
    const g = await growth(10_000, async (i) => {
      cpu.fromArray(data, [128, 128]);
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r)); // let finalizers run
    });
    // V8 collects when the external memory the addon reports has grown by some tens of MiB (measured
    // here: 100–180 MiB of RSS at the peak); without that accounting nothing would be collected at all.
    expect(g, `RSS grew by ${(g / MiB).toFixed(1)} MiB`).toBeLessThan(320 * MiB);
  });
});
