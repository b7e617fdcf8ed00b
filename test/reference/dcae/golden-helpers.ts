/** Shared helpers for the DC-AE golden tests: file access and the README's parity metric. */
import { expect } from 'vitest';
import { errorStats, formatStats, withinTolerance } from '../../../reference/core/compare.js';
import { goldenAvailable, goldenDir, goldenPath } from '../../../reference/core/golden.js';
import { readSafetensors } from '../../../reference/core/safetensors.js';
import type { Tensor } from '../../../reference/core/tensor.js';

export const GOLDEN = goldenAvailable();
if (!GOLDEN) console.warn(`[golden] ${goldenDir()} is absent: DC-AE golden tests are skipped`);

/** The golden README's tolerance for DC-AE and its ops: max|out − ref| / max|ref| ≤ 1e-5. */
export const DCAE_TOL = 1e-5;

export function goldenTensors(file: string): Map<string, Tensor> {
  return readSafetensors(goldenPath(file)).tensors;
}

/** Asserts shape equality and maxRel ≤ tol (NaN/Inf fail); returns the stats for logging. */
export function expectClose(out: Tensor, ref: Tensor, what: string, tol = DCAE_TOL): ReturnType<typeof errorStats> {
  expect([...out.shape], `${what} shape`).toEqual([...ref.shape]);
  const s = errorStats(out.toFloat64(), ref.toFloat64());
  expect(withinTolerance(s, { maxRel: tol }), `${what}: ${formatStats(s)}`).toBe(true);
  return s;
}
