/**
 * The pipeline's loop on the tiny random model: CFG batch halves in the right order and separate,
 * guidance 1 ≡ the conditional branch, Euler sampling, tiled decoding, input checks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorStats, formatStats } from '../../../reference/core/compare.js';
import { randn } from '../../../reference/core/random.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { FlowMatchEulerDiscreteScheduler } from '../../../reference/schedulers/index.js';
import { SanaPipeline, writeRandomModel, type GenerateOptions } from '../../../reference/pipeline/index.js';

describe('SanaPipeline on the tiny random model', () => {
  let pipe: SanaPipeline;
  const base: GenerateOptions = { prompt: 'A red cat on a chair', width: 64, height: 64, steps: 3, seed: 7 };
  const root = mkdtempSync(join(tmpdir(), 'sana-pipe-'));
  beforeAll(() => {
    const dir = join(root, 'tiny');
    writeRandomModel(dir, 'tiny', 3);
    pipe = SanaPipeline.fromDir(dir);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('guidance 1 through the [uncond | cond] batch equals the conditional branch alone (up to f32 rounding of the CFG sum)', () => {
    const condOnly = pipe.generate({ ...base, guidanceScale: 1 });
    expect(condOnly.cfgBatch).toBe(false);
    expect(condOnly.textTokens.unconditional).toBeNull();
    const batched = pipe.generate({ ...base, guidanceScale: 1, alwaysBatchCfg: true });
    expect(batched.cfgBatch).toBe(true);
    const same = errorStats(batched.latents.toFloat32(), condOnly.latents.toFloat32());
    console.log(`[pipeline] g=1 batched vs conditional-only latents: ${formatStats(same)}`);
    expect(same.nonFinite).toBe(0);
    expect(same.rel).toBeLessThan(1e-5);
    // …while real guidance changes the result substantially (so the comparison above can fail).
    const guided = pipe.generate({ ...base, guidanceScale: 4.5 });
    const diff = errorStats(guided.latents.toFloat32(), condOnly.latents.toFloat32());
    expect(diff.rel).toBeGreaterThan(1e-2);
  });

  it('the first half of the CFG batch is the unconditional branch: g = 0 reproduces the negative prompt bit for bit', () => {
    // Without the instruction prefix, the conditional branch of prompt "" is exactly the unconditional branch.
    const noChi = { ...base, complexHumanInstruction: [] as string[] };
    const uncondViaCfg = pipe.generate({ ...noChi, prompt: 'a blue dog', guidanceScale: 0, alwaysBatchCfg: true });
    const emptyPrompt = pipe.generate({ ...noChi, prompt: '', guidanceScale: 1 });
    expect(Buffer.compare(Buffer.from(uncondViaCfg.pixels), Buffer.from(emptyPrompt.pixels))).toBe(0);
    expect(Array.from(uncondViaCfg.latents.toFloat32())).toEqual(Array.from(emptyPrompt.latents.toFloat32()));
    const condViaCfg = pipe.generate({ ...noChi, prompt: 'a blue dog', guidanceScale: 1, alwaysBatchCfg: true });
    expect(errorStats(condViaCfg.latents.toFloat32(), emptyPrompt.latents.toFloat32()).rel).toBeGreaterThan(1e-3);
  });

  it('samples with Flow-Euler on request, decodes tiled when asked, and starts from given initial noise', () => {
    const z = randn([1, 8, 2, 3], 5);
    const tiles: number[] = [];
    const r = pipe.generate({
      ...base,
      width: 96,
      height: 64,
      steps: 2,
      sampler: 'euler',
      initialLatents: z,
      tiling: { tileHeight: 64, tileWidth: 64, strideHeight: 32, strideWidth: 32 },
      onTile: (_s, i, n) => tiles.push(i * 100 + n),
    });
    const euler = new FlowMatchEulerDiscreteScheduler({ shift: 3 });
    euler.setTimesteps(2);
    expect(r.timesteps).toEqual(euler.timesteps);
    expect(r.image.shape).toEqual([1, 3, 64, 96]);
    expect(r.pixels.length).toBe(64 * 96 * 3);
    expect(tiles).toEqual([6, 106, 206, 306, 406, 506]); // 2 × 3 tiles of a 2 × 3 latent, stride 1 latent px
    expect(r.latents.toFloat32().every(Number.isFinite)).toBe(true);
  });

  it('rejects bad sizes, steps, guidance and initial latents with clear errors', () => {
    expect(() => pipe.generate({ ...base, width: 100 })).toThrow(/width 100 must be a positive multiple of 32/);
    expect(() => pipe.generate({ ...base, height: 0 })).toThrow(/height 0 must be a positive multiple of 32/);
    expect(() => pipe.generate({ ...base, steps: 0 })).toThrow(/steps must be an integer >= 1/);
    expect(() => pipe.generate({ ...base, guidanceScale: Number.NaN })).toThrow(/guidance scale must be a finite number/);
    expect(() => pipe.generate({ ...base, initialLatents: new Tensor([1, 8, 4, 4], 'f32') })).toThrow(/initialLatents \[1, 8, 4, 4\] must be \[1, 8, 2, 2\]/);
    expect(pipe.defaultSize).toBe(128);
    expect(pipe.sizeMultiple).toBe(32);
  });
});
