// The host emulator's execution model (kernels/emu/emu_core.cpp, emu_runtime.cpp, the prelude and
// translate.mjs) on small kernels written for it (emu_core_test.cu): barriers, shuffles, deadlock and
// divergence detection, poisoned shared memory, cp.async completing at its wait, traps, launch limits,
// thread-block clusters (ranks, remote mbarrier arrives, the cluster barrier, a block that exits too early),
// programmatic dependent launch (griddepcontrol.wait first, or a fault).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { compiler, cudaInc, missingToolchain, root } from './toolchain.js';

if (missingToolchain()) console.warn(`emu-core.test: ${missingToolchain()}, skipping the emulator scheduler checks`);

describe.skipIf(missingToolchain() !== '')('host emulator: scheduler, collectives and runtime', () => {
  it('runs kernels as the CUDA model says and reports what a GPU would fail on', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sana-emu-core-'));
    try {
      const translated = join(dir, 'emu_core_test.cpp');
      const tr = spawnSync(process.execPath, [join(root, 'kernels', 'emu', 'translate.mjs'), join(root, 'test', 'kernels', 'emu', 'emu_core_test.cu'), translated], { encoding: 'utf8' });
      expect(tr.status, tr.stderr).toBe(0);
      const flags = ['-std=c++17', '-O1', '-fno-strict-aliasing', '-Wall', '-Wextra', '-Werror', '-Wno-unknown-pragmas', '-Wno-unused-parameter',
        '-I', join(root, 'kernels', 'emu'), '-I', join(root, 'kernels', 'include'), '-I', cudaInc!];
      const objs: string[] = [];
      for (const [src, prelude] of [
        [translated, true],
        ...['emu_core', 'emu_ptx', 'emu_runtime', 'ptx_mma', 'ptx_sm90'].map((f) => [join(root, 'kernels', 'emu', `${f}.cpp`), false] as const),
      ] as const) {
        const obj = join(dir, `${objs.length}.o`);
        const c = spawnSync(compiler!, [...(prelude ? ['-include', join(root, 'kernels', 'emu', 'cuda_emu.h')] : []), ...flags, '-c', src, '-o', obj], { encoding: 'utf8' });
        expect(c.status, `${src}\n${c.stderr}`).toBe(0);
        objs.push(obj);
      }
      const exe = join(dir, 'emu_core_test');
      const link = spawnSync(compiler!, ['-o', exe, ...objs, '-lpthread'], { encoding: 'utf8' });
      expect(link.status, link.stderr).toBe(0);
      const run = spawnSync(exe, [], { encoding: 'utf8' });
      const output = `${run.stdout}${run.stderr}${run.signal ? `\nkilled by ${run.signal}` : ''}`;
      expect(run.stdout, output).toMatch(/all emulator-core checks passed \(\d+\)/);
      expect(run.status, output).toBe(0);
      // The faults name the kernel, the block and thread, and what went wrong.
      expect(run.stderr).toMatch(/kernel deadlock_kernel failed: block \(0,0,0\): deadlock: 64 live threads all wait/);
      expect(run.stderr).toMatch(/kernel divergent_kernel failed: .*thread \(1,0,0\): divergent warp/);
      expect(run.stderr).toMatch(/kernel trap_kernel failed: block \(1,0,0\) thread \(3,0,0\): __trap\(\)/);
      expect(run.stderr).toMatch(/launch of uninit_kernel refused: 65536 bytes of dynamic shared memory, over 49152/);
      expect(run.stderr).toMatch(/kernel cluster_handshake_kernel<false> failed: block \(1,0,0\) thread \(0,0,0\): mbarrier\.arrive\.shared::cluster: the shared memory of cluster rank 0, whose block has exited/);
      expect(run.stderr).toMatch(/launch of cluster_pair_kernel refused: cluster \(2,1,1\) for grid \(3,1,1\)/);
      expect(run.stderr).toMatch(/kernel pdl_no_wait_kernel failed: block \(0,0,0\) thread \(0,0,0\): exited without griddepcontrol\.wait in a kernel launched as a programmatic dependent/);
      expect(run.stderr).toMatch(/kernel pdl_early_copy_kernel failed: block \(0,0,0\) thread \(0,0,0\): cp\.async reads global memory before griddepcontrol\.wait/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
