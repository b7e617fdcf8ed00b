/** Shared helpers for the DiT tests: golden cases, comparison with the README's metric, random weights. */
import { errorStats, formatStats } from '../../../reference/core/compare.js';
import { goldenAvailable, goldenDir, goldenPath } from '../../../reference/core/golden.js';
import { randn } from '../../../reference/core/random.js';
import { readSafetensors } from '../../../reference/core/safetensors.js';
import type { Tensor } from '../../../reference/core/tensor.js';
import type { SanaTransformerConfig } from '../../../reference/dit/config.js';
import type { DitInputs } from '../../../reference/dit/model.js';
import { sanaTransformerWeightShapes } from '../../../reference/dit/weights.js';

export const GOLDEN = goldenAvailable();
if (!GOLDEN) console.warn(`[golden] ${goldenDir()} is absent: DiT golden tests are skipped`);

/** Tolerance of the whole model on max|a−e| / max|e| (issue 3; float32 timestep sin/cos dominate). */
export const MODEL_TOL = 1e-4;

export const CASES = ['sana_transformer_public', 'sana_transformer_public_pe'] as const;

export function caseFiles(c: string): { config: string; weights: string; io: string } {
  return { config: goldenPath(`${c}.config.json`), weights: goldenPath(`${c}.weights.safetensors`), io: goldenPath(`${c}.io.safetensors`) };
}

export function readGolden(path: string): (name: string) => Tensor {
  const tensors = readSafetensors(path).tensors;
  return (name) => {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`${path}: no tensor "${name}"`);
    return t;
  };
}

export function goldenNames(path: string): string[] {
  return [...readSafetensors(path).tensors.keys()];
}

export function goldenInputs(g: (name: string) => Tensor): DitInputs {
  return {
    hiddenStates: g('hidden_states'),
    timestep: g('timestep'),
    encoderHiddenStates: g('encoder_hidden_states'),
    encoderAttentionMask: g('encoder_attention_mask'),
  };
}

/** max|a − e| / max|e| after checking shapes; logs the full stats under `label`. */
export function maxRelError(label: string, actual: Tensor, expected: Tensor): number {
  if (actual.shape.join() !== expected.shape.join()) {
    throw new Error(`${label}: shape [${actual.shape.join(', ')}] vs expected [${expected.shape.join(', ')}]`);
  }
  const s = errorStats(actual.toFloat64(), expected.toFloat64());
  console.log(`${label.padEnd(60)} ${formatStats(s)}`);
  return s.nonFinite > 0 ? Infinity : s.maxRel;
}

/** Fresh N(0, std²) weights for every key of a config (std 0.2, like the golden files). */
export function randomWeights(cfg: SanaTransformerConfig, seed: number, std = 0.2): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  let s = seed;
  for (const [k, shape] of sanaTransformerWeightShapes(cfg)) m.set(k, randn(shape, s++, std));
  return m;
}
