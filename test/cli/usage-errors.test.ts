/**
 * The CLI's up-front checks and one-line errors (an audit of the README's commands): each case runs
 * `main(argv)` in this process (as `node dist/cli/main.js` would, without a process per case) and
 * checks the exit code and the one line on stderr. Usage errors — bad options, a missing input file,
 * an output path that cannot be written, an op/version/variant the backend lacks — exit 2 before any
 * work; failures of the run itself exit 1 and name the command once.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { backendStatus } from '../../bindings/backends.js';
import { main } from '../../cli/main.js';
import { projectRoot } from '../../reference/core/golden.js';
import { writeSafetensors } from '../../reference/core/safetensors.js';
import { Tensor } from '../../reference/core/tensor.js';
import { DcaeWeightsError } from '../../reference/dcae/weights.js';
import { ditPreset } from '../../reference/dit/presets.js';
import { WeightKeyError } from '../../reference/dit/weights.js';
import { writeRandomModel } from '../../reference/pipeline/random-model.js';

const dir = mkdtempSync(join(tmpdir(), 'sana-cli-usage-'));
const model = join(dir, 'tiny');
beforeAll(() => writeRandomModel(model, 'tiny', 0));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** main(argv) with stdout and stderr captured. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: unknown[] = [];
  const err: unknown[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(...a));
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(...a));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    stderr.mockRestore();
    vi.restoreAllMocks();
  }
}

/** One line on stderr, exit `code`, matching `message`. */
async function expectError(argv: string[], code: number, message: RegExp): Promise<string> {
  const r = await cli(...argv);
  expect(r.code, r.err).toBe(code);
  expect(r.err.split('\n'), r.err).toHaveLength(1);
  expect(r.err).toMatch(message);
  return r.err;
}

