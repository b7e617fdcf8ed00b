/**
 * Elementwise helpers for residual connections: add(a, b) = a + b over tensors of one shape
 * (1 FLOP per element). Float32 result; the sum of two float32 values is rounded once, as in torch.
 */
import { sameShape, shapeStr, Tensor } from '../core/tensor.js';

export function add(a: Tensor, b: Tensor, what = 'add'): Tensor {
  if (!sameShape(a.shape, b.shape)) throw new RangeError(`${what}: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
  const as = a.toFloat32();
  const bs = b.toFloat32();
  const out = new Float32Array(as.length);
  for (let i = 0; i < as.length; i++) out[i] = as[i]! + bs[i]!;
  return new Tensor(a.shape, 'f32', out);
}

/** x · s for a scalar s (float32 result), e.g. latent scaling by `scaling_factor`. */
export function scale(x: Tensor, s: number): Tensor {
  const xs = x.toFloat32();
  const out = new Float32Array(xs.length);
  const sf = Math.fround(s);
  for (let i = 0; i < xs.length; i++) out[i] = xs[i]! * sf;
  return new Tensor(x.shape, 'f32', out);
}

/** Shape check shared by the NCHW ops: returns [B, C, H, W] or throws naming the op. */
export function nchw(x: Tensor, op: string): [number, number, number, number] {
  if (x.ndim !== 4) throw new RangeError(`${op}: want an NCHW tensor (B, C, H, W), got ${shapeStr(x.shape)}`);
  return x.shape as unknown as [number, number, number, number];
}
