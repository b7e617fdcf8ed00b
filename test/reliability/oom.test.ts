/**
 * Out of memory on the CPU is a RangeError that says "out of memory" and names the op and the shapes —
 * never an abort, a std::terminate from a worker thread, or the OOM killer:
 *   - a tensor larger than the machine's RAM + swap is refused before anything is mapped (whatever the
 *     kernel's overcommit policy, which could otherwise let the mapping succeed and kill the process
 *     on first touch);
 *   - an op whose own output cannot be allocated names the op and the output shape (cpu and reference);
 *   - a kernel's scratch buffer that cannot be allocated — on the calling thread or inside a thread-pool
 *     task — becomes "<op>: out of host memory for scratch buffers (tensors: …)";
 *   - under an address-space limit (ulimit -v), where mmap itself fails below the RAM size, the same
 *     errors come back from a child process that then exits normally.
 * Afterwards the addon keeps working. Nothing here touches more than a few MiB.
 */
import { spawnSync } from 'node:child_process';
import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { addonPath, loadAddon } from '../../bindings/addon.js';
import * as ops from '../../bindings/ops.js';
import { expectFailure, expectThrow, handleOf, randTensor } from './helpers.js';

const cpu = ops.getBackend('cpu');
const ref = ops.getBackend('reference');
const sanitized = loadAddon().buildInfo().sanitize;

