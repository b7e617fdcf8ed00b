/**
 * Dry-run plan of a decode: the tile grid, every distinct tile shape, and a memory estimate, from the
 * config and the image size alone (nothing is allocated; works for any size, e.g. 4096²).
 *
 * Memory (float32, bytes):
 *   untiled: weights + decoder activation peak on the whole latent
 *   tiled:   weights + latent + output image + two rows of decoded tiles (the blend's working set)
 *            + decoder activation peak of the largest tile        — bounded by the tile, not the image
 * The activation peak is decoder-memory.ts's live-tensor model of this reference.
 */
import { shapeStr } from '../core/tensor.js';
import { spatialCompressionRatio, type DcaeConfig } from './config.js';
import { estimateDecoderMemory, type DecoderMemoryEstimate } from './decoder-memory.js';
import { decoderParamShapes } from './param-shapes.js';
import { needsTiling, tileGrid, type TileGrid, type TilingOptions } from './tiling.js';

export interface DecodePlanOptions {
  /** Image size in pixels (multiples of the compression ratio). */
  height: number;
  width: number;
  batch?: number;
  /** Tile like diffusers' enable_tiling; omitted = whole-image decode. */
  tiling?: TilingOptions;
}

export interface PlannedTileShape {
  latentShape: number[];
  sampleShape: number[];
  count: number;
  memory: DecoderMemoryEstimate;
}

export interface DecodePlan {
  batch: number;
  height: number;
  width: number;
  f: number;
  latentShape: number[];
  outputShape: number[];
  /** True when the latent exceeds one tile (diffusers would take the tiled path). */
  tiled: boolean;
  grid: TileGrid | null;
  /** Distinct tile shapes, largest first (one entry, the whole latent, when not tiled). */
  tileShapes: PlannedTileShape[];
  memory: {
    weightsBytes: number;
    latentBytes: number;
    outputBytes: number;
    tileBufferBytes: number;
    activationPeakBytes: number;
    activationPeakAt: string;
    totalBytes: number;
    /** The whole-image decode's estimate, for comparison. */
    untiledTotalBytes: number;
  };
}

const F32 = 4;

export function planDecode(config: DcaeConfig, opts: DecodePlanOptions): DecodePlan {
  const f = spatialCompressionRatio(config);
  const B = opts.batch ?? 1;
  const { height: H, width: W } = opts;
  for (const [name, v] of [['height', H], ['width', W]] as const) {
    if (!Number.isSafeInteger(v) || v < f || v % f !== 0) throw new RangeError(`planDecode: ${name} ${v} must be a positive multiple of ${f}`);
  }
  if (!Number.isSafeInteger(B) || B < 1) throw new RangeError(`planDecode: batch ${B} must be a positive integer`);
  const lh = H / f;
  const lw = W / f;
  const L = config.latentChannels;
  const out = config.inChannels;
  let weightsElems = 0;
  for (const s of decoderParamShapes(config).values()) weightsElems += s.reduce((a, b) => a * b, 1);
  const weightsBytes = weightsElems * F32;
  const latentBytes = B * L * lh * lw * F32;
  const outputBytes = B * out * H * W * F32;
  const whole = estimateDecoderMemory(config, B, lh, lw);
  const untiledTotalBytes = weightsBytes + whole.peakBytes;
  // Every count below is a sum of products of integers no larger than this one: when it is a safe
  // integer (< 2^53), all of them are exact; beyond, doubles would round them silently.
  if (!Number.isSafeInteger(untiledTotalBytes + latentBytes + outputBytes)) {
    throw new RangeError(
      `planDecode: a ${H}×${W} decode at batch ${B} needs about ${(untiledTotalBytes + latentBytes + outputBytes).toExponential(3)} bytes, ` +
        `beyond 2^53 where byte counts are no longer exact; plan a smaller image or batch`,
    );
  }

  const tiled = opts.tiling !== undefined && needsTiling(lh, lw, f, opts.tiling);
  if (!tiled) {
    return {
      batch: B, height: H, width: W, f, latentShape: [B, L, lh, lw], outputShape: [B, out, H, W], tiled: false, grid: null,
      tileShapes: [{ latentShape: [B, L, lh, lw], sampleShape: [B, out, H, W], count: 1, memory: whole }],
      memory: { weightsBytes, latentBytes, outputBytes, tileBufferBytes: 0, activationPeakBytes: whole.peakBytes, activationPeakAt: whole.peakAt, totalBytes: untiledTotalBytes, untiledTotalBytes },
    };
  }
  const grid = tileGrid(lh, lw, f, opts.tiling!);
  const byShape = new Map<string, PlannedTileShape>();
  for (const t of grid.tiles) {
    const key = `${t.latentHeight}x${t.latentWidth}`;
    const e = byShape.get(key);
    if (e) e.count++;
    else {
      byShape.set(key, {
        latentShape: [B, L, t.latentHeight, t.latentWidth],
        sampleShape: [B, out, t.sampleHeight, t.sampleWidth],
        count: 1,
        memory: estimateDecoderMemory(config, B, t.latentHeight, t.latentWidth),
      });
    }
  }
  const tileShapes = [...byShape.values()].sort((a, b) => b.memory.peakBytes - a.memory.peakBytes);
  // assembleTiles holds the previous row of blended tiles plus the current row.
  const rowBytes = (r: number): number =>
    grid.tiles.filter((t) => t.row === r).reduce((s, t) => s + B * out * t.sampleHeight * t.sampleWidth * F32, 0);
  let tileBufferBytes = rowBytes(0);
  for (let r = 1; r < grid.rows; r++) tileBufferBytes = Math.max(tileBufferBytes, rowBytes(r - 1) + rowBytes(r));
  const peak = tileShapes[0]!.memory;
  return {
    batch: B, height: H, width: W, f, latentShape: [B, L, lh, lw], outputShape: [B, out, H, W], tiled: true, grid, tileShapes,
    memory: {
      weightsBytes, latentBytes, outputBytes, tileBufferBytes,
      activationPeakBytes: peak.peakBytes, activationPeakAt: peak.peakAt,
      totalBytes: weightsBytes + latentBytes + outputBytes + tileBufferBytes + peak.peakBytes,
      untiledTotalBytes,
    },
  };
}

