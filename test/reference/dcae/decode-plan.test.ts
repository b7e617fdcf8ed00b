import { describe, expect, it } from 'vitest';
import { goldenPath } from '../../../reference/core/golden.js';
import type { Tensor } from '../../../reference/core/tensor.js';
import { AutoencoderDC } from '../../../reference/dcae/autoencoder.js';
import { dcaePreset } from '../../../reference/dcae/config.js';
import { formatDecodePlan, planDecode } from '../../../reference/dcae/decode-plan.js';
import { estimateDecoderMemory } from '../../../reference/dcae/decoder-memory.js';
import { dcaeParamCount } from '../../../reference/dcae/param-shapes.js';
import { DIFFUSERS_TILING, SANA_4K_TILING } from '../../../reference/dcae/tiling.js';
import { GOLDEN, goldenTensors } from './golden-helpers.js';

const MiB = 2 ** 20;
const real = dcaePreset('dc-ae-f32c32-sana-1.0');

describe('decode plan of the real dc-ae-f32c32-sana-1.0', () => {
  it('4096² with the SANA 4K tiling (1024/896): 25 tiles and a tile-bounded memory estimate', () => {
    const plan = planDecode(real, { height: 4096, width: 4096, tiling: SANA_4K_TILING });
    console.log(formatDecodePlan(plan));
    expect(plan.tiled).toBe(true);
    expect(plan.latentShape).toEqual([1, 32, 128, 128]);
    expect(plan.grid!.tiles.length).toBe(25);
    expect(plan.tileShapes.map((s) => [s.latentShape.slice(2), s.count])).toEqual([
      [[32, 32], 16], [[32, 16], 4], [[16, 32], 4], [[16, 16], 1],
    ]);
    // Largest tile (1024² px): the peak is the first up block of the full-resolution stage holding its
    // input 256×512², the nearest-upsampled 256×1024² and the conv output 128×1024², i.e. 448·1024²
    // values, plus the 32×32×32 latent tile being decoded.
    const m = plan.memory;
    expect(m.activationPeakBytes).toBe(4 * (448 * 1024 ** 2 + 32 * 32 * 32));
    expect(m.activationPeakAt).toBe('decoder.up_blocks.0.0.conv');
    expect(m.weightsBytes).toBe(4 * dcaeParamCount(real).decoder);
    expect(m.outputBytes).toBe(3 * 4096 * 4096 * 4);
    expect(m.latentBytes).toBe(32 * 128 * 128 * 4);
    // blend working set: two rows of decoded tiles (4 of 1024² + 1 of 1024×512 px, 3 channels each)
    expect(m.tileBufferBytes).toBe(2 * 3 * 4 * (4 * 1024 * 1024 + 1024 * 512));
    expect(m.totalBytes).toBe(m.weightsBytes + m.latentBytes + m.outputBytes + m.tileBufferBytes + m.activationPeakBytes);
    expect(m.totalBytes / 2 ** 30).toBeCloseTo(2.64, 2);
    // the whole-image decode would need 448·4096² values at the same op: 16× the tile's activations
    expect(m.untiledTotalBytes).toBe(m.weightsBytes + 4 * (448 * 4096 ** 2 + 32 * 128 * 128));
    expect(m.untiledTotalBytes / 2 ** 30).toBeGreaterThan(28);
  });

  it('the activation peak is bounded by the tile, not the image', () => {
    const peaks = [1024, 2048, 4096].map((s) => planDecode(real, { height: s, width: s, tiling: SANA_4K_TILING }).memory.activationPeakBytes);
    expect(new Set(peaks).size).toBe(1);
    const whole = [1024, 2048, 4096].map((s) => planDecode(real, { height: s, width: s }).memory.activationPeakBytes);
    expect(whole[2]! / whole[0]!).toBeCloseTo(16, 3);
  });

  it('does not tile when the image fits in one tile (diffusers _decode), and handles batches and non-square sizes', () => {
    const p = planDecode(real, { height: 512, width: 512, tiling: DIFFUSERS_TILING });
    expect(p.tiled).toBe(false);
    expect(p.grid).toBeNull();
    const q = planDecode(real, { height: 1024, width: 2048, batch: 2, tiling: DIFFUSERS_TILING });
    expect([q.grid!.rows, q.grid!.cols]).toEqual([3, 5]);
    expect(q.outputShape).toEqual([2, 3, 1024, 2048]);
    expect(q.memory.activationPeakBytes).toBe(2 * 4 * (448 * 512 ** 2 + 32 * 16 * 16));
    expect(() => planDecode(real, { height: 1000, width: 1024 })).toThrow(/height 1000 must be a positive multiple of 32/);
    expect(formatDecodePlan(q)).toMatch(/tiles: 3 rows × 5 cols = 15/);
  });

  it('per-tile peak at 1024² (whole image) is 1.75 GiB', () => {
    expect(estimateDecoderMemory(real, 1, 32, 32).peakBytes / MiB).toBeCloseTo(1792.125, 3);
  });
});

describe.skipIf(!GOLDEN)('the memory walk follows the real decoder', () => {
  it('its stage shapes are the shapes the golden decode records', () => {
    const model = AutoencoderDC.fromFiles(goldenPath('dcae_public.config.json'), goldenPath('dcae_public.weights.safetensors'));
    const recorded: [string, number[]][] = [];
    model.decode(goldenTensors('dcae_public.io.safetensors').get('decode_input')!, { record: (n: string, t: Tensor) => void recorded.push([n, [...t.shape]]) });
    const walk = estimateDecoderMemory(model.config, 2, 4, 4).stages.map((s) => [s.name, s.shape]);
    expect(walk).toEqual(recorded);
  });
});

describe('planDecode byte counts stay exact', () => {
  it('plans a 2^20-pixel-wide decode exactly and refuses one whose bytes pass 2^53', () => {
    // 1,048,576² f32c32: the whole-image activation peak alone is ~448·H·W·4 ≈ 2.0e15 bytes < 2^53 ≈ 9.0e15.
    const big = planDecode(real, { height: 2 ** 20, width: 2 ** 20 });
    expect(Number.isSafeInteger(big.memory.totalBytes)).toBe(true);
    expect(big.memory.outputBytes).toBe(3 * 2 ** 40 * 4);
    // Eight times the pixels: ≈ 1.6e16 activation bytes → past 2^53.
    expect(() => planDecode(real, { height: 2 ** 21, width: 2 ** 22 })).toThrow(/planDecode: a 2097152×4194304 decode at batch 1 needs about .* bytes, beyond 2\^53/);
    expect(() => planDecode(real, { height: 2 ** 20, width: 2 ** 20, batch: 8 })).toThrow(/beyond 2\^53/);
  });
});
