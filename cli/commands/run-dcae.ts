/**
 * `sana-lab run dcae-encode` / `sana-lab run dcae-decode`: the DC-AE on safetensors inputs.
 * The lead's `run` command dispatches here with the arguments after the subcommand name.
 * Decoding also runs on the native `cpu` backend (bindings/models/dcae-runner.ts); encoding is reference only.
 */
import { performance } from 'node:perf_hooks';
import { existingPath, intOption, outputFile, parseArgs, type OptionSpec } from '../args.js';
import { backendOption } from '../backend-option.js';
import { UsageError } from '../command.js';
import { tileOption } from '../tile-option.js';
import { SafetensorsFile, writeSafetensors } from '../../reference/core/safetensors.js';
import { requireFiniteInput, requireFiniteOutput } from '../finite.js';
import { shapeStr, Tensor } from '../../reference/core/tensor.js';
import { AutoencoderDC } from '../../reference/dcae/autoencoder.js';
import { dcaePreset, DCAE_PRESETS, loadDcaeConfig, spatialCompressionRatio, type DcaeConfig } from '../../reference/dcae/config.js';
import { formatDecodePlan, planDecode } from '../../reference/dcae/decode-plan.js';
import type { TilingOptions } from '../../reference/dcae/tiling.js';
import { loadDcaeWeights } from '../../reference/dcae/weights.js';
import { NativeDcaeDecoder } from '../../bindings/models/dcae-runner.js';

const ENCODE_BACKENDS = ['reference'];
const DECODE_BACKENDS = ['reference', 'cpu', 'cuda'] as const;

export const DCAE_ENCODE_USAGE = `usage: sana-lab run dcae-encode --config FILE --weights FILE --inputs FILE --out FILE [options]

Encode images with the DC-AE (diffusers AutoencoderDC): reads a (B, 3, H, W) image in [-1, 1] from a
safetensors file and writes the (B, latent, H/f, W/f) latent.

  --config FILE      diffusers AutoencoderDC config.json
  --weights FILE     diffusers safetensors checkpoint (every key is checked against the config)
  --inputs FILE      safetensors file holding the image
  --out FILE         safetensors file to write
  --input NAME       tensor to read from --inputs (default: sample)
  --output NAME      tensor name to write (default: latent)
  --scaled           multiply the latent by scaling_factor (the diffusion model's latent; default: raw, as diffusers' encode)
  --backend NAME     reference (default; the pure-TypeScript spec)`;

export const DCAE_DECODE_USAGE = `usage: sana-lab run dcae-decode --config FILE --weights FILE --inputs FILE --out FILE [options]
       sana-lab run dcae-decode --plan (--config FILE | --preset NAME) (--inputs FILE | --height H --width W) [--tile SIZE]

Decode latents with the DC-AE (diffusers AutoencoderDC): reads a (B, latent, h, w) latent from a
safetensors file and writes the (B, 3, h·f, w·f) image.

  --config FILE      diffusers AutoencoderDC config.json
  --weights FILE     diffusers safetensors checkpoint (every key is checked against the config)
  --inputs FILE      safetensors file holding the latent
  --out FILE         safetensors file to write
  --input NAME       tensor to read from --inputs (default: latent)
  --output NAME      tensor name to write (default: sample)
  --scaled           the input is the diffusion model's latent: divide by scaling_factor first
  --tile SIZE        tiled decoding like diffusers enable_tiling: SIZE×SIZE pixel tiles, linear blending
                     (diffusers default 512, SANA 4K 1024; only used when the image exceeds one tile)
  --tile-stride S    tile stride in pixels (default: 7/8 of the tile, i.e. 448 / 896)
  --plan             print the tile plan, per-tile shapes and a memory estimate; decodes nothing
  --preset NAME      with --plan, a built-in config instead of --config (${Object.keys(DCAE_PRESETS).join(', ')})
  --height H --width W   with --plan, the image size (instead of reading the latent's shape from --inputs)
  --batch B          with --plan and --height/--width, the batch size (default 1)
  --backend NAME     reference (default; the pure-TypeScript spec), cpu or cuda (the native decoder)
  --dtype D          cpu/cuda: storage dtype of weights and activations, f32 (default) or bf16`;

const COMMON: Record<string, OptionSpec> = {
  config: { type: 'string' },
  weights: { type: 'string' },
  inputs: { type: 'string' },
  out: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  backend: { type: 'string' },
  scaled: { type: 'flag' },
};

