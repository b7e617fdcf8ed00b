/**
 * The "plain bf16 computation" of each op, the yardstick of the bf16 parity rule: what a bf16 framework
 * (torch with bf16 tensors) computes — inputs rounded to bf16 and every intermediate tensor it would
 * store rounded to bf16 — evaluated with the TS reference. A bf16 kernel passes when its error is at
 * most 2× this one's (both against the f64-accumulated reference on the unrounded inputs).
 *
 * Each function gets the op's inputs (named as in bench/api-calls.ts, already rounded to bf16, as f32
 * Tensors in the op-API layout) and returns the output values in that layout.
 */
import { dcaeEvitBlockSync, dcaeUpsampleSync, EVIT_KEYS } from '../../bindings/models/dcae-ops.js';
import * as ops from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { f32ArrayToBf16 } from '../../reference/core/dtype.js';
import { Tensor } from '../../reference/core/tensor.js';
import { concatChannels } from '../../reference/dcae/channel-ops.js';
import { packedReluLinearAttention, packedReluQuadraticAttention } from '../../reference/dcae/relu-attention.js';
import { rmsNorm2d as rmsNorm2dRef } from '../../reference/dcae/rms-norm-2d.js';
import { geluTanh, relu, silu } from '../../reference/ops/activations.js';
import { conv2d } from '../../reference/ops/conv2d.js';
import { softmaxAttention } from '../../reference/ops/cross-attention.js';
import { nchwToTokens, tokensToNchw } from '../../reference/ops/layout.js';
import { reluLinearAttention } from '../../reference/ops/linear-attention.js';
import { linear } from '../../reference/ops/linear.js';
import { layerNorm, rmsNorm } from '../../reference/ops/norms.js';
import { evitBlockWeights } from '../api-calls.js';
import type { OpName } from '../catalogue.js';
import type { OpDimsMap } from '../ops.js';
import { r16 } from './rules.js';

/** The bf16-rounded input `name` as an f32 Tensor. */
export type BfInput = (name: string) => Tensor;
export type PlainBf16<O extends OpName> = (dims: OpDimsMap[O], v: BfInput) => Float32Array;

const vals = (t: Tensor) => t.data as Float32Array;

/** r16(a + b), elementwise (a residual add in bf16). */
function addR16(a: Tensor, b: Tensor): Tensor {
  const x = a.toFloat32();
  const y = b.toFloat32();
  return r16(new Tensor(a.shape, 'f32', Float32Array.from(x, (v, i) => v + y[i]!)));
}

/** NHWC (B, H, W, C) values as an NCHW reference tensor, and back. */
function toNchw(x: Tensor): Tensor {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  return tokensToNchw(new Tensor([B, H * W, C], 'f32', x.toFloat32()), H, W);
}
function toNhwc(x: Tensor): Float32Array {
  return vals(nchwToTokens(x));
}

/** Plain bf16 GLUMBConv on tokens (the DiT Mix-FFN): each conv, activation and the GLU product rounded. */
function glumbconvTokens(x: Tensor, H: number, W: number, wInv: Tensor, bInv: Tensor, wDw: Tensor, bDw: Tensor, wPoint: Tensor): Tensor {
  const two = wInv.shape[0]!;
  const h = two / 2;
  const u = r16(silu(r16(linear(x, wInv, bInv))));
  const d = nchwToTokens(r16(conv2d(tokensToNchw(u, H, W), wDw.reshape([two, 1, 3, 3]), bDw, { padding: 1, groups: two })));
  const ds = vals(d);
  const [B, N] = d.shape as [number, number, number];
  const a = new Float32Array(B * N * h);
  const g = new Float32Array(B * N * h);
  for (let r = 0; r < B * N; r++) {
    a.set(ds.subarray(r * two, r * two + h), r * h);
    g.set(ds.subarray(r * two + h, (r + 1) * two), r * h);
  }
  const gs = vals(r16(silu(new Tensor([B, N, h], 'f32', g))));
  const z = r16(new Tensor([B, N, h], 'f32', a.map((v, i) => v * gs[i]!)));
  return r16(linear(z, wPoint.reshape([wPoint.shape[0]!, h])));
}

