// The host emulator's sm_90a instructions (kernels/emu/ptx_sm90.cpp: wgmma.mma_async m64nNk16 bf16→f32
// from shared-memory descriptors, cuTensorMapEncodeTiled + the TMA 2-D box load, mbarrier) are plain
// C++: this compiles the checks in ptx_sm90_test.cpp with the system compiler and runs them, so CI
// without a GPU verifies descriptors, swizzles and fragment layouts against the PTX ISA's tables, TMA
// edge zero-fill feeding wgmma, the driver's tensor-map refusals, and the mbarrier phase/parity rules.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { buildAndRun, missingToolchain, root } from './toolchain.js';

if (missingToolchain()) console.warn(`ptx-sm90.test: ${missingToolchain()}, skipping the emulator wgmma/TMA/mbarrier checks`);

describe.skipIf(missingToolchain() !== '')('host emulator: wgmma, TMA and mbarrier (PTX ISA semantics)', () => {
  it('matches the ISA descriptor/swizzle/fragment layouts, composes TMA → wgmma, and enforces the documented limits', () => {
    const r = buildAndRun('ptx_sm90_test', [join(root, 'test', 'kernels', 'emu', 'ptx_sm90_test.cpp'), join(root, 'kernels', 'emu', 'ptx_sm90.cpp')]);
    expect(r.build.status, r.output).toBe(0);
    expect(r.run?.stdout, r.output).toMatch(/all ptx-sm90 checks passed \(\d+\)/);
    expect(r.run?.status, r.output).toBe(0);
  });
});
