/**
 * Layout changes between image tensors (B, C, H, W) and token sequences (B, N, C), N = H·W, with
 * token index m = row·W + col (row-major over the grid, as `flatten(2).transpose(1, 2)` in torch).
 * Pure data movement, no FLOPs.
 */
import { shapeStr, Tensor } from '../core/tensor.js';

/** (B, C, H, W) → (B, H·W, C). */
export function nchwToTokens(x: Tensor): Tensor {
  if (x.ndim !== 4) throw new RangeError(`nchwToTokens: want (B, C, H, W), got ${shapeStr(x.shape)}`);
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const xs = x.toFloat32();
  const N = H * W;
  const out = new Float32Array(xs.length);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const src = (b * C + c) * N;
      for (let n = 0; n < N; n++) out[(b * N + n) * C + c] = xs[src + n]!;
    }
  }
  return new Tensor([B, N, C], 'f32', out);
}

/** (B, H·W, C) → (B, C, H, W). */
export function tokensToNchw(x: Tensor, height: number, width: number): Tensor {
  if (x.ndim !== 3 || x.shape[1] !== height * width) {
    throw new RangeError(`tokensToNchw: want (B, ${height}·${width}, C) tokens, got ${shapeStr(x.shape)}`);
  }
  const [B, N, C] = x.shape as [number, number, number];
  const xs = x.toFloat32();
  const out = new Float32Array(xs.length);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const src = (b * N + n) * C;
      for (let c = 0; c < C; c++) out[(b * C + c) * N + n] = xs[src + c]!;
    }
  }
  return new Tensor([B, C, height, width], 'f32', out);
}