export const PLAIN_BF16: { readonly [O in OpName]?: PlainBf16<O> } = {
  gemm: (d, v) => {
    let y = r16(linear(v('x'), v('w'), d.bias ? v('b') : null));
    if (d.activation === 'relu') y = r16(relu(y));
    if (d.activation === 'silu') y = r16(silu(y));
    if (d.activation === 'gelu-tanh') y = r16(geluTanh(y));
    return vals(y);
  },

  'linear-attention': (d, v) => vals(r16(reluLinearAttention(v('q'), v('k'), v('v'), { heads: d.C / d.headDim, eps: 1e-15 }))),

  'linear-attention-block': (d, v) => {
    const x = v('x');
    const core = r16(reluLinearAttention(r16(linear(x, v('wq'))), r16(linear(x, v('wk'))), r16(linear(x, v('wv'))), { heads: d.C / d.headDim, eps: 1e-15 }));
    return vals(r16(linear(core, v('wo'), v('bo'))));
  },

  'mix-ffn': (d, v) => vals(glumbconvTokens(v('x'), d.h, d.w, v('wInv'), v('bInv'), v('wDw'), v('bDw'), v('wPoint'))),

  'cross-attention': (d, v) => {
    const x = v('x');
    const y = v('y');
    const attn = r16(
      softmaxAttention(r16(linear(x, v('wq'), v('bq'))), r16(linear(y, v('wk'), v('bk'))), r16(linear(y, v('wv'), v('bv'))), { heads: d.heads, bias: v('maskBias') }),
    );
    return vals(r16(linear(attn, v('wo'), v('bo'))));
  },

  'layernorm-modulate': (d, v) => {
    const n = vals(r16(layerNorm(v('x'), { eps: 1e-6 })));
    const sh = vals(v('shift'));
    const sc = vals(v('scale'));
    const C = d.C;
    const y = Float32Array.from(n, (val, i) => {
      const b = Math.floor(i / (d.N * C));
      const c = i % C;
      return val * (1 + sc[b * C + c]!) + sh[b * C + c]!;
    });
    return vals(r16(new Tensor([n.length], 'f32', y)));
  },

  rmsnorm: (_d, v) => vals(r16(rmsNorm(v('x'), { eps: 1e-5, weight: v('weight') }))),

  rmsnorm2d: (_d, v) => vals(r16(rmsNorm(v('x'), { eps: 1e-5, weight: v('weight'), bias: v('bias') }))),

  conv3x3: (d, v) => toNhwc(r16(conv2d(toNchw(v('x')), v('w'), d.bias ? v('b') : null, { stride: d.stride, padding: 1 }))),

  'dcae-resblock': (_d, v) => {
    const x = v('x');
    let h = r16(silu(r16(conv2d(toNchw(x), v('w1'), v('b1'), { padding: 1 }))));
    h = r16(conv2d(h, v('w2'), null, { padding: 1 }));
    h = r16(rmsNorm2dRef(h, v('normWeight'), v('normBias')));
    return vals(addR16(new Tensor(x.shape, 'f32', toNhwc(h)), x));
  },

  'lite-mla': (d, v) => {
    const C = d.C;
    const hd = 32;
    const x = v('x');
    const wqkv = new Float32Array(3 * C * C);
    ['wq', 'wk', 'wv'].forEach((k, i) => wqkv.set(vals(v(k)), i * C * C));
    const qkv = r16(conv2d(toNchw(x), new Tensor([3 * C, C, 1, 1], 'f32', wqkv), null, { padding: 0 }));
    const agg = r16(conv2d(r16(conv2d(qkv, v('wDw'), null, { padding: 2, groups: 3 * C })), v('wGroup'), null, { padding: 0, groups: (3 * C) / hd }));
    const m = concatChannels([qkv, agg]);
    const att = r16(d.H * d.W > hd ? packedReluLinearAttention(m, hd) : packedReluQuadraticAttention(m, hd));
    const o = r16(rmsNorm2dRef(r16(conv2d(att, v('wOut').reshape([C, 2 * C, 1, 1]), null, { padding: 0 })), v('normWeight'), v('normBias')));
    return vals(addR16(new Tensor(x.shape, 'f32', toNhwc(o)), x));
  },

  /**
   * Op granularity, as a bf16 model runs the block: each sub-op (norm + modulate, attention block,
   * cross-attention, Mix-FFN, each with its gate and residual) on the reference backend's bf16 tensors,
   * whose every op output is rounded to bf16; the modulation chunks table + t₀ rounded too.
   */
  'dit-block': (d, v) => {
    const ref = ops.getBackend('reference');
    const { B, C } = d;
    const bf = onReferenceBf16(v);
    const table = vals(v('table'));
    const t0 = vals(v('t0'));
    const chunk = (j: number) => {
      const c = new Float32Array(B * C);
      for (let b = 0; b < B; b++) for (let i = 0; i < C; i++) c[b * C + i] = table[j * C + i]! + t0[b * 6 * C + j * C + i]!;
      return ref.fromArray(f32ArrayToBf16(c), [B, 1, C], 'bf16');
    };
    const x = bf('x');
    const h1 = ops.layerNormModulateSync(x, chunk(0), chunk(1));
    const x1 = ops.linearAttentionBlockSync(h1, { wq: bf('a1wq'), wk: bf('a1wk'), wv: bf('a1wv'), wo: bf('a1wo'), bo: bf('a1bo') }, { gate: chunk(2), residual: x, headDim: d.headDim });
    const a2 = { wq: bf('a2wq'), bq: bf('a2bq'), wk: bf('a2wk'), bk: bf('a2bk'), wv: bf('a2wv'), bv: bf('a2bv'), wo: bf('a2wo'), bo: bf('a2bo') };
    const x2 = ops.crossAttentionSync(x1, bf('y'), a2, { heads: d.crossHeads, maskBias: bf('maskBias'), residual: x1 });
    const h2 = ops.layerNormModulateSync(x2, chunk(3), chunk(4));
    const ff = { wInv: bf('ffWInv'), bInv: bf('ffBInv'), wDw: bf('ffWDw'), bDw: bf('ffBDw'), wPoint: bf('ffWPoint') };
    return ops.mixFfnSync(h2, ff, { height: d.h, width: d.w, gate: chunk(5), residual: x2 }).toFloat32();
  },

  /** The DC-AE model ops on the reference backend's bf16 tensors: output rounded once per (sub-)op. */
  'dcae-upsample': (_d, v) => {
    const bf = onReferenceBf16(v);
    return dcaeUpsampleSync(bf('x'), bf('w'), { mode: 'interpolate', bias: bf('b'), shortcut: true }).toFloat32();
  },

  'dcae-evit-block': (_d, v) => {
    const bf = onReferenceBf16(v);
    const t = Object.fromEntries(EVIT_KEYS.map((k) => [k, bf(k)]));
    return dcaeEvitBlockSync(bf('x'), evitBlockWeights(t), { headDim: 32 }).toFloat32();
  },
};

/** Input `name` as a bf16 tensor of the reference backend. */
function onReferenceBf16(v: BfInput): (name: string) => BackendTensor {
  const ref = ops.getBackend('reference');
  return (name) => {
    const t = v(name);
    return ref.fromArray(f32ArrayToBf16(vals(t)), t.shape, 'bf16');
  };
}

/** The plain bf16 computation of `op`, or null when it has none (ops the op API lacks). */
export function plainBf16<O extends OpName>(op: O, dims: OpDimsMap[O], v: BfInput): Float32Array | null {
  const f = PLAIN_BF16[op] as PlainBf16<O> | undefined;
  return f === undefined ? null : f(dims, v);
}
