/**
 * Tiled decoding exactly as diffusers `AutoencoderDC.tiled_decode` does it, but streamed so that
 * only two rows of decoded tiles are held (the decoder's activations are bounded by one tile).
 *
 * Tiles (all sizes in image pixels; latent = pixels / f):
 *   - the latent is cut at starts 0, s, 2s, … < latent size (s = stride/f), each tile min(T/f, rest) wide;
 *   - tile (i, j) is decoded on its own, then blended IN PLACE with the (already blended) tile above
 *     and then the one to its left over e = T − stride pixels (clipped to both tiles' sizes):
 *         b[y] = a[hₐ − e + y] · (1 − y/e) + b[y] · (y/e),   y = 0 … e−1      (rows, then columns)
 *     in float32 with the weights rounded to float32, as torch evaluates it;
 *   - only the first `stride` rows/columns of each blended tile are kept and concatenated.
 * Each output pixel is therefore a convex combination of the tiles covering it (weights sum to 1;
 * `tileBlendWeights` computes them). Tiling changes LiteMLA's global context, so a tiled decode is
 * close to, not equal to, the whole-image decode; with one tile it is the plain decoder.
 *
 * diffusers only tiles when the latent is larger than one tile (`needsTiling`); its defaults are
 * 512/448 (DIFFUSERS_TILING) and SANA's 4K recipe is 1024/896 (SANA_4K_TILING).
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { nchw } from './elementwise.js';

export interface TilingOptions {
  /** Tile size and stride in image pixels (diffusers tile_sample_min_* / tile_sample_stride_*). */
  tileHeight: number;
  tileWidth: number;
  strideHeight: number;
  strideWidth: number;
}

/** Square tiles; the stride defaults to 7/8 of the tile (both published recipes), rounded down to `multiple`. */
export function tiling(tile: number, stride?: number, multiple = 32): TilingOptions {
  const s = stride ?? Math.max(multiple, Math.floor((tile * 7) / 8 / multiple) * multiple);
  return { tileHeight: tile, tileWidth: tile, strideHeight: s, strideWidth: s };
}

export const DIFFUSERS_TILING: TilingOptions = Object.freeze(tiling(512, 448));
export const SANA_4K_TILING: TilingOptions = Object.freeze(tiling(1024, 896));

/** Throws unless tiles and strides are positive multiples of f with stride ≤ tile. */
export function checkTiling(t: TilingOptions, f: number): void {
  for (const [name, tile, stride] of [['height', t.tileHeight, t.strideHeight], ['width', t.tileWidth, t.strideWidth]] as const) {
    if (!Number.isSafeInteger(tile) || tile < f || tile % f !== 0) {
      throw new RangeError(`tiling: tile ${name} ${tile} must be a positive multiple of the compression ratio ${f}`);
    }
    if (!Number.isSafeInteger(stride) || stride < f || stride % f !== 0 || stride > tile) {
      throw new RangeError(`tiling: stride ${name} ${stride} must be a multiple of ${f} in [${f}, ${tile}] (the tile ${name})`);
    }
  }
}

/** diffusers' condition for taking the tiled path: the latent exceeds one tile in either dimension. */
export function needsTiling(latentHeight: number, latentWidth: number, f: number, t: TilingOptions): boolean {
  return latentWidth > Math.floor(t.tileWidth / f) || latentHeight > Math.floor(t.tileHeight / f);
}

export interface TileSpec {
  row: number;
  col: number;
  /** Latent window [latentY, latentY + latentHeight) × [latentX, latentX + latentWidth). */
  latentY: number;
  latentX: number;
  latentHeight: number;
  latentWidth: number;
  /** Decoded tile size (latent × f) and its top-left in the image. */
  sampleY: number;
  sampleX: number;
  sampleHeight: number;
  sampleWidth: number;
  /** The part of the blended tile written to the image: rows/cols [0, keep). */
  keepHeight: number;
  keepWidth: number;
}

export interface TileGrid {
  f: number;
  tiling: TilingOptions;
  latentHeight: number;
  latentWidth: number;
  rows: number;
  cols: number;
  /** Blend extents in image pixels (tile − stride; clipped per pair to the tiles' sizes). */
  blendHeight: number;
  blendWidth: number;
  /** Row-major: tiles[row · cols + col]. */
  tiles: TileSpec[];
}

