import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatStats, errorStats } from '../../../reference/core/compare.js';
import { goldenPath } from '../../../reference/core/golden.js';
import { Rng } from '../../../reference/core/random.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { AutoencoderDC } from '../../../reference/dcae/autoencoder.js';
import {
  assembleTiles, checkTiling, cropLatent, DIFFUSERS_TILING, needsTiling, SANA_4K_TILING, tileBlendWeights, tileGrid, tiling,
  type Planes, type TileGrid,
} from '../../../reference/dcae/tiling.js';
import { GOLDEN, goldenTensors } from './golden-helpers.js';

/**
 * diffusers' tiled_decode transcribed literally on arrays: decode every tile first, then blend in
 * place row by row (blend_v with the tile above, blend_h with the tile to the left), crop each to
 * the stride and concatenate — the non-streaming form the reference's assembleTiles must equal.
 */
function diffusersTiledBlend(grid: TileGrid, tiles: Planes[]): Planes {
  const { tileHeight: th, tileWidth: tw, strideHeight: sh, strideWidth: sw } = grid.tiling;
  const P = tiles[0]!.planes;
  const at = (t: Planes, p: number, y: number, x: number): number => t.data[(p * t.height + y) * t.width + x]!;
  const set = (t: Planes, p: number, y: number, x: number, v: number): void => void (t.data[(p * t.height + y) * t.width + x] = v);
  const f = Math.fround;
  const rows: Planes[][] = [];
  for (let r = 0; r < grid.rows; r++) rows.push(tiles.slice(r * grid.cols, (r + 1) * grid.cols));
  for (let i = 0; i < grid.rows; i++) {
    for (let j = 0; j < grid.cols; j++) {
      const b = rows[i]![j]!;
      if (i > 0) {
        const a = rows[i - 1]![j]!;
        const e = Math.min(a.height, b.height, th - sh);
        for (let y = 0; y < e; y++) for (let p = 0; p < P; p++) for (let x = 0; x < b.width; x++) {
          set(b, p, y, x, f(f(at(a, p, a.height - e + y, x) * f(1 - y / e)) + f(at(b, p, y, x) * f(y / e))));
        }
      }
      if (j > 0) {
        const a = rows[i]![j - 1]!;
        const e = Math.min(a.width, b.width, tw - sw);
        for (let x = 0; x < e; x++) for (let p = 0; p < P; p++) for (let y = 0; y < b.height; y++) {
          set(b, p, y, x, f(f(at(a, p, y, a.width - e + x) * f(1 - x / e)) + f(at(b, p, y, x) * f(x / e))));
        }
      }
    }
  }
  // crop to the stride and concatenate (torch.cat along W, then H)
  const H = grid.latentHeight * grid.f;
  const W = grid.latentWidth * grid.f;
  const out: Planes = { data: new Float32Array(P * H * W), planes: P, height: H, width: W };
  let y0 = 0;
  for (let i = 0; i < grid.rows; i++) {
    let x0 = 0;
    let rowH = 0;
    for (let j = 0; j < grid.cols; j++) {
      const t = rows[i]![j]!;
      const kh = Math.min(sh, t.height);
      const kw = Math.min(sw, t.width);
      for (let p = 0; p < P; p++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) set(out, p, y0 + y, x0 + x, at(t, p, y, x));
      x0 += kw;
      rowH = kh;
    }
    expect(x0).toBe(W);
    y0 += rowH;
  }
  expect(y0).toBe(H);
  return out;
}

function randomTiles(grid: TileGrid, planes: number, seed: number): Planes[] {
  const rng = new Rng(seed);
  return grid.tiles.map((t) => {
    const data = new Float32Array(planes * t.sampleHeight * t.sampleWidth);
    rng.fillNormal(data);
    return { data, planes, height: t.sampleHeight, width: t.sampleWidth };
  });
}

const clone = (t: Planes): Planes => ({ ...t, data: t.data.slice() });

