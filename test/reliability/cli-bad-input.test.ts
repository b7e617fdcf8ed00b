/**
 * Every CLI command of the built binary (`node dist/cli/main.js`, so build with `npx tsc -p
 * tsconfig.json` first) rejects bad input with one clear line on stderr and a non-zero exit
 * code — 2 for a usage error (bad or missing option), 1 for bad input files or a failed run — never a
 * stack trace, a signal (segfault, abort, OOM kill) or a hang (runs are killed after 30 s; the batch of
 * all cases after 120 s). The whole matrix runs through dist's main(argv) in one spawned process (node's
 * start-up per case would cost more than the suite's budget on 2 cores); one or more cases per command
 * also run as their own `node dist/cli/main.js …` process, checking the process exit code itself.
 * Valid runs of the same commands on the same tiny model succeed first (the positive controls), so a
 * failure below is caused by the one bad input it names.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/commands/index.js';
import { readSafetensors } from '../../reference/core/safetensors.js';
import { makeCliFixtures, type CliFixtures } from './cli-fixtures.js';
import { CLI, expectCleanExit, runCliAll, runCliBatch, type CliResult } from './helpers.js';

let f: CliFixtures;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build it with "npx tsc -p tsconfig.json"`);
  f = makeCliFixtures();
});
afterAll(() => {
  if (f) rmSync(f.dir, { recursive: true, force: true });
});

type Case = [name: string, args: () => string[], code: number, message: RegExp];

const dit = (o: { config?: string; weights?: string; inputs?: string; out?: string } = {}, ...extra: string[]) => [
  'run', 'dit', '--config', o.config ?? f.ditConfig, '--weights', o.weights ?? f.ditWeights, '--inputs', o.inputs ?? f.ditInputs, '--out', o.out ?? f.out('dit.safetensors'), ...extra,
];
const dcae = (target: 'dcae-encode' | 'dcae-decode', o: { config?: string; weights?: string; inputs?: string } = {}, ...extra: string[]) => [
  'run', target, '--config', o.config ?? f.vaeConfig, '--weights', o.weights ?? f.vaeWeights, '--inputs', o.inputs ?? (target === 'dcae-decode' ? f.latent : f.image), '--out', f.out(`${target}.safetensors`), ...extra,
];
const st = (file: string) => new RegExp(`^sana-lab run: safetensors .*${file.replace('.', '\\.')}: `);

const CASES: Case[] = [
  // run dit — hostile weights files
  ['weights: truncated', () => dit({ weights: f.bad('truncated.safetensors') }), 1, /safetensors .*truncated\.safetensors: tensor ".*": data_offsets \[\d+, \d+\] beyond the \d+ data bytes \(file truncated\?\)$/],
  ['weights: absurd header length', () => dit({ weights: f.bad('absurd-header.safetensors') }), 1, /absurd-header\.safetensors: header length 4611686018427387904 exceeds the 100000000-byte limit \(not a safetensors file\?\)$/],
  ['weights: not a safetensors file', () => dit({ weights: f.bad('zip.safetensors') }), 1, /zip\.safetensors: header length \d+ exceeds the 100000000-byte limit \(not a safetensors file\?\)$/],
  ['weights: header not JSON', () => dit({ weights: f.bad('header-not-json.safetensors') }), 1, /header-not-json\.safetensors: header is not valid JSON .*not a safetensors file\?$/],
  ['weights: empty file', () => dit({ weights: f.bad('empty.safetensors') }), 1, /empty\.safetensors: file has 0 bytes; a safetensors file has at least 8$/],
  ['weights: unknown dtype', () => dit({ weights: f.bad('unknown-dtype.safetensors') }), 1, /tensor "proj_out\.bias": unsupported dtype "Q4" \(supported: F32, BF16, F16, F64, I64, I32\)$/],
  ['weights: shape disagrees with the bytes', () => dit({ weights: f.bad('shape-vs-bytes.safetensors') }), 1, /tensor "proj_out\.bias": 32 bytes for F32 \[9\], which needs 36$/],
  ['weights: overlapping offsets', () => dit({ weights: f.bad('overlap.safetensors') }), 1, /data_offsets \[0, \d+\] overlap the previous tensor$/],
  ['weights: offsets out of range', () => dit({ weights: f.bad('offsets-out-of-range.safetensors') }), 1, /tensor "proj_out\.bias": data_offsets \[\d+, \d+\] beyond the \d+ data bytes/],
  ['weights: element count past 2^53', () => dit({ weights: f.bad('numel-overflow.safetensors') }), 1, /shape \[1099511627776, 1099511627776\] has more than 2\^53 elements$/],
  ['weights: a directory', () => dit({ weights: f.dir }), 1, /safetensors .*: not a regular file \(a directory\)$/],
  ['weights: missing file', () => dit({ weights: join(f.dir, 'nope.safetensors') }), 2, /^sana-lab: run dit: --weights .*nope\.safetensors does not exist$/],
  // run dit — weights that do not match the config
  ['weights: a missing key', () => dit({ weights: f.bad('missing-key.safetensors') }), 1, /SanaTransformer2DModel weights .* do not match the config: 1 missing: proj_out\.bias$/],
  ['weights: an unexpected key', () => dit({ weights: f.bad('unexpected-key.safetensors') }), 1, /do not match the config: 1 unexpected: extra\.weight$/],
  ['weights: a mis-shaped key', () => dit({ weights: f.bad('misshaped-key.safetensors') }), 1, /do not match the config: 1 mis-shaped: proj_out\.bias is \[3\], expected \[8\]$/],
  ['weights: an integer tensor', () => dit({ weights: f.bad('integer-key.safetensors') }), 1, /do not match the config: 1 not floating point: proj_out\.bias \(i32\)$/],
  // run dit — configs
  ['config: not JSON', () => dit({ config: f.bad('not-json.json') }), 1, /^sana-lab run: config .*not-json\.json: not valid JSON: /],
  ['config: empty', () => dit({ config: f.bad('empty.json') }), 1, /config .*empty\.json: not valid JSON: Unexpected end of JSON input$/],
  ['config: a binary file', () => dit({ config: f.ditWeights }), 1, /config .*\.safetensors: not valid JSON: /],
  ['config: not an object', () => dit({ config: f.bad('array.json') }), 1, /config .*array\.json: top level is not a JSON object$/],
  ['config: a directory', () => dit({ config: f.dir }), 1, /config .*: cannot read: not a regular file \(a directory\)$/],
  ['config: wrong type', () => dit({ config: f.bad('wrong-type.json') }), 1, /config .*wrong-type\.json: "num_layers" must be an integer, got "2"$/],
  ['config: negative value', () => dit({ config: f.bad('negative.json') }), 1, /numLayers must be >= 0, got -1$/],
  ['config: zero heads', () => dit({ config: f.bad('zero-heads.json') }), 1, /numAttentionHeads must be a positive integer, got 0$/],
  ['config: inconsistent dims', () => dit({ config: f.bad('inconsistent.json') }), 1, /cross_attention_dim 48 must equal the inner dim 64/],
  ['config: NaN as a string', () => dit({ config: f.bad('nan-eps.json') }), 1, /"norm_eps" must be a number, got "NaN"$/],
  ['config: more layers than the weights', () => dit({ config: f.bad('more-layers.json') }), 1, /do not match the config: 19 missing: transformer_blocks\.2\./],
  // run dit — inputs
  ['inputs: truncated', () => dit({ inputs: f.bad('dit-inputs-truncated.safetensors') }), 1, /header length \d+ runs past the end of the 100-byte file \(truncated\?\)$/],
  ['inputs: a missing tensor', () => dit({ inputs: f.bad('no-timestep.safetensors') }), 1, /has no tensor "timestep" \(role timestep\); it holds: /],
  ['inputs: latent channels', () => dit({ inputs: f.bad('latent-7-channels.safetensors') }), 1, /hidden_states \[1, 7, 4, 4\] is not \(B, 8, H, W\)$/],
  ['inputs: latent rank', () => dit({ inputs: f.bad('latent-3d.safetensors') }), 1, /hidden_states \[8, 4, 4\] is not \(B, 8, H, W\)$/],
  ['inputs: timestep batch', () => dit({ inputs: f.bad('timestep-batch-2.safetensors') }), 1, /timestep \[2\] must have one value per sample, shape \[1\]$/],
  ['inputs: text width', () => dit({ inputs: f.bad('text-63-wide.safetensors') }), 1, /encoder_hidden_states \[1, 5, 63\] is not \(1, L, 64\)$/],
  ['inputs: mask length', () => dit({ inputs: f.bad('mask-4.safetensors') }), 1, /encoder_attention_mask \[1, 4\] is not \(1, 5\)$/],
  ['inputs: NaN in the latent', () => dit({ inputs: f.bad('nan-latent.safetensors'), out: f.out('nan.safetensors') }), 1, /^sana-lab run dit: input "hidden_states" \(role hidden_states\) \[1, 8, 4, 4\] holds 1 non-finite value \(first at flat index 5: NaN\); the model's output would be NaN, so nothing was run$/],
  ['out: a file in the way of its folder', () => dit({ out: join(f.ditConfig, 'no', 'o.safetensors') }), 2, /^sana-lab: run dit: --out .*o\.safetensors: .*config\.json is not a directory$/],
  ['usage: missing --config', () => dit().slice(0, 2).concat(['--weights', f.ditWeights]), 2, /^sana-lab: run dit: --config is required/],
  ['usage: unknown option', () => dit({}, '--frobnicate'), 2, /^sana-lab: run dit: unknown option --frobnicate/],
  ['usage: bad --eps', () => dit({}, '--eps', '-1'), 2, /--eps must be diffusers, sana or a positive number, got "-1"$/],
  // run dcae-*
  ['dcae-decode: truncated weights', () => dcae('dcae-decode', { weights: f.bad('vae-truncated.safetensors') }), 1, st('vae-truncated.safetensors')],
  ['dcae-decode: a missing key', () => dcae('dcae-decode', { weights: f.bad('vae-missing-key.safetensors') }), 1, /DC-AE weights .* do not match the config: 1 missing: decoder\./],
  ['dcae-decode: inconsistent config', () => dcae('dcae-decode', { config: f.bad('vae-inconsistent.json') }), 1, /"decoder_layers_per_block" has 6 entries, "decoder_block_out_channels" has 3$/],
  ['dcae-decode: config wrong type', () => dcae('dcae-decode', { config: f.bad('vae-wrong-type.json') }), 1, /"latent_channels" must be a positive integer, got "eight"$/],
  ['dcae-decode: a latent beyond float32 (the sample overflows)', () => dcae('dcae-decode', { inputs: f.bad('latent-1e30.safetensors') }), 1, /^sana-lab run dcae-decode: the sample \[1, 3, 32, 32\] holds \d+ non-finite values \(first at flat index \d+: (NaN|-?Infinity)\); nothing written to .*dcae-decode\.safetensors \(inputs or weights beyond float32's range\?\)$/],
  ['dcae-decode: latent channels', () => dcae('dcae-decode', { inputs: f.bad('latent-7ch.safetensors') }), 1, /AutoencoderDC\.decode: want \(B, 8, h, w\), got \[1, 7, 2, 2\]$/],
  ['dcae-decode: weights for the DiT', () => dcae('dcae-decode', { weights: f.ditWeights }), 1, /DC-AE weights .* do not match the config: \d+ missing: /],
  ['dcae-encode: image size', () => dcae('dcae-encode', { inputs: f.bad('image-33x20.safetensors') }), 1, /AutoencoderDC\.encode: want \(B, 3, H, W\) with H and W multiples of 32, got \[1, 3, 33, 20\]$/],
  ['dcae-decode --plan: element count past 2^53 in the header', () => ['run', 'dcae-decode', '--plan', '--config', f.vaeConfig, '--inputs', f.bad('numel-overflow.safetensors'), '--input', 'proj_out.bias'], 1, /has more than 2\^53 elements$/],
  ['dcae-decode --plan: size not a multiple', () => ['run', 'dcae-decode', '--plan', '--preset', 'dc-ae-f32c32-sana-1.0', '--height', '100', '--width', '64'], 1, /planDecode: height 100 must be a positive multiple of 32$/],
  // other commands
  ['schedule: unknown scheduler', () => ['schedule', '--config', f.bad('scheduler-unknown.json')], 1, /"_class_name": "FooScheduler"; supported: /],
  ['schedule: not JSON', () => ['schedule', '--config', f.ditWeights], 1, /^sana-lab schedule: config .*: not valid JSON/],
  ['schedule: --steps 0', () => ['schedule', '--config', f.schedulerConfig, '--steps', '0'], 2, /--steps must be an integer >= 1 and <= 10000, got "0"$/],
  ['schedule: --steps 1e9 (would look like a hang)', () => ['schedule', '--config', f.schedulerConfig, '--steps', '1e9'], 2, /--steps must be an integer >= 1 and <= 10000, got "1e9"$/],
  ['generate: no such model dir', () => ['generate', '--prompt', 'x', '--model-dir', join(f.dir, 'nope'), '--out', f.out('x.png')], 2, /--model-dir: SANA model directory .* is not usable: it does not exist$/],
  ['generate: truncated transformer weights', () => ['generate', '--prompt', 'x', '--model-dir', join(f.dir, 'broken-model'), '--out', f.out('x.png'), '--steps', '1', '--quiet'], 1, /^sana-lab generate: safetensors .*broken-model.*: header length \d+ runs past the end of the 1000-byte file/],
  ['generate: a size that cannot be allocated', () => ['generate', '--prompt', 'x', '--model-dir', f.model, '--out', f.out('x.png'), '--size', '1048576', '--quiet'], 1, /^sana-lab generate: out of memory: a tensor of the requested size cannot be allocated \(Invalid typed array length: \d+\)/],
  ['generate: --steps 1e9', () => ['generate', '--prompt', 'x', '--model-dir', f.model, '--out', f.out('x.png'), '--steps', '1000000000'], 2, /--steps must be an integer >= 1 and <= 10000, got "1000000000"$/],
  ['make-random-model: negative seed', () => ['make-random-model', '--seed', '-1', f.out('m')], 2, /--seed must be an integer >= 0, got "-1"$/],
  ['make-random-model: unknown preset', () => ['make-random-model', '--preset', 'huge', f.out('m')], 2, /unknown --preset "huge"/],
  ['make-random-model: non-empty dir', () => ['make-random-model', join(f.dir, 'not-empty')], 2, /exists and is not empty \(use --force to write into it\)$/],
  ['make-random-model: a file where the folder goes', () => ['make-random-model', '--force', f.ditConfig], 2, /^sana-lab: make-random-model: .*config\.json exists and is not a directory$/],
  ['bench: bad resolution', () => ['bench', '--json', f.out('b.json'), '--res', '33'], 2, /--res: resolution: "33" — sides must be positive multiples of 32/],
  ['bench: unknown op', () => ['bench', '--json', f.out('b.json'), '--ops', 'frob'], 2, /unknown op "frob"/],
  ['bench: missing --json', () => ['bench'], 2, /--json FILE is required$/],
  ['report: input not JSON', () => ['report', '--in', f.ditWeights, '--out', f.out('r.html')], 1, /^sana-lab report: .*cannot read .*\.safetensors: /],
  ['report: missing input', () => ['report', '--in', join(f.dir, 'nope.json'), '--out', f.out('r.html')], 2, /^sana-lab: report: --in .*nope\.json does not exist$/m],
  ['report: wrong format', () => ['report', '--in', f.bad('array.json'), '--out', f.out('r.html')], 1, /^sana-lab report: /],
  ['report: --out not .html', () => ['report', '--in', f.bad('array.json'), '--out', f.out('r.txt')], 2, /--out must end in \.html/],
  ['info: unknown model', () => ['info', '--model', '3b'], 2, /unknown DiT preset "3b"/],
  ['profile: no model', () => ['profile'], 2, /^sana-lab: profile: --model must be 0\.6b or 1\.6b, got nothing$/],
  ['profile: no size', () => ['profile', '--model', '0.6b'], 2, /^sana-lab: profile: give --res N or both --width and --height$/],
  ['run: unknown target', () => ['run', 'vae'], 2, /^sana-lab: run: unknown target "vae"/],
  ['unknown command', () => ['frobnicate'], 2, /^sana-lab: unknown command "frobnicate"/],
  // Every registered command (new ones included) refuses an option it does not know.
  ...COMMANDS.filter((c) => c.name !== 'run').map(
    (c): Case => [`${c.name}: unknown option`, () => [c.name, '--no-such-option'], 2, new RegExp(`^sana-lab: ${c.name}: unknown option --no-such-option`)],
  ),
];

/** Cases also run as their own `node dist/cli/main.js` process (one or more per command). */
const SPAWNED = new Set([
  'weights: truncated', 'weights: a missing key', 'config: not JSON', 'dcae-encode: image size', 'schedule: --steps 1e9 (would look like a hang)',
  'generate: a size that cannot be allocated', 'make-random-model: negative seed', 'report: input not JSON', 'info: unknown model', 'unknown command',
]);