export function tileGrid(latentHeight: number, latentWidth: number, f: number, t: TilingOptions): TileGrid {
  checkTiling(t, f);
  if (!Number.isSafeInteger(latentHeight) || !Number.isSafeInteger(latentWidth) || latentHeight < 1 || latentWidth < 1) {
    throw new RangeError(`tileGrid: invalid latent size ${latentHeight}×${latentWidth}`);
  }
  const tileLh = t.tileHeight / f;
  const tileLw = t.tileWidth / f;
  const strideLh = t.strideHeight / f;
  const strideLw = t.strideWidth / f;
  const rowStarts: number[] = [];
  for (let y = 0; y < latentHeight; y += strideLh) rowStarts.push(y);
  const colStarts: number[] = [];
  for (let x = 0; x < latentWidth; x += strideLw) colStarts.push(x);
  const tiles: TileSpec[] = [];
  rowStarts.forEach((ly, row) => {
    colStarts.forEach((lx, col) => {
      const lh = Math.min(tileLh, latentHeight - ly);
      const lw = Math.min(tileLw, latentWidth - lx);
      tiles.push({
        row, col, latentY: ly, latentX: lx, latentHeight: lh, latentWidth: lw,
        sampleY: ly * f, sampleX: lx * f, sampleHeight: lh * f, sampleWidth: lw * f,
        keepHeight: Math.min(t.strideHeight, lh * f), keepWidth: Math.min(t.strideWidth, lw * f),
      });
    });
  });
  return {
    f, tiling: { ...t }, latentHeight, latentWidth, rows: rowStarts.length, cols: colStarts.length,
    blendHeight: t.tileHeight - t.strideHeight, blendWidth: t.tileWidth - t.strideWidth, tiles,
  };
}

/** `planes` stacked height×width images (B·C of a decoded NCHW tile), float32 or float64. */
export interface Planes {
  data: Float32Array | Float64Array;
  planes: number;
  height: number;
  width: number;
}

type Round = (v: number) => number;
const identity: Round = (v) => v;

/** b's first rows ← a's last rows · (1 − y/e) + b · (y/e), in place (diffusers blend_v). */
export function blendVertical(a: Planes, b: Planes, extent: number, round: Round = Math.fround): void {
  const e = Math.min(a.height, b.height, extent);
  const W = b.width;
  if (a.width !== W || a.planes !== b.planes) throw new RangeError(`blendVertical: tiles ${a.planes}×${a.height}×${a.width} and ${b.planes}×${b.height}×${W} differ in width`);
  for (let y = 0; y < e; y++) {
    const wa = round(1 - y / e);
    const wb = round(y / e);
    for (let p = 0; p < b.planes; p++) {
      const ar = (p * a.height + a.height - e + y) * W;
      const br = (p * b.height + y) * W;
      for (let x = 0; x < W; x++) b.data[br + x] = round(round(a.data[ar + x]! * wa) + round(b.data[br + x]! * wb));
    }
  }
}

/** b's first columns ← a's last columns · (1 − x/e) + b · (x/e), in place (diffusers blend_h). */
export function blendHorizontal(a: Planes, b: Planes, extent: number, round: Round = Math.fround): void {
  const e = Math.min(a.width, b.width, extent);
  const H = b.height;
  if (a.height !== H || a.planes !== b.planes) throw new RangeError(`blendHorizontal: tiles ${a.planes}×${a.height}×${a.width} and ${b.planes}×${H}×${b.width} differ in height`);
  for (let x = 0; x < e; x++) {
    const wa = round(1 - x / e);
    const wb = round(x / e);
    for (let p = 0; p < b.planes; p++) {
      for (let y = 0; y < H; y++) {
        const ai = (p * a.height + y) * a.width + a.width - e + x;
        const bi = (p * H + y) * b.width + x;
        b.data[bi] = round(round(a.data[ai]! * wa) + round(b.data[bi]! * wb));
      }
    }
  }
}

/**
 * Blend the tiles of `grid` in diffusers' order and write the kept parts into `out`
 * (`planes` × H × W, H = latentHeight·f). `tileAt` produces each tile once, row by row; only the
 * previous and the current row of tiles are referenced at any time.
 */
