/**
 * Pixel shuffle / unshuffle with factor r (torch.nn.functional.pixel_shuffle / pixel_unshuffle),
 * the lossless reshapes between channels and space that DC-AE's shortcuts are built from.
 *
 *   shuffle:   (B, C·r², H, W) → (B, C, H·r, W·r),  out[b, c, y·r+i, x·r+j] = in[b, c·r² + i·r + j, y, x]
 *   unshuffle: (B, C, H·r, W·r) → (B, C·r², H, W),  the exact inverse
 *
 * Pure data movement, no FLOPs.
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { nchw } from './elementwise.js';

export function pixelShuffle(x: Tensor, r: number): Tensor {
  const [B, Cin, H, W] = nchw(x, 'pixelShuffle');
  if (!Number.isSafeInteger(r) || r < 1 || Cin % (r * r) !== 0) {
    throw new RangeError(`pixelShuffle: ${Cin} channels of ${shapeStr(x.shape)} are not divisible by factor² = ${r}²`);
  }
  const C = Cin / (r * r);
  const Ho = H * r;
  const Wo = W * r;
  const xs = x.toFloat32();
  const out = new Float32Array(xs.length);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let oy = 0; oy < Ho; oy++) {
        const y = Math.floor(oy / r);
        const i = oy - y * r;
        const orow = ((b * C + c) * Ho + oy) * Wo;
        for (let ox = 0; ox < Wo; ox++) {
          const xx = Math.floor(ox / r);
          const j = ox - xx * r;
          out[orow + ox] = xs[((b * Cin + c * r * r + i * r + j) * H + y) * W + xx]!;
        }
      }
    }
  }
  return new Tensor([B, C, Ho, Wo], 'f32', out);
}

export function pixelUnshuffle(x: Tensor, r: number): Tensor {
  const [B, C, H, W] = nchw(x, 'pixelUnshuffle');
  if (!Number.isSafeInteger(r) || r < 1 || H % r !== 0 || W % r !== 0) {
    throw new RangeError(`pixelUnshuffle: spatial size of ${shapeStr(x.shape)} is not divisible by factor ${r}`);
  }
  const Ho = H / r;
  const Wo = W / r;
  const Cout = C * r * r;
  const xs = x.toFloat32();
  const out = new Float32Array(xs.length);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) {
        const oy = Math.floor(y / r);
        const i = y - oy * r;
        const irow = ((b * C + c) * H + y) * W;
        for (let xx = 0; xx < W; xx++) {
          const ox = Math.floor(xx / r);
          const j = xx - ox * r;
          out[((b * Cout + c * r * r + i * r + j) * Ho + oy) * Wo + ox] = xs[irow + xx]!;
        }
      }
    }
  }
  return new Tensor([B, Cout, Ho, Wo], 'f32', out);
}
