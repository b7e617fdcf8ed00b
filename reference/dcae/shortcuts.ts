/**
 * DC-AE's non-parametric shortcuts ("residual autoencoding", Chen et al. 2024): every resolution
 * change and the latent boundary get a parameter-free path that moves channels into space or back,
 * so the learned convs only have to model a residual.
 *
 *   downsample (encoder, C → Co, H → H/f):   y = channelGroupMean(pixelUnshuffle(x, f), g),  g = C·f²/Co
 *   upsample   (decoder, C → Co, H → H·f):   y = pixelShuffle(repeatInterleave(x, r), f),    r = Co·f²/C
 *   encoder out (C → latent):               y = channelGroupMean(x, C/latent)
 *   decoder in  (latent → C):               y = repeatInterleave(z, C/latent)
 *
 * With g = f² (or r = f²) the down/up shortcuts are exactly f×f average pooling / nearest upsampling.
 * The down/up forms here are fused: one pass, no f²-times-larger intermediate; they equal the
 * compositions of the primitives in pixel-shuffle.ts and channel-ops.ts (tested).
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { channelGroupMean, repeatInterleaveChannels } from './channel-ops.js';
import { nchw } from './elementwise.js';
import { accumulatorRound, type DcaeOpOptions } from './params.js';

export function downsampleShortcut(x: Tensor, outChannels: number, f = 2, opts: DcaeOpOptions = {}): Tensor {
  const [B, C, H, W] = nchw(x, 'downsampleShortcut');
  const unshuffled = C * f * f;
  if (!Number.isSafeInteger(outChannels) || outChannels < 1 || unshuffled % outChannels !== 0 || H % f !== 0 || W % f !== 0) {
    throw new RangeError(`downsampleShortcut: cannot map ${shapeStr(x.shape)} to ${outChannels} channels at 1/${f} resolution`);
  }
  const g = unshuffled / outChannels;
  const Ho = H / f;
  const Wo = W / f;
  const xs = x.toFloat32();
  const r = accumulatorRound(opts);
  const out = new Float32Array(B * outChannels * Ho * Wo);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < outChannels; o++) {
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++) {
          let s = 0;
          for (let k = 0; k < g; k++) {
            const q = o * g + k; // channel of the unshuffled tensor: c·f² + i·f + j
            const c = Math.floor(q / (f * f));
            const ij = q - c * f * f;
            const i = Math.floor(ij / f);
            const j = ij - i * f;
            s = r(s + xs[((b * C + c) * H + oy * f + i) * W + ox * f + j]!);
          }
          out[((b * outChannels + o) * Ho + oy) * Wo + ox] = s / g;
        }
      }
    }
  }
  return new Tensor([B, outChannels, Ho, Wo], 'f32', out);
}

export function upsampleShortcut(x: Tensor, outChannels: number, f = 2): Tensor {
  const [B, C, H, W] = nchw(x, 'upsampleShortcut');
  const shuffled = outChannels * f * f;
  if (!Number.isSafeInteger(outChannels) || outChannels < 1 || shuffled % C !== 0) {
    throw new RangeError(`upsampleShortcut: cannot map ${shapeStr(x.shape)} to ${outChannels} channels at ${f}× resolution`);
  }
  const rep = shuffled / C;
  const Ho = H * f;
  const Wo = W * f;
  const xs = x.toFloat32();
  const out = new Float32Array(B * outChannels * Ho * Wo);
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < outChannels; o++) {
      for (let oy = 0; oy < Ho; oy++) {
        const y = Math.floor(oy / f);
        const i = oy - y * f;
        for (let ox = 0; ox < Wo; ox++) {
          const xx = Math.floor(ox / f);
          const j = ox - xx * f;
          const c = Math.floor((o * f * f + i * f + j) / rep); // source channel of the repeat-interleave
          out[((b * outChannels + o) * Ho + oy) * Wo + ox] = xs[((b * C + c) * H + y) * W + xx]!;
        }
      }
    }
  }
  return new Tensor([B, outChannels, Ho, Wo], 'f32', out);
}

export function encoderOutShortcut(x: Tensor, latentChannels: number, opts: DcaeOpOptions = {}): Tensor {
  const C = nchw(x, 'encoderOutShortcut')[1];
  if (C % latentChannels !== 0) throw new RangeError(`encoderOutShortcut: ${C} channels do not average into ${latentChannels}`);
  return channelGroupMean(x, C / latentChannels, opts);
}

export function decoderInShortcut(z: Tensor, channels: number): Tensor {
  const L = nchw(z, 'decoderInShortcut')[1];
  if (channels % L !== 0) throw new RangeError(`decoderInShortcut: ${L} latent channels do not repeat into ${channels}`);
  return repeatInterleaveChannels(z, channels / L);
}