const DECODE: Record<string, OptionSpec> = {
  ...COMMON,
  tile: { type: 'string' },
  'tile-stride': { type: 'string' },
  plan: { type: 'flag' },
  preset: { type: 'string' },
  height: { type: 'string' },
  width: { type: 'string' },
  batch: { type: 'string' },
  dtype: { type: 'string' },
};

function required(cmd: string, values: Map<string, string>, ...names: string[]): string[] {
  const missing = names.filter((n) => !values.has(n));
  if (missing.length) throw new UsageError(`${cmd}: missing ${missing.map((n) => `--${n}`).join(', ')}`);
  // Inputs must exist and --out must be writable as a file: both checked before the model is loaded.
  for (const n of names) {
    if (n === 'out') outputFile(cmd, n, values.get(n)!);
    else existingPath(cmd, n, values.get(n)!);
  }
  return names.map((n) => values.get(n)!);
}

/** Encoding runs on the reference backend only (decode takes cpu/cuda too: backendOption). */
function checkEncodeBackend(cmd: string, values: Map<string, string>): string {
  const b = values.get('backend') ?? 'reference';
  if (!ENCODE_BACKENDS.includes(b)) throw new UsageError(`${cmd}: --backend ${b} is not available for the DC-AE (available: ${ENCODE_BACKENDS.join(', ')})`);
  return b;
}

function readInput(cmd: string, path: string, name: string): Tensor {
  const f = SafetensorsFile.open(path);
  try {
    if (!f.has(name)) throw new UsageError(`${cmd}: ${path} has no tensor "${name}" (it has: ${f.names().join(', ')}); choose one with --input`);
    const t = f.tensor(name);
    requireFiniteInput(cmd, `input "${name}"`, t);
    return t;
  } finally {
    f.close();
  }
}

function tilingFrom(cmd: string, values: Map<string, string>, f: number): TilingOptions | undefined {
  if (!values.has('tile')) {
    if (values.has('tile-stride')) throw new UsageError(`${cmd}: --tile-stride needs --tile`);
    return undefined;
  }
  return tileOption(cmd, values, f);
}

export async function runDcaeEncode(argv: string[]): Promise<number> {
  const cmd = 'run dcae-encode';
  const { values, flags, positionals } = parseArgs(cmd, argv, COMMON);
  if (positionals.length) throw new UsageError(`${cmd}: unexpected argument "${positionals[0]}"`);
  checkEncodeBackend(cmd, values);
  const [config, weights, inputs, out] = required(cmd, values, 'config', 'weights', 'inputs', 'out');
  const inName = values.get('input') ?? 'sample';
  const outName = values.get('output') ?? 'latent';
  const model = AutoencoderDC.fromFiles(config!, weights!, { part: 'encoder' });
  const x = readInput(cmd, inputs!, inName);
  const t0 = performance.now();
  let z = model.encode(x);
  if (flags.has('scaled')) z = model.scaleLatent(z);
  const ms = performance.now() - t0;
  requireFiniteOutput(cmd, 'the latent', z, out!);
  writeSafetensors(out!, new Map([[outName, z]]), { backend: 'reference', command: 'dcae-encode', scaled: String(flags.has('scaled')) });
  console.log(`dcae-encode: ${inName} ${shapeStr(x.shape)} → ${outName} ${shapeStr(z.shape)}${flags.has('scaled') ? ` (× ${model.scalingFactor})` : ''} in ${ms.toFixed(0)} ms [reference] → ${out}`);
  return 0;
}