describe('tile grid', () => {
  it('SANA 4K recipe at 4096²: 5×5 tiles of 1024 px at stride 896, 128 px blends, last row/col 512 px', () => {
    const g = tileGrid(128, 128, 32, SANA_4K_TILING);
    expect([g.rows, g.cols, g.blendHeight, g.blendWidth]).toEqual([5, 5, 128, 128]);
    expect(g.tiles.filter((t) => t.row === 0).map((t) => [t.latentX, t.latentWidth, t.sampleX, t.keepWidth])).toEqual([
      [0, 32, 0, 896], [28, 32, 896, 896], [56, 32, 1792, 896], [84, 32, 2688, 896], [112, 16, 3584, 512],
    ]);
    expect(g.tiles.filter((t) => t.row === 0).reduce((s, t) => s + t.keepWidth, 0)).toBe(4096);
    expect(DIFFUSERS_TILING).toEqual({ tileHeight: 512, tileWidth: 512, strideHeight: 448, strideWidth: 448 });
    expect(tiling(1024)).toEqual(SANA_4K_TILING);
  });

  it('tiles only when the latent exceeds one tile (diffusers _decode)', () => {
    expect(needsTiling(16, 16, 32, DIFFUSERS_TILING)).toBe(false);
    expect(needsTiling(16, 17, 32, DIFFUSERS_TILING)).toBe(true);
  });

  it('rejects tiles and strides that are not multiples of f or exceed the tile', () => {
    expect(() => checkTiling(tiling(500, 448), 32)).toThrow(/tile height 500 must be a positive multiple of the compression ratio 32/);
    expect(() => checkTiling(tiling(512, 440), 32)).toThrow(/stride height 440 must be a multiple of 32/);
    expect(() => checkTiling(tiling(512, 544), 32)).toThrow(/stride height 544 must be a multiple of 32 in \[32, 512\]/);
  });
});

describe('blending', () => {
  it('streamed assembly equals diffusers\' decode-all-then-blend transcription bit for bit', () => {
    for (const [lh, lw, t, s] of [[9, 13, 32, 24], [5, 5, 32, 16], [7, 4, 24, 8], [6, 6, 16, 16], [10, 3, 48, 16]] as const) {
      const grid = tileGrid(lh, lw, 8, tiling(t, s, 8));
      const tiles = randomTiles(grid, 3, lh * 100 + lw);
      const ref = diffusersTiledBlend(grid, tiles.map(clone));
      const out: Planes = { data: new Float32Array(ref.data.length), planes: 3, height: ref.height, width: ref.width };
      let k = 0;
      assembleTiles(grid, () => clone(tiles[k++]!), out);
      expect(Array.from(out.data), `${lh}x${lw} tile ${t} stride ${s}`).toEqual(Array.from(ref.data));
    }
  });

  it('property: at every pixel the tile weights are in [0, 1], non-zero only on covering tiles, and sum to 1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }),
        (lh, lw, tileH, tileW, sa, sb) => {
          const f = 4;
          const strideH = Math.min(sa, tileH);
          const strideW = Math.min(sb, tileW);
          const grid = tileGrid(lh, lw, f, { tileHeight: tileH * f, tileWidth: tileW * f, strideHeight: strideH * f, strideWidth: strideW * f });
          const { tiles, height: H, width: W, weights } = tileBlendWeights(grid);
          for (let y = 0; y < H; y++) {
            for (let x = 0; x < W; x++) {
              let sum = 0;
              for (let t = 0; t < tiles; t++) {
                const w = weights[(t * H + y) * W + x]!;
                const s = grid.tiles[t]!;
                const covers = y >= s.sampleY && y < s.sampleY + s.sampleHeight && x >= s.sampleX && x < s.sampleX + s.sampleWidth;
                if (w < 0 || w > 1 || (!covers && w !== 0)) return false;
                sum += w;
              }
              if (Math.abs(sum - 1) > 1e-12) return false;
            }
          }
          return true;
        },
      ),
      { numRuns: 150, seed: 4 },
    );
  });

  it('in float32, constant tiles blend to the constant within one rounding per blend', () => {
    const grid = tileGrid(20, 20, 32, tiling(256, 224)); // 640² image, 3×3 tiles, 32 px blends
    const out: Planes = { data: new Float32Array(640 * 640), planes: 1, height: 640, width: 640 };
    assembleTiles(grid, (s) => ({ data: new Float32Array(s.sampleHeight * s.sampleWidth).fill(1), planes: 1, height: s.sampleHeight, width: s.sampleWidth }), out);
    let worst = 0;
    for (const v of out.data) worst = Math.max(worst, Math.abs(v - 1));
    expect(worst).toBeLessThanOrEqual(4 * 2 ** -24);
  });
});

