/**
 * The dimensions each op is described by (bench/catalogue.ts declares the ops themselves). A shape is
 * always "one call of the op": every dimension the kernel sees, nothing it does not.
 */

// The op names and everything else declared per op live in the catalogue (bench/catalogue.ts);
// they are re-exported here for the modules that only need the names.
export { DCAE_OPS, DIT_OPS, isOpName, OP_NAMES, type DcaeOpName, type DitOpName, type OpName } from './catalogue.js';

export type Activation = 'none' | 'relu' | 'silu' | 'gelu-tanh';

/** y = act(x · Wᵀ + b): x (M, K), W (N, K). The linear layers and 1×1 convs. */
export interface GemmDims {
  M: number;
  N: number;
  K: number;
  bias: boolean;
  activation: Activation;
}

/** The ReLU linear-attention core on token-major q, k, v of (B, N, C), heads of `headDim`. */
export interface LinearAttentionDims {
  B: number;
  N: number;
  C: number;
  heads: number;
  headDim: number;
}

/** GLUMBConv on tokens (B, N = h·w, C) with hidden width `hidden` (the inverted conv makes 2·hidden). */
export interface MixFfnDims {
  B: number;
  N: number;
  C: number;
  h: number;
  w: number;
  hidden: number;
}

/** MultiHeadCrossAttention: q from x (B, N, C), k/v from the caption y (B, L, C), masked softmax. */
export interface CrossAttentionDims {
  B: number;
  N: number;
  C: number;
  L: number;
  heads: number;
  headDim: number;
}

/** LayerNorm without affine over C, then x·(1 + scale) + shift with per-sample (B, C) scale/shift. */
export interface LayerNormModulateDims {
  B: number;
  N: number;
  C: number;
}

/** RMSNorm over the last dim C of `rows` rows, with a weight of C. */
export interface RmsNormDims {
  rows: number;
  C: number;
}

/** One SanaMSBlock on (B, N, C) tokens over an h×w grid, with L caption tokens. */
export interface DitBlockDims {
  B: number;
  N: number;
  C: number;
  h: number;
  w: number;
  heads: number;
  headDim: number;
  hidden: number;
  L: number;
  crossHeads: number;
  crossHeadDim: number;
}

/** 3×3 convolution, padding 1, on (B, Cin, H, W) input; output (B, Cout, H/stride, W/stride). */
export interface Conv3x3Dims {
  B: number;
  Cin: number;
  Cout: number;
  H: number;
  W: number;
  stride: 1 | 2;
  bias: boolean;
}

/** A DC-AE feature map (B, C, H, W); LiteMLA and blocks keep C. */
export interface FeatureMapDims {
  B: number;
  C: number;
  H: number;
  W: number;
}

/** A DC-AE up/down-sample block: input (B, Cin, H, W) → output (B, Cout, 2H, 2W) or (B, Cout, H/2, W/2). */
export interface ResampleDims {
  B: number;
  Cin: number;
  Cout: number;
  H: number;
  W: number;
}

export interface OpDimsMap {
  gemm: GemmDims;
  'linear-attention': LinearAttentionDims;
  'linear-attention-block': LinearAttentionDims;
  'mix-ffn': MixFfnDims;
  'cross-attention': CrossAttentionDims;
  'layernorm-modulate': LayerNormModulateDims;
  rmsnorm: RmsNormDims;
  'dit-block': DitBlockDims;
  conv3x3: Conv3x3Dims;
  rmsnorm2d: FeatureMapDims;
  'lite-mla': FeatureMapDims;
  'dcae-resblock': FeatureMapDims;
  'dcae-evit-block': FeatureMapDims;
  'dcae-upsample': ResampleDims;
  'dcae-downsample': ResampleDims;
}

/** An op with its dimensions, discriminated on `op` (so `switch (s.op)` narrows `s.dims`). */
export type OpCall = { [O in keyof OpDimsMap]: { op: O; dims: OpDimsMap[O] } }[keyof OpDimsMap];
