/**
 * Nearest-neighbour upsampling by an integer factor s
 * (torch.nn.functional.interpolate(x, scale_factor=s, mode="nearest")):
 *   (B, C, H, W) → (B, C, H·s, W·s),  out[b, c, y, x] = in[b, c, ⌊y/s⌋, ⌊x/s⌋]
 * DC-AE's decoder up blocks ("InterpolateConv") apply it before their 3×3 conv. No FLOPs.
 */
import { Tensor } from '../core/tensor.js';
import { nchw } from './elementwise.js';

export function upsampleNearest(x: Tensor, s = 2): Tensor {
  const [B, C, H, W] = nchw(x, 'upsampleNearest');
  if (!Number.isSafeInteger(s) || s < 1) throw new RangeError(`upsampleNearest: factor must be a positive integer, got ${s}`);
  const Ho = H * s;
  const Wo = W * s;
  const xs = x.toFloat32();
  const out = new Float32Array(B * C * Ho * Wo);
  for (let bc = 0; bc < B * C; bc++) {
    for (let oy = 0; oy < Ho; oy++) {
      const irow = (bc * H + Math.floor(oy / s)) * W;
      const orow = (bc * Ho + oy) * Wo;
      for (let ox = 0; ox < Wo; ox++) out[orow + ox] = xs[irow + Math.floor(ox / s)]!;
    }
  }
  return new Tensor([B, C, Ho, Wo], 'f32', out);
}
