/**
 * The safetensors weights of one component of a diffusers/transformers model directory, as those
 * libraries save them:
 *
 *   <base>.safetensors                                   one file
 *   <base>.safetensors.index.json  → "weight_map"        shards (<base>-00001-of-0000N.safetensors …)
 *   <base>.<variant>.safetensors (and its .index.json)   a variant (e.g. "fp16", "bf16")
 *
 * with <base> = "diffusion_pytorch_model" (diffusers models) or "model" (transformers models).
 * Headers are read first, so key checks run before any tensor data is read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../core/safetensors.js';
import type { Tensor } from '../core/tensor.js';

export interface WeightEntry {
  name: string;
  shape: readonly number[];
  dtype: string;
}

/** The file name of a component's weights (or of its shard index) for an optional variant. */
function weightName(base: string, variant: string | undefined, suffix: string): string {
  return variant === undefined ? `${base}${suffix}` : `${base}.${variant}${suffix}`;
}

/**
 * The safetensors files holding a component's weights, or null when there are none.
 * Throws when the shard index is unreadable or names a missing shard.
 */
export function findWeightFiles(dir: string, base: string, variant?: string): string[] | null {
  const single = join(dir, weightName(base, variant, '.safetensors'));
  if (existsSync(single)) return [single];
  const index = join(dir, weightName(base, variant, '.safetensors.index.json'));
  if (!existsSync(index)) return null;
  let map: unknown;
  try {
    map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: unknown }).weight_map;
  } catch (e) {
    throw new Error(`${index} is not valid JSON: ${(e as Error).message}`);
  }
  if (map === null || typeof map !== 'object' || Array.isArray(map)) throw new Error(`${index} has no "weight_map" object`);
  const files = [...new Set(Object.values(map as Record<string, unknown>))];
  if (files.length === 0 || files.some((f) => typeof f !== 'string')) throw new Error(`${index}: "weight_map" must map tensor names to shard file names`);
  const paths = (files as string[]).map((f) => join(dir, f));
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length > 0) throw new Error(`${index} lists shard(s) that do not exist: ${missing.join(', ')}`);
  return paths;
}

/** A component's weights opened for reading: the header entries now, tensors on demand. */
export class ComponentWeights {
  private readonly owner = new Map<string, SafetensorsFile>();
  readonly entries: WeightEntry[] = [];

  private constructor(
    readonly source: string,
    private readonly files: SafetensorsFile[],
  ) {
    for (const f of files) {
      for (const n of f.names()) {
        const prev = this.owner.get(n);
        if (prev !== undefined) throw new Error(`weights ${source}: tensor ${n} appears in both ${prev.path} and ${f.path}`);
        this.owner.set(n, f);
        const e = f.entry(n);
        this.entries.push({ name: n, shape: e.shape, dtype: e.dtype });
      }
    }
  }

  /** Open the weights of `dir` (see findWeightFiles); throws naming the expected file when absent. */
  static open(dir: string, base: string, variant?: string): ComponentWeights {
    const paths = findWeightFiles(dir, base, variant);
    if (paths === null) {
      throw new Error(`${dir} has no ${weightName(base, variant, '.safetensors')} (nor ${weightName(base, variant, '.safetensors.index.json')})`);
    }
    const files: SafetensorsFile[] = [];
    try {
      for (const p of paths) files.push(SafetensorsFile.open(p));
      return new ComponentWeights(paths.length === 1 ? paths[0]! : `${dir} (${paths.length} shards)`, files);
    } catch (e) {
      for (const f of files) f.close();
      throw e;
    }
  }

  /** Name → {shape, dtype}, the form the key checkers take. */
  entryMap(): Map<string, { shape: readonly number[]; dtype: string }> {
    return new Map(this.entries.map((e) => [e.name, { shape: e.shape, dtype: e.dtype }]));
  }

  /** Read the tensors whose names pass `keep` (all by default). */
  read(keep: (name: string) => boolean = () => true): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const e of this.entries) if (keep(e.name)) out.set(e.name, this.owner.get(e.name)!.tensor(e.name));
    return out;
  }

  close(): void {
    for (const f of this.files) f.close();
  }
}

/** Open, run `use`, close. */
export function withComponentWeights<T>(dir: string, base: string, variant: string | undefined, use: (w: ComponentWeights) => T): T {
  const w = ComponentWeights.open(dir, base, variant);
  try {
    return use(w);
  } finally {
    w.close();
  }
}
