/**
 * DC-AE ResBlock (diffusers `ResBlock`, norm "rms_norm"): the block of the high-resolution stages.
 *
 *   h = conv2(act(conv1(x)))       conv1: 3×3 C→C with bias,  conv2: 3×3 C→C without bias
 *   y = x + RMSNorm2d(h)           (norm over channels with weight and bias, eps 1e-5)
 *
 * Parameters: conv1.weight [C,C,3,3], conv1.bias [C], conv2.weight [C,C,3,3], norm.weight/bias [C].
 * FLOPs ≈ 2 · (2·9·C²·H·W) per image.
 */
import type { Tensor } from '../core/tensor.js';
import { conv2d } from '../ops/conv2d.js';
import { activationByName } from './activations.js';
import { add } from './elementwise.js';
import type { DcaeOpOptions, ParamScope } from './params.js';
import { rmsNorm2d } from './rms-norm-2d.js';

export interface ResBlockOptions extends DcaeOpOptions {
  /** Activation between the convs (diffusers `act_fn`; SiLU in every SANA DC-AE stage). */
  act?: string;
}

export function resBlock(x: Tensor, p: ParamScope, opts: ResBlockOptions = {}): Tensor {
  const act = activationByName(opts.act ?? 'silu');
  let h = conv2d(x, p.get('conv1.weight'), p.get('conv1.bias'), { padding: 1, accumulate: opts.accumulate });
  h = act(h);
  h = conv2d(h, p.get('conv2.weight'), null, { padding: 1, accumulate: opts.accumulate });
  h = rmsNorm2d(h, p.get('norm.weight'), p.get('norm.bias'), undefined, opts);
  return add(h, x, 'resBlock residual');
}
