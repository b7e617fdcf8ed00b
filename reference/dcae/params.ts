/**
 * Parameters of one DC-AE module, read from a flat diffusers `state_dict` by key prefix.
 *
 * Blocks take a `ParamScope` instead of typed structs so the keys they read are literally the
 * diffusers names: `scope.child('down_blocks').child(2).get('attn.to_q.weight')` reads
 * `encoder.down_blocks.2.attn.to_q.weight` when the scope started at `encoder.`.
 */
import type { Tensor } from '../core/tensor.js';
import type { AccumulateOption } from '../ops/linear.js';

export class ParamScope {
  constructor(
    private readonly tensors: ReadonlyMap<string, Tensor>,
    /** Key prefix including its trailing dot ('' at the root). */
    readonly prefix = '',
  ) {}

  /** The scope of a sub-module: `child('conv_out')` reads `<prefix>conv_out.<name>`. */
  child(name: string | number): ParamScope {
    return new ParamScope(this.tensors, `${this.prefix}${name}.`);
  }

  has(name: string): boolean {
    return this.tensors.has(this.prefix + name);
  }

  get(name: string): Tensor {
    const key = this.prefix + name;
    const t = this.tensors.get(key);
    if (t === undefined) throw new Error(`DC-AE: missing parameter "${key}"`);
    return t;
  }
}

/** Options every DC-AE op and block accepts: accumulator precision of the reductions. */
export type DcaeOpOptions = AccumulateOption;

/** Round-to-accumulator helper: identity for float64 accumulation, Math.fround for float32. */
export function accumulatorRound(opts: DcaeOpOptions): (v: number) => number {
  return opts.accumulate === 'f32' ? Math.fround : (v: number) => v;
}
