/**
 * Host-side layout changes at the runners' boundaries (the only data movement the runners do in
 * TypeScript; all of it is latent- or image-sized, never per-block):
 *   nchwToNhwc / nhwcToNchw   (B, C, H, W) ⇄ (B, H, W, C)            DC-AE latent in, reference checks
 *   patchTokens               (B, C, H, W) → (B, (H/p)·(W/p), p²·C)  the DiT's patch-embed input, features
 *                             ordered (py, px, c) as proj_out's (reference/ops/patchify.ts), so a latent
 *                             and the model's velocity share one token layout (the sampler's update is
 *                             elementwise on it); the runner permutes the patch-embed conv weight to match
 *   patchEmbedWeight          the Conv2d(kernel = stride = p) weight (D, C, p, p) → (D, p·p·C) in that order
 */
import { shapeStr } from '../../reference/core/tensor.js';

export function nchwToNhwc(x: Float32Array, B: number, C: number, H: number, W: number): Float32Array {
  const HW = H * W;
  const out = new Float32Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const src = (b * C + c) * HW;
      for (let p = 0; p < HW; p++) out[(b * HW + p) * C + c] = x[src + p]!;
    }
  }
  return out;
}

export function nhwcToNchw(x: Float32Array, B: number, H: number, W: number, C: number): Float32Array {
  const HW = H * W;
  const out = new Float32Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < HW; p++) {
      const src = (b * HW + p) * C;
      for (let c = 0; c < C; c++) out[(b * C + c) * HW + p] = x[src + c]!;
    }
  }
  return out;
}

/** (B, C, H, W) → (B, h·w, p·p·C), token = row·w + col, feature = (py·p + px)·C + c. */
export function patchTokens(x: Float32Array, shape: readonly number[], p: number): Float32Array {
  const [B, C, H, W] = shape as [number, number, number, number];
  if (shape.length !== 4 || H % p !== 0 || W % p !== 0) throw new RangeError(`patchTokens: ${shapeStr(shape)} is not (B, C, H, W) with H, W multiples of ${p}`);
  if (p === 1) return nchwToNhwc(x, B, C, H, W);
  const h = H / p;
  const w = W / p;
  const F = C * p * p;
  const out = new Float32Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) {
        const row = Math.floor(y / p);
        const py = y - row * p;
        for (let xx = 0; xx < W; xx++) {
          const col = Math.floor(xx / p);
          const px = xx - col * p;
          out[(b * h * w + row * w + col) * F + (py * p + px) * C + c] = x[((b * C + c) * H + y) * W + xx]!;
        }
      }
    }
  }
  return out;
}

/** The patch-embed conv weight (D, C, p, p) as the matrix (D, p·p·C) that multiplies patchTokens' features. */
export function patchEmbedWeight(w: Float32Array, D: number, C: number, p: number): Float32Array {
  if (p === 1) return w;
  const out = new Float32Array(w.length);
  for (let d = 0; d < D; d++) {
    for (let c = 0; c < C; c++) {
      for (let py = 0; py < p; py++) {
        for (let px = 0; px < p; px++) out[d * C * p * p + (py * p + px) * C + c] = w[((d * C + c) * p + py) * p + px]!;
      }
    }
  }
  return out;
}
