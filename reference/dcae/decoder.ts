/**
 * DC-AE decoder (diffusers `Decoder`): latent (B, latent, h, w) → image (B, in, h·f, w·f).
 *
 *   h = conv_in(z) + decoderInShortcut(z)                   3×3 latent → C_last, plus channel repeat
 *   for stage i = last … 0: if not last: h = upBlock(h)      (C_{i+1} → C_i, ×2 resolution)
 *                            h = block(h) × layers_i
 *   y = conv_out(act(RMSNorm2d(h)))                          act = ReLU (decoder_conv_act_fn), 3×3 C₀ → in
 *
 * `record` sees the golden files' intermediates: decoder.conv_in (before the shortcut is added),
 * decoder.up_blocks.i (stage output), decoder.norm_out (before the act), decoder.conv_out.
 */
import type { Tensor } from '../core/tensor.js';
import { conv2d } from '../ops/conv2d.js';
import { activationByName } from './activations.js';
import type { DcaeConfig } from './config.js';
import { add } from './elementwise.js';
import { stageBlock, type DcaeForwardOptions } from './encoder.js';
import type { ParamScope } from './params.js';
import { rmsNorm2d } from './rms-norm-2d.js';
import { decoderInShortcut } from './shortcuts.js';
import { upBlock } from './up-block.js';

/** `p` is the scope of the `decoder.` keys. */
export function decoderForward(z: Tensor, p: ParamScope, config: DcaeConfig, opts: DcaeForwardOptions = {}): Tensor {
  const acc = { accumulate: opts.accumulate };
  const record = opts.record ?? (() => {});
  const stages = config.decoder.stages;
  const n = stages.length;
  let h = conv2d(z, p.get('conv_in.weight'), p.get('conv_in.bias'), { padding: 1, ...acc });
  record('decoder.conv_in', h);
  if (config.decoder.inShortcut) h = add(h, decoderInShortcut(z, stages[n - 1]!.channels), 'decoder in shortcut');
  for (let i = n - 1; i >= 0; i--) {
    const stage = stages[i]!;
    const sp = p.child('up_blocks').child(i);
    let j = 0;
    if (i + 1 < n) h = upBlock(h, sp.child(j++), config.decoder.upsampleBlockType, acc);
    for (let l = 0; l < stage.layers; l++) h = stageBlock(h, sp.child(j++), stage, config.attentionHeadDim, stage.act, acc);
    record(`decoder.up_blocks.${i}`, h);
  }
  h = rmsNorm2d(h, p.get('norm_out.weight'), p.get('norm_out.bias'), undefined, acc);
  record('decoder.norm_out', h);
  h = activationByName(config.decoder.convAct)(h);
  h = conv2d(h, p.get('conv_out.weight'), p.get('conv_out.bias'), { padding: 1, ...acc });
  record('decoder.conv_out', h);
  return h;
}
