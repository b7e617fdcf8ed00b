/**
 * DC-AE encoder (diffusers `Encoder`): image (B, in, H, W) → latent (B, latent, H/f, W/f), f = 2^(stages−1).
 *
 *   h = conv_in(x)                                         3×3, in → C₀
 *   for stage i: h = block(h) × layers_i; if not last: h = downBlock(h)   (C_i → C_{i+1}, H → H/2)
 *   z = conv_out(h) + encoderOutShortcut(h)                3×3 C_last → latent, plus channel-group mean
 *
 * Deterministic (no posterior, no scaling): multiply by `scaling_factor` for the diffusion model.
 * `record` sees the golden files' intermediates: encoder.conv_in, encoder.down_blocks.i (stage output
 * after its down block), encoder.conv_out (before the shortcut is added).
 */
import type { Tensor } from '../core/tensor.js';
import { conv2d } from '../ops/conv2d.js';
import type { DcaeConfig, DcaeStage } from './config.js';
import { downBlock } from './down-block.js';
import { efficientVitBlock } from './efficientvit-block.js';
import { add } from './elementwise.js';
import type { DcaeOpOptions, ParamScope } from './params.js';
import { resBlock } from './res-block.js';
import { encoderOutShortcut } from './shortcuts.js';

export interface DcaeForwardOptions extends DcaeOpOptions {
  /** Called with (name, tensor) at each recorded point (names as in the golden files, without "intermediate."). */
  record?: (name: string, t: Tensor) => void;
}

/** One stage block (ResBlock or EfficientViTBlock) at key `p`. */
export function stageBlock(x: Tensor, p: ParamScope, stage: DcaeStage, headDim: number, act: string, opts: DcaeOpOptions): Tensor {
  return stage.blockType === 'ResBlock'
    ? resBlock(x, p, { act, accumulate: opts.accumulate })
    : efficientVitBlock(x, p, { headDim, kernelSizes: stage.qkvMultiscales, accumulate: opts.accumulate });
}

/** `p` is the scope of the `encoder.` keys. */
export function encoderForward(x: Tensor, p: ParamScope, config: DcaeConfig, opts: DcaeForwardOptions = {}): Tensor {
  const acc = { accumulate: opts.accumulate };
  const record = opts.record ?? (() => {});
  let h = conv2d(x, p.get('conv_in.weight'), p.get('conv_in.bias'), { padding: 1, ...acc });
  record('encoder.conv_in', h);
  const stages = config.encoder.stages;
  stages.forEach((stage, i) => {
    const sp = p.child('down_blocks').child(i);
    for (let j = 0; j < stage.layers; j++) h = stageBlock(h, sp.child(j), stage, config.attentionHeadDim, 'silu', acc);
    if (i + 1 < stages.length) h = downBlock(h, sp.child(stage.layers), config.encoder.downsampleBlockType, acc);
    record(`encoder.down_blocks.${i}`, h);
  });
  const out = conv2d(h, p.get('conv_out.weight'), p.get('conv_out.bias'), { padding: 1, ...acc });
  record('encoder.conv_out', out);
  return config.encoder.outShortcut ? add(out, encoderOutShortcut(h, config.latentChannels, acc), 'encoder out shortcut') : out;
}
