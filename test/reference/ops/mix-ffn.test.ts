import { describe, expect, it } from 'vitest';
import { randn } from '../../../reference/core/random.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { nchwToTokens, tokensToNchw } from '../../../reference/ops/layout.js';
import { gluMbConv, mixFfnTokens, type GluMbConvWeights } from '../../../reference/ops/mix-ffn.js';
import { GOLDEN, maxRelError, OP_TOL, readOp } from './op-golden.js';

function randomWeights(C: number, hidden: number, seed: number): GluMbConvWeights {
  return {
    convInverted: randn([2 * hidden, C, 1, 1], seed, 0.3),
    convInvertedBias: randn([2 * hidden], seed + 1, 0.3),
    convDepth: randn([2 * hidden, 1, 3, 3], seed + 2, 0.3),
    convDepthBias: randn([2 * hidden], seed + 3, 0.3),
    convPoint: randn([C, hidden, 1, 1], seed + 4, 0.3),
  };
}

describe('gluMbConv', () => {
  it('1×1 image, one channel: hand-checked (only the depthwise kernel centre sees the pixel)', () => {
    // C = 1, hidden = 1: u = SiLU(a·x + b) for the 2 channels, depthwise centre taps, gate, point conv.
    const silu = (z: number) => z / (1 + Math.exp(-z));
    const w: GluMbConvWeights = {
      convInverted: Tensor.f32([2, 1, 1, 1], [0.5, -1]),
      convInvertedBias: Tensor.f32([2], [0.1, 0.2]),
      convDepth: Tensor.f32([2, 1, 3, 3], [9, 9, 9, 9, 2, 9, 9, 9, 9, 9, 9, 9, 9, -3, 9, 9, 9, 9]),
      convDepthBias: Tensor.f32([2], [0.05, -0.05]),
      convPoint: Tensor.f32([1, 1, 1, 1], [1.5]),
    };
    const x = 0.8;
    const a = 2 * silu(0.5 * x + 0.1) + 0.05;
    const g = -3 * silu(-1 * x + 0.2) - 0.05;
    const out = gluMbConv(Tensor.f32([1, 1, 1, 1], [x]), w).data as Float32Array;
    expect(out[0]).toBeCloseTo(1.5 * a * silu(g), 6);
  });

  it('token-major Mix-FFN on a non-square 3×5 grid equals the NCHW op (row-major token order)', () => {
    const w = randomWeights(6, 15, 40);
    const img = randn([2, 6, 3, 5], 41);
    const tokens = nchwToTokens(img);
    expect(Array.from(tokensToNchw(tokens, 3, 5).data as Float32Array)).toEqual(Array.from(img.data as Float32Array));
    const viaTokens = mixFfnTokens(tokens, 3, 5, w);
    const viaImage = nchwToTokens(gluMbConv(img, w));
    expect(Array.from(viaTokens.data as Float32Array)).toEqual(Array.from(viaImage.data as Float32Array));
    expect(() => mixFfnTokens(tokens, 5, 3 + 1, w)).toThrow(/want tokens/);
  });
});

describe.skipIf(!GOLDEN)('GLUMBConv vs diffusers', () => {
  it(`DiT Mix-FFN (op_dit_glumbconv): max|a−e|/max|e| <= ${OP_TOL}`, () => {
    const g = readOp('op_dit_glumbconv.safetensors');
    const w: GluMbConvWeights = {
      convInverted: g('params.conv_inverted.weight'),
      convInvertedBias: g('params.conv_inverted.bias'),
      convDepth: g('params.conv_depth.weight'),
      convDepthBias: g('params.conv_depth.bias'),
      convPoint: g('params.conv_point.weight'),
    };
    for (const accumulate of ['f64', 'f32'] as const) {
      const out = gluMbConv(g('input'), w, { accumulate });
      expect(maxRelError(`dit glumbconv (${accumulate} acc) vs output`, out, g('output'))).toBeLessThanOrEqual(OP_TOL);
      expect(maxRelError(`dit glumbconv (${accumulate} acc) vs output_f64`, out, g('output_f64'))).toBeLessThanOrEqual(OP_TOL);
    }
  });

  it(`DC-AE variant with RMSNorm + residual (op_dcae_glumbconv): max|a−e|/max|e| <= ${OP_TOL}`, () => {
    const g = readOp('op_dcae_glumbconv.safetensors');
    const out = gluMbConv(
      g('input'),
      {
        convInverted: g('params.conv_inverted.weight'),
        convInvertedBias: g('params.conv_inverted.bias'),
        convDepth: g('params.conv_depth.weight'),
        convDepthBias: g('params.conv_depth.bias'),
        convPoint: g('params.conv_point.weight'),
      },
      { norm: { weight: g('params.norm.weight'), bias: g('params.norm.bias'), eps: 1e-5 }, residual: true },
    );
    expect(maxRelError('dcae glumbconv vs output', out, g('output'))).toBeLessThanOrEqual(OP_TOL);
    expect(maxRelError('dcae glumbconv vs output_f64', out, g('output_f64'))).toBeLessThanOrEqual(OP_TOL);
  });
});