describe.skipIf(!GOLDEN)('tiled decoding of the golden model', () => {
  const model = GOLDEN ? AutoencoderDC.fromFiles(goldenPath('dcae_public.config.json'), goldenPath('dcae_public.weights.safetensors')) : null!;
  const z = GOLDEN ? goldenTensors('dcae_public.io.safetensors').get('decode_input')! : null!; // [2, 8, 4, 4] → 32×32 images
  const whole = GOLDEN ? model.decode(z) : null!;

  it('a tile at least as large as the image equals the untiled decode exactly', () => {
    expect(Array.from(model.decode(z, { tiling: tiling(32, 32, 8) }).toFloat32())).toEqual(Array.from(whole.toFloat32()));
    expect(Array.from(model.decode(z, { tiling: tiling(64, 48, 8) }).toFloat32())).toEqual(Array.from(whole.toFloat32()));
    // diffusers' tiled_decode itself with a single tile (stride ≥ image) also reproduces it exactly
    expect(Array.from(model.tiledDecode(z, tiling(64, 64, 8)).toFloat32())).toEqual(Array.from(whole.toFloat32()));
  });

  it('overlapping tiles: equals decode-each-tile + diffusers blending (and differs from the whole decode)', () => {
    const t = tiling(16, 8, 8); // latent tiles 2×2 at stride 1: 4×4 = 16 tiles, 8 px blends
    const seen: number[] = [];
    const tiled = model.decode(z, { tiling: t, onTile: (_s, i, n) => void seen.push(i, n) });
    expect(seen.length).toBe(32);
    const grid = tileGrid(4, 4, 8, t);
    const tiles = grid.tiles.map((s) => {
      const d = model.decode(cropLatent(z, s));
      return { data: d.data as Float32Array, planes: 6, height: d.shape[2]!, width: d.shape[3]! };
    });
    const ref = diffusersTiledBlend(grid, tiles);
    expect(Array.from(tiled.toFloat32())).toEqual(Array.from(ref.data));
    const s = errorStats(tiled.toFloat64(), whole.toFloat64());
    console.log(`[dcae] tiled 16/8 vs whole decode (32×32): ${formatStats(s)}`);
    expect(s.nonFinite).toBe(0);
    // 2×2-latent tiles see far less LiteMLA / conv context than the whole 4×4 latent: a different image
    // in the overlaps, as diffusers' tiling would give (it is exact only with one tile).
    expect(s.maxRel).toBeGreaterThan(0);
  });

  it('cropLatent takes the window and checks bounds', () => {
    const x = Tensor.f32([1, 1, 3, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const spec = tileGrid(3, 3, 8, tiling(16, 8, 8)).tiles[4]!; // row 1, col 1: [1:3, 1:3]
    expect(Array.from(cropLatent(x, spec).toFloat32())).toEqual([4, 5, 7, 8]);
    expect(() => cropLatent(Tensor.f32([1, 1, 2, 2], [0, 0, 0, 0]), spec)).toThrow(/outside \[1, 1, 2, 2\]/);
  });
});
