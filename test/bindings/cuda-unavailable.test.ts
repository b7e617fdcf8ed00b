/**
 * The cuda backend on a machine without a usable GPU (or in a CPU-only build): every entry — tensor
 * allocation, the op API's backend, device timing, ceilings — fails with a clear error that names the
 * entry and carries the CUDA reason; nothing crashes, and the static version lists still work. On a
 * machine with a GPU these checks do not apply (the GPU script, bench/gpu/check.sh, covers it).
 */
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../bindings/addon.js';
import * as ops from '../../bindings/ops.js';

const addon = loadAddon();
const info = addon.cudaInfo();
const built = addon.buildInfo().cuda;

describe.skipIf(info.available)('the cuda backend without a usable device', () => {
  const why = built ? `the cuda backend is unavailable (${info.reason})` : 'this addon was built without CUDA';

  it('allocation: tensorEmpty / tensorFromArray say the backend is unavailable and why, not "out of memory"', () => {
    expect(() => addon.tensorEmpty('cuda', 'f32', [4])).toThrow(`tensorEmpty: ${why}`);
    expect(() => addon.tensorFromArray('cuda', 'bf16', [2], new Uint16Array(2))).toThrow(`tensorFromArray: ${why}`);
    if (built) expect(info.reason).toMatch(/^cudaGetDeviceCount failed: \w+ \(\d+\): |^no CUDA device found$/);
  });

  it('the op API: getBackend("cuda") refuses with the reason, so no op can reach a missing device', () => {
    expect(() => ops.getBackend('cuda')).toThrow(built ? `cuda backend unavailable: ${info.reason}` : /cuda backend unavailable/);
  });

  it('ceilings reject with the CUDA reason; synchronize and releaseCachedMemory are no-ops', async () => {
    await expect(addon.runtime.measureCeilings()).rejects.toThrow(built ? `ceilings: no usable CUDA device (${info.reason})` : 'measureCeilings: this addon was built without CUDA');
    // Bad options are argument errors, thrown at the call like the ops' own (in a CUDA build).
    if (built) expect(() => addon.runtime.measureCeilings({ gemmSize: 7 })).toThrow(new RangeError("measureCeilings: option 'gemmSize' must be an integer in [128, 32768]"));
    expect(() => addon.runtime.synchronize()).not.toThrow();
    expect(() => addon.runtime.releaseCachedMemory()).not.toThrow();
  });

  it('CUDA graphs: capture refuses with the reason; the op API refuses other backends; launch checks its handle', () => {
    expect(() => addon.runtime.graphBegin('step')).toThrow(built ? `step: no usable CUDA device (${info.reason})` : 'step: CUDA graphs need the cuda backend; this addon was built without CUDA');
    expect(() => addon.runtime.graphEnd('step')).toThrow(built ? 'step: no CUDA graph capture is in progress on this thread' : /built without CUDA/);
    expect(() => addon.runtime.graphLaunch({} as never)).toThrow(new TypeError('graphLaunch: expected a graph from runtime.graphEnd'));
    expect(() => addon.runtime.graphDispose(addon.tensorEmpty('cpu', 'f32', [1]) as never)).toThrow(new TypeError('graphDispose: expected a graph from runtime.graphEnd'));
    let ran = false;
    expect(() => ops.captureCudaGraph(ops.getBackend('cpu'), 'step', () => (ran = true))).toThrow(new TypeError('captureCudaGraph(step): CUDA graphs need the cuda backend, got cpu'));
    expect(ran).toBe(false);
  });

  it('the device timeline: a mark refuses with the reason; a read of no marks is empty', () => {
    expect(() => addon.runtime.timelineMark('profile')).toThrow(built ? `profile: no usable CUDA device (${info.reason})` : 'profile: the device timeline needs the cuda backend; this addon was built without CUDA');
    const r = addon.runtime.timelineRead('profile');
    expect(r).toBeInstanceOf(Float64Array);
    expect(r.length).toBe(0);
  });

  it('the kernel timeline: begin refuses with the reason; end without a recording is an error', () => {
    expect(() => addon.runtime.kernelTimelineBegin('profile kernels')).toThrow(
      built ? `profile kernels: no usable CUDA device (${info.reason})` : 'profile kernels: the kernel timeline needs the cuda backend; this addon was built without CUDA',
    );
    expect(() => addon.runtime.kernelTimelineEnd('profile kernels')).toThrow(
      built ? 'profile kernels: no kernel timeline is recording (begin one first)' : /built without CUDA/,
    );
    expect(() => (addon.runtime.kernelTimelineBegin as (w: unknown) => void)(3)).toThrow(new TypeError('kernelTimelineBegin: the optional name must be a string'));
  });

  it('device timing of an op on host tensors names the op', async () => {
    const cpu = ops.getBackend('cpu');
    const x = cpu.fromArray(new Float32Array(8).fill(1), [1, 2, 4]);
    await expect(ops.timeOnDevice(() => ops.layerNormModulateSync(x, cpu.fromArray(new Float32Array(4), [4]), cpu.fromArray(new Float32Array(4), [4])))).rejects.toThrow(
      'layernorm-modulate: device timing needs tensors on the cuda backend, these are on cpu',
    );
  });

  // Skipped, not passed, in a CPU-only build (there are no cuda versions to list).
  it.skipIf(!built)('the version lists are static data: there without a device in a CUDA build', () => {
    expect(addon.runtime.opVersions('cuda').find((o) => o.op === 'gemm')!.versions.map((v) => v.version)).toEqual([1, 2, 3]);
    // the DC-AE decoder ops (bindings/models/dcae-ops.ts) have cuda versions too
    expect(addon.runtime.opVersions('cuda').find((o) => o.op === 'dcae-upsample')?.versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(addon.runtime.opVersions('cuda').find((o) => o.op === 'dcae-evit-block')?.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(addon.runtime.opVersions('cuda').find((o) => o.op === 'dcae-head')?.versions.map((v) => v.version)).toEqual([1, 2, 3, 4]);
  });
});
