import { describe, expect, it } from 'vitest';
import {
  ACT_FLOPS,
  conv3x3Count,
  conv3x3OutSize,
  dcaeUpsampleCount,
  crossAttentionCount,
  ditBlockCount,
  gemmCount,
  layerNormModulateCount,
  linearAttentionBlockCount,
  linearAttentionCount,
  mixFfnCount,
  rmsNorm2dCount,
  rmsNormCount,
} from '../../bench/cost-model.js';
import { opCost, planCost } from '../../bench/catalogue.js';
import { catalogue, dcaeDecodePlan, ditStepPlan, parseResolution } from '../../bench/shapes.js';
import { randn } from '../../reference/core/random.js';
import { conv2d } from '../../reference/ops/conv2d.js';

// Every expected number below is counted by hand in the comment beside it.

describe('gemm', () => {
  it('is 2·M·N·K FLOPs and reads A, B once, writes C once', () => {
    const c = opCost({ op: 'gemm', dims: { M: 2, N: 3, K: 4, bias: false, activation: 'none' } }, 'f32');
    expect(c.flops).toBe(48); // 2·2·3·4
    expect(c.bytes).toBe(104); // (2·4 + 3·4 + 2·3) · 4 B
    expect(opCost({ op: 'gemm', dims: { M: 2, N: 3, K: 4, bias: false, activation: 'none' } }, 'bf16').bytes).toBe(52);
  });

  it('adds M·N for the bias, the activation per output, and N bias elements', () => {
    const c = gemmCount({ M: 2, N: 3, K: 4, bias: true, activation: 'silu' });
    expect(c.flops).toBe(48 + 6 + 3 * 6); // + bias adds + SiLU (exp, add, divide) per output
    expect(c.weightElems).toBe(12 + 3);
    expect(ACT_FLOPS.silu).toBe(3);
  });
});

describe('linear attention', () => {
  it('counts state and apply matmuls with the ones row: 2·2·d·(d+1) = 4224 per token-head at d = 32', () => {
    const one = linearAttentionCount({ B: 1, N: 1, C: 32, heads: 1, headDim: 32 });
    const relu = 2 * 32; // q and k
    const divide = 32;
    const eps = 1;
    expect(one.flops - relu - divide - eps).toBe(4224); // the figure in performance-anchors.md §5
  });

  it('B=1, N=2, one head of 32', () => {
    // state 2·2·32·33 = 4224, apply 4224, divide 64, eps 2, ReLU 2·64 = 128 → 8642
    const c = linearAttentionCount({ B: 1, N: 2, C: 32, heads: 1, headDim: 32 });
    expect(c.flops).toBe(8642);
    expect(opCost({ op: 'linear-attention', dims: { B: 1, N: 2, C: 32, heads: 1, headDim: 32 } }, 'f32').bytes).toBe(4 * 64 * 4); // q, k, v in, out
  });

  it('B=2, N=3, two heads of 32', () => {
    // per head: 4·3·32·33 = 12672 + divide 96 + eps 3 + ReLU 192 = 12963; × B·H = 4
    expect(linearAttentionCount({ B: 2, N: 3, C: 64, heads: 2, headDim: 32 }).flops).toBe(51852);
  });

  it('the block adds the QKV gemm (no bias) and the output projection (bias)', () => {
    const d = { B: 1, N: 2, C: 32, heads: 1, headDim: 32 };
    const b = linearAttentionBlockCount(d);
    // qkv 2·2·96·32 = 12288, proj 2·2·32·32 + 64 = 4160, core 8642
    expect(b.flops).toBe(12288 + 4160 + 8642);
    expect(b.weightElems).toBe(96 * 32 + 32 * 32 + 32);
    expect(b.inElems + b.outElems).toBe(2 * 64);
  });
});

