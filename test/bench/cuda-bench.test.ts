/**
 * The cuda side of bench and parity, as far as a machine without a GPU can check it: the cuda bench
 * backend's device-side case preparation and timing plumbing (driven here over the cpu backend, whose
 * native timing entry refuses by name), version filtering, `sana-lab bench/parity --backend cuda`
 * recording the backend as unavailable with the CUDA reason, `parity --version`, and the extra aligned
 * parity shapes of the tensor-core versions.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadAddon } from '../../bindings/addon.js';
import * as ops from '../../bindings/ops.js';
import { apiCall } from '../../bench/api-calls.js';
import { CudaDeviceTools } from '../../bench/backends/cuda-device.js';
import { benchVersions } from '../../bench/backends/native.js';
import { opEntry } from '../../bench/catalogue.js';
import { CUDA_EXTRA_SHAPES } from '../../bench/parity/cuda-shapes.js';
import { runParity } from '../../bench/parity/run.js';
import { readResults } from '../../bench/record.js';
import { benchCommand } from '../../cli/commands/bench.js';
import { parityCommand } from '../../cli/commands/parity.js';
import { readParity } from '../../reports/parity.js';

afterEach(() => vi.restoreAllMocks());

const addon = loadAddon();
const cudaUsable = addon.cudaInfo().available;
const dir = mkdtempSync(join(tmpdir(), 'sana-cuda-bench-'));

describe('the cuda bench backend, device side (over the cpu backend here)', () => {
  const tools = new CudaDeviceTools(addon, ops.getBackend('cpu'));
  const call = apiCall('mix-ffn', opEntry('mix-ffn').testShapes[0]!)!;

  it('builds inputs where the backend lives, captures the call at its version, and runs it for real on demand', async () => {
    const p = await tools.prepare(call, 'f32', 1, undefined, 'op API call at version 1');
    expect(p.note).toMatch(/^op API call at version 1; inputs: seeded uniform values generated on the device/);
    p.run();
    p.dispose();
    p.dispose();
    // A version the backend lacks is refused when the case is prepared, not when it is timed.
    await expect(tools.prepare(call, 'f32', 2, undefined, '')).rejects.toThrow(/^mix-ffn: no version 2 on the cpu backend/);
  });

  it('times through the addon, which refuses host tensors by the op name', async () => {
    const p = await tools.prepare(call, 'bf16', 1, undefined, '');
    await expect(tools.time(p, { minSamples: 3, maxTimeS: 0.1 })).rejects.toThrow(new TypeError('mix-ffn: device timing needs tensors on the cuda backend, these are on cpu'));
    p.dispose();
    await expect(tools.time({ run: () => {}, dispose: () => {} }, { minSamples: 3, maxTimeS: 0.1 })).rejects.toThrow(/not prepared by the cuda backend/);
  });

  it.skipIf(cudaUsable)('without a device: no device memory to fit in, ceilings reject with the reason', async () => {
    const fit = tools.fits(call, 'bf16');
    expect(fit.ok).toBe(false);
    expect(!fit.ok && fit.reason).toMatch(/GiB of device memory, 0\.0 GiB usable/);
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await tools.ceilings()).toEqual([]);
    expect(err.mock.calls.flat().join('\n')).toMatch(/^cuda bench backend: measuring the device ceilings failed: (ceilings: no usable CUDA device|measureCeilings: this addon was built without CUDA)/);
    expect(tools.environment().timer).toMatch(/^cuda-events: 3 warm-up runs, an L2 flush/);
  });
});

describe('cuda versions in bench', () => {
  it('offers bf16-only versions at bf16 only', () => {
    expect(benchVersions('gemm', 'cuda', 'bf16')).toEqual([1, 2, 3]);
    expect(benchVersions('gemm', 'cuda', 'f32')).toEqual([1]);
    expect(benchVersions('linear-attention-block', 'cuda', 'f32')).toEqual([1, 2]);
    expect(benchVersions('linear-attention-block', 'cuda')).toEqual([1, 2, 3, 4, 5]);
    expect(benchVersions('linear-attention', 'cuda', 'bf16')).toEqual([1, 2, 3]);
    expect(benchVersions('linear-attention', 'cuda', 'f32')).toEqual([1, 2]); // v3 (tensor cores) is bf16 only
    expect(benchVersions('mix-ffn', 'cuda', 'f32')).toEqual([1, 2]);
    expect(benchVersions('conv3x3', 'cuda', 'bf16')).toEqual([1, 2, 3, 4]);
    expect(benchVersions('linear-attention', 'cpu', 'f32')).toEqual([1, 2]);
    // the DC-AE model ops run their cuda versions at both dtypes; an op without cuda kernels offers none
    expect(benchVersions('dcae-upsample', 'cuda', 'bf16')).toEqual([1, 2, 3]);
    expect(benchVersions('dcae-upsample', 'cuda', 'f32')).toEqual([1, 2]); // v3 (wgmma) is bf16 only
    expect(benchVersions('cross-attention', 'cuda', 'bf16')).toEqual([1, 2, 3, 4]);
    expect(benchVersions('cross-attention', 'cuda', 'f32')).toEqual([1]);
    expect(benchVersions('lite-mla', 'cuda', 'f32')).toEqual([1, 2, 3]); // v3 runs f32 too
    expect(benchVersions('dcae-evit-block', 'cuda', 'f32')).toEqual([1, 2]);
    expect(benchVersions('dcae-downsample', 'cuda', 'bf16')).toEqual([]);
  });

  it.skipIf(cudaUsable)('sana-lab bench --backend cuda --version 2 records every case as unavailable with the CUDA reason', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    const out = join(dir, 'bench-cuda.json');
    const code = await benchCommand.run(['--backend', 'cuda', '--version', '2', '--ops', 'gemm,linear-attention', '--variant', 'qkv', '--res', '1024', '--dtype', 'bf16', '--batch', '1,2', '--quiet', '--json', out]);
    expect(code).toBe(0);
    const f = readResults(out);
    expect(f.records.map((r) => `${r.op} b${r.batch} ${r.backend} v${r.version} ${r.status} ${r.median_ms}`)).toEqual([
      'gemm b1 cuda v2 unavailable null',
      'linear-attention b1 cuda v2 unavailable null',
      'gemm b2 cuda v2 unavailable null',
      'linear-attention b2 cuda v2 unavailable null',
    ]);
    const reason = addon.buildInfo().cuda ? `unavailable: no device (${addon.cudaInfo().reason})` : 'unavailable: the addon was built without CUDA';
    expect(f.records.every((r) => r.note === reason)).toBe(true);
    expect(err.mock.calls.flat().join('\n')).toContain(`bench: backend cuda: ${reason} (its cases are recorded as unavailable)`);
  });
});

describe('cuda in parity', () => {
  it.skipIf(cudaUsable)('sana-lab parity --backend cuda: the backend is skipped with the reason, the JSON is written, the exit code is 1', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const out = join(dir, 'parity-cuda.json');
    const code = await parityCommand.run(['--backend', 'cuda', '--ops', 'gemm', '--version', '2', '--json', out]);
    expect(code).toBe(1);
    const f = readParity(out);
    expect(f.records).toEqual([]);
    expect(f.skipped!.map((s) => `${s.op} ${s.backend} ${s.dtype}`)).toEqual(['* cuda f32', '* cuda bf16']);
    expect(f.skipped![0]!.reason).toMatch(/^cuda backend unavailable: /); // said once, not "backend unavailable: cuda backend unavailable: …"
    expect(f.self_checks!.every((s) => s.rejected)).toBe(true);
    expect(JSON.parse(readFileSync(out, 'utf8')).environment.version).toBe(2);
    expect(log.mock.calls.flat().join('\n')).toMatch(/parity: backend cuda was asked for but is unavailable here \(see skipped\): exit code 1/);
  });

  it('--version picks one native version; one the backend lacks is a skip, not a failure', async () => {
    const two = await runParity({ backends: ['cpu'], ops: ['linear-attention'], dtypes: ['f32'], maxShapes: 1, version: 2, selfCheck: false });
    expect(two.records.map((r) => `${r.op} v${r.version} ${r.pass}`)).toEqual(['linear-attention v2 true']);
    const three = await runParity({ backends: ['cpu'], ops: ['gemm'], dtypes: ['f32'], maxShapes: 1, version: 3, selfCheck: false });
    expect(three.records).toEqual([]);
    expect(three.skipped).toEqual([{ op: 'gemm', backend: 'cpu', dtype: 'f32', reason: 'no version 3 on cpu (versions: 1)' }]);
  });

  it('the extra aligned shapes satisfy the tensor-core versions they exist for, and the reference runs them', async () => {
    const gemm = CUDA_EXTRA_SHAPES.gemm!;
    expect(gemm.every((d) => d.K % 8 === 0)).toBe(true);
    const lab = CUDA_EXTRA_SHAPES['linear-attention-block']!;
    expect(lab.every((d) => d.N % 128 === 0 && d.C % 64 === 0 && d.headDim === 32)).toBe(true);
    const ref = ops.getBackend('reference');
    for (const [op, shapes] of Object.entries(CUDA_EXTRA_SHAPES)) {
      for (const dims of shapes as never[]) {
        const call = apiCall(op as 'gemm', dims)!;
        const t = Object.fromEntries(Object.entries(call.inputs).map(([k, s]) => [k, ref.fromArray(new Float32Array(s.shape.reduce((a, b) => a * b, 1)).fill(0.25), s.shape)]));
        const out = ref.empty(call.outShape, 'f32');
        await call.run(t, out, 'async');
        expect(Array.from(out.toFloat32()).every(Number.isFinite), op).toBe(true);
      }
    }
  });
});
