/**
 * FLOP and minimal-byte counts per op call — the x and y of every roofline point.
 *
 * FLOP convention (one rule for every op, so numbers compare across ops):
 *   - a multiply-add is 2 FLOPs (gemm 2·M·N·K);
 *   - each elementwise add, subtract, multiply, divide, max and each math function (exp, rsqrt, tanh)
 *     is 1 FLOP; so ReLU = 1, SiLU x/(1+e^(−x)) = 3, GELU-tanh = 8 (see ACT_FLOPS);
 *   - convolutions count every kernel tap, the zero-padding taps included (the dense 2·K²·Cin per output
 *     that conv2d's doc gives);
 *   - linear attention counts its two matmuls with the ones row (2·N·d·(d+1) each per head), the ReLU on
 *     q and k, the divide and the eps add.
 *
 * Minimal bytes = compulsory traffic: every input, weight and output tensor read or written once at the
 * storage width (f32 4 B, bf16 2 B); intermediates are assumed to stay on chip, as in a fully fused
 * kernel. That is the "speed of light" the roofline percentage is measured against; an unfused
 * implementation's real traffic is higher.
 */
import type {
  Activation,
  Conv3x3Dims,
  CrossAttentionDims,
  DitBlockDims,
  FeatureMapDims,
  GemmDims,
  LayerNormModulateDims,
  LinearAttentionDims,
  MixFfnDims,
  ResampleDims,
  RmsNormDims,
} from './ops.js';

/** Bench dtypes: storage precision of activations and weights (accumulation is always f32 or wider). */
export type BenchDType = 'f32' | 'bf16';
export const BENCH_DTYPES: readonly BenchDType[] = ['f32', 'bf16'];

export const BENCH_DTYPE_BYTES: Readonly<Record<BenchDType, number>> = { f32: 4, bf16: 2 };

export function isBenchDType(s: string): s is BenchDType {
  return s === 'f32' || s === 'bf16';
}

/** FLOPs per element of each activation. */
export const ACT_FLOPS: Readonly<Record<Activation, number>> = {
  none: 0,
  relu: 1,
  silu: 3, // exp, add, divide
  'gelu-tanh': 8, // x³ (2), fma with 0.044715 (2), scale (1), tanh (1), 1+ (1), 0.5·x· (1 merged) → 8
};

/** Elements an op moves: inputs, weights (incl. biases and norm parameters) and outputs. */
export interface OpCount {
  flops: number;
  inElems: number;
  weightElems: number;
  outElems: number;
}

export interface OpCost {
  flops: number;
  /** Minimal bytes: (inputs + weights + outputs) × dtype width. */
  bytes: number;
  /** flops / bytes. */
  intensity: number;
  counts: OpCount;
}

// ---------------------------------------------------------------------------------------------
// Building blocks (exported for tests and for composite ops)

export function gemmCount(d: GemmDims): OpCount {
  const mn = d.M * d.N;
  return {
    flops: 2 * mn * d.K + (d.bias ? mn : 0) + ACT_FLOPS[d.activation] * mn,
    inElems: d.M * d.K,
    weightElems: d.N * d.K + (d.bias ? d.N : 0),
    outElems: mn,
  };
}

/**
 * Linear-attention core per (batch, head) of width d over N tokens:
 *   state  [V;1]·φ(K)ᵀ : 2·N·d·(d+1)      apply  state·φ(Q) : 2·N·d·(d+1)
 *   divide : N·d        eps add : N        ReLU on q and k : 2·N·d
 */
export function linearAttentionCount(d: LinearAttentionDims): OpCount {
  const { B, N, heads, headDim: hd } = d;
  const perHead = 4 * N * hd * (hd + 1) + N * hd + N + 2 * N * hd;
  const elems = B * N * heads * hd;
  return { flops: B * heads * perHead, inElems: 3 * elems, weightElems: 0, outElems: elems };
}

export function linearAttentionBlockCount(d: LinearAttentionDims): OpCount {
  const M = d.B * d.N;
  const C = d.C;
  const qkv = gemmCount({ M, K: C, N: 3 * C, bias: false, activation: 'none' });
  const core = linearAttentionCount(d);
  const proj = gemmCount({ M, K: C, N: C, bias: true, activation: 'none' });
  return {
    flops: qkv.flops + core.flops + proj.flops,
    inElems: M * C,
    weightElems: qkv.weightElems + proj.weightElems,
    outElems: M * C,
  };
}

/** Depthwise k×k conv (+ optional bias) over `pixels` positions of `channels` channels. */
function depthwiseCount(pixels: number, channels: number, k: number, bias: boolean): { flops: number; weights: number } {
  return { flops: 2 * k * k * pixels * channels + (bias ? pixels * channels : 0), weights: k * k * channels + (bias ? channels : 0) };
}

/**
 * GLUMBConv on P positions: 1×1 C→2h (+bias, SiLU), depthwise 3×3 on 2h (+bias), x·SiLU(gate), 1×1 h→C
 * (no bias). Shared by the DiT Mix-FFN (h = 2.5C) and the DC-AE EViT FFN (h = 4C, then RMSNorm2d).
 */