describe('the other DiT ops', () => {
  it('mix-ffn: B=1, 2×2 grid, C=2, hidden=5', () => {
    // inverted 2·4·10·2 = 160 + bias 40 + SiLU 120 = 320; depthwise 2·9·4·10 = 720 + bias 40 = 760;
    // GLU (SiLU 3 + multiply 1) · 4·5 = 80; point 2·4·5·2 = 80 → 1240
    const c = mixFfnCount({ B: 1, N: 4, C: 2, h: 2, w: 2, hidden: 5 });
    expect(c.flops).toBe(1240);
    expect(c.weightElems).toBe(20 + 10 + 90 + 10 + 10);
    expect(opCost({ op: 'mix-ffn', dims: { B: 1, N: 4, C: 2, h: 2, w: 2, hidden: 5 } }, 'f32').bytes).toBe((8 + 140 + 8) * 4);
  });

  it('cross-attention: B=1, N=2, C=4, L=3, 2 heads of 2', () => {
    // q 2·2·4·4 + 8 = 72; kv 2·3·8·4 + 24 = 216; scores 1·2·2·3 = 12: qk 48, softmax 7·12 = 84, av 48;
    // out 72 → 540. Inputs x 8 + y 12 + mask 3; weights 16+4 + 32+8 + 16+4 = 80; out 8.
    const c = crossAttentionCount({ B: 1, N: 2, C: 4, L: 3, heads: 2, headDim: 2 });
    expect(c.flops).toBe(540);
    expect(c.inElems + c.weightElems + c.outElems).toBe(23 + 80 + 8);
  });

  it('layernorm-modulate and rmsnorm', () => {
    // 8 per element · 8 + 2 per row · 2 + (1 + scale) · 4 = 72; bytes: x 8 + shift/scale 8 + out 8
    expect(layerNormModulateCount({ B: 1, N: 2, C: 4 }).flops).toBe(72);
    expect(opCost({ op: 'layernorm-modulate', dims: { B: 1, N: 2, C: 4 } }, 'f32').bytes).toBe(24 * 4);
    // 4 per element · 12 + 3 per row · 3 = 57; bytes: in 12 + weight 4 + out 12
    expect(rmsNormCount({ rows: 3, C: 4 }).flops).toBe(57);
    expect(opCost({ op: 'rmsnorm', dims: { rows: 3, C: 4 } }, 'bf16').bytes).toBe(28 * 2);
  });

  it('a DiT block is its parts plus modulation and residual glue; its bytes are only its own I/O', () => {
    const d = { B: 1, N: 4, C: 64, h: 2, w: 2, heads: 2, headDim: 32, hidden: 160, L: 3, crossHeads: 2, crossHeadDim: 32 };
    const parts =
      2 * layerNormModulateCount(d).flops +
      linearAttentionBlockCount(d).flops +
      crossAttentionCount({ ...d, heads: 2, headDim: 32 }).flops +
      mixFfnCount(d).flops;
    const glue = 6 * 64 + 5 * 4 * 64; // table + t0, then gated/plain/gated residuals
    const c = ditBlockCount(d);
    expect(c.flops).toBe(parts + glue);
    expect(c.inElems).toBe(4 * 64 + 3 * 64 + 3 + 6 * 64); // x, y, mask, t0
    expect(c.outElems).toBe(4 * 64);
  });
});

