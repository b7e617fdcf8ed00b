/**
 * 2-D sin-cos position embedding (MAE layout; diffusers get_2d_sincos_pos_embed), used by the SANA
 * 2K / 4K checkpoints (`use_pe`, diffusers `interpolation_scale` 1.0 / 2.0). For a grid of h × w
 * tokens, embed dim D (D % 4 == 0), base size s (sample_size / patch):
 *
 *   y_i = i / (h / s) / interpolation_scale      (row coordinate),  i = 0 … h−1
 *   x_j = j / (w / s) / interpolation_scale      (column coordinate), j = 0 … w−1
 *   ω_k = 10000^(−k / (D/4)),  k = 0 … D/4 − 1
 *   PE[i·w + j] = [sin(x_j·ω), cos(x_j·ω), sin(y_i·ω), cos(y_i·ω)]   (first half: column / w, second: row / h)
 *
 * Coordinates are float32 (as torch.arange(float32) / …), the sin/cos in float64, stored as float32.
 * The embedding is added to the patch tokens once, after the patch embedding.
 */
import { Tensor } from '../core/tensor.js';

export interface PosEmbedOptions {
  /** sample_size // patch_size of the model (the grid the coordinates are normalised to). */
  baseSize: number;
  /** Divides the coordinates (SANA 2K: 1.0, 4K: 2.0). */
  interpolationScale: number;
}

/** (h·w, D) float32 position embedding for an h × w token grid. */
export function sincosPosEmbed2d(embedDim: number, gridH: number, gridW: number, opts: PosEmbedOptions): Tensor {
  if (!Number.isSafeInteger(embedDim) || embedDim % 4 !== 0 || embedDim <= 0) {
    throw new RangeError(`sincosPosEmbed2d: embed dim must be a positive multiple of 4, got ${embedDim}`);
  }
  if (!(gridH > 0 && gridW > 0)) throw new RangeError(`sincosPosEmbed2d: empty grid ${gridH}×${gridW}`);
  const f = Math.fround;
  const { baseSize, interpolationScale } = opts;
  const quarter = embedDim / 4;
  const omega = new Float64Array(quarter);
  for (let k = 0; k < quarter; k++) omega[k] = 1 / 10000 ** (k / quarter);
  const rowCoord = (i: number) => f(f(i / f(gridH / baseSize)) / f(interpolationScale));
  const colCoord = (j: number) => f(f(j / f(gridW / baseSize)) / f(interpolationScale));
  const out = new Float32Array(gridH * gridW * embedDim);
  for (let i = 0; i < gridH; i++) {
    const y = rowCoord(i);
    for (let j = 0; j < gridW; j++) {
      const x = colCoord(j);
      const o = (i * gridW + j) * embedDim;
      for (let k = 0; k < quarter; k++) {
        out[o + k] = Math.sin(x * omega[k]!);
        out[o + quarter + k] = Math.cos(x * omega[k]!);
        out[o + 2 * quarter + k] = Math.sin(y * omega[k]!);
        out[o + 3 * quarter + k] = Math.cos(y * omega[k]!);
      }
    }
  }
  return new Tensor([gridH * gridW, embedDim], 'f32', out);
}
