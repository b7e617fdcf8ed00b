/**
 * Files for the CLI bad-input tests: a valid tiny SANA model directory (sana-lab make-random-model's
 * `tiny` preset: DiT 2 × C 64, DC-AE f32c8) with inputs for `run dit` / `run dcae-*`, and hostile
 * variants of each file — truncated, absurd header length, not safetensors at all, header tampered
 * (unknown dtype, shape disagreeing with the bytes, overlapping or out-of-range offsets, element counts
 * past 2^53), weights with missing / unexpected / mis-shaped / integer keys, configs that are not JSON,
 * have wrong types or inconsistent values, and inputs of the wrong shape or with NaN.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randn } from '../../reference/core/random.js';
import { readSafetensors, writeSafetensors } from '../../reference/core/safetensors.js';
import { Tensor } from '../../reference/core/tensor.js';
import { writeRandomModel } from '../../reference/pipeline/random-model.js';

export interface CliFixtures {
  dir: string;
  model: string;
  ditConfig: string;
  ditWeights: string;
  ditInputs: string;
  vaeConfig: string;
  vaeWeights: string;
  latent: string;
  image: string;
  schedulerConfig: string;
  /** path of a written bad file by name */
  bad: (name: string) => string;
  out: (name: string) => string;
}

/** Rewrites a safetensors file's JSON header with `edit` (data bytes unchanged). */
function editHeader(bytes: Buffer, edit: (h: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): Buffer {
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  edit(header);
  let json = Buffer.from(JSON.stringify(header));
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, bytes.subarray(8 + n)]);
}

