/**
 * RMSNorm over the channel axis of an NCHW tensor, with a learned weight AND bias
 * (diffusers `RMSNorm(C, eps=1e-5, elementwise_affine=True, bias=True)` applied to x.movedim(1, −1);
 * the original DC-AE calls it "trms2d"). For every pixel (b, y, x):
 *
 *   rms = sqrt( (1/C) · Σ_c x[b,c,y,x]²  + eps )
 *   y[b,c,y,x] = x[b,c,y,x] / rms · weight[c] + bias[c]
 *
 * No mean is subtracted (unlike LayerNorm). FLOPs ≈ 5·B·C·H·W.
 */
import { shapeStr, type Tensor } from '../core/tensor.js';
import { rmsNormChannels } from '../ops/norms.js';
import { nchw } from './elementwise.js';
import type { DcaeOpOptions } from './params.js';

export const DCAE_RMS_NORM_EPS = 1e-5;

/** DC-AE's RMSNorm2d: the generic channel RMSNorm (reference/ops/norms.ts) with a required weight. */
export function rmsNorm2d(x: Tensor, weight: Tensor, bias: Tensor | null, eps = DCAE_RMS_NORM_EPS, opts: DcaeOpOptions = {}): Tensor {
  const [, C] = nchw(x, 'rmsNorm2d');
  if (weight.ndim !== 1 || weight.shape[0] !== C) {
    throw new RangeError(`rmsNorm2d: weight ${shapeStr(weight.shape)} does not match ${C} channels of ${shapeStr(x.shape)}`);
  }
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== C)) {
    throw new RangeError(`rmsNorm2d: bias ${shapeStr(bias.shape)} does not match ${C} channels of ${shapeStr(x.shape)}`);
  }
  return rmsNormChannels(x, { eps, weight, bias, accumulate: opts.accumulate });
}
