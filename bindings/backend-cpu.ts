/**
 * The native backends. `cpu`: tensors in native host memory (64-byte aligned, freed by dispose() or by
 * the N-API finalizer), ops in the addon's C++ kernels (kernels/cpu/), run synchronously or on a libuv
 * worker thread (async: the JS event loop keeps running). Threads: SANA_LAB_THREADS or the hardware
 * threads; `setThreads(n)` changes the pool at run time. `cuda`: the same class over the addon's CUDA
 * OpTable (device memory; ops it lacks report "not implemented on the cuda backend"), with numbered
 * kernel versions (the `version` op option), CUDA-event timing (`time`) and device fills.
 */
import { loadAddon, type NativeAddon, type NativeOp, type NativeOpArgs, type NativeTensorHandle } from './addon.js';
import { checkDType, checkShape, storageFor, type Backend, type DeviceTiming, type DeviceTimingOptions, type OpArgs, type OpName, type OpVersion } from './backend.js';
import { BackendTensor, type TensorDType, type TensorStorage } from './tensor.js';

/** The addon function of each op. */
const NATIVE_OP: Readonly<Record<OpName, keyof NativeAddon>> = {
  gemm: 'gemm',
  'linear-attention': 'linearAttention',
  'linear-attention-block': 'linearAttentionBlock',
  'mix-ffn': 'mixFfn',
  'cross-attention': 'crossAttention',
  'layernorm-modulate': 'layerNormModulate',
  rmsnorm: 'rmsNorm',
  conv3x3: 'conv3x3',
  'dcae-resblock': 'dcaeResBlock',
  'lite-mla': 'liteMla',
  'dit-block': 'ditBlock',
};

class NativeStorage implements TensorStorage {
  constructor(
    private readonly addon: NativeAddon,
    readonly handle: NativeTensorHandle,
  ) {}
  read(): Float32Array | Uint16Array {
    return this.addon.tensorToArray(this.handle);
  }
  readFloat32(): Float32Array {
    return this.addon.tensorToFloat32(this.handle);
  }
  write(data: Float32Array | Uint16Array): void {
    this.addon.tensorWrite(this.handle, data);
  }
  free(): void {
    this.addon.tensorDispose(this.handle);
  }
}

/** The native handle of a tensor an op passes to the addon (a TypeError naming the op when it is not native). */
export function nativeHandle(op: string, name: string, t: BackendTensor): NativeTensorHandle {
  const st = t.storage(op, name);
  if (!(st instanceof NativeStorage)) throw new TypeError(`${op}: ${name} is not a native tensor`);
  return st.handle;
}

export class NativeBackend implements Backend {
  protected readonly addon: NativeAddon;
  private versionTable: ReadonlyMap<string, readonly OpVersion[]> | null = null;

  constructor(readonly name: 'cpu' | 'cuda') {
    this.addon = loadAddon();
    if (name === 'cuda') {
      const c = this.addon.cudaInfo();
      if (!c.available) throw new Error(`cuda backend unavailable: ${c.reason ?? 'no CUDA device'}`);
    }
  }

  empty(shape: readonly number[], dtype: TensorDType): BackendTensor {
    checkDType('empty', dtype);
    checkShape('empty', shape);
    const h = this.addon.tensorEmpty(this.name, dtype, shape);
    return new BackendTensor(this.name, dtype, shape, new NativeStorage(this.addon, h));
  }

  arena(shapes: readonly (readonly number[])[], dtype: TensorDType): BackendTensor[] {
    checkDType('arena', dtype);
    if (shapes.length === 0) throw new RangeError('arena: no shapes');
    for (const s of shapes) checkShape('arena', s);
    const hs = this.addon.tensorArena(this.name, dtype, shapes);
    return hs.map((h, i) => new BackendTensor(this.name, dtype, shapes[i]!, new NativeStorage(this.addon, h)));
  }

  fromArray(data: Float32Array | Uint16Array, shape: readonly number[], dtype?: TensorDType): BackendTensor {
    const s = storageFor('fromArray', data, shape, dtype);
    const h = this.addon.tensorFromArray(this.name, s.dtype, shape, s.data);
    return new BackendTensor(this.name, s.dtype, shape, new NativeStorage(this.addon, h));
  }

  supports(op: OpName): boolean {
    return NATIVE_OP[op] !== undefined;
  }

  /** The kernel versions of `op` (addon.runtime.opVersions: cuda from the kernels' file headers). */
  versions(op: OpName): readonly OpVersion[] {
    if (this.versionTable === null) this.versionTable = new Map(this.addon.runtime.opVersions(this.name).map((o) => [o.op, o.versions]));
    return this.versionTable.get(op) ?? [];
  }

  run(op: OpName, args: OpArgs, mode: 'sync'): void;
  run(op: OpName, args: OpArgs, mode: 'async'): Promise<void>;
  run(op: OpName, args: OpArgs, mode: 'sync' | 'async'): void | Promise<void> {
    const native = this.nativeArgs(op, args);
    const fn = this.addon[NATIVE_OP[op]] as NativeOp;
    if (mode === 'async') return fn(native, true);
    fn(native, false);
  }

  /** CUDA-event timing of one call (addon.runtime.timeOp); the cpu backend rejects with a TypeError. */
  time(op: OpName, args: OpArgs, opts: DeviceTimingOptions = {}): Promise<DeviceTiming> {
    return this.addon.runtime.timeOp(NATIVE_OP[op], this.nativeArgs(op, args), opts);
  }

  fillBytes(t: BackendTensor, byte: number): void {
    this.addon.runtime.fillBytes(this.handle(t, 'fillBytes'), byte);
  }

  fillRandom(t: BackendTensor, seed: number, lo: number, hi: number): void {
    this.addon.runtime.fillRandom(this.handle(t, 'fillRandom'), seed, lo, hi);
  }

  private handle(t: BackendTensor, fn: string): NativeTensorHandle {
    const st = t.storage(fn);
    if (!(st instanceof NativeStorage)) throw new TypeError(`${fn}: ${t.describe()} is not a ${this.name} tensor`);
    return st.handle;
  }

  private nativeArgs(op: OpName, args: OpArgs): NativeOpArgs {
    const native: NativeOpArgs = {};
    for (const [k, v] of Object.entries(args)) {
      if (v instanceof BackendTensor) {
        const st = v.storage(op, k);
        if (!(st instanceof NativeStorage)) throw new TypeError(`${op}: ${k} is not a ${this.name} tensor`);
        native[k] = st.handle;
      } else {
        native[k] = v;
      }
    }
    return native;
  }

}

/** The cpu backend, with its thread pool controls. */
export class CpuBackend extends NativeBackend {
  constructor() {
    super('cpu');
  }

  /** Threads of the CPU pool. */
  get threads(): number {
    return this.addon.cpuThreads();
  }

  /** Resizes the CPU pool (process-wide; overrides SANA_LAB_THREADS). */
  setThreads(n: number): void {
    this.addon.setCpuThreads(n);
  }
}
