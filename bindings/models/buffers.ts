/**
 * The runners' activation buffer plan: named slots of fixed shape on one backend, allocated on first
 * use and reused by every later call with the same shape (a DiT step writes the same x, h and
 * modulation slots in every block and every step; a DC-AE stage ping-pongs between two slots), freed
 * when `release`d or when the shape changes. Bytes live now and the peak are tracked, so the runners
 * can report the activation memory they hold (op-internal scratch is separate: see `scratch`).
 *
 * On the reference backend the ops allocate their outputs (`out` is a native-backend feature), so the
 * plan hands out null and only keeps the accounting.
 */
import type { Backend } from '../backend.js';
import type { BackendTensor, TensorDType } from '../tensor.js';

const BYTES: Readonly<Record<TensorDType, number>> = { f32: 4, bf16: 2 };

export function tensorBytes(shape: readonly number[], dtype: TensorDType): number {
  return shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
}

export class BufferPlan {
  private readonly slots = new Map<string, { shape: readonly number[]; dtype: TensorDType; bytes: number; tensor: BackendTensor | null }>();
  private live = 0;
  /** Highest sum of live slot bytes seen. */
  peakBytes = 0;
  /** Largest op-internal scratch noted with `scratch()` (an estimate from the kernels' documented buffers). */
  scratchPeakBytes = 0;

  constructor(
    readonly backend: Backend,
    readonly dtype: TensorDType,
  ) {}

  /**
   * The slot `name` with `shape` in `dtype` (default: the plan's; allocated now if absent or of another
   * shape or dtype); null on the reference backend.
   */
  slot(name: string, shape: readonly number[], dtype: TensorDType = this.dtype): BackendTensor | null {
    const s = this.slots.get(name);
    if (s && s.dtype === dtype && s.shape.length === shape.length && s.shape.every((d, i) => d === shape[i])) return s.tensor;
    if (s) this.release(name);
    const bytes = tensorBytes(shape, dtype);
    const tensor = this.backend.name === 'reference' ? null : this.backend.empty(shape, dtype);
    this.slots.set(name, { shape: [...shape], dtype, bytes, tensor });
    this.live += bytes;
    this.peakBytes = Math.max(this.peakBytes, this.live);
    return tensor;
  }

  /** Frees slot `name` (no-op when absent). */
  release(name: string): void {
    const s = this.slots.get(name);
    if (!s) return;
    s.tensor?.dispose();
    this.live -= s.bytes;
    this.slots.delete(name);
  }

  /** Frees every slot whose name starts with `prefix`. */
  releasePrefix(prefix: string): void {
    for (const name of [...this.slots.keys()]) if (name.startsWith(prefix)) this.release(name);
  }

  /** Notes an op's internal scratch (bytes) for the peak estimate. */
  scratch(bytes: number): void {
    this.scratchPeakBytes = Math.max(this.scratchPeakBytes, bytes);
  }

  get liveBytes(): number {
    return this.live;
  }

  /** The slots held now: name, shape, bytes. */
  describe(): { name: string; shape: readonly number[]; bytes: number }[] {
    return [...this.slots].map(([name, s]) => ({ name, shape: s.shape, bytes: s.bytes }));
  }

  dispose(): void {
    for (const name of [...this.slots.keys()]) this.release(name);
  }
}
