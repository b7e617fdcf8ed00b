// The host emulator's sm_80 warp-level instructions (kernels/emu/ptx_mma.cpp: mma.m16n8k16 bf16→f32
// and ldmatrix.m8n8.x4{.trans}.b16) are plain C++: this compiles the checks in ptx_mma_test.cpp with
// the system compiler and runs them, so CI without a GPU verifies the fragment layouts against the
// PTX ISA's formulas, the address checks, and that ldmatrix feeds mma as the ISA intends.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { buildAndRun, missingToolchain, root } from './toolchain.js';

if (missingToolchain()) console.warn(`ptx-mma.test: ${missingToolchain()}, skipping the emulator mma/ldmatrix checks`);

describe.skipIf(missingToolchain() !== '')('host emulator: mma.m16n8k16 and ldmatrix.x4 (PTX ISA semantics)', () => {
  it('matches the ISA fragment layouts, checks row addresses, and composes ldmatrix → mma into A·B + C', () => {
    const r = buildAndRun('ptx_mma_test', [join(root, 'test', 'kernels', 'emu', 'ptx_mma_test.cpp'), join(root, 'kernels', 'emu', 'ptx_mma.cpp')]);
    expect(r.build.status, r.output).toBe(0);
    expect(r.run?.stdout, r.output).toMatch(/all ptx-mma checks passed \(\d+\)/);
    expect(r.run?.status, r.output).toBe(0);
  });
});