/** Bytes as MiB/GiB text. */
export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${(n / 2 ** 10).toFixed(1)} KiB`;
}

/** The plan as the text `sana-lab run dcae-decode --plan` prints. */
export function formatDecodePlan(p: DecodePlan): string {
  const lines: string[] = [];
  // every size below is height × width, every position (y, x), as the NCHW shapes are
  lines.push(`DC-AE decode plan: image ${p.height}×${p.width} px (H×W, batch ${p.batch}), latent ${shapeStr(p.latentShape)} → output ${shapeStr(p.outputShape)} (f = ${p.f})`);
  if (p.grid === null) {
    lines.push('tiling: none (whole-image decode)');
  } else {
    const g = p.grid;
    const t = g.tiling;
    lines.push(`tiling (H×W, positions (y, x)): tile ${t.tileHeight}×${t.tileWidth} px, stride ${t.strideHeight}×${t.strideWidth} px, blend ${g.blendHeight}×${g.blendWidth} px (linear, diffusers tiled_decode)`);
    lines.push(`tiles: ${g.rows} rows × ${g.cols} cols = ${g.tiles.length}`);
    for (const s of g.tiles) {
      lines.push(`  tile (${s.row},${s.col}): latent [${s.latentY}:${s.latentY + s.latentHeight}, ${s.latentX}:${s.latentX + s.latentWidth}] → pixels ${s.sampleHeight}×${s.sampleWidth} at (${s.sampleY}, ${s.sampleX}), keeps ${s.keepHeight}×${s.keepWidth}`);
    }
  }
  lines.push('per-tile shapes:');
  for (const s of p.tileShapes) {
    lines.push(`  ${s.count}× latent ${shapeStr(s.latentShape)} → ${shapeStr(s.sampleShape)}: activation peak ${formatBytes(s.memory.peakBytes)} at ${s.memory.peakAt}; largest tensor ${s.memory.largestTensor.name} ${shapeStr(s.memory.largestTensor.shape)} (${formatBytes(s.memory.largestTensor.bytes)})`);
    for (const st of s.memory.stages) lines.push(`      ${st.name.padEnd(20)} ${shapeStr(st.shape)}`);
  }
  const m = p.memory;
  lines.push('memory estimate (float32):');
  lines.push(`  decoder weights        ${formatBytes(m.weightsBytes)}`);
  if (p.tiled) {
    lines.push(`  latent                 ${formatBytes(m.latentBytes)}`);
    lines.push(`  output image           ${formatBytes(m.outputBytes)}`);
    lines.push(`  tile rows (blend)      ${formatBytes(m.tileBufferBytes)}`);
  }
  lines.push(`  activation peak        ${formatBytes(m.activationPeakBytes)} (${m.activationPeakAt})`);
  lines.push(`  total                  ${formatBytes(m.totalBytes)}${p.tiled ? ` (whole-image decode: ${formatBytes(m.untiledTotalBytes)})` : ''}`);
  return lines.join('\n');
}