export async function runDcaeDecode(argv: string[]): Promise<number> {
  const cmd = 'run dcae-decode';
  const { values, flags, positionals } = parseArgs(cmd, argv, DECODE);
  if (positionals.length) throw new UsageError(`${cmd}: unexpected argument "${positionals[0]}"`);
  const backend = backendOption(cmd, values.get('backend'), DECODE_BACKENDS, 'reference');
  const dtype = values.get('dtype') ?? 'f32';
  if (values.has('dtype') && backend === 'reference') throw new UsageError(`${cmd}: --dtype applies to native backends only (not reference)`);
  if (dtype !== 'f32' && dtype !== 'bf16') throw new UsageError(`${cmd}: --dtype must be f32 or bf16, got "${dtype}"`);
  if (flags.has('plan')) return planOnly(cmd, values);
  for (const k of ['preset', 'height', 'width', 'batch']) if (values.has(k)) throw new UsageError(`${cmd}: --${k} is only used with --plan`);
  const [config, weights, inputs, out] = required(cmd, values, 'config', 'weights', 'inputs', 'out');
  const inName = values.get('input') ?? 'latent';
  const outName = values.get('output') ?? 'sample';
  const cfg = loadDcaeConfig(config!);
  const tilingOpts = tilingFrom(cmd, values, spatialCompressionRatio(cfg));
  const params = loadDcaeWeights(weights!, cfg, { part: 'decoder' });
  let z = readInput(cmd, inputs!, inName);
  let decode: (latent: Tensor) => Tensor;
  let native: NativeDcaeDecoder | null = null;
  if (backend === 'reference') {
    const model = new AutoencoderDC(cfg, params, { source: weights!, part: 'decoder' });
    if (flags.has('scaled')) z = model.unscaleLatent(z);
    decode = (latent) => model.decode(latent, { tiling: tilingOpts });
  } else {
    const n = NativeDcaeDecoder.fromStateDict(cfg, params, { backend, dtype: dtype as 'f32' | 'bf16' }, weights!);
    native = n;
    if (flags.has('scaled')) z = unscale(z, cfg.scalingFactor);
    decode = (latent) => n.decode(latent, { tiling: tilingOpts });
  }
  const t0 = performance.now();
  let x: Tensor;
  try {
    x = decode(z);
  } finally {
    native?.dispose();
  }
  const ms = performance.now() - t0;
  const tag = backend === 'reference' ? 'reference' : `${backend}, ${dtype}`;
  requireFiniteOutput(cmd, 'the sample', x, out!);
  writeSafetensors(out!, new Map([[outName, x]]), { backend, ...(backend === 'reference' ? {} : { dtype }), command: 'dcae-decode', scaled: String(flags.has('scaled')) });
  const how = tilingOpts ? ` tiled ${tilingOpts.tileHeight}/${tilingOpts.strideHeight}` : '';
  console.log(`dcae-decode: ${inName} ${shapeStr(z.shape)} → ${outName} ${shapeStr(x.shape)}${how} in ${ms.toFixed(0)} ms [${tag}] → ${out}`);
  return 0;
}

/** z / scaling_factor in float32, as AutoencoderDC.unscaleLatent (torch) computes it. */
function unscale(z: Tensor, scalingFactor: number): Tensor {
  const zs = z.toFloat32();
  const s = Math.fround(scalingFactor);
  return new Tensor(z.shape, 'f32', zs.map((v) => v / s));
}

function planOnly(cmd: string, values: Map<string, string>): number {
  if (values.has('config') === values.has('preset')) throw new UsageError(`${cmd}: --plan needs exactly one of --config or --preset`);
  const config: DcaeConfig = values.has('config') ? loadDcaeConfig(values.get('config')!) : presetOrUsage(cmd, values.get('preset')!);
  const f = spatialCompressionRatio(config);
  let height: number;
  let width: number;
  let batch: number;
  if (values.has('height') || values.has('width')) {
    if (values.has('inputs')) throw new UsageError(`${cmd}: give either --inputs or --height/--width`);
    height = intOption(cmd, 'height', values.get('height'), 0);
    width = intOption(cmd, 'width', values.get('width'), 0);
    if (height === 0 || width === 0) throw new UsageError(`${cmd}: --plan needs both --height and --width`);
    batch = intOption(cmd, 'batch', values.get('batch'), 1);
  } else if (values.has('inputs')) {
    const name = values.get('input') ?? 'latent';
    const file = SafetensorsFile.open(values.get('inputs')!);
    try {
      if (!file.has(name)) throw new UsageError(`${cmd}: ${values.get('inputs')} has no tensor "${name}" (it has: ${file.names().join(', ')})`);
      const shape = file.entry(name).shape; // header only: nothing is read
      if (shape.length !== 4) throw new UsageError(`${cmd}: "${name}" is ${shapeStr(shape)}, not a (B, C, h, w) latent`);
      [batch, , height, width] = [shape[0]!, shape[1]!, shape[2]! * f, shape[3]! * f];
    } finally {
      file.close();
    }
    if (values.has('batch')) throw new UsageError(`${cmd}: --batch comes from the latent when --inputs is given`);
  } else {
    throw new UsageError(`${cmd}: --plan needs --inputs or --height and --width`);
  }
  const plan = planDecode(config, { height, width, batch, tiling: tilingFrom(cmd, values, f) });
  console.log(formatDecodePlan(plan));
  return 0;
}

function presetOrUsage(cmd: string, name: string): DcaeConfig {
  try {
    return dcaePreset(name);
  } catch (e) {
    throw new UsageError(`${cmd}: ${(e as Error).message}`);
  }
}
