/**
 * `sana-lab generate`: text → PNG with a diffusers-layout SANA directory, through the reference
 * pipeline (Gemma-2 → DiT with Flow-DPM-Solver / Flow-Euler and CFG → DC-AE → 8-bit RGB); with
 * --backend cpu the DiT and the DC-AE decode run on the native runners (bindings/models), the text
 * encoder, sampler and image conversion stay in TypeScript.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { intOption, MAX_STEPS, outputFile, parseArgs } from '../args.js';
import { backendOption } from '../backend-option.js';
import { UsageError, type Command } from '../command.js';
import { tileOption } from '../tile-option.js';
import { nativePipelineFactories } from '../../bindings/models/pipeline-models.js';
import { loadDcaeConfig, spatialCompressionRatio } from '../../reference/dcae/config.js';
import type { TilingOptions } from '../../reference/dcae/tiling.js';
import { loadSanaTransformerConfig } from '../../reference/dit/config.js';
import { checkSanaModelDir, SanaModelDirError, type SanaModelPaths } from '../../reference/pipeline/model-dir.js';
import { writePng } from '../../reference/pipeline/png.js';
import { formatSeconds, StepProgressBar } from '../../reference/pipeline/progress.js';
import { isSamplerName, SAMPLERS } from '../../reference/pipeline/sampler.js';
import { SanaPipeline, type GenerateResult } from '../../reference/pipeline/sana-pipeline.js';

const BACKENDS = ['reference', 'cpu', 'cuda'] as const;

const USAGE = `usage: sana-lab generate --prompt TEXT --model-dir DIR --out image.png [options]

Text-to-image with SANA: Gemma-2 text encoder (with SANA's instruction prefix and 300-token selection)
→ Linear DiT under classifier-free guidance → DC-AE decode → PNG. DIR is a diffusers-layout SANA
directory (model_index.json, transformer/, vae/, text_encoder/, tokenizer/, scheduler/), e.g. one
written by \`sana-lab make-random-model\`.

  --prompt TEXT          the prompt (required)
  --negative-prompt TEXT the unconditional prompt (default "")
  --model-dir DIR        the model directory (required)
  --out FILE             the PNG to write (required; must end in .png)
  --size N               image width and height in pixels (default: the model's trained size)
  --width W, --height H  override one side (multiples of the DC-AE compression × patch size, e.g. 32)
  --steps N              sampling steps (default 20)
  --cfg G                guidance scale (default 4.5; <= 1 runs the conditional branch only)
  --seed S               noise seed, an integer >= 0 (default 0); same seed, same bytes
  --sampler NAME         ${SAMPLERS.join(' | ')} (default: the model's scheduler_config.json; dpm = Flow-DPM-Solver++)
  --tile SIZE            DC-AE tiled decode with SIZE-px tiles; 0 = never (default: tiles of 1024 / stride 896
                         when a side exceeds 1024 px, as SANA's 4K recipe)
  --tile-stride S        tile stride in pixels (default 7/8 of the tile)
  --variant NAME         load *.NAME.safetensors weights (e.g. fp16, bf16)
  --text-dtype DTYPE     Gemma-2 activations: f32 (default) or bf16 (as SANA runs it)
  --backend NAME         reference (default: every model in pure TypeScript), cpu or cuda: the DiT and the
                         DC-AE decode on the native runners (the text encoder and the image conversion stay
                         in TypeScript); the caption projection and every block's cross-attention
                         keys/values are computed once per image, not per step, and the sampling loop runs
                         on the backend: the latent stays there, guidance and the scheduler's update are
                         the sampler-update op (the reference scheduler's float32 arithmetic, bit for bit).
                         Same seed, same noise: the cpu image equals the reference one up to float32
                         rounding (final latents ~4e-7 relative apart on the tiny random model, f32).
  --dtype DTYPE          cpu/cuda backends: f32 (default) or bf16 storage of the DiT/DC-AE weights and activations
  --host-loop            cpu/cuda backends: run the sampling loop on the host instead (the latent read back
                         and uploaded at every step, the scheduler in TypeScript; same latents bit for bit)
  --cuda-graph           cuda backend: replay each sampling step after the second as one CUDA graph
  --quiet                no progress bar on stderr

The noise comes from this project's seeded generator, not torch.randn, so images differ from
diffusers' for the same seed; the requested size is used as is (no aspect-ratio binning).`;

const SPEC = {
  prompt: { type: 'string' },
  'negative-prompt': { type: 'string' },
  'model-dir': { type: 'string' },
  out: { type: 'string' },
  size: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  steps: { type: 'string' },
  cfg: { type: 'string' },
  seed: { type: 'string' },
  sampler: { type: 'string' },
  tile: { type: 'string' },
  'tile-stride': { type: 'string' },
  variant: { type: 'string' },
  'text-dtype': { type: 'string' },
  backend: { type: 'string' },
  dtype: { type: 'string' },
  quiet: { type: 'flag' },
  'host-loop': { type: 'flag' },
  'cuda-graph': { type: 'flag' },
} as const;

const CMD = 'generate';

function modelPaths(dir: string, variant: string | undefined): SanaModelPaths {
  try {
    return checkSanaModelDir(dir, { variant });
  } catch (e) {
    if (e instanceof SanaModelDirError) throw new UsageError(`${CMD}: --model-dir: ${e.message}`);
    throw e;
  }
}

function tilingOption(values: Map<string, string>, multiple: number): TilingOptions | null | 'auto' {
  const t = values.get('tile');
  if (t === undefined) {
    if (values.has('tile-stride')) throw new UsageError(`${CMD}: --tile-stride needs --tile`);
    return 'auto';
  }
  const size = intOption(CMD, 'tile', t, 0, 0);
  if (size === 0) {
    if (values.has('tile-stride')) throw new UsageError(`${CMD}: --tile-stride makes no sense with --tile 0`);
    return null;
  }
  return tileOption(CMD, values, multiple);
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'text-to-image with a diffusers-layout SANA directory (reference pipeline) → PNG',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const { values, flags, positionals } = parseArgs(CMD, argv, SPEC);
    if (positionals.length > 0) throw new UsageError(`${CMD}: unexpected argument "${positionals[0]}" (quote the prompt: --prompt "…")`);
    const backend = backendOption(CMD, values.get('backend'), BACKENDS, 'reference');
    const dtype = values.get('dtype') ?? 'f32';
    if (dtype !== 'f32' && dtype !== 'bf16') throw new UsageError(`${CMD}: --dtype must be f32 or bf16, got "${dtype}"`);
    if (values.has('dtype') && backend === 'reference') throw new UsageError(`${CMD}: --dtype applies to --backend cpu or cuda (the reference computes in float32/float64)`);
    if (flags.has('host-loop') && backend === 'reference') throw new UsageError(`${CMD}: --host-loop applies to --backend cpu or cuda (the reference always samples on the host)`);
    if (flags.has('cuda-graph') && backend !== 'cuda') throw new UsageError(`${CMD}: --cuda-graph needs --backend cuda`);
    if (flags.has('cuda-graph') && flags.has('host-loop')) throw new UsageError(`${CMD}: --cuda-graph graphs the backend loop's steps; drop --host-loop`);
    const missing = ['prompt', 'model-dir', 'out'].filter((k) => !values.has(k));
    if (missing.length > 0) throw new UsageError(`${CMD}: missing ${missing.map((k) => `--${k}`).join(', ')}`);
    const prompt = values.get('prompt')!;
    const out = values.get('out')!;
    // The image is always PNG: another extension would be a PNG under a misleading name.
    if (!out.toLowerCase().endsWith('.png')) throw new UsageError(`${CMD}: --out must end in .png (the image is written as PNG), got "${out}"`);
    outputFile(CMD, 'out', out);
    const steps = intOption(CMD, 'steps', values.get('steps'), 20, 1, MAX_STEPS);
    const seed = intOption(CMD, 'seed', values.get('seed'), 0, 0);
    const cfgText = values.get('cfg');
    const cfg = cfgText === undefined ? 4.5 : Number(cfgText);
    if (cfgText !== undefined && (cfgText.trim() === '' || !Number.isFinite(cfg) || cfg < 0)) {
      throw new UsageError(`${CMD}: --cfg must be a number >= 0, got "${cfgText}"`);
    }
    const samplerText = values.get('sampler');
    if (samplerText !== undefined && !isSamplerName(samplerText)) {
      throw new UsageError(`${CMD}: --sampler must be one of ${SAMPLERS.join(', ')}, got "${samplerText}"`);
    }
    const textDtype = values.get('text-dtype') ?? 'f32';
    if (textDtype !== 'f32' && textDtype !== 'bf16') throw new UsageError(`${CMD}: --text-dtype must be f32 or bf16, got "${textDtype}"`);

    // Layout and sizes are checked from the configs before any weights are read.
    const variant = values.get('variant');
    const paths = modelPaths(values.get('model-dir')!, variant);
    const f = spatialCompressionRatio(loadDcaeConfig(paths.vaeConfig));
    const ditConfig = loadSanaTransformerConfig(paths.transformerConfig);
    const multiple = f * ditConfig.patchSize;
    const size = values.has('size') ? intOption(CMD, 'size', values.get('size'), 1) : ditConfig.sampleSize * f;
    const width = values.has('width') ? intOption(CMD, 'width', values.get('width'), 1) : size;
    const height = values.has('height') ? intOption(CMD, 'height', values.get('height'), 1) : size;
    for (const [name, v] of [['width', width], ['height', height]] as const) {
      if (v % multiple !== 0) {
        throw new UsageError(`${CMD}: ${name} ${v} is not a multiple of ${multiple} (the DC-AE compression ${f} × DiT patch size ${ditConfig.patchSize}); try ${Math.max(multiple, Math.round(v / multiple) * multiple)}`);
      }
    }
    const tilingOpt = tilingOption(values, f);

    const quiet = flags.has('quiet');
    const log = (s: string): void => {
      if (!quiet) process.stderr.write(s + '\n');
    };
    const tLoad = performance.now();
    const native = backend === 'reference' ? {} : nativePipelineFactories({ backend, dtype, loop: flags.has('host-loop') ? 'host' : 'backend', cudaGraph: flags.has('cuda-graph') });
    const pipe = SanaPipeline.fromDir(paths.root, { variant, textEncoderDtype: textDtype, ...native });
    let result: GenerateResult;
    try {
      log(`loaded ${paths.root} in ${formatSeconds((performance.now() - tLoad) / 1e3)} (DiT: ${pipe.transformer.label}, decoder: ${pipe.vae.label}); encoding the prompt…`);
      let bar: StepProgressBar | null = null;
      result = pipe.generate({
        prompt,
        negativePrompt: values.get('negative-prompt') ?? '',
        width,
        height,
        steps,
        guidanceScale: cfg,
        seed,
        sampler: samplerText as 'dpm' | 'euler' | undefined,
        tiling: tilingOpt,
        onStep: (s) => {
          if (quiet) return;
          bar ??= new StepProgressBar(s.steps, process.stderr, 'denoise');
          bar.tick(`t=${Number.isInteger(s.timestep) ? s.timestep : s.timestep.toFixed(2)}`, s.ms);
        },
        onTile: (_spec, i, n) => log(`decode tile ${i + 1}/${n}`),
      });
    } finally {
      pipe.dispose(); // native weights and buffers
    }
    mkdirSync(dirname(out), { recursive: true });
    writePng(out, result.pixels, result.width, result.height);
    const t = result.timings;
    const sampler = samplerText ?? `${String(pipe.schedulerConfig._class_name)} from the model`;
    const models = backend === 'reference' ? 'reference' : `DiT ${result.models.denoiser}, decoder ${result.models.decoder}`;
    console.log(
      `generate: wrote ${out} (${result.width}×${result.height}) — ${steps} steps ${sampler}, cfg ${cfg}${result.cfgBatch ? ' (batch 2)' : ' (conditional only)'}, seed ${seed} [${models}]\n` +
        `  text ${formatSeconds(t.encodeMs / 1e3)} (${result.textTokens.conditional}${result.textTokens.unconditional === null ? '' : ` + ${result.textTokens.unconditional}`} tokens), ` +
        `denoise ${formatSeconds(t.denoiseMs / 1e3)} (${(t.denoiseMs / steps).toFixed(0)} ms/step), decode ${formatSeconds(t.decodeMs / 1e3)}, total ${formatSeconds(t.totalMs / 1e3)}`,
    );
    return 0;
  },
};
