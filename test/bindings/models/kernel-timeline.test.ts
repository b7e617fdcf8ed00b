/**
 * The kernel timeline's host side: launches grouped per (op, kernel) and per step, largest first, with
 * shares that sum to 1; the terminal lines; and recordKernels on a machine without a device (refused
 * before anything runs).
 */
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../../bindings/addon.js';
import { formatKernels, recordKernels, summarizeKernels } from '../../../bindings/models/kernel-timeline.js';
import { backendStatus } from '../../../bindings/backends.js';

describe('summarizeKernels', () => {
  const launches = [
    { op: 'mix-ffn', kernel: 'gemm_wgmma_kernel', ms: 0.3 },
    { op: 'mix-ffn', kernel: 'dw_glu_v2', ms: 0.1 },
    { op: 'mix-ffn', kernel: 'gemm_wgmma_kernel', ms: 0.2 },
    { op: 'cross-attention', kernel: 'xattn_v2', ms: 0.9 },
    { op: 'mix-ffn', kernel: 'gemm_wgmma_kernel', ms: 0.3 },
    { op: 'mix-ffn', kernel: 'dw_glu_v2', ms: 0.1 },
    { op: 'mix-ffn', kernel: 'gemm_wgmma_kernel', ms: 0.2 },
    { op: 'cross-attention', kernel: 'xattn_v2', ms: 1.1 },
  ];
  it('per step (2 steps recorded): calls, ms and shares of each (op, kernel), largest first', () => {
    const b = summarizeKernels(launches, 2);
    expect(b.launchesPerStep).toBe(4);
    expect(b.totalMs).toBeCloseTo(1.6, 12);
    expect(b.kernels.map((k) => [k.op, k.kernel, k.calls])).toEqual([
      ['cross-attention', 'xattn_v2', 1],
      ['mix-ffn', 'gemm_wgmma_kernel', 2],
      ['mix-ffn', 'dw_glu_v2', 1],
    ]);
    expect(b.kernels.map((k) => k.ms)).toEqual([expect.closeTo(1.0, 12), expect.closeTo(0.5, 12), expect.closeTo(0.1, 12)]);
    expect(b.kernels.reduce((s, k) => s + k.share, 0)).toBeCloseTo(1, 12);
    expect(b.truncated).toBe(false);
  });
  it('the same kernel name under two ops stays two rows; an empty recording is all zeros', () => {
    const b = summarizeKernels([{ op: 'a', kernel: 'k', ms: 1 }, { op: 'b', kernel: 'k', ms: 3 }]);
    expect(b.kernels.map((k) => `${k.op}/${k.kernel} ${k.share}`)).toEqual(['b/k 0.75', 'a/k 0.25']);
    expect(summarizeKernels([])).toEqual({ totalMs: 0, launchesPerStep: 0, kernels: [], truncated: false });
  });
  it('formatKernels: the top rows, the rest summed, and the truncation note', () => {
    const lines = formatKernels(summarizeKernels(launches, 2, true), 2);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/cross-attention \/ xattn_v2\s+1\s+1\.000 ms\s+62\.5%/);
    expect(lines[2]).toMatch(/… 1 more kernels\s+0\.100 ms\s+6\.3%/);
    expect(lines[3]).toMatch(/truncated/);
  });
});

describe.skipIf(backendStatus('cuda').available)('recordKernels without a usable device', () => {
  it('refuses before running anything, naming the recording', () => {
    let ran = false;
    expect(() => recordKernels('profile kernels', 1, () => (ran = true))).toThrow(/^profile kernels: (no usable CUDA device|the kernel timeline needs the cuda backend)/);
    expect(ran).toBe(false);
    expect(() => loadAddon().runtime.kernelTimelineEnd('x')).toThrow();
  });
});
