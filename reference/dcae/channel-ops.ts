/**
 * Channel regrouping used by DC-AE's non-parametric shortcuts.
 *
 *   channelGroupMean(x, g):     (B, C, H, W) → (B, C/g, H, W),  out[b, o] = (1/g) · Σ_{k<g} x[b, o·g + k]
 *                               (torch: x.unflatten(1, (−1, g)).mean(dim=2); groups are CONSECUTIVE channels)
 *   repeatInterleaveChannels(x, r): (B, C, H, W) → (B, C·r, H, W),  out[b, c·r + k] = x[b, c]
 *                               (torch: x.repeat_interleave(r, dim=1))
 *
 * FLOPs: group mean B·C·H·W adds; repeat-interleave is data movement.
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { nchw } from './elementwise.js';
import { accumulatorRound, type DcaeOpOptions } from './params.js';

export function channelGroupMean(x: Tensor, g: number, opts: DcaeOpOptions = {}): Tensor {
  const [B, C, H, W] = nchw(x, 'channelGroupMean');
  if (!Number.isSafeInteger(g) || g < 1 || C % g !== 0) {
    throw new RangeError(`channelGroupMean: ${C} channels of ${shapeStr(x.shape)} do not split into groups of ${g}`);
  }
  const Co = C / g;
  const HW = H * W;
  const xs = x.toFloat32();
  const r = accumulatorRound(opts);
  const out = new Float32Array(B * Co * HW);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < Co; o++) {
      const obase = (b * Co + o) * HW;
      const ibase = (b * C + o * g) * HW;
      for (let p = 0; p < HW; p++) {
        let s = 0;
        for (let k = 0; k < g; k++) s = r(s + xs[ibase + k * HW + p]!);
        out[obase + p] = s / g;
      }
    }
  }
  return new Tensor([B, Co, H, W], 'f32', out);
}

export function repeatInterleaveChannels(x: Tensor, r: number): Tensor {
  const [B, C, H, W] = nchw(x, 'repeatInterleaveChannels');
  if (!Number.isSafeInteger(r) || r < 1) throw new RangeError(`repeatInterleaveChannels: repeats must be a positive integer, got ${r}`);
  const HW = H * W;
  const xs = x.toFloat32();
  const out = new Float32Array(B * C * r * HW);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const src = xs.subarray((b * C + c) * HW, (b * C + c + 1) * HW);
      for (let k = 0; k < r; k++) out.set(src, ((b * C + c) * r + k) * HW);
    }
  }
  return new Tensor([B, C * r, H, W], 'f32', out);
}

/** Concatenate NCHW tensors along the channel axis (torch.cat(dim=1)). */
export function concatChannels(xs: readonly Tensor[]): Tensor {
  if (xs.length === 0) throw new RangeError('concatChannels: no tensors');
  const [B, , H, W] = nchw(xs[0]!, 'concatChannels');
  let C = 0;
  for (const t of xs) {
    const [b, c, h, w] = nchw(t, 'concatChannels');
    if (b !== B || h !== H || w !== W) {
      throw new RangeError(`concatChannels: ${shapeStr(t.shape)} does not match batch/spatial size of ${shapeStr(xs[0]!.shape)}`);
    }
    C += c;
  }
  const HW = H * W;
  const out = new Float32Array(B * C * HW);
  for (let b = 0; b < B; b++) {
    let c0 = 0;
    for (const t of xs) {
      const c = t.shape[1]!;
      out.set(t.toFloat32().subarray(b * c * HW, (b + 1) * c * HW), (b * C + c0) * HW);
      c0 += c;
    }
  }
  return new Tensor([B, C, H, W], 'f32', out);
}
