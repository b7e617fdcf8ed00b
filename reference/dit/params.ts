/**
 * Named access to a validated state dict: `param(w, 'transformer_blocks.0.attn1.to_q.weight')`.
 * Weights are checked against the config when the model is built, so a miss here is a bug.
 */
import type { Tensor } from '../core/tensor.js';

export type StateDict = ReadonlyMap<string, Tensor>;

export function param(w: StateDict, key: string): Tensor {
  const t = w.get(key);
  if (t === undefined) throw new Error(`SanaTransformer2DModel: weight "${key}" is missing`);
  return t;
}

/** Like `param`, but null when absent (optional biases). */
export function optionalParam(w: StateDict, key: string): Tensor | null {
  return w.get(key) ?? null;
}
