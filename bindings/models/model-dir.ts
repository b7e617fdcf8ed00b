/**
 * A diffusers pipeline folder (e.g. Sana_600M_1024px_diffusers): `<dir>/<component>/config.json` and
 * `diffusion_pytorch_model.safetensors`, or the sharded form with `….safetensors.index.json`. Also
 * accepts `dir` being the component folder itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../../reference/core/safetensors.js';
import type { Tensor } from '../../reference/core/tensor.js';

export interface ComponentFiles {
  config: string;
  weights: string[];
}

export function componentFiles(dir: string, component: 'transformer' | 'vae'): ComponentFiles {
  const folder = existsSync(join(dir, component, 'config.json')) ? join(dir, component) : dir;
  const config = join(folder, 'config.json');
  if (!existsSync(config)) throw new Error(`${dir}: no ${component}/config.json (nor config.json)`);
  const single = join(folder, 'diffusion_pytorch_model.safetensors');
  if (existsSync(single)) return { config, weights: [single] };
  const index = `${single}.index.json`;
  if (existsSync(index)) {
    const map = (JSON.parse(readFileSync(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map;
    if (!map) throw new Error(`${index}: no weight_map`);
    return { config, weights: [...new Set(Object.values(map))].map((f) => join(folder, f)) };
  }
  throw new Error(`${folder}: no diffusion_pytorch_model.safetensors (nor its .index.json)`);
}

/** Every tensor of the component's weight files (keys filtered by `keep`). */
export function readComponentWeights(files: ComponentFiles, keep: (key: string) => boolean = () => true): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const path of files.weights) {
    const f = SafetensorsFile.open(path);
    try {
      for (const k of f.names()) if (keep(k)) out.set(k, f.tensor(k));
    } finally {
      f.close();
    }
  }
  return out;
}
