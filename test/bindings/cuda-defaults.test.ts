/**
 * SANA_LAB_CUDA_DEFAULTS ("op=N,…"): parsed once by the cuda backend (kernels/cuda/runtime.cu) without
 * touching a device; valid entries are kept, malformed ones, unknown ops and versions outside an op's
 * list are reported on stderr and ignored. Run in a child process (the variable is read once per process).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addonPath, loadAddon } from '../../bindings/addon.js';

function overrides(value: string): { out: string; err: string } {
  const script = `process.stdout.write(require(${JSON.stringify(addonPath())}).runtime.cudaDefaultOverrides())`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, SANA_LAB_CUDA_DEFAULTS: value }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return { out: r.stdout, err: r.stderr };
}

describe.skipIf(!loadAddon().buildInfo().cuda)('SANA_LAB_CUDA_DEFAULTS', () => {
  it('keeps op=N entries of cuda ops and their versions, reports and ignores the rest', () => {
    const r = overrides('lite-mla=3,cross-attention=4,bogus=2,gemm=9,rmsnorm=x,dcae-upsample=3,,mix-ffn,conv3x3=4x');
    expect(r.out).toBe('cross-attention=4,dcae-upsample=3,lite-mla=3');
    for (const bad of ['bogus=2', 'gemm=9', 'rmsnorm=x', 'mix-ffn', 'conv3x3=4x']) expect(r.err).toContain(`SANA_LAB_CUDA_DEFAULTS entry "${bad}" is not op=N`);
    expect(overrides('').out).toBe('');
  });
});