function glumbconvCount(P: number, C: number, hidden: number): { flops: number; weights: number } {
  const inv = gemmCount({ M: P, K: C, N: 2 * hidden, bias: true, activation: 'silu' });
  const dw = depthwiseCount(P, 2 * hidden, 3, true);
  const glu = (ACT_FLOPS.silu + 1) * P * hidden;
  const point = gemmCount({ M: P, K: hidden, N: C, bias: false, activation: 'none' });
  return { flops: inv.flops + dw.flops + glu + point.flops, weights: inv.weightElems + dw.weights + point.weightElems };
}

export function mixFfnCount(d: MixFfnDims): OpCount {
  const P = d.B * d.N;
  const g = glumbconvCount(P, d.C, d.hidden);
  return { flops: g.flops, inElems: P * d.C, weightElems: g.weights, outElems: P * d.C };
}

/** Softmax FLOPs per score: scale, mask add, max, subtract, exp, sum, divide. */
export const SOFTMAX_FLOPS_PER_SCORE = 7;

export function crossAttentionCount(d: CrossAttentionDims): OpCount {
  const { B, N, C, L } = d;
  const inner = d.heads * d.headDim;
  const q = gemmCount({ M: B * N, K: C, N: inner, bias: true, activation: 'none' });
  const kv = gemmCount({ M: B * L, K: C, N: 2 * inner, bias: true, activation: 'none' });
  const scores = B * d.heads * N * L;
  const qk = 2 * scores * d.headDim;
  const av = 2 * scores * d.headDim;
  const out = gemmCount({ M: B * N, K: inner, N: C, bias: true, activation: 'none' });
  return {
    flops: q.flops + kv.flops + qk + SOFTMAX_FLOPS_PER_SCORE * scores + av + out.flops,
    inElems: B * N * C + B * L * C + B * L, // x, caption y, mask
    weightElems: q.weightElems + kv.weightElems + out.weightElems,
    outElems: B * N * C,
  };
}

/**
 * LayerNorm (no affine) + modulate, per element: mean 1, variance 3 (sub, square, add), normalise 2,
 * x·(1+scale)+shift 2; per row: eps add + rsqrt 2; per (B, C): 1 + scale.
 */
export function layerNormModulateCount(d: LayerNormModulateDims): OpCount {
  const e = d.B * d.N * d.C;
  return { flops: 8 * e + 2 * d.B * d.N + d.B * d.C, inElems: e + 2 * d.B * d.C, weightElems: 0, outElems: e };
}

/** RMSNorm per element: square + add 2, ×rstd 1, ×weight 1; per row: mean 1, eps 1, rsqrt 1. */
export function rmsNormCount(d: RmsNormDims): OpCount {
  const e = d.rows * d.C;
  return { flops: 4 * e + 3 * d.rows, inElems: e, weightElems: d.C, outElems: e };
}

export function ditBlockCount(d: DitBlockDims): OpCount {
  const { B, N, C } = d;
  const M = B * N;
  const ln = layerNormModulateCount({ B, N, C });
  const attn = linearAttentionBlockCount({ B, N, C, heads: d.heads, headDim: d.headDim });
  const cross = crossAttentionCount({ B, N, C, L: d.L, heads: d.crossHeads, headDim: d.crossHeadDim });
  const ffn = mixFfnCount({ B, N, C, h: d.h, w: d.w, hidden: d.hidden });
  const modulation = 6 * B * C; // scale_shift_table + t0
  const residuals = 2 * M * C + M * C + 2 * M * C; // gated, plain (cross), gated
  return {
    flops: 2 * ln.flops + attn.flops + cross.flops + ffn.flops + modulation + residuals,
    inElems: M * C + B * d.L * C + B * d.L + 6 * B * C, // x, y, mask, t0
    weightElems: 6 * C + attn.weightElems + cross.weightElems + ffn.weightElems, // + scale_shift_table
    outElems: M * C,
  };
}

export function conv3x3OutSize(d: Pick<Conv3x3Dims, 'H' | 'W' | 'stride'>): { Ho: number; Wo: number } {
  return { Ho: Math.floor((d.H - 1) / d.stride) + 1, Wo: Math.floor((d.W - 1) / d.stride) + 1 };
}

export function conv3x3Count(d: Conv3x3Dims): OpCount {
  const { Ho, Wo } = conv3x3OutSize(d);
  const outs = d.B * d.Cout * Ho * Wo;
  return {
    flops: 2 * 9 * d.Cin * outs + (d.bias ? outs : 0),
    inElems: d.B * d.Cin * d.H * d.W,
    weightElems: 9 * d.Cin * d.Cout + (d.bias ? d.Cout : 0),
    outElems: outs,
  };
}

/** RMSNorm2d (weight and bias) over channels: per element 5 (square+add, ×rstd, ×w, +b), per pixel 3. */
export function rmsNorm2dCount(d: FeatureMapDims): OpCount {
  const P = d.B * d.H * d.W;
  const e = P * d.C;
  return { flops: 5 * e + 3 * P, inElems: e, weightElems: 2 * d.C, outElems: e };
}

