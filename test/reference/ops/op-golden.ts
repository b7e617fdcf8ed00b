/** Helpers for the op-level golden tests: read an op_*.safetensors file and compare with max|a−e|/max|e|. */
import { errorStats, formatStats } from '../../../reference/core/compare.js';
import { goldenAvailable, goldenDir, goldenPath } from '../../../reference/core/golden.js';
import { readSafetensors } from '../../../reference/core/safetensors.js';
import type { Tensor } from '../../../reference/core/tensor.js';

export const GOLDEN = goldenAvailable();
if (!GOLDEN) console.warn(`[golden] ${goldenDir()} is absent: op golden tests are skipped`);

/** Tolerance of the ops on max|a − e| / max|e| (issue 3). */
export const OP_TOL = 1e-5;

export function readOp(file: string): (name: string) => Tensor {
  const tensors = readSafetensors(goldenPath(file)).tensors;
  return (name) => {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`${file}: no tensor "${name}"`);
    return t;
  };
}

/** max|a − e| / max|e| after checking the shapes agree; logs the full stats. */
export function maxRelError(label: string, actual: Tensor, expected: Tensor): number {
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`${label}: shape [${actual.shape.join(', ')}] vs expected [${expected.shape.join(', ')}]`);
  }
  const s = errorStats(actual.toFloat64(), expected.toFloat64());
  console.log(`${label}: ${formatStats(s)}`);
  return s.nonFinite > 0 ? Infinity : s.maxRel;
}
