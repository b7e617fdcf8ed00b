/**
 * A diffusers-layout SANA directory (what `SanaPipeline.save_pretrained` writes, and the
 * Efficient-Large-Model/*_diffusers repositories hold):
 *
 *   model_index.json                  {"_class_name": "SanaPipeline", "<component>": [library, class], …}
 *   transformer/config.json + diffusion_pytorch_model[.variant].safetensors (or a shard index)
 *   vae/config.json         + diffusion_pytorch_model[.variant].safetensors
 *   text_encoder/config.json + model[.variant].safetensors        (transformers Gemma2Model)
 *   tokenizer/tokenizer.json [+ tokenizer_config.json]
 *   scheduler/scheduler_config.json
 *
 * `checkSanaModelDir` reports every missing or wrong piece in one error before anything is loaded.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findWeightFiles } from './component-weights.js';

export const PIPELINE_CLASS_NAME = 'SanaPipeline';

/** Component → the classes model_index.json may name for it. */
export const SANA_COMPONENT_CLASSES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  transformer: ['SanaTransformer2DModel'],
  vae: ['AutoencoderDC'],
  text_encoder: ['Gemma2Model', 'Gemma2ForCausalLM'],
  tokenizer: ['GemmaTokenizer', 'GemmaTokenizerFast'],
  scheduler: ['DPMSolverMultistepScheduler', 'FlowMatchEulerDiscreteScheduler'],
});

export interface SanaModelPaths {
  root: string;
  modelIndex: string;
  transformerConfig: string;
  transformerDir: string;
  vaeConfig: string;
  vaeDir: string;
  textEncoderConfig: string;
  textEncoderDir: string;
  tokenizerDir: string;
  schedulerConfig: string;
}

export class SanaModelDirError extends Error {
  constructor(
    readonly dir: string,
    readonly problems: readonly string[],
  ) {
    super(`SANA model directory ${dir} is not usable: ${problems.join('; ')}`);
    this.name = 'SanaModelDirError';
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Check the layout (files present, model_index.json names the SANA classes); returns the paths. */
export function checkSanaModelDir(dir: string, opts: { variant?: string } = {}): SanaModelPaths {
  if (!isDir(dir)) throw new SanaModelDirError(dir, [existsSync(dir) ? 'it is not a directory' : 'it does not exist']);
  const problems: string[] = [];
  const need = (rel: string): string => {
    const p = join(dir, rel);
    if (!existsSync(p)) problems.push(`missing ${rel}`);
    return p;
  };
  const modelIndex = need('model_index.json');
  if (existsSync(modelIndex)) checkModelIndex(modelIndex, problems);
  const weights = (sub: string, base: string): void => {
    if (!isDir(join(dir, sub))) return; // reported with its config
    try {
      if (findWeightFiles(join(dir, sub), base, opts.variant) === null) {
        const v = opts.variant === undefined ? '' : `.${opts.variant}`;
        problems.push(`missing ${sub}/${base}${v}.safetensors (or ${sub}/${base}${v}.safetensors.index.json)`);
      }
    } catch (e) {
      problems.push((e as Error).message);
    }
  };
  const paths: SanaModelPaths = {
    root: dir,
    modelIndex,
    transformerConfig: need('transformer/config.json'),
    transformerDir: join(dir, 'transformer'),
    vaeConfig: need('vae/config.json'),
    vaeDir: join(dir, 'vae'),
    textEncoderConfig: need('text_encoder/config.json'),
    textEncoderDir: join(dir, 'text_encoder'),
    tokenizerDir: join(dir, 'tokenizer'),
    schedulerConfig: need('scheduler/scheduler_config.json'),
  };
  need('tokenizer/tokenizer.json');
  weights('transformer', 'diffusion_pytorch_model');
  weights('vae', 'diffusion_pytorch_model');
  weights('text_encoder', 'model');
  if (problems.length > 0) throw new SanaModelDirError(dir, problems);
  return paths;
}

function checkModelIndex(path: string, problems: string[]): void {
  let index: Record<string, unknown>;
  try {
    index = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    problems.push(`model_index.json is not valid JSON: ${(e as Error).message}`);
    return;
  }
  if (index._class_name !== PIPELINE_CLASS_NAME) {
    problems.push(`model_index.json names pipeline ${JSON.stringify(index._class_name)}, not "${PIPELINE_CLASS_NAME}"`);
  }
  for (const [component, classes] of Object.entries(SANA_COMPONENT_CLASSES)) {
    const entry = index[component];
    if (!Array.isArray(entry) || entry.length !== 2) {
      problems.push(`model_index.json has no "${component}": [library, class] entry`);
    } else if (!classes.includes(String(entry[1]))) {
      problems.push(`model_index.json: ${component} is ${JSON.stringify(entry[1])}, expected ${classes.join(' or ')}`);
    }
  }
}
