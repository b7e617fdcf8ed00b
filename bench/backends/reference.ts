/**
 * The `reference` bench backend: the pure-TS reference ops (reference/ops, reference/dit,
 * reference/dcae), timed on the host. It is the baseline the native backends are compared against,
 * and it is slow (single-threaded JS, float64 accumulation), so its cases are capped by the time
 * budget: each op's cost is estimated from its FLOPs and a rate calibrated on a small shape, and the
 * warm-up call is checked against the budget too.
 *
 * bf16: inputs and weights are stored as bf16 and decoded to f32 inside the timed call (the reference
 * computes in f32/f64 and returns f32), so bf16 timings include that conversion.
 */
import { constants as bufferConstants } from 'node:buffer';
import { freemem } from 'node:os';
import { cpuDeviceName, referenceLinearGemm } from '../ceilings-cpu.js';
import { opCost, opCount, type OpName } from '../catalogue.js';
import type { BenchDType } from '../cost-model.js';
import type { OpShape } from '../shapes.js';
import type { Availability, BenchBackend, PreparedOp } from './backend.js';
import { CALIBRATION, REFERENCE_OPS } from './reference-ops.js';

const gib = (b: number) => (b / 2 ** 30).toFixed(1);

/** Estimates are doubled: big shapes miss caches the calibration shape does not. */
const ESTIMATE_SAFETY = 2;

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export class ReferenceBackend implements BenchBackend {
  readonly name = 'reference';
  readonly budgeted = true;
  /** Calibrated FLOPs per ms, per op. */
  private readonly rates = new Map<OpName, number>();

  available(): Availability {
    return { ok: true };
  }

  supports(op: OpName, dtype: BenchDType): Availability {
    if (REFERENCE_OPS[op] === undefined) {
      return { ok: false, reason: `not available yet: no TS reference for "${op}"` };
    }
    if (dtype !== 'f32' && dtype !== 'bf16') return { ok: false, reason: `reference: dtype ${String(dtype)} not supported` };
    return { ok: true };
  }

  versions(): number[] {
    return [0];
  }

  device(): string {
    return cpuDeviceName();
  }

  threads(): number {
    return 1;
  }

  async prepareOp(shape: OpShape, dtype: BenchDType, version: number): Promise<PreparedOp> {
    const prep = REFERENCE_OPS[shape.op];
    if (prep === undefined) throw new RangeError(`reference backend: op "${shape.op}" is not available yet`);
    if (version !== 0) throw new RangeError(`reference backend: "${shape.op}" has only version 0, asked for ${version}`);
    const call = prep(shape, dtype);
    const p: PreparedOp = { run: () => void call.run(), dispose() {} };
    if (dtype === 'bf16') p.note = 'bf16 storage, decoded to f32 inside the timed call; f32 output';
    return p;
  }

  /**
   * 2 × FLOPs over a rate measured once per op on a small shape (after JIT warm-up: ≥ 5 calls or
   * 100 ms, then the median of 5). Large shapes run slower per FLOP than the cache-resident
   * calibration shape, hence the factor 2; the warm-up check in timeWithBudget is the second guard.
   */
  estimateMs(shape: OpShape, dtype: BenchDType): number | undefined {
    const rate = this.rate(shape.op);
    return rate === undefined ? undefined : (ESTIMATE_SAFETY * opCost(shape, dtype).flops) / rate;
  }

  /** Calibrated FLOPs per ms of an op. */
  private rate(op: OpName): number | undefined {
    const cached = this.rates.get(op);
    if (cached !== undefined) return cached;
    const prep = REFERENCE_OPS[op];
    if (prep === undefined) return undefined;
    const call = prep(CALIBRATION[op], 'f32');
    const t0 = performance.now();
    for (let i = 0; i < 5 || performance.now() - t0 < 100; i++) call.run();
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      call.run();
      times.push(performance.now() - t);
    }
    const rate = opCost(CALIBRATION[op], 'f32').flops / Math.max(median(times), 1e-3);
    this.rates.set(op, rate);
    return rate;
  }

  /**
   * Whether one case fits in memory: inputs, weights and output as f32 (plus the bf16 copies) within
   * 60% of free memory, and the largest tensor within one ArrayBuffer.
   */
  fits(shape: OpShape, dtype: BenchDType): Availability {
    const c = opCount(shape);
    const largest = Math.max(c.inElems, c.outElems, c.weightElems) * 4;
    if (largest > bufferConstants.MAX_LENGTH) {
      return { ok: false, reason: `one tensor needs ${gib(largest)} GiB, over the JS engine's ${gib(bufferConstants.MAX_LENGTH)} GiB ArrayBuffer limit` };
    }
    const need = (c.inElems + c.weightElems + c.outElems) * 4 + (dtype === 'bf16' ? (c.inElems + c.weightElems) * 2 : 0);
    const free = freemem() * 0.6;
    if (need > free) return { ok: false, reason: `needs ${gib(need)} GiB of host memory, ${gib(free)} GiB usable (60% of free)` };
    return { ok: true };
  }

  peakGemm() {
    return referenceLinearGemm();
  }
}