describe('out of memory on the CPU', () => {
  it('a tensor far beyond RAM: RangeError "out of memory" with the byte count, dtype and shape', () => {
    expectThrow(() => cpu.empty([2 ** 40], 'f32'), RangeError, 'tensorEmpty: out of memory allocating 4398046511104 bytes for f32[1099511627776] on cpu');
    expectThrow(() => cpu.empty([2 ** 20, 2 ** 20, 4], 'bf16'), RangeError, 'tensorEmpty: out of memory allocating 8796093022208 bytes for bf16[1048576, 1048576, 4] on cpu');
    // Just past RAM + swap (not absurd, so an overcommitting kernel would have said yes).
    const n = Math.ceil((totalmem() * 1.25) / 4);
    expectThrow(() => cpu.empty([n], 'f32'), RangeError, /^tensorEmpty: out of memory allocating \d+ bytes for f32\[\d+\] on cpu$/);
    expectThrow(() => ref.empty([2 ** 40], 'f32'), RangeError, /^empty: out of memory: f32\[1099511627776\] \(4398046511104 bytes\) cannot be allocated in JS memory/);
  });

  it('an op whose output cannot be allocated names the op and the output (sync and async, cpu and reference)', async () => {
    for (const name of ['cpu', 'reference'] as const) {
      const x = randTensor(name, [2 ** 20, 1], 1);
      const w = randTensor(name, [2 ** 20, 1], 2);
      for (const mode of ['sync', 'async'] as const) {
        await expectFailure(
          () => (mode === 'sync' ? ops.gemmSync(x, w) : ops.gemm(x, w)),
          RangeError,
          new RegExp(`^gemm: cannot allocate the output f32\\[1048576, 1048576\\] on ${name}: .*out of memory`),
          mode,
        );
      }
      x.dispose();
      w.dispose();
    }
  });

  it('a kernel scratch buffer beyond RAM (calling thread): mix-ffn names itself and its tensors; the output it allocated is freed', async () => {
    // u = M × 2h floats = 2^18 × 2^17 × 4 B = 128 GiB of f32 scratch from 1 MiB of activations.
    const h = 2 ** 16;
    const x = randTensor('cpu', [1, 2 ** 18, 1], 3);
    const w = { wInv: randTensor('cpu', [2 * h, 1], 4), bInv: randTensor('cpu', [2 * h], 5), wDw: randTensor('cpu', [2 * h, 1, 3, 3], 6), bDw: randTensor('cpu', [2 * h], 7), wPoint: randTensor('cpu', [1, h], 8) };
    const message = /^mix-ffn: out of host memory for scratch buffers \(tensors: x f32\[1, 262144, 1\], wInv f32\[131072, 1\], .* out f32\[1, 262144, 1\]\)$/;
    const before = process.memoryUsage().rss;
    for (const mode of ['sync', 'async'] as const) {
      for (let i = 0; i < 5; i++) {
        await expectFailure(() => (mode === 'sync' ? ops.mixFfnSync : ops.mixFfn)(x, w, { height: 512, width: 512 }), RangeError, message, mode);
      }
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
    // The addon is fine afterwards.
    const y = ops.mixFfnSync(randTensor('cpu', [1, 4, 1], 9), { wInv: randTensor('cpu', [4, 1], 10), bInv: randTensor('cpu', [4], 11), wDw: randTensor('cpu', [4, 1, 3, 3], 12), bDw: randTensor('cpu', [4], 13), wPoint: randTensor('cpu', [1, 2], 14) }, { height: 2, width: 2 });
    expect(y.toFloat32().every(Number.isFinite)).toBe(true);
    for (const t of [x, ...Object.values(w), y]) t.dispose();
  });

  it('a scratch buffer beyond RAM inside thread-pool tasks: linear-attention with one 2^18-wide head (d² floats per task)', async () => {
    const C = 2 ** 18;
    const q = randTensor('cpu', [2, 1, C], 15);
    const message = /^linear-attention: out of host memory for scratch buffers \(tensors: q f32\[2, 1, 262144\], k f32\[2, 1, 262144\], v f32\[2, 1, 262144\], out f32\[2, 1, 262144\]\)$/;
    await expectFailure(() => ops.linearAttention(q, q, q, { headDim: C }), RangeError, message, 'async');
    await expectFailure(() => ops.linearAttentionSync(q, q, q, { headDim: C }), RangeError, message, 'sync');
    // Directly through the addon (the kernel's own path, no TS layer): same error.
    const out = cpu.empty([2, 1, C], 'f32');
    expectThrow(() => loadAddon().linearAttention({ q: handleOf(q), k: handleOf(q), v: handleOf(q), out: handleOf(out), headDim: C }, false), RangeError, message);
    out.dispose();
    q.dispose();
  });

  it.skipIf(sanitized)('under an address-space limit (ulimit -v 3 GiB) mmap fails below RAM size: clean errors, normal exit', () => {
    const script = `
      const a = require(${JSON.stringify(addonPath())});
      const report = (f) => { try { f(); console.log('ok'); } catch (e) { console.log(e.constructor.name + ': ' + e.message); } };
      report(() => a.tensorEmpty('cpu', 'f32', [2 ** 30]));
      const x = a.tensorFromArray('cpu', 'f32', [1, 65536, 1], new Float32Array(65536).fill(0.5));
      const h = 4096;
      const t = (s) => a.tensorFromArray('cpu', 'f32', s, new Float32Array(s.reduce((p, q) => p * q, 1)).fill(0.25));
      report(() => a.mixFfn({ x, wInv: t([2 * h, 1]), bInv: t([2 * h]), wDw: t([2 * h, 1, 3, 3]), bDw: t([2 * h]), wPoint: t([1, h]), height: 256, width: 256, out: a.tensorEmpty('cpu', 'f32', [1, 65536, 1]) }, false));
      const out = a.tensorEmpty('cpu', 'f32', [2, 2]);
      a.gemm({ x: t([2, 2]), w: t([2, 2]), out }, false);
      console.log('after: ' + Array.from(a.tensorToArray(out)).join(','));
    `;
    const r = spawnSync('sh', ['-c', `ulimit -v 3145728 && exec "${process.execPath}" -e "$SCRIPT"`], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SCRIPT: script } });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('RangeError: tensorEmpty: out of memory allocating 4294967296 bytes for f32[1073741824] on cpu');
    // u = 65536 × 8192 floats = 2 GiB of scratch on top of node's own mappings: past the 3 GiB limit.
    expect(lines[1]).toMatch(/^RangeError: mix-ffn: out of host memory for scratch buffers \(tensors: x f32\[1, 65536, 1\], .*\)$/);
    expect(lines[2]).toBe('after: 0.125,0.125,0.125,0.125');
  });
});