describe('sana-lab: top level', () => {
  it('--version prints the package version and exits 0', async () => {
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.out).toBe((JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('info rejects a stray argument like the other commands', async () => {
    await expectError(['info', 'extra'], 2, /^sana-lab: info: unexpected argument "extra"$/);
  });
});

describe('parity / bench: what the backend lacks is a usage error, before any work', () => {
  it('parity --version that no requested op has on the backend exits 2 naming the versions', async () => {
    await expectError(['parity', '--backend', 'cpu', '--ops', 'gemm', '--version', '3', '--json', join(dir, 'p.json')], 2, /^sana-lab: parity: --version 3: no such version of gemm \(versions: gemm on cpu: 1\)$/);
  });

  it('bench --version that no requested op has on a native backend exits 2 naming the versions, before timing anything', async () => {
    await expectError(['bench', '--backend', 'cpu', '--ops', 'gemm', '--version', '3', '--res', '256', '--json', join(dir, 'b.json')], 2, /^sana-lab: bench: --version 3: no such version of gemm \(versions: gemm on cpu: 1\)$/);
    expect(existsSync(join(dir, 'b.json'))).toBe(false);
  });

  it('parity --version that some requested ops have still checks those and skips the others (exit 0)', async () => {
    const json = join(dir, 'p2.json');
    const r = await cli('parity', '--backend', 'cpu', '--ops', 'gemm,linear-attention', '--version', '2', '--dtype', 'f32', '--max-shapes', '1', '--no-self-check', '--quiet', '--json', json);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/1 of 1 checks pass; 1 skipped/);
  });

  it('bench --variant that none of the chosen ops has exits 2 listing the valid variants', async () => {
    const err = await expectError(['bench', '--ops', 'gemm', '--variant', 'nope', '--res', '256', '--backend', 'reference', '--json', join(dir, 'b.json')], 2, /^sana-lab: bench: unknown --variant nope for gemm \(variants: /);
    expect(err).toMatch(/\bt-embed-1\b/);
    await expectError(['bench', '--ops', 'layernorm-modulate', '--variant', 'qkv', '--json', join(dir, 'b.json')], 2, /one instance each: drop --variant/);
  });
});

describe('profile: checked before the DiT runs', () => {
  const base = ['profile', '--model', '0.6b', '--res', '64', '--blocks', '1'];
  it('--op-versions: an unknown op or a version the backend lacks exits 2', async () => {
    await expectError([...base, '--op-versions', 'nosuch=1'], 2, /^sana-lab: profile: --op-versions: unknown op "nosuch" \(ops: gemm, /);
    await expectError([...base, '--op-versions', 'gemm=9'], 2, /^sana-lab: profile: --op-versions: gemm: no version 9 on the cpu backend \(versions: 1; 0 = the default\)$/);
  });

  it('--decode --tile that generate would refuse is refused the same way, up front', async () => {
    await expectError([...base, '--decode', '--tile', '100'], 2, /^sana-lab: profile: --tile 100 does not fit: tile sizes are multiples of 32 .*e\.g\. 96$/);
  });

  it('--model-dir: a missing folder exits 2; a --model that disagrees with the folder is refused', async () => {
    await expectError([...base, '--model-dir', join(dir, 'nodir')], 2, /^sana-lab: profile: --model-dir .*nodir does not exist$/);
    // a folder whose transformer config has Sana-0.6B's dimensions (the weights, the tiny model's, are not read before the check)
    const like06 = join(dir, 'like-0.6b');
    mkdirSync(join(like06, 'transformer'), { recursive: true });
    cpSync(join(model, 'transformer', 'diffusion_pytorch_model.safetensors'), join(like06, 'transformer', 'diffusion_pytorch_model.safetensors'));
    const snake = Object.fromEntries(Object.entries(ditPreset('0.6b').config).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
    writeFileSync(join(like06, 'transformer', 'config.json'), JSON.stringify(snake));
    await expectError(['profile', '--model', '1.6b', '--res', '64', '--model-dir', like06], 2, /^sana-lab: profile: --model 1\.6b disagrees with .*like-0\.6b, whose transformer has Sana-0\.6b's dimensions \(give --model 0\.6b\)$/);
  });

  it('--model-dir of neither preset is labelled from its config, not as the --model preset', async () => {
    const json = join(dir, 'prof.json');
    const r = await cli('profile', '--model', '1.6b', '--res', '64', '--model-dir', model, '--text-len', '8', '--warmup', '0', '--repeat', '1', '--steps', '1', '--no-roofline', '--json', json);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^profile: custom \(2 blocks, C 64\) \(.*tiny\)/);
    expect(r.out).not.toMatch(/sana-1\.6b/);
    expect(JSON.parse(readFileSync(json, 'utf8')).model).toBe('custom (2 blocks, C 64)');
  }, 60_000);
});

describe('output paths and input files: one line up front', () => {
  it('lab --out that is a file, generate --out that is a directory or not .png, run dit --out a directory: exit 2', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    await expectError(['lab', '--out', file, '--no-bench', '--no-profile', '--no-report'], 2, /^sana-lab: lab: --out .*a-file exists and is not a directory$/);
    const outDir = join(dir, 'outdir.png');
    mkdirSync(outDir, { recursive: true });
    await expectError(['generate', '--prompt', 'x', '--model-dir', model, '--out', outDir], 2, /^sana-lab: generate: --out .*outdir\.png is a directory; give a file name$/);
    await expectError(['generate', '--prompt', 'x', '--model-dir', model, '--out', join(dir, 'x.jpg')], 2, /^sana-lab: generate: --out must end in \.png \(the image is written as PNG\), got ".*x\.jpg"$/);
    const t = join(model, 'transformer');
    await expectError(['run', 'dit', '--config', join(t, 'config.json'), '--weights', join(t, 'diffusion_pytorch_model.safetensors'), '--inputs', file, '--out', outDir], 2, /^sana-lab: run dit: --out .*outdir\.png is a directory/);
    await expectError(['run', 'dit', '--config', join(t, 'config.json'), '--weights', join(t, 'diffusion_pytorch_model.safetensors'), '--inputs', file, '--out', join(file, 'o.safetensors')], 2, /: .*a-file is not a directory$/);
  });

  it('generate --tile words its message around what was passed (no --tile-stride the user never gave)', async () => {
    const err = await expectError(['generate', '--prompt', 'x', '--model-dir', model, '--out', join(dir, 'x.png'), '--tile', '100'], 2, /^sana-lab: generate: --tile 100 does not fit: tile sizes are multiples of 32/);
    expect(err).not.toMatch(/--tile-stride/);
    await expectError(['generate', '--prompt', 'x', '--model-dir', model, '--out', join(dir, 'x.png'), '--tile', '128', '--tile-stride', '160'], 2, /--tile-stride 160 must be a multiple of 32 and at most --tile 128$/);
  });

  it('a missing input file is a usage error (exit 2) for schedule, report and profile, as for run dit', async () => {
    await expectError(['schedule', '--config', join(dir, 'nope.json')], 2, /^sana-lab: schedule: cannot read --config .*nope\.json: it does not exist$/);
    await expectError(['report', '--in', join(dir, 'nope.json'), '--out', join(dir, 'r.html')], 2, /^sana-lab: report: --in .*nope\.json does not exist$/);
    await expectError(['profile', '--model', '0.6b', '--res', '64', '--model-dir', join(dir, 'nodir')], 2, /does not exist$/);
  });
});

describe('errors: one printable line, the command named once', () => {
  it('report --in a binary file: one line, no raw bytes, no "report: report:"', async () => {
    const bin = join(dir, 'bin.json');
    writeFileSync(bin, Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13, 0, 0x41, 0x42, 0, 7, 8, 27]));
    const err = await expectError(['report', '--in', bin, '--out', join(dir, 'r.html')], 1, /^sana-lab report: cannot read .*bin\.json: it is not JSON \(/);
    expect(err).not.toMatch(/[\u0000-\u0008\u000b-\u001f\ufffd]/);
    expect(err).not.toMatch(/report: report:/);
  });

  it('run dit: a failure names "run dit" once (not "sana-lab run: run dit:")', async () => {
    const inputs = join(dir, 'no-latent.safetensors');
    writeSafetensors(inputs, new Map([['foo', Tensor.f32([2], [1, 2])]]));
    const t = join(model, 'transformer');
    await expectError(['run', 'dit', '--config', join(t, 'config.json'), '--weights', join(t, 'diffusion_pytorch_model.safetensors'), '--inputs', inputs, '--out', join(dir, 'o.safetensors')], 1, /^sana-lab run dit: .*no-latent\.safetensors has no tensor "hidden_states"/);
  });

  it('a message with newlines or control characters is printed as one line', async () => {
    // a tokenizer.json that is not JSON: V8 quotes the text it met, newline and all
    const broken = join(dir, 'broken-tok');
    writeRandomModel(broken, 'tiny', 1);
    writeFileSync(join(broken, 'tokenizer', 'tokenizer.json'), 'x\ny');
    const r = await cli('generate', '--prompt', 'x', '--model-dir', broken, '--out', join(dir, 'tok.png'), '--steps', '1', '--quiet');
    expect(r.code).toBe(1);
    expect(r.err.split('\n'), r.err).toHaveLength(1);
    expect(r.err).toMatch(/^sana-lab generate: HfTokenizer: .*tokenizer\.json is not valid JSON: .*"x y"/);
  }, 60_000);

  it('a checkpoint of the wrong model lists the first 8 keys of each kind and counts the rest', () => {
    const keys = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}.${i}.weight`);
    const dit = new WeightKeyError('w.safetensors', keys('missing', 54), keys('extra', 142), []);
    expect(dit.message).toMatch(/54 missing: missing\.0\.weight, .*missing\.7\.weight, … and 46 more \| 142 unexpected: extra\.0\.weight, .*extra\.7\.weight, … and 134 more$/);
    expect(dit.message.length).toBeLessThan(600);
    expect(dit.missing).toHaveLength(54); // the full lists stay on the error
    const dcae = new DcaeWeightsError('v.safetensors', keys('m', 3), keys('u', 9), [], []);
    expect(dcae.message).toMatch(/3 missing: m\.0\.weight, m\.1\.weight, m\.2\.weight; 9 unexpected: u\.0\.weight, .*u\.7\.weight, … and 1 more$/);
  });

  it('bench prints a backend\'s reason once ("unavailable: no device", not "unavailable: unavailable: …")', async () => {
    const r = await cli('bench', '--ops', 'gemm', '--variant', 't-embed-1', '--res', '256', '--backend', 'cuda', '--no-ceilings', '--quiet', '--json', join(dir, 'b2.json'));
    expect(r.out).not.toMatch(/unavailable: unavailable:/);
    if (/unavailable/.test(r.out)) expect(r.out).toMatch(/ unavailable: \S/);
  });
});

describe('lab: --backends checked before the first step', () => {
  it.skipIf(backendStatus('cuda').available)('--backends cuda without a usable GPU fails at once, naming the reason (no parity run first)', async () => {
    const r = await cli('lab', '--backends', 'cuda', '--out', join(dir, 'lab'), '--no-profile', '--no-report');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^sana-lab lab: --backends: cuda cannot run here \(/m);
    expect(r.err).not.toMatch(/\[lab 2\//);
  });
});

describe('lab --help', () => {
  it('step 5 names the DC-AE resolutions the lab runs by default (--dcae-res 256,512)', async () => {
    const r = await cli('lab', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/DC-AE decoder's\s+ops at batch 1 at 256 and 512;/);
    expect(r.out).not.toMatch(/DC-AE decoder's\s+ops at batch 1 at 256, 512, 1024/);
  });
});
