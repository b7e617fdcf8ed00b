/**
 * Every parameter of a DC-AE with its diffusers `state_dict` key and shape, derived from the config
 * alone — the single source of truth for the loader's key check and for parameter counts (no
 * weights are allocated).
 *
 * Key layout (diffusers AutoencoderDC):
 *   encoder.conv_in                                 3×3, in → C₀
 *   encoder.down_blocks.i.j                         block j of stage i (ResBlock / EfficientViTBlock)
 *   encoder.down_blocks.i.<layers_i>.conv           DCDownBlock2d after stage i (all but the last)
 *   encoder.conv_out                                3×3, C_last → latent
 *   decoder.conv_in                                 3×3, latent → C_last
 *   decoder.up_blocks.i.0.conv                      DCUpBlock2d before stage i (all but the last)
 *   decoder.up_blocks.i.(1…)                        blocks of stage i (from .0 for the last stage)
 *   decoder.norm_out, decoder.conv_out              RMSNorm2d(C₀), 3×3 C₀ → in
 */
import type { DcaeConfig, DcaeStage } from './config.js';

export type ParamShapes = Map<string, number[]>;

function resBlockShapes(out: ParamShapes, key: string, C: number): void {
  out.set(`${key}.conv1.weight`, [C, C, 3, 3]);
  out.set(`${key}.conv1.bias`, [C]);
  out.set(`${key}.conv2.weight`, [C, C, 3, 3]);
  out.set(`${key}.norm.weight`, [C]);
  out.set(`${key}.norm.bias`, [C]);
}

function efficientVitShapes(out: ParamShapes, key: string, C: number, headDim: number, kernels: readonly number[]): void {
  const heads = Math.floor(C / headDim);
  const I = heads * headDim;
  for (const n of ['to_q', 'to_k', 'to_v']) out.set(`${key}.attn.${n}.weight`, [I, C]);
  kernels.forEach((k, s) => {
    out.set(`${key}.attn.to_qkv_multiscale.${s}.proj_in.weight`, [3 * I, 1, k, k]);
    out.set(`${key}.attn.to_qkv_multiscale.${s}.proj_out.weight`, [3 * I, headDim, 1, 1]);
  });
  out.set(`${key}.attn.to_out.weight`, [C, I * (1 + kernels.length)]);
  out.set(`${key}.attn.norm_out.weight`, [C]);
  out.set(`${key}.attn.norm_out.bias`, [C]);
  const hid = 4 * C;
  out.set(`${key}.conv_out.conv_inverted.weight`, [2 * hid, C, 1, 1]);
  out.set(`${key}.conv_out.conv_inverted.bias`, [2 * hid]);
  out.set(`${key}.conv_out.conv_depth.weight`, [2 * hid, 1, 3, 3]);
  out.set(`${key}.conv_out.conv_depth.bias`, [2 * hid]);
  out.set(`${key}.conv_out.conv_point.weight`, [C, hid, 1, 1]);
  out.set(`${key}.conv_out.norm.weight`, [C]);
  out.set(`${key}.conv_out.norm.bias`, [C]);
}

function blockShapes(out: ParamShapes, key: string, stage: DcaeStage, headDim: number): void {
  if (stage.blockType === 'ResBlock') resBlockShapes(out, key, stage.channels);
  else efficientVitShapes(out, key, stage.channels, headDim, stage.qkvMultiscales);
}

function conv(out: ParamShapes, key: string, cout: number, cin: number, bias = true): void {
  out.set(`${key}.weight`, [cout, cin, 3, 3]);
  if (bias) out.set(`${key}.bias`, [cout]);
}

export function encoderParamShapes(c: DcaeConfig): ParamShapes {
  const out: ParamShapes = new Map();
  const st = c.encoder.stages;
  conv(out, 'encoder.conv_in', st[0]!.channels, c.inChannels);
  st.forEach((s, i) => {
    for (let j = 0; j < s.layers; j++) blockShapes(out, `encoder.down_blocks.${i}.${j}`, s, c.attentionHeadDim);
    if (i + 1 < st.length) {
      const next = st[i + 1]!.channels;
      conv(out, `encoder.down_blocks.${i}.${s.layers}.conv`, c.encoder.downsampleBlockType === 'conv' ? next : next / 4, s.channels);
    }
  });
  conv(out, 'encoder.conv_out', c.latentChannels, st[st.length - 1]!.channels);
  return out;
}

export function decoderParamShapes(c: DcaeConfig): ParamShapes {
  const out: ParamShapes = new Map();
  const st = c.decoder.stages;
  const n = st.length;
  conv(out, 'decoder.conv_in', st[n - 1]!.channels, c.latentChannels);
  // diffusers registers up_blocks in index order 0…n−1 (the forward pass runs them n−1…0)
  st.forEach((s, i) => {
    let j = 0;
    if (i + 1 < n) {
      conv(out, `decoder.up_blocks.${i}.0.conv`, c.decoder.upsampleBlockType === 'interpolate' ? s.channels : 4 * s.channels, st[i + 1]!.channels);
      j = 1;
    }
    for (let l = 0; l < s.layers; l++) blockShapes(out, `decoder.up_blocks.${i}.${j + l}`, s, c.attentionHeadDim);
  });
  out.set('decoder.norm_out.weight', [st[0]!.channels]);
  out.set('decoder.norm_out.bias', [st[0]!.channels]);
  conv(out, 'decoder.conv_out', c.inChannels, st[0]!.channels);
  return out;
}

/** All parameters, encoder first (the diffusers state_dict order of modules). */
export function dcaeParamShapes(c: DcaeConfig): ParamShapes {
  return new Map([...encoderParamShapes(c), ...decoderParamShapes(c)]);
}

export interface DcaeParamCount {
  encoder: number;
  decoder: number;
  total: number;
  tensors: number;
}

function count(shapes: ParamShapes): number {
  let n = 0;
  for (const s of shapes.values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

/** Parameter count from the shapes alone (nothing allocated). */
export function dcaeParamCount(c: DcaeConfig): DcaeParamCount {
  const enc = encoderParamShapes(c);
  const dec = decoderParamShapes(c);
  return { encoder: count(enc), decoder: count(dec), total: count(enc) + count(dec), tensors: enc.size + dec.size };
}
