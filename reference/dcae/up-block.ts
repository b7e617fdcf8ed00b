/**
 * Decoder upsample block (diffusers `DCUpBlock2d`, shortcut=True): doubles the resolution and
 * moves to the next stage's width Co, as a learned conv plus the parameter-free shortcut:
 *
 *   "interpolate" (SANA):  y = conv3×3(upsampleNearest(x, 2)) + upsampleShortcut(x, Co)
 *   "pixel_shuffle":       y = pixelShuffle(conv3×3(x), 2) + upsampleShortcut(x, Co)      (conv → 4·Co)
 *
 * Parameters: conv.weight [Co or 4·Co, C, 3, 3], conv.bias. FLOPs (interpolate) 2·9·C·Co·4·H·W.
 */
import type { Tensor } from '../core/tensor.js';
import { conv2d } from '../ops/conv2d.js';
import { add } from './elementwise.js';
import type { DcaeOpOptions, ParamScope } from './params.js';
import { pixelShuffle } from './pixel-shuffle.js';
import { upsampleShortcut } from './shortcuts.js';
import { upsampleNearest } from './upsample-nearest.js';

export type UpsampleBlockType = 'interpolate' | 'pixel_shuffle';

export function upBlock(x: Tensor, p: ParamScope, type: UpsampleBlockType, opts: DcaeOpOptions = {}): Tensor {
  const w = p.get('conv.weight');
  const b = p.get('conv.bias');
  const acc = { accumulate: opts.accumulate };
  const main = type === 'interpolate'
    ? conv2d(upsampleNearest(x, 2), w, b, { padding: 1, ...acc })
    : pixelShuffle(conv2d(x, w, b, { padding: 1, ...acc }), 2);
  return add(main, upsampleShortcut(x, main.shape[1]!, 2), 'upBlock shortcut');
}