/**
 * LiteMLA(c): qkv 1×1 c→3c, depthwise 5×5 on 3c, grouped 1×1 (32→32 per group) on 3c, ReLU linear
 * attention on 2·c/32 heads of 32 over H·W tokens, projection 1×1 2c→c, RMSNorm2d, + the identity
 * residual (as the reference's liteMla returns x + …). All convs bias-free.
 */
export function liteMlaCount(d: FeatureMapDims, headDim = 32, kernel = 5): OpCount {
  const P = d.B * d.H * d.W;
  const C = d.C;
  const qkv = gemmCount({ M: P, K: C, N: 3 * C, bias: false, activation: 'none' });
  const dw = depthwiseCount(P, 3 * C, kernel, false);
  const grouped = { flops: 2 * P * 3 * C * headDim, weights: 3 * C * headDim };
  const attn = linearAttentionCount({ B: d.B, N: d.H * d.W, C: 2 * C, heads: (2 * C) / headDim, headDim });
  const proj = gemmCount({ M: P, K: 2 * C, N: C, bias: false, activation: 'none' });
  const norm = rmsNorm2dCount(d);
  return {
    flops: qkv.flops + dw.flops + grouped.flops + attn.flops + proj.flops + norm.flops + P * C,
    inElems: P * C,
    weightElems: qkv.weightElems + dw.weights + grouped.weights + proj.weightElems + norm.weightElems,
    outElems: P * C,
  };
}

/** ResBlock(c): conv3x3 (+bias) → SiLU → conv3x3 (no bias) → RMSNorm2d, + identity. */
export function dcaeResBlockCount(d: FeatureMapDims): OpCount {
  const P = d.B * d.H * d.W;
  const conv = (bias: boolean) => conv3x3Count({ B: d.B, Cin: d.C, Cout: d.C, H: d.H, W: d.W, stride: 1, bias });
  const c1 = conv(true);
  const c2 = conv(false);
  const norm = rmsNorm2dCount(d);
  return {
    flops: c1.flops + ACT_FLOPS.silu * P * d.C + c2.flops + norm.flops + P * d.C,
    inElems: P * d.C,
    weightElems: c1.weightElems + c2.weightElems + norm.weightElems,
    outElems: P * d.C,
  };
}

/** EViTBlock(c): LiteMLA (with its residual), then x + RMSNorm2d(GLUMBConv(x)) (expand 4). */
export function dcaeEvitBlockCount(d: FeatureMapDims, expand = 4): OpCount {
  const P = d.B * d.H * d.W;
  const mla = liteMlaCount(d);
  const ffn = glumbconvCount(P, d.C, expand * d.C);
  const norm = rmsNorm2dCount(d);
  return {
    flops: mla.flops + ffn.flops + norm.flops + P * d.C,
    inElems: P * d.C,
    weightElems: mla.weightElems + ffn.weights + norm.weightElems,
    outElems: P * d.C,
  };
}

/**
 * Decoder up-sample: nearest ×2 → conv3x3 Cin→Cout (+bias), + the repeat/pixel-shuffle shortcut (1 add).
 * FLOPs are the least work that computes it, the sub-pixel form: each output of the 3×3 conv on the
 * nearest-upsampled image sees a 2×2 window of x with combined weights, 4·Cin multiply-adds instead of
 * the dense form's 9·Cin (what the cpu kernel and cuda v3 execute; kernels/cpu/dcae_upsample.cpp). With the
 * dense count a kernel doing the sub-pixel work read as up to 2.25× its roofline.
 */
export function dcaeUpsampleCount(d: ResampleDims): OpCount {
  const conv = conv3x3Count({ B: d.B, Cin: d.Cin, Cout: d.Cout, H: 2 * d.H, W: 2 * d.W, stride: 1, bias: true });
  const subPixelMacs = 4 * d.Cin * conv.outElems;
  return {
    flops: 2 * subPixelMacs + conv.outElems + conv.outElems,
    inElems: d.B * d.Cin * d.H * d.W,
    weightElems: conv.weightElems,
    outElems: conv.outElems,
  };
}

/**
 * Encoder down-sample: conv3x3 stride 2 Cin→Cout (+bias), + the averaging shortcut (pixel-unshuffle,
 * mean over g = 4·Cin/Cout values: g−1 adds + 1 multiply per output) and the residual add.
 */
export function dcaeDownsampleCount(d: ResampleDims): OpCount {
  const conv = conv3x3Count({ B: d.B, Cin: d.Cin, Cout: d.Cout, H: d.H, W: d.W, stride: 2, bias: true });
  const g = (4 * d.Cin) / d.Cout;
  return {
    flops: conv.flops + g * conv.outElems + conv.outElems,
    inElems: conv.inElems,
    weightElems: conv.weightElems,
    outElems: conv.outElems,
  };
}

// Which formula counts which op, and opCount / opCost / planCost over op calls: bench/catalogue.ts.
