/**
 * Extra parity shapes for the cuda backend. The catalogue's test shapes are deliberately odd-sized
 * (edge tiles, unaligned rows), which the tensor-core versions refuse by design (gemm v2 needs K % 8,
 * linear-attention-block v3 needs N % 128, conv3x3 / dcae-resblock v4 Cin % 64 and W % 128): these
 * aligned shapes check those versions too. Every other
 * op's test shapes already satisfy each of its cuda versions at some shape and dtype.
 */
import type { OpName } from '../catalogue.js';
import type { OpDimsMap } from '../ops.js';

export const CUDA_EXTRA_SHAPES: { readonly [O in OpName]?: readonly OpDimsMap[O][] } = {
  gemm: [{ M: 130, N: 96, K: 72, bias: true, activation: 'silu' }],
  'linear-attention-block': [{ B: 2, N: 128, C: 64, heads: 2, headDim: 32 }],
  // conv3x3 / dcae-resblock v4 (wgmma, TMA im2col): Cin % 64 == 0 and rows of 128 pixels.
  conv3x3: [{ B: 2, Cin: 64, Cout: 72, H: 3, W: 128, stride: 1, bias: true }],
  'dcae-resblock': [{ B: 1, C: 64, H: 3, W: 128 }],
};