describe('sana-lab rejects bad input cleanly (the built dist/cli/main.js)', () => {
  let results: CliResult[];
  let spawned: Map<string, CliResult>;
  let ok: CliResult[];
  beforeAll(async () => {
    const positives = [dit(), dcae('dcae-decode'), dcae('dcae-encode'), dit({ out: join(f.dir, 'new', 'folder', 'o.safetensors') })];
    // The full matrix runs in one process calling main(argv) per case; the SPAWNED subset (and the
    // positive controls) also run as separate `node dist/cli/main.js …` processes.
    const picked = CASES.filter(([name]) => SPAWNED.has(name));
    const [batch, own, pos] = await Promise.all([
      runCliBatch(CASES.map(([, args]) => args()), f.dir),
      runCliAll(picked.map(([, args]) => args()), 3),
      runCliAll(positives, 2),
    ]);
    results = batch;
    spawned = new Map(picked.map(([name], i) => [name, own[i]!]));
    ok = pos;
  }, 600_000);

  it('positive controls: the same commands on valid files succeed', () => {
    for (const r of ok) expect(r.code, `${r.args.join(' ')}\n${r.stderr}${r.timedOut ? `\n(timed out after ${r.ms.toFixed(0)} ms)` : ''}`).toBe(0);
    expect(readSafetensors(f.out('dit.safetensors')).tensors.get('output')!.shape).toEqual([1, 8, 4, 4]);
    // --out in folders that do not exist yet: created, as mkdir -p
    expect(readSafetensors(join(f.dir, 'new', 'folder', 'o.safetensors')).tensors.get('output')!.shape).toEqual([1, 8, 4, 4]);
  });

  it('a refused NaN input and an overflowing output leave no output file behind', () => {
    expect(existsSync(f.out('nan.safetensors'))).toBe(false);
  });

  CASES.forEach(([name, , code, message], i) => {
    it(`${name} → exit ${code}${SPAWNED.has(name) ? ' (also as its own process)' : ''}`, () => {
      expectCleanExit(results[i]!, code, message);
      if (SPAWNED.has(name)) expectCleanExit(spawned.get(name)!, code, message);
    });
  });

  it('every spawned case is in the matrix', () => expect([...SPAWNED].filter((n) => !CASES.some(([c]) => c === n))).toEqual([]));

  it('no arguments prints the help and exits 2', async () => {
    const [r] = await runCliAll([[]]);
    expect(r!.code).toBe(2);
    expect(r!.stdout).toMatch(/^usage: sana-lab <command>/m);
  });
});
