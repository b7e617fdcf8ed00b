/**
 * Patch embedding and unpatchify for a DiT with patch size p (SANA: p = 1; any p ≥ 1 works).
 *
 * patchEmbed: Conv2d(C → D, kernel p, stride p, bias), then flatten to tokens (B, h·w, D),
 *   h = H/p, w = W/p, token m = row·w + col. FLOPs 2·B·h·w·D·C·p².
 *
 * unpatchify (diffusers: reshape (B, h, w, p, p, C) then permute (0, 5, 1, 3, 2, 4)): each token
 *   carries p·p·C features ordered (py, px, c), so
 *     out[b, c, row·p + py, col·p + px] = tokens[b, row·w + col, (py·p + px)·C + c].
 *
 * patchify is its exact inverse (the same feature order), so unpatchify(patchify(x, p), h, w, p) = x.
 * Note that the patch-embed conv reads a patch in (c, py, px) order: patchEmbed(x) equals
 * linear(patchify(x)) only with the conv weight permuted to (D, py, px, c).
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { conv2d } from './conv2d.js';
import { nchwToTokens } from './layout.js';
import type { AccumulateOption } from './linear.js';

function checkImage(op: string, x: Tensor, p: number): [number, number, number, number] {
  if (!Number.isSafeInteger(p) || p < 1) throw new RangeError(`${op}: patch size must be a positive integer, got ${p}`);
  if (x.ndim !== 4) throw new RangeError(`${op}: want (B, C, H, W), got ${shapeStr(x.shape)}`);
  const [B, C, H, W] = x.shape as [number, number, number, number];
  if (H % p !== 0 || W % p !== 0 || H === 0 || W === 0) {
    throw new RangeError(`${op}: latent ${H}×${W} of ${shapeStr(x.shape)} is not a non-empty multiple of patch size ${p}`);
  }
  return [B, C, H, W];
}

/** Conv2d(kernel = stride = p) then flatten: (B, C, H, W) → (B, (H/p)·(W/p), D). */
export function patchEmbed(x: Tensor, weight: Tensor, bias: Tensor | null, p: number, opts: AccumulateOption = {}): Tensor {
  checkImage('patchEmbed', x, p);
  if (weight.ndim !== 4 || weight.shape[2] !== p || weight.shape[3] !== p || weight.shape[1] !== x.shape[1]) {
    throw new RangeError(`patchEmbed: weight ${shapeStr(weight.shape)} is not (D, ${x.shape[1]}, ${p}, ${p})`);
  }
  return nchwToTokens(conv2d(x, weight, bias, { ...opts, stride: p, padding: 0 }));
}

/** (B, C, H, W) → (B, (H/p)·(W/p), p·p·C) with features ordered (py, px, c). */
export function patchify(x: Tensor, p: number): Tensor {
  const [B, C, H, W] = checkImage('patchify', x, p);
  const h = H / p;
  const w = W / p;
  const F = p * p * C;
  const xs = x.toFloat32();
  const out = new Float32Array(xs.length);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      for (let y = 0; y < H; y++) {
        const row = Math.floor(y / p);
        const py = y % p;
        for (let xx = 0; xx < W; xx++) {
          const col = Math.floor(xx / p);
          const px = xx % p;
          out[(b * h * w + row * w + col) * F + (py * p + px) * C + c] = xs[((b * C + c) * H + y) * W + xx]!;
        }
      }
    }
  }
  return new Tensor([B, h * w, F], 'f32', out);
}

/** (B, h·w, p·p·C) tokens, features ordered (py, px, c) → (B, C, h·p, w·p). */
export function unpatchify(tokens: Tensor, h: number, w: number, p: number): Tensor {
  if (!Number.isSafeInteger(p) || p < 1) throw new RangeError(`unpatchify: patch size must be a positive integer, got ${p}`);
  if (tokens.ndim !== 3 || tokens.shape[1] !== h * w || tokens.shape[2]! % (p * p) !== 0) {
    throw new RangeError(`unpatchify: want tokens (B, ${h}·${w}, p²·C) with p = ${p}, got ${shapeStr(tokens.shape)}`);
  }
  const [B, , F] = tokens.shape as [number, number, number];
  const C = F / (p * p);
  const H = h * p;
  const W = w * p;
  const ts = tokens.toFloat32();
  const out = new Float32Array(ts.length);
  for (let b = 0; b < B; b++) {
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) {
        const t0 = (b * h * w + row * w + col) * F;
        for (let py = 0; py < p; py++) {
          for (let px = 0; px < p; px++) {
            for (let c = 0; c < C; c++) {
              out[((b * C + c) * H + row * p + py) * W + col * p + px] = ts[t0 + (py * p + px) * C + c]!;
            }
          }
        }
      }
    }
  }
  return new Tensor([B, C, H, W], 'f32', out);
}
