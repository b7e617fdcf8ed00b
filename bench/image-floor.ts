/**
 * The roofline floor of a whole image: the least time a device with the given ceilings needs for one
 * DiT step, the per-image caption work, and the DC-AE decode, if every op ran at its own roofline
 * (max(FLOPs / peak, minimal bytes / bandwidth), ops summed as separately launched calls). `sana-lab
 * profile` divides it by the measured times: "the step runs at 63% of its floor".
 *
 * A DiT block counts as one op with the fused block's minimal bytes (x in, x out, weights, caption),
 * the strictest floor: what the `dit-block` mode could reach; the `ops` mode moves more bytes.
 *
 * The units follow the native runners (bindings/models/): the caption projection and every block's
 * cross-attention keys/values are computed once per image, not per step, so the step is the lab's
 * `ditStepPlan` without the caption ops and with each dit-block's text K/V gemm moved to the caption
 * unit. (The block's minimal bytes still count the caption read, B·L·C, in place of the K/V read,
 * 2·B·L·C: under 0.5% of a block's bytes at 512² and above.)
 */
import { opCost } from './catalogue.js';
import type { BenchDType } from './cost-model.js';
import type { Ceilings } from './roofline.js';
import { dcaeDecodePlan, ditStepPlan, type Resolution } from './shapes.js';

/** FLOPs and minimal bytes of a unit, and its floor on the ceilings (ms). */
export interface UnitFloor {
  flops: number;
  bytes: number;
  floorMs: number;
  /** Share of the floor spent in compute-bound ops (the rest is bandwidth-bound). */
  computeShare: number;
}

export interface ImageFloor {
  step: UnitFloor;
  caption: UnitFloor;
  decode: UnitFloor | null;
  /** steps × step + caption (+ decode). */
  imageMs: number;
}

interface Part {
  flops: number;
  bytes: number;
  count: number;
}

function unit(parts: readonly Part[], c: Pick<Ceilings, 'peakFlops' | 'bandwidth'>): UnitFloor {
  let flops = 0;
  let bytes = 0;
  let floor = 0;
  let compute = 0;
  for (const p of parts) {
    const tc = p.flops / c.peakFlops;
    const tm = p.bytes / c.bandwidth;
    flops += p.flops * p.count;
    bytes += p.bytes * p.count;
    floor += Math.max(tc, tm) * p.count;
    if (tc >= tm) compute += tc * p.count;
  }
  return { flops, bytes, floorMs: floor * 1e3, computeShare: floor > 0 ? compute / floor : 0 };
}

/**
 * The floor of one image: `steps` DiT steps on the CFG batch (`batch` 2, or 1 without CFG), the caption
 * work, the decode (batch 1). `textTokens` defaults to the model's 300.
 */
export function imageFloor(
  opts: { model: '0.6b' | '1.6b'; resolution: Resolution; batch: number; steps: number; decode: boolean; dtype: BenchDType; textTokens?: number },
  c: Pick<Ceilings, 'peakFlops' | 'bandwidth'>,
): ImageFloor {
  if (!(c.peakFlops > 0) || !(c.bandwidth > 0)) throw new RangeError(`imageFloor: ceilings must be positive (peak ${c.peakFlops} FLOP/s, bandwidth ${c.bandwidth} B/s)`);
  const plan = ditStepPlan(opts.model, opts.resolution, opts.batch, opts.textTokens);
  const kv = (() => {
    const e = plan.find((p) => p.shape.op === 'dit-block');
    if (e === undefined) throw new Error('imageFloor: the step plan has no dit-block');
    const d = e.shape.dims as { B: number; C: number; L: number; crossHeads: number; crossHeadDim: number };
    // The text K/V gemm of one block: (B·L) × C → 2 × heads·headDim, with bias (cost-model.ts crossAttentionCount).
    return opCost({ op: 'gemm', dims: { M: d.B * d.L, N: 2 * d.crossHeads * d.crossHeadDim, K: d.C, bias: true, activation: 'none' } }, opts.dtype);
  })();
  const step: Part[] = [];
  const caption: Part[] = [];
  for (const e of plan) {
    const cost = opCost(e.shape, opts.dtype);
    if (e.shape.variant === 'y-proj-1' || e.shape.variant === 'y-proj-2' || e.shape.variant === 'y-norm') {
      caption.push({ flops: cost.flops, bytes: cost.bytes, count: e.count });
    } else if (e.shape.op === 'dit-block') {
      step.push({ flops: cost.flops - kv.flops, bytes: cost.bytes, count: e.count });
      caption.push({ flops: kv.flops, bytes: kv.bytes, count: e.count });
    } else step.push({ flops: cost.flops, bytes: cost.bytes, count: e.count });
  }
  const decode = opts.decode
    ? unit(dcaeDecodePlan(opts.resolution, 1).map((e) => ({ ...opCost(e.shape, opts.dtype), count: e.count })), c)
    : null;
  const s = unit(step, c);
  const cap = unit(caption, c);
  return { step: s, caption: cap, decode, imageMs: opts.steps * s.floorMs + cap.floorMs + (decode?.floorMs ?? 0) };
}
