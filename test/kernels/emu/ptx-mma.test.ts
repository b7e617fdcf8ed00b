// The host emulator's sm_80 warp-level instructions (kernels/emu/ptx_mma.cpp: mma.m16n8k16 bf16→f32
// and ldmatrix.m8n8.x4{.trans}.b16) are plain C++: this compiles the checks in ptx_mma_test.cpp with
// the system compiler and runs them, so CI without a GPU verifies the fragment layouts against the
// PTX ISA's formulas, the address checks, and that ldmatrix feeds mma as the ISA intends.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { compiler, cudaInc, missingToolchain, root } from './toolchain.js';

if (missingToolchain()) console.warn(`ptx-mma.test: ${missingToolchain()}, skipping the emulator mma/ldmatrix checks`);

describe.skipIf(missingToolchain() !== '')('host emulator: mma.m16n8k16 and ldmatrix.x4 (PTX ISA semantics)', () => {
  it('matches the ISA fragment layouts, checks row addresses, and composes ldmatrix → mma into A·B + C', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sana-ptx-mma-'));
    try {
      const exe = join(dir, 'ptx_mma_test');
      const build = spawnSync(
        compiler!,
        [
          '-std=c++17', '-O1', '-Wall', '-Wextra', '-Werror',
          '-I', join(root, 'kernels', 'emu'),
          '-I', cudaInc!,
          join(root, 'test', 'kernels', 'emu', 'ptx_mma_test.cpp'),
          join(root, 'kernels', 'emu', 'ptx_mma.cpp'),
          '-o', exe,
        ],
        { encoding: 'utf8' },
      );
      expect(build.status, build.stderr).toBe(0);
      const run = spawnSync(exe, [], { encoding: 'utf8' });
      const output = `${run.stdout}${run.stderr}${run.signal ? `\nkilled by ${run.signal}` : ''}`;
      expect(run.stdout, output).toMatch(/all ptx-mma checks passed \(\d+\)/);
      expect(run.status, output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