export function assembleTiles(grid: TileGrid, tileAt: (spec: TileSpec) => Planes, out: Planes, round: Round = Math.fround): void {
  const H = grid.latentHeight * grid.f;
  const W = grid.latentWidth * grid.f;
  if (out.height !== H || out.width !== W) throw new RangeError(`assembleTiles: output ${out.height}×${out.width}, grid covers ${H}×${W}`);
  let prevRow: Planes[] = [];
  for (let r = 0; r < grid.rows; r++) {
    const row: Planes[] = [];
    for (let c = 0; c < grid.cols; c++) {
      const spec = grid.tiles[r * grid.cols + c]!;
      const t = tileAt(spec);
      if (t.planes !== out.planes || t.height !== spec.sampleHeight || t.width !== spec.sampleWidth) {
        throw new RangeError(`assembleTiles: tile (${r}, ${c}) is ${t.planes}×${t.height}×${t.width}, want ${out.planes}×${spec.sampleHeight}×${spec.sampleWidth}`);
      }
      if (r > 0) blendVertical(prevRow[c]!, t, grid.blendHeight, round);
      if (c > 0) blendHorizontal(row[c - 1]!, t, grid.blendWidth, round);
      row.push(t);
      for (let p = 0; p < out.planes; p++) {
        for (let y = 0; y < spec.keepHeight; y++) {
          const src = (p * t.height + y) * t.width;
          out.data.set(t.data.subarray(src, src + spec.keepWidth), (p * H + spec.sampleY + y) * W + spec.sampleX);
        }
      }
    }
    prevRow = row;
  }
}

/** The latent window of one tile: z[:, :, y:y+h, x:x+w]. */
export function cropLatent(z: Tensor, spec: TileSpec): Tensor {
  const [B, C, H, W] = nchw(z, 'cropLatent');
  const { latentY: y0, latentX: x0, latentHeight: h, latentWidth: w } = spec;
  if (y0 + h > H || x0 + w > W) throw new RangeError(`cropLatent: window ${h}×${w} at (${y0}, ${x0}) outside ${shapeStr(z.shape)}`);
  const zs = z.toFloat32();
  const out = new Float32Array(B * C * h * w);
  for (let p = 0; p < B * C; p++) {
    for (let y = 0; y < h; y++) {
      const src = (p * H + y0 + y) * W + x0;
      out.set(zs.subarray(src, src + w), (p * h + y) * w);
    }
  }
  return new Tensor([B, C, h, w], 'f32', out);
}

/**
 * diffusers `tiled_decode`: decode every tile of `grid` with `decodeTile` (which must return
 * `outChannels` channels at f× the tile's latent size) and blend. `onTile` is told each tile as it
 * is decoded (progress, memory probes).
 */
export function tiledDecode(
  z: Tensor,
  decodeTile: (latentTile: Tensor) => Tensor,
  grid: TileGrid,
  outChannels: number,
  onTile?: (spec: TileSpec) => void,
): Tensor {
  const [B, , Hl, Wl] = nchw(z, 'tiledDecode');
  if (Hl !== grid.latentHeight || Wl !== grid.latentWidth) {
    throw new RangeError(`tiledDecode: latent ${shapeStr(z.shape)} does not match the ${grid.latentHeight}×${grid.latentWidth} grid`);
  }
  const H = Hl * grid.f;
  const W = Wl * grid.f;
  const out: Planes = { data: new Float32Array(B * outChannels * H * W), planes: B * outChannels, height: H, width: W };
  assembleTiles(grid, (spec) => {
    onTile?.(spec);
    const d = decodeTile(cropLatent(z, spec));
    const want = [B, outChannels, spec.sampleHeight, spec.sampleWidth];
    if (d.ndim !== 4 || d.shape.some((v, i) => v !== want[i])) {
      throw new RangeError(`tiledDecode: tile (${spec.row}, ${spec.col}) decoded to ${shapeStr(d.shape)}, want ${shapeStr(want)}`);
    }
    return { data: d.toFloat32(), planes: B * outChannels, height: spec.sampleHeight, width: spec.sampleWidth };
  }, out);
  return new Tensor([B, outChannels, H, W], 'f32', out.data as Float32Array);
}

/**
 * The blending weight of every tile at every image pixel (float64, for checking and plotting; it
 * allocates tiles × H × W values, so use small grids): image = Σ_t weights[t] ⊙ tile_t placed at its
 * offset. Obtained by running the exact blend on one-hot tiles.
 */
export function tileBlendWeights(grid: TileGrid): { tiles: number; height: number; width: number; weights: Float64Array } {
  const T = grid.tiles.length;
  const H = grid.latentHeight * grid.f;
  const W = grid.latentWidth * grid.f;
  const out: Planes = { data: new Float64Array(T * H * W), planes: T, height: H, width: W };
  assembleTiles(grid, (spec) => {
    const t = spec.row * grid.cols + spec.col;
    const n = spec.sampleHeight * spec.sampleWidth;
    const data = new Float64Array(T * n);
    data.fill(1, t * n, (t + 1) * n);
    return { data, planes: T, height: spec.sampleHeight, width: spec.sampleWidth };
  }, out, identity);
  return { tiles: T, height: H, width: W, weights: out.data as Float64Array };
}
