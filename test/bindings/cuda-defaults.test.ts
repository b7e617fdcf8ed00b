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

function gemmModes(env: Record<string, string>): { modes: { tiles: number[]; splitK: number; cluster: number }; err: string } {
  const script = `process.stdout.write(JSON.stringify(require(${JSON.stringify(addonPath())}).runtime.gemmWgmmaModes()))`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, SANA_LAB_GEMM_TILES: '', SANA_LAB_GEMM_SPLIT_K: '', SANA_LAB_GEMM_CLUSTER: '', ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return { modes: JSON.parse(r.stdout), err: r.stderr };
}

function pdlMode(value: string): { mode: { mode: number; active: boolean; launches: number }; err: string } {
  const script = `process.stdout.write(JSON.stringify(require(${JSON.stringify(addonPath())}).runtime.pdlMode()))`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, SANA_LAB_PDL: value }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return { mode: JSON.parse(r.stdout), err: r.stderr };
}

describe.skipIf(!loadAddon().buildInfo().cuda)('programmatic dependent launch from the environment (runtime.pdlMode)', () => {
  it('is off unless SANA_LAB_PDL=1; an invalid value is ignored with a warning', () => {
    expect(pdlMode('').mode).toEqual({ mode: 0, active: false, launches: 0 });
    expect(pdlMode('0').mode.mode).toBe(0);
    expect(pdlMode('1').mode.mode).toBe(1);
    const bad = pdlMode('yes');
    expect(bad.mode.mode).toBe(0);
    expect(bad.err).toContain('SANA_LAB_PDL="yes" is not 1 or 0');
  });
});

describe.skipIf(!loadAddon().buildInfo().cuda)('gemm v3 launch modes from the environment (runtime.gemmWgmmaModes)', () => {
  it('defaults: tiles 128 and 256, split-K off, no clusters', () => {
    expect(gemmModes({}).modes).toEqual({ tiles: [128, 256], splitK: 0, cluster: 1 });
  });
  it('reads SANA_LAB_GEMM_TILES, SANA_LAB_GEMM_SPLIT_K and SANA_LAB_GEMM_CLUSTER', () => {
    expect(gemmModes({ SANA_LAB_GEMM_TILES: '128,192,256', SANA_LAB_GEMM_SPLIT_K: 'auto', SANA_LAB_GEMM_CLUSTER: '2' }).modes).toEqual({ tiles: [128, 192, 256], splitK: -1, cluster: 2 });
    expect(gemmModes({ SANA_LAB_GEMM_TILES: '192', SANA_LAB_GEMM_SPLIT_K: '3', SANA_LAB_GEMM_CLUSTER: '1' }).modes).toEqual({ tiles: [192], splitK: 3, cluster: 1 });
  });
  it('ignores an invalid value with a warning naming the variable', () => {
    const r = gemmModes({ SANA_LAB_GEMM_CLUSTER: '4', SANA_LAB_GEMM_TILES: '64', SANA_LAB_GEMM_SPLIT_K: 'yes' });
    expect(r.modes).toEqual({ tiles: [128, 256], splitK: 0, cluster: 1 });
    expect(r.err).toContain('SANA_LAB_GEMM_CLUSTER="4" is not 1 or 2');
    expect(r.err).toContain('SANA_LAB_GEMM_TILES="64"');
    expect(r.err).toContain('SANA_LAB_GEMM_SPLIT_K="yes"');
  });
});