export function makeCliFixtures(): CliFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'sana-reliability-cli-'));
  const model = join(dir, 'model');
  writeRandomModel(model, 'tiny', 0);
  const bad = (name: string) => join(dir, 'bad', name);
  mkdirSync(join(dir, 'bad'));
  mkdirSync(join(dir, 'out'));
  const f: CliFixtures = {
    dir,
    model,
    ditConfig: join(model, 'transformer', 'config.json'),
    ditWeights: join(model, 'transformer', 'diffusion_pytorch_model.safetensors'),
    ditInputs: join(dir, 'dit-inputs.safetensors'),
    vaeConfig: join(model, 'vae', 'config.json'),
    vaeWeights: join(model, 'vae', 'diffusion_pytorch_model.safetensors'),
    latent: join(dir, 'latent.safetensors'),
    image: join(dir, 'image.safetensors'),
    schedulerConfig: join(model, 'scheduler', 'scheduler_config.json'),
    bad,
    out: (name: string) => join(dir, 'out', name),
  };
  const inputs = new Map<string, Tensor>([
    ['hidden_states', randn([1, 8, 4, 4], 1)],
    ['timestep', Tensor.f32([1], [500])],
    ['encoder_hidden_states', randn([1, 5, 64], 2)],
    ['encoder_attention_mask', Tensor.f32([1, 5], [1, 1, 1, 0, 0])],
  ]);
  writeSafetensors(f.ditInputs, inputs);
  writeSafetensors(f.latent, new Map([['latent', randn([1, 8, 1, 1], 3)]]));
  writeSafetensors(f.image, new Map([['sample', randn([1, 3, 32, 32], 4)]]));

  const put = (name: string, bytes: Buffer | string) => writeFileSync(bad(name), bytes);
  const w = readFileSync(f.ditWeights);
  // Hostile safetensors.
  put('truncated.safetensors', w.subarray(0, w.length >> 1));
  const absurd = Buffer.from(w);
  absurd.writeBigUInt64LE(2n ** 62n, 0);
  put('absurd-header.safetensors', absurd);
  put('zip.safetensors', Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(60, 7)]));
  const notJson = Buffer.alloc(48, 0x41);
  notJson.writeBigUInt64LE(16n, 0);
  put('header-not-json.safetensors', notJson);
  put('empty.safetensors', Buffer.alloc(0));
  put('unknown-dtype.safetensors', editHeader(w, (h) => (h['proj_out.bias']!.dtype = 'Q4')));
  put('shape-vs-bytes.safetensors', editHeader(w, (h) => (h['proj_out.bias']!.shape = [9])));
  put('overlap.safetensors', editHeader(w, (h) => {
    const e = h['proj_out.bias']!;
    e.data_offsets = [0, e.data_offsets[1]! - e.data_offsets[0]!];
  }));
  put('offsets-out-of-range.safetensors', editHeader(w, (h) => {
    const e = h['proj_out.bias']!;
    e.data_offsets = [e.data_offsets[0]! + 1e9, e.data_offsets[1]! + 1e9];
  }));
  put('numel-overflow.safetensors', editHeader(w, (h) => (h['proj_out.bias']!.shape = [2 ** 40, 2 ** 40])));
  // Weights that do not match the config.
  const tensors = readSafetensors(f.ditWeights).tensors;
  const variant = (name: string, change: (m: Map<string, Tensor>) => void) => {
    const m = new Map(tensors);
    change(m);
    writeSafetensors(bad(name), m);
  };
  variant('missing-key.safetensors', (m) => m.delete('proj_out.bias'));
  variant('unexpected-key.safetensors', (m) => m.set('extra.weight', Tensor.f32([1], [1])));
  variant('misshaped-key.safetensors', (m) => m.set('proj_out.bias', Tensor.f32([3], [1, 2, 3])));
  variant('integer-key.safetensors', (m) => m.set('proj_out.bias', new Tensor([8], 'i32', new Int32Array(8))));
  const vae = readSafetensors(f.vaeWeights).tensors;
  const vaeMissing = new Map(vae);
  vaeMissing.delete([...vae.keys()].filter((k) => k.startsWith('decoder.')).pop()!);
  writeSafetensors(bad('vae-missing-key.safetensors'), vaeMissing);
  put('vae-truncated.safetensors', readFileSync(f.vaeWeights).subarray(0, 5000));
  // Configs.
  const cfg = JSON.parse(readFileSync(f.ditConfig, 'utf8')) as Record<string, unknown>;
  const json = (name: string, v: unknown) => put(name, typeof v === 'string' ? v : JSON.stringify(v));
  json('not-json.json', '{ "in_channels": 8,');
  json('empty.json', '');
  json('array.json', [1, 2]);
  json('wrong-type.json', { ...cfg, num_layers: '2' });
  json('negative.json', { ...cfg, num_layers: -1 });
  json('zero-heads.json', { ...cfg, num_attention_heads: 0 });
  json('inconsistent.json', { ...cfg, cross_attention_dim: 48 });
  json('more-layers.json', { ...cfg, num_layers: 3 });
  json('nan-eps.json', { ...cfg, norm_eps: 'NaN' });
  const vcfg = JSON.parse(readFileSync(f.vaeConfig, 'utf8')) as Record<string, unknown>;
  json('vae-inconsistent.json', { ...vcfg, decoder_block_out_channels: [8, 8, 16] });
  json('vae-wrong-type.json', { ...vcfg, latent_channels: 'eight' });
  json('scheduler-unknown.json', { _class_name: 'FooScheduler' });
  // Inputs.
  const withInput = (name: string, key: string, t: Tensor | null) => {
    const m = new Map(inputs);
    if (t === null) m.delete(key);
    else m.set(key, t);
    writeSafetensors(bad(name), m);
  };
  withInput('no-timestep.safetensors', 'timestep', null);
  withInput('latent-7-channels.safetensors', 'hidden_states', randn([1, 7, 4, 4], 5));
  withInput('latent-3d.safetensors', 'hidden_states', randn([8, 4, 4], 5));
  withInput('timestep-batch-2.safetensors', 'timestep', Tensor.f32([2], [1, 2]));
  withInput('text-63-wide.safetensors', 'encoder_hidden_states', randn([1, 5, 63], 5));
  withInput('mask-4.safetensors', 'encoder_attention_mask', Tensor.f32([1, 4], [1, 1, 1, 1]));
  withInput('nan-latent.safetensors', 'hidden_states', Tensor.f32([1, 8, 4, 4], Array.from({ length: 128 }, (_, i) => (i === 5 ? NaN : 0.1))));
  put('dit-inputs-truncated.safetensors', readFileSync(f.ditInputs).subarray(0, 100));
  writeSafetensors(bad('latent-7ch.safetensors'), new Map([['latent', randn([1, 7, 2, 2], 6)]]));
  // finite, but far beyond what float32 activations can carry: the decoded sample overflows to NaN/Inf
  writeSafetensors(bad('latent-1e30.safetensors'), new Map([['latent', Tensor.f32([1, 8, 1, 1], Array.from({ length: 8 }, (_, i) => (i % 2 ? -1e30 : 1e30)))]]));
  writeSafetensors(bad('image-33x20.safetensors'), new Map([['sample', randn([1, 3, 33, 20], 7)]]));
  // A model directory whose transformer weights are truncated (generate must fail before denoising).
  const broken = join(dir, 'broken-model');
  cpSync(model, broken, { recursive: true });
  writeFileSync(join(broken, 'transformer', 'diffusion_pytorch_model.safetensors'), w.subarray(0, 1000));
  mkdirSync(join(dir, 'not-empty'));
  writeFileSync(join(dir, 'not-empty', 'x'), 'x');
  return f;
}
