/**
 * Loading DC-AE weights from a diffusers safetensors file, with one error that lists every missing,
 * unexpected and mis-shaped key (so a wrong checkpoint is diagnosed in one run, not key by key).
 */
import { SafetensorsFile } from '../core/safetensors.js';
import { listSome } from '../core/list-some.js';
import { shapeStr, type Tensor } from '../core/tensor.js';
import type { DcaeConfig } from './config.js';
import { dcaeParamShapes, type ParamShapes } from './param-shapes.js';

export class DcaeWeightsError extends Error {
  constructor(
    readonly source: string,
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly misShaped: readonly string[],
    readonly wrongDtype: readonly string[],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`${missing.length} missing: ${listSome(missing)}`);
    if (unexpected.length) parts.push(`${unexpected.length} unexpected: ${listSome(unexpected)}`);
    if (misShaped.length) parts.push(`${misShaped.length} mis-shaped: ${listSome(misShaped)}`);
    if (wrongDtype.length) parts.push(`${wrongDtype.length} not floating point: ${listSome(wrongDtype)}`);
    super(`DC-AE weights ${source} do not match the config: ${parts.join('; ')}`);
    this.name = 'DcaeWeightsError';
  }
}

const FLOAT_DTYPES = new Set(['f32', 'bf16', 'f16', 'f64']);

/** Compare names/shapes/dtypes against the config's expected shapes; throws one DcaeWeightsError. */
export function checkDcaeWeights(
  expected: ParamShapes,
  actual: ReadonlyMap<string, { shape: readonly number[]; dtype: string }>,
  source: string,
): void {
  const missing: string[] = [];
  const misShaped: string[] = [];
  const wrongDtype: string[] = [];
  for (const [key, shape] of expected) {
    const t = actual.get(key);
    if (t === undefined) missing.push(key);
    else {
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) misShaped.push(`${key} ${shapeStr(t.shape)} (want ${shapeStr(shape)})`);
      if (!FLOAT_DTYPES.has(t.dtype)) wrongDtype.push(`${key} (${t.dtype})`);
    }
  }
  const unexpected = [...actual.keys()].filter((k) => !expected.has(k));
  if (missing.length || unexpected.length || misShaped.length || wrongDtype.length) {
    throw new DcaeWeightsError(source, missing, unexpected, misShaped, wrongDtype);
  }
}

/** Validate an in-memory state_dict against a config. */
export function validateDcaeWeights(config: DcaeConfig, tensors: ReadonlyMap<string, Tensor>, source = '<state_dict>'): void {
  checkDcaeWeights(dcaeParamShapes(config), tensors, source);
}

export interface LoadDcaeWeightsOptions {
  /** Load only the encoder's or the decoder's tensors (the other half's keys must still be present). */
  part?: 'encoder' | 'decoder' | 'all';
}

/** Read a diffusers safetensors checkpoint; checks every key from the header before reading data. */
export function loadDcaeWeights(path: string, config: DcaeConfig, opts: LoadDcaeWeightsOptions = {}): Map<string, Tensor> {
  const f = SafetensorsFile.open(path);
  try {
    const header = new Map(f.header.entries.map((e) => [e.name, e]));
    checkDcaeWeights(dcaeParamShapes(config), header, path);
    const part = opts.part ?? 'all';
    const out = new Map<string, Tensor>();
    for (const name of f.names()) {
      if (part === 'all' || name.startsWith(`${part}.`)) out.set(name, f.tensor(name));
    }
    return out;
  } finally {
    f.close();
  }
}
