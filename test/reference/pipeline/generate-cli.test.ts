/**
 * `sana-lab make-random-model` + `sana-lab generate` end to end on the tiny preset, through the
 * commands' run() (the same code the binary runs): PNG of the requested size, reproducible bytes.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../../cli/command.js';
import { generateCommand } from '../../../cli/commands/generate.js';
import { makeRandomModelCommand } from '../../../cli/commands/make-random-model.js';

describe('sana-lab make-random-model + generate (tiny preset)', () => {
  const root = mkdtempSync(join(tmpdir(), 'sana-gen-'));
  const model = join(root, 'tiny');
  const stderr: string[] = [];
  const stdout: string[] = [];

  beforeAll(async () => {
    const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void stdout.push(s));
    expect(await makeRandomModelCommand.run(['--preset', 'tiny', '--seed', '0', model])).toBe(0);
    log.mockRestore();
    expect(stdout.join('\n')).toMatch(/wrote .*tiny \(preset tiny, seed 0\): 11 files/);
  });

  afterEach(() => vi.restoreAllMocks());
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function generate(args: string[]): Promise<number> {
    vi.spyOn(console, 'log').mockImplementation((s: string) => void stdout.push(s));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (stderr.push(String(s)), true));
    try {
      return await generateCommand.run(args);
    } finally {
      vi.restoreAllMocks();
    }
  }

  const common = (out: string, seed: number): string[] => [
    '--prompt', 'A small red cat', '--model-dir', model, '--width', '96', '--height', '64',
    '--steps', '4', '--cfg', '4.5', '--seed', String(seed), '--out', out,
  ];

  it('writes a PNG of the requested size; same seed same bytes, another seed other bytes', async () => {
    const a = join(root, 'a.png');
    const b = join(root, 'sub', 'b.png');
    const c = join(root, 'c.png');
    const t0 = performance.now();
    expect(await generate(common(a, 0))).toBe(0);
    console.log(`[generate] tiny 96×64, 4 steps, cfg 4.5: ${(performance.now() - t0).toFixed(0)} ms`);
    expect(await generate(common(b, 0))).toBe(0);
    expect(await generate([...common(c, 1), '--sampler', 'dpm'])).toBe(0);

    const png = PNG.sync.read(readFileSync(a));
    expect([png.width, png.height]).toEqual([96, 64]);
    const bytesA = readFileSync(a);
    expect(Buffer.compare(bytesA, readFileSync(b))).toBe(0);
    expect(Buffer.compare(bytesA, readFileSync(c))).not.toBe(0);
    // Not a constant image: random weights still give varied pixels.
    expect(new Set(png.data.filter((_, i) => i % 4 === 0)).size).toBeGreaterThan(10);

    const err = stderr.join('');
    expect(err).toMatch(/denoise \[#+\] 4\/4 .*\/step elapsed .* ETA/);
    expect(stdout.join('\n')).toMatch(/wrote .*a\.png \(96×64\) — 4 steps DPMSolverMultistepScheduler from the model, cfg 4\.5 \(batch 2\), seed 0/);
  });

  it('--size sets both sides, --sampler euler runs, --quiet keeps stderr empty', async () => {
    const out = join(root, 'e.png');
    stderr.length = 0;
    expect(await generate(['--prompt', 'x', '--model-dir', model, '--size', '64', '--steps', '2', '--sampler', 'euler', '--cfg', '1', '--quiet', '--out', out])).toBe(0);
    const png = PNG.sync.read(readFileSync(out));
    expect([png.width, png.height]).toEqual([64, 64]);
    expect(stderr.join('')).toBe('');
    expect(stdout[stdout.length - 1]).toMatch(/2 steps euler, cfg 1 \(conditional only\)/);
  });

  it('fails clearly on a bad model directory, size, backend or option', async () => {
    const out = join(root, 'never.png');
    const run = (extra: string[], dir = model): Promise<number> =>
      generate(['--prompt', 'x', '--model-dir', dir, '--out', out, '--steps', '1', ...extra]);
    await expect(run([], join(root, 'missing'))).rejects.toThrow(/--model-dir: SANA model directory .*missing is not usable: it does not exist/);
    const broken = join(root, 'broken');
    cpSync(model, broken, { recursive: true });
    rmSync(join(broken, 'text_encoder', 'model.safetensors'));
    rmSync(join(broken, 'model_index.json'));
    await expect(run([], broken)).rejects.toThrow(/missing model_index\.json; .*missing text_encoder\/model\.safetensors/);
    const wrongCfg = join(root, 'wrongcfg');
    cpSync(model, wrongCfg, { recursive: true });
    writeFileSync(join(wrongCfg, 'scheduler', 'scheduler_config.json'), JSON.stringify({ _class_name: 'DDIMScheduler' }));
    await expect(run([], wrongCfg)).rejects.toThrow(/DDIMScheduler/);
    await expect(run(['--size', '100'])).rejects.toThrow(/width 100 is not a multiple of 32 .* try 96/);
    await expect(run(['--width', '64', '--height', '48'])).rejects.toThrow(/height 48 is not a multiple of 32/);
    await expect(run(['--backend', 'tpu'])).rejects.toThrow('generate: --backend tpu is not one of reference, cpu, cuda');
    await expect(run(['--sampler', 'heun'])).rejects.toThrow(/--sampler must be one of dpm, euler/);
    await expect(run(['--cfg', 'abc'])).rejects.toThrow(UsageError);
    await expect(run(['--steps', '0'])).rejects.toThrow(/--steps must be an integer >= 1/);
    await expect(run(['--tile', '48'])).rejects.toThrow(/--tile 48 .* multiples of 32/);
    await expect(generateCommand.run(['--prompt', 'x'])).rejects.toThrow(/missing --model-dir, --out/);
    await expect(makeRandomModelCommand.run([model])).rejects.toThrow(/not empty \(use --force to write into it\)/);
    await expect(makeRandomModelCommand.run(['--preset', 'huge', join(root, 'h')])).rejects.toThrow(/unknown --preset "huge"/);
  });
});