describe('DC-AE ops', () => {
  it('conv3x3 stride 1: B=1, 2→3 channels, 4×4, bias', () => {
    // 2·9·2 per output × 3·16 outputs = 1728 + bias 48 = 1776; bytes in 32 + w 54 + b 3 + out 48
    const c = conv3x3Count({ B: 1, Cin: 2, Cout: 3, H: 4, W: 4, stride: 1, bias: true });
    expect(c.flops).toBe(1776);
    expect(opCost({ op: 'conv3x3', dims: { B: 1, Cin: 2, Cout: 3, H: 4, W: 4, stride: 1, bias: true } }, 'f32').bytes).toBe(137 * 4);
  });

  it('conv3x3 stride 2 halves the output (2·9·2·12 + 12 = 444)', () => {
    expect(conv3x3Count({ B: 1, Cin: 2, Cout: 3, H: 4, W: 4, stride: 2, bias: true }).flops).toBe(444);
  });

  it('the output size matches the reference conv2d (padding 1), odd sizes included', () => {
    for (const [H, W, stride] of [[5, 7, 2], [4, 4, 2], [6, 3, 1]] as const) {
      const y = conv2d(randn([1, 1, H, W], 1), randn([1, 1, 3, 3], 2), null, { stride, padding: 1 });
      const { Ho, Wo } = conv3x3OutSize({ H, W, stride });
      expect([Ho, Wo]).toEqual([y.shape[2], y.shape[3]]);
    }
  });

  it('rmsnorm2d has weight and bias', () => {
    // 5 per element · 12 (3 channels × 2×2) + 3 per pixel · 4 = 72
    const c = rmsNorm2dCount({ B: 1, C: 3, H: 2, W: 2 });
    expect(c.flops).toBe(72);
    expect(c.weightElems).toBe(6);
  });
});

describe('whole-model totals agree with the independent derivation in sana-architecture.md §8.4', () => {
  // The notes count linear layers and attention (norms ignored) in MACs; ours includes the small
  // elementwise terms, so allow 3%.
  const tmac = (flops: number) => flops / 2 / 1e12;
  it.each([
    ['0.6b', '1024', 0.56],
    ['0.6b', '4096', 8.6],
    ['1.6b', '512', 0.42],
    ['1.6b', '1024', 1.48],
    ['1.6b', '4096', 22.8],
  ] as const)('Sana-%s at %s² ≈ %s TMAC per forward', (model, res, expected) => {
    const c = planCost(ditStepPlan(model, parseResolution(res), 1), 'f32');
    expect(Math.abs(tmac(c.flops) / expected - 1)).toBeLessThan(0.03);
  });

  it.each([
    ['1024', 4.2],
    ['4096', 67],
  ] as const)('the DC-AE decoder at %s² ≈ %s TMAC', (res, expected) => {
    const plan = dcaeDecodePlan(parseResolution(res), 1);
    const c = planCost(plan, 'f32');
    // The notes count the up blocks' conv in its dense form (9·Cin MACs per output of the conv on the
    // upsampled image); the cost model counts the sub-pixel form's 4·Cin (dcaeUpsampleCount): add back 5·Cin.
    let denseExtraMacs = 0;
    for (const { shape, count } of plan) {
      if (shape.op !== 'dcae-upsample') continue;
      const d = shape.dims as unknown as { B: number; Cin: number; Cout: number; H: number; W: number };
      denseExtraMacs += count * 5 * d.Cin * d.B * d.Cout * (2 * d.H) * (2 * d.W);
    }
    expect(denseExtraMacs).toBeGreaterThan(0);
    expect(Math.abs((tmac(c.flops) + denseExtraMacs / 1e12) / expected - 1)).toBeLessThan(0.03);
  });

  it('counts the up-sample in its sub-pixel form: 4·Cin multiply-adds per output, not the dense 9·Cin', () => {
    const d = { B: 1, Cin: 8, Cout: 4, H: 3, W: 5 };
    const outs = d.B * d.Cout * 2 * d.H * 2 * d.W;
    expect(dcaeUpsampleCount(d).flops).toBe(2 * 4 * d.Cin * outs + 2 * outs); // + bias + shortcut add
  });
});

describe('every catalogue shape', () => {
  it('has positive FLOPs and bytes, and bf16 moves exactly half the f32 bytes', () => {
    for (const model of ['0.6b', '1.6b', 'dcae'] as const) {
      for (const s of catalogue(model, parseResolution('1024x2048'), 2)) {
        const f = opCost(s, 'f32');
        const b = opCost(s, 'bf16');
        expect(f.flops, `${s.op}:${s.variant}`).toBeGreaterThan(0);
        expect(Number.isSafeInteger(f.flops)).toBe(true);
        expect(b.bytes * 2).toBe(f.bytes);
        expect(b.flops).toBe(f.flops);
      }
    }
  });
});
