/**
 * One SANA Linear-DiT block (SanaMSBlock; diffusers SanaTransformerBlock), on tokens x (B, N, C):
 *
 *   (shift₁, scale₁, gate₁, shift₂, scale₂, gate₂) = table (6, C) + t₀.reshape(B, 6, C)
 *   x = x + gate₁ · LinearAttn(LN(x)·(1 + scale₁) + shift₁)        ReLU linear self-attention (attn1)
 *   x = x + CrossAttn(x, y, mask)                                   softmax cross-attention (attn2): no norm, no gate
 *   x = x + gate₂ · MixFFN(LN(x)·(1 + scale₂) + shift₂)            GLUMBConv on the h × w token grid (ff)
 *
 * LN = LayerNorm without affine (eps = norm_eps, 1e-6). Keys under `transformer_blocks.<i>.`.
 * FLOPs ≈ 2·B·N·(4C² + 2C·Ci + 3·C·h) + attention cores (see the ops) + 2·B·L·2·C·Ci (text k, v).
 */
import type { Tensor } from '../core/tensor.js';
import { crossAttentionModule, crossAttentionWithKv, type CrossAttentionKv } from '../ops/cross-attention.js';
import type { AccumulateOption } from '../ops/linear.js';
import { linearAttentionModule } from '../ops/linear-attention.js';
import { gluMbConv } from '../ops/mix-ffn.js';
import { nchwToTokens, tokensToNchw } from '../ops/layout.js';
import { layerNorm } from '../ops/norms.js';
import { gatedResidual, modulate, modulationChunks } from './modulation.js';
import { optionalParam, param, type StateDict } from './params.js';

/** Chunk order of a block's modulation. */
export const SHIFT_MSA = 0;
export const SCALE_MSA = 1;
export const GATE_MSA = 2;
export const SHIFT_MLP = 3;
export const SCALE_MLP = 4;
export const GATE_MLP = 5;

export interface BlockContext extends AccumulateOption {
  /** Text tokens after caption projection + norm, (B, L, C). */
  encoderHiddenStates: Tensor;
  /**
   * This block's text keys/values already projected from encoderHiddenStates (attn2's k = y·W_kᵀ + b_k,
   * v = y·W_vᵀ + b_v), as a sampler computes them once per prompt; the block then skips those projections.
   */
  textKv?: CrossAttentionKv | undefined;
  /** Additive key bias (B, L) from the mask, or null. */
  encoderBias: Tensor | null;
  /** t₀ (B, 6C). */
  timestep: Tensor;
  /** Token grid (N = height · width). */
  height: number;
  width: number;
  selfAttentionHeads: number;
  crossAttentionHeads: number;
  normEps: number;
  /** Denominator eps of the linear attention (1e-15 diffusers, 1e-8 NVlabs). */
  linearAttentionEps: number;
  /** Receives intermediates named `<prefix>.attn1`, `.attn2`, `.ff` (NCHW, before the gate). */
  onIntermediate?: ((name: string, t: Tensor) => void) | undefined;
}

/** Runs block `index` (weights `transformer_blocks.<index>.*`) on x (B, N, C). */
export function sanaTransformerBlock(x: Tensor, index: number, w: StateDict, ctx: BlockContext): Tensor {
  const pre = `transformer_blocks.${index}.`;
  const p = (k: string) => param(w, pre + k);
  const acc = { accumulate: ctx.accumulate };
  const mod = modulationChunks(p('scale_shift_table'), ctx.timestep);

  // 1. ReLU linear self-attention on the modulated LayerNorm, gated.
  const h1 = modulate(layerNorm(x, { eps: ctx.normEps }), mod, SHIFT_MSA, SCALE_MSA);
  const attn1 = linearAttentionModule(
    h1,
    {
      toQ: p('attn1.to_q.weight'),
      toK: p('attn1.to_k.weight'),
      toV: p('attn1.to_v.weight'),
      toQBias: optionalParam(w, pre + 'attn1.to_q.bias'),
      toKBias: optionalParam(w, pre + 'attn1.to_k.bias'),
      toVBias: optionalParam(w, pre + 'attn1.to_v.bias'),
      toOut: p('attn1.to_out.0.weight'),
      toOutBias: p('attn1.to_out.0.bias'),
    },
    { ...acc, heads: ctx.selfAttentionHeads, eps: ctx.linearAttentionEps },
  );
  ctx.onIntermediate?.(pre + 'attn1', attn1);
  x = gatedResidual(x, attn1, mod, GATE_MSA);

  // 2. Softmax cross-attention to the text tokens, on the raw residual stream, ungated.
  const qo = { toQ: p('attn2.to_q.weight'), toQBias: p('attn2.to_q.bias'), toOut: p('attn2.to_out.0.weight'), toOutBias: p('attn2.to_out.0.bias') };
  const attnOpts = { ...acc, heads: ctx.crossAttentionHeads, bias: ctx.encoderBias };
  const attn2 = ctx.textKv
    ? crossAttentionWithKv(x, ctx.textKv, qo, attnOpts)
    : crossAttentionModule(
        x,
        ctx.encoderHiddenStates,
        { ...qo, toK: p('attn2.to_k.weight'), toKBias: p('attn2.to_k.bias'), toV: p('attn2.to_v.weight'), toVBias: p('attn2.to_v.bias') },
        attnOpts,
      );
  ctx.onIntermediate?.(pre + 'attn2', attn2);
  x = gatedResidual(x, attn2, null, null);

  // 3. Mix-FFN (GLUMBConv) on the modulated LayerNorm, as an h × w image, gated.
  const h2 = modulate(layerNorm(x, { eps: ctx.normEps }), mod, SHIFT_MLP, SCALE_MLP);
  const ff = gluMbConv(
    tokensToNchw(h2, ctx.height, ctx.width),
    {
      convInverted: p('ff.conv_inverted.weight'),
      convInvertedBias: p('ff.conv_inverted.bias'),
      convDepth: p('ff.conv_depth.weight'),
      convDepthBias: p('ff.conv_depth.bias'),
      convPoint: p('ff.conv_point.weight'),
    },
    acc,
  );
  ctx.onIntermediate?.(pre + 'ff', ff);
  return gatedResidual(x, nchwToTokens(ff), mod, GATE_MLP);
}
