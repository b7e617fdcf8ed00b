/**
 * Encoder downsample block (diffusers `DCDownBlock2d`, shortcut=True): halves the resolution and
 * moves to the next stage's width Co, as a learned conv plus the parameter-free shortcut:
 *
 *   "conv" (SANA):        y = conv3×3_stride2(x) + downsampleShortcut(x, Co)
 *   "pixel_unshuffle":    y = pixelUnshuffle(conv3×3(x), 2) + downsampleShortcut(x, Co)   (conv → Co/4)
 *
 * Parameters: conv.weight [Co or Co/4, C, 3, 3], conv.bias. FLOPs (conv type) 2·9·C·Co·H·W/4.
 */
import type { Tensor } from '../core/tensor.js';
import { conv2d } from '../ops/conv2d.js';
import { add } from './elementwise.js';
import type { DcaeOpOptions, ParamScope } from './params.js';
import { pixelUnshuffle } from './pixel-shuffle.js';
import { downsampleShortcut } from './shortcuts.js';

export type DownsampleBlockType = 'conv' | 'pixel_unshuffle';

export function downBlock(x: Tensor, p: ParamScope, type: DownsampleBlockType, opts: DcaeOpOptions = {}): Tensor {
  const w = p.get('conv.weight');
  const b = p.get('conv.bias');
  const acc = { accumulate: opts.accumulate };
  const main = type === 'conv'
    ? conv2d(x, w, b, { stride: 2, padding: 1, ...acc })
    : pixelUnshuffle(conv2d(x, w, b, { padding: 1, ...acc }), 2);
  return add(main, downsampleShortcut(x, main.shape[1]!, 2, opts), 'downBlock shortcut');
}
