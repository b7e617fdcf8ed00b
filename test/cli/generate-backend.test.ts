/**
 * `sana-lab generate --backend cpu`: the DiT and the DC-AE decode on the native runners, the text
 * encoder in TS. On the tiny random model, with the same seed, the cpu pipeline's final latents match
 * the reference pipeline's (f32, ≤ 1e-4 relative) and so does the image; the command prints per-step
 * progress and names its models; an unknown backend is a usage error.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { nativePipelineFactories } from '../../bindings/models/pipeline-models.js';
import { UsageError } from '../../cli/command.js';
import { generateCommand } from '../../cli/commands/generate.js';
import { errorStats, formatStats } from '../../reference/core/compare.js';
import { SanaPipeline, writeRandomModel, type GenerateOptions } from '../../reference/pipeline/index.js';

describe('generate --backend cpu (native DiT + DC-AE decode) vs the reference pipeline, tiny random model', () => {
  const root = mkdtempSync(join(tmpdir(), 'sana-gen-cpu-'));
  const model = join(root, 'tiny');
  beforeAll(() => writeRandomModel(model, 'tiny', 5));
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const opts: GenerateOptions = { prompt: 'A small red cat', width: 96, height: 64, steps: 4, guidanceScale: 4.5, seed: 3 };

  it('same seed: final latents within 1e-4 (f32) and the image within float rounding of the reference', () => {
    const ref = SanaPipeline.fromDir(model);
    const cpu = SanaPipeline.fromDir(model, nativePipelineFactories({ backend: 'cpu', dtype: 'f32' }));
    try {
      const a = ref.generate(opts);
      const steps: number[] = [];
      const b = cpu.generate({ ...opts, onStep: (s) => steps.push(s.step) });
      expect(b.models).toEqual({ denoiser: 'cpu f32 (dit-block, loop on the backend)', decoder: 'cpu f32' });
      expect(a.models).toEqual({ denoiser: 'reference', decoder: 'reference' });
      expect(steps).toEqual([0, 1, 2, 3]);
      const lat = errorStats(b.latents.toFloat32(), a.latents.toFloat32());
      const img = errorStats(b.image.toFloat32(), a.image.toFloat32());
      console.log(`[generate cpu vs reference] latents ${formatStats(lat)}; image ${formatStats(img)}`);
      expect(lat.nonFinite).toBe(0);
      expect(lat.rel, formatStats(lat)).toBeLessThanOrEqual(1e-4);
      expect(img.nonFinite).toBe(0);
      expect(img.rel, formatStats(img)).toBeLessThanOrEqual(1e-4);
      // 8-bit pixels: at most one level apart where rounding falls differently.
      let maxDiff = 0;
      for (let i = 0; i < a.pixels.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.pixels[i]! - b.pixels[i]!));
      expect(maxDiff).toBeLessThanOrEqual(1);
      // The host loop around the same native model gives the same latents bit for bit (bf16: the update
      // reads the model's bf16 output and writes its bf16 input exactly as the upload/read-back do).
      for (const dtype of ['f32', 'bf16'] as const) {
        const loops = (['backend', 'host'] as const).map((loop) => {
          const p = SanaPipeline.fromDir(model, nativePipelineFactories({ backend: 'cpu', dtype, loop }));
          try {
            const res = p.generate(opts);
            expect(res.models.denoiser).toBe(`cpu ${dtype} (dit-block${loop === 'backend' ? ', loop on the backend' : ''})`);
            return res.latents.toFloat32();
          } finally {
            p.dispose();
          }
        });
        expect(loops[0]!.some(Number.isNaN)).toBe(false);
        expect(Array.from(loops[0]!), `${dtype}: backend loop = host loop`).toEqual(Array.from(loops[1]!));
      }
      // Another seed moves the latents far more than the backends differ (the comparison can fail).
      const other = cpu.generate({ ...opts, seed: 4 });
      expect(errorStats(other.latents.toFloat32(), a.latents.toFloat32()).rel).toBeGreaterThan(1e-2);
    } finally {
      cpu.dispose();
    }
  });

  async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void stdout.push(s));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (stderr.push(String(s)), true));
    try {
      return { code: await generateCommand.run(args), stdout: stdout.join('\n'), stderr: stderr.join('') };
    } finally {
      vi.restoreAllMocks();
    }
  }

  it('the command: cpu PNG ≈ reference PNG for the same seed, per-step progress, models named', async () => {
    const common = ['--prompt', 'A small red cat', '--model-dir', model, '--width', '96', '--height', '64', '--steps', '3', '--seed', '9'];
    const refPng = join(root, 'ref.png');
    const cpuPng = join(root, 'cpu.png');
    expect((await run([...common, '--out', refPng])).code).toBe(0);
    const r = await run([...common, '--backend', 'cpu', '--out', cpuPng]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/DiT: cpu f32 \(dit-block, loop on the backend\), decoder: cpu f32/);
    for (const k of [1, 2, 3]) expect(r.stderr).toMatch(new RegExp(`denoise \\[[#.]+\\] ${k}/3 `));
    expect(r.stdout).toMatch(/wrote .*cpu\.png \(96×64\) .* \[DiT cpu f32 \(dit-block, loop on the backend\), decoder cpu f32\]/);
    const a = PNG.sync.read(readFileSync(refPng));
    const b = PNG.sync.read(readFileSync(cpuPng));
    expect([b.width, b.height]).toEqual([96, 64]);
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i]! - b.data[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1);
  });

  it('bad backend / dtype / loop options are usage errors', async () => {
    const base = ['--prompt', 'x', '--model-dir', model, '--out', join(root, 'never.png')];
    await expect(generateCommand.run([...base, '--backend', 'gpu'])).rejects.toThrow(UsageError);
    await expect(generateCommand.run([...base, '--backend', 'gpu'])).rejects.toThrow('generate: --backend gpu is not one of reference, cpu, cuda');
    await expect(generateCommand.run([...base, '--backend', 'cpu', '--dtype', 'f16'])).rejects.toThrow('generate: --dtype must be f32 or bf16, got "f16"');
    await expect(generateCommand.run([...base, '--dtype', 'bf16'])).rejects.toThrow('generate: --dtype applies to --backend cpu');
    await expect(generateCommand.run([...base, '--host-loop'])).rejects.toThrow('generate: --host-loop applies to --backend cpu or cuda');
    await expect(generateCommand.run([...base, '--backend', 'cpu', '--cuda-graph'])).rejects.toThrow('generate: --cuda-graph needs --backend cuda');
    expect(generateCommand.usage).toMatch(/--backend NAME +reference \(default/);
    expect(generateCommand.usage).toMatch(/computed once per image, not per/);
  });
});
