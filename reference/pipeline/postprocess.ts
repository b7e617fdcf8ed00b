/**
 * The decoded image to 8-bit RGB, as diffusers' image processor does it (float32 torch, then NumPy):
 *
 *   x ∈ [−1, 1] (B, 3, H, W)  →  v = clamp(x/2 + 0.5, 0, 1)  →  u8 = round_half_even(v · 255)
 *
 * every product and sum in float32, NumPy's `round` (half to even). Output is interleaved RGB, row
 * major (H, W, 3), the layout PNG encoders take. A non-finite value is an error, not a black pixel.
 */
import { shapeStr, Tensor } from '../core/tensor.js';

const f32 = Math.fround;

/** NumPy's round: to the nearest integer, ties to even. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** diffusers denormalize: clamp(x/2 + 0.5, 0, 1) in float32, same shape. */
export function denormalize(image: Tensor): Tensor {
  const src = image.toFloat32();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = f32(f32(src[i]! / 2) + 0.5);
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return new Tensor(image.shape, 'f32', out);
}

/** One image of a (B, 3, H, W) batch in [−1, 1] → (H·W·3) uint8 RGB. */
export function imageToRgb8(image: Tensor, index = 0): { pixels: Uint8Array; width: number; height: number } {
  if (image.ndim !== 4 || image.shape[1] !== 3) throw new RangeError(`imageToRgb8: want a (B, 3, H, W) image, got ${shapeStr(image.shape)}`);
  const [B, , H, W] = image.shape as [number, number, number, number];
  if (!Number.isInteger(index) || index < 0 || index >= B) throw new RangeError(`imageToRgb8: image ${index} of a batch of ${B}`);
  const src = image.toFloat32();
  const plane = H * W;
  const base = index * 3 * plane;
  const pixels = new Uint8Array(plane * 3);
  let bad = 0;
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < plane; p++) {
      const x = src[base + c * plane + p]!;
      if (!Number.isFinite(x)) {
        bad++;
        continue;
      }
      let v = f32(f32(x / 2) + 0.5);
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      pixels[p * 3 + c] = roundHalfEven(f32(v * 255));
    }
  }
  if (bad > 0) throw new RangeError(`imageToRgb8: the decoded image has ${bad} non-finite values (NaN/Inf) of ${3 * plane}`);
  return { pixels, width: W, height: H };
}
