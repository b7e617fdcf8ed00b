/**
 * Every op rejects bad input before touching memory, identically on every backend: TypeError for the
 * wrong kind of value, a disposed tensor, mixed backends or dtypes; RangeError for shapes and options;
 * messages name the op and the shapes. Async forms reject; sync forms throw.
 */
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../bindings/addon.js';
import * as ops from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { Rng } from '../../reference/core/random.js';

function make(backend: 'cpu' | 'reference') {
  const be = ops.getBackend(backend);
  let seed = 1;
  return (shape: number[], dtype: 'f32' | 'bf16' = 'f32'): BackendTensor => {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    new Rng(seed++).fillNormal(a, 0, 1);
    return be.fromArray(a, shape, dtype);
  };
}

for (const backend of ['cpu', 'reference'] as const) {
  describe(`op validation on the ${backend} backend`, () => {
    const t = make(backend);
    const other = make(backend === 'cpu' ? 'reference' : 'cpu');

    it('gemm: shapes, dtype, backend, options, out', async () => {
      const x = t([2, 3, 8]);
      const w = t([5, 8]);
      await expect(ops.gemm(x, t([5, 7]))).rejects.toThrow(RangeError);
      await expect(ops.gemm(x, t([5, 7]))).rejects.toThrow('gemm: w [5, 7] does not match x [2, 3, 8] (want w (N, 8))');
      expect(() => ops.gemmSync(x, t([5, 7]))).toThrow(RangeError);
      await expect(ops.gemm(x, t([5, 8], 'bf16'))).rejects.toThrow(new TypeError('gemm: w is bf16 but x is f32 (all tensors of an op share one dtype)'));
      await expect(ops.gemm(x, other([5, 8]))).rejects.toThrow(TypeError);
      await expect(ops.gemm(x, other([5, 8]))).rejects.toThrow(/gemm: w is on backend '.*' but x is on/);
      await expect(ops.gemm(x, w, { bias: t([6]) })).rejects.toThrow('gemm: bias [6] is not a vector of 5');
      await expect(ops.gemm(x, w, { gate: t([4, 5]) })).rejects.toThrow(/gemm: gate \[4, 5\] does not broadcast over out \[2, 3, 5\]/);
      await expect(ops.gemm(x, w, { residual: t([2, 3, 6]) })).rejects.toThrow('gemm: residual [2, 3, 6] differs from the output [2, 3, 5]');
      await expect(ops.gemm(x, w, { activation: 'tanh' as 'relu' })).rejects.toThrow(TypeError);
      await expect(ops.gemm(x, w, { out: t([2, 3, 4]) })).rejects.toThrow('gemm: out [2, 3, 4] differs from the expected output shape [2, 3, 5]');
      await expect(ops.gemm(x, t([8, 8]), { out: x })).rejects.toThrow('gemm: out must not be the same tensor as x (only residual may be)');
      await expect(ops.gemm(x, w, { out: t([2, 3, 5], 'bf16') })).rejects.toThrow(TypeError);
      await expect(ops.gemm(t([2, 0, 8]), w)).rejects.toThrow('gemm: x [2, 0, 8] has a zero-size dimension');
      await expect(ops.gemm(x, new Float32Array(40) as unknown as BackendTensor)).rejects.toThrow('gemm: w must be a BackendTensor, got Float32Array');
      const gone = t([5, 8]);
      gone.dispose();
      await expect(ops.gemm(x, gone)).rejects.toThrow(new TypeError(`gemm: w f32[5, 8] on ${backend} has been disposed`));
    });

    it('linear-attention and linear-attention-block', async () => {
      const q = t([2, 6, 64]);
      await expect(ops.linearAttention(q, t([2, 7, 64]), t([2, 6, 64]))).rejects.toThrow(/linear-attention: q \[2, 6, 64\], k \[2, 7, 64\], v \[2, 6, 64\] do not agree/);
      await expect(ops.linearAttention(q, q, q, { headDim: 24 })).rejects.toThrow('linear-attention: 64 channels of q [2, 6, 64] are not a multiple of headDim 24');
      await expect(ops.linearAttention(q, q, q, { headDim: 0 })).rejects.toThrow(RangeError);
      await expect(ops.linearAttention(q, q, q, { eps: NaN })).rejects.toThrow('linear-attention: eps must be a finite number > 0, got NaN');
      await expect(ops.linearAttention(t([6, 64]), q, q)).rejects.toThrow(/want q, k, v \(B, N, C\)/);
      const w = { wq: t([64, 64]), wk: t([64, 64]), wv: t([64, 64]), wo: t([64, 64]) };
      await expect(ops.linearAttentionBlock(q, { ...w, wk: t([64, 32]) })).rejects.toThrow(/linear-attention-block: weights wq \[64, 64\], wk \[64, 32\]/);
      await expect(ops.linearAttentionBlock(q, { ...w, bo: t([63]) })).rejects.toThrow('linear-attention-block: bo [63] is not a vector of 64');
      await expect(ops.linearAttentionBlock(q, { ...w, wv: undefined as unknown as BackendTensor })).rejects.toThrow('linear-attention-block: wv must be a BackendTensor, got undefined');
    });

    it('mix-ffn, cross-attention, norms, conv3x3, dcae-resblock', async () => {
      const x = t([1, 12, 16]);
      const mw = { wInv: t([40, 16]), bInv: t([40]), wDw: t([40, 1, 3, 3]), bDw: t([40]), wPoint: t([16, 20]) };
      await expect(ops.mixFfn(x, mw, { height: 3, width: 5 })).rejects.toThrow('mix-ffn: grid 3×5 does not match the 12 tokens of x [1, 12, 16]');
      await expect(ops.mixFfn(x, { ...mw, wPoint: t([16, 21]) }, { height: 3, width: 4 })).rejects.toThrow(/mix-ffn: inconsistent weights/);
      await expect(ops.mixFfn(x, mw, { height: 0, width: 4 })).rejects.toThrow(RangeError);
      const cw = { wq: t([16, 16]), wk: t([16, 8]), wv: t([16, 8]), wo: t([16, 16]) };
      const y = t([1, 5, 8]);
      await expect(ops.crossAttention(x, y, cw, { heads: 3 })).rejects.toThrow('cross-attention: 16 channels of x [1, 12, 16] cannot be split into 3 heads');
      await expect(ops.crossAttention(x, y, cw, { heads: 2, maskBias: t([1, 4]) })).rejects.toThrow('cross-attention: maskBias [1, 4] is not (B, L) or (B, 1, L) for y [1, 5, 8]');
      await expect(ops.crossAttention(x, t([2, 5, 8]), cw, { heads: 2 })).rejects.toThrow(/with the same B/);
      await expect(ops.layerNormModulate(x, t([1, 15]), t([1, 15]))).rejects.toThrow(/layernorm-modulate: shift \[1, 15\] and scale \[1, 15\] must be/);
      await expect(ops.rmsNorm(x, { weight: t([15]) })).rejects.toThrow('rmsnorm: weight [15] is not a vector of 16');
      await expect(ops.rmsNorm2d(x)).rejects.toThrow('rmsnorm2d: x must be (B, H, W, C) (NHWC), got [1, 12, 16]');
      const img = t([1, 4, 5, 8]);
      await expect(ops.conv3x3(img, t([6, 7, 3, 3]))).rejects.toThrow('conv3x3: w [6, 7, 3, 3] is not (Cout, 8, 3, 3) for x [1, 4, 5, 8]');
      await expect(ops.conv3x3(img, t([6, 8, 3, 3]), { stride: 3 as 1 })).rejects.toThrow('conv3x3: stride must be 1 or 2, got 3');
      const rw = { w1: t([8, 8, 3, 3]), b1: t([8]), w2: t([8, 8, 3, 3]), normWeight: t([8]), normBias: t([7]) };
      await expect(ops.dcaeResBlock(img, rw)).rejects.toThrow('dcae-resblock: normBias [7] is not a vector of 8');
    });
  });
}

describe('getBackend', () => {
  it('knows reference and cpu; cuda only with a CUDA build and device; others are a TypeError', () => {
    expect(ops.getBackend('reference').name).toBe('reference');
    expect(ops.getBackend('cpu').name).toBe('cpu');
    if (!loadAddon().cudaInfo().available) expect(() => ops.getBackend('cuda')).toThrow(/cuda backend unavailable: /);
    expect(() => ops.getBackend('tpu' as 'cpu')).toThrow(TypeError);
  });
});
