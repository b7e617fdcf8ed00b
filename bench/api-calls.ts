/**
 * How each catalogue op is called through the op API (bindings/ops.ts) at given dims: the tensors it
 * reads (shape and the distribution of their random values) and one call on tensors of any backend.
 * The native bench backends (bench/backends/native.ts) and the parity suite (bench/parity/) both build
 * their inputs from these specs, so a benchmarked call and a checked call are the same call.
 *
 * Layouts are the op API's: DiT ops on token-major (B, N, C); DC-AE ops on NHWC (B, H, W, C) — the
 * catalogue describes DC-AE maps as (B, C, H, W), the same tensor in the native layout.
 */
import { dcaeEvitBlockSync, dcaeUpsampleSync, EVIT_KEYS, type DcaeEvitBlockWeights } from '../bindings/models/dcae-ops.js';
import * as ops from '../bindings/ops.js';
import type { BackendTensor } from '../bindings/tensor.js';
import { Rng } from '../reference/core/random.js';
import type { OpName } from './catalogue.js';
import type { OpDimsMap } from './ops.js';

/** One input tensor: its shape and values ~ N(mean, std²) (weights use std 1/√fan-in), or fixed values. */
export interface InputSpec {
  shape: number[];
  std?: number;
  mean?: number;
  /** Fixed values from a seed (masks), instead of normal ones. */
  values?: (n: number, rng: Rng) => Float32Array;
}

export type Tensors = Readonly<Record<string, BackendTensor>>;
export type CallMode = 'sync' | 'async';

export interface ApiCall {
  inputs: Readonly<Record<string, InputSpec>>;
  outShape: number[];
  /**
   * Runs the op once on `t` (all on one backend), writing `out`. `options` are a native version's
   * extra op options (catalogue NativeVersion.options).
   */
  run(t: Tensors, out: BackendTensor, mode: CallMode, options?: Readonly<Record<string, string>>): BackendTensor | Promise<BackendTensor>;
}

export type ApiCallBuilder<O extends OpName> = (dims: OpDimsMap[O]) => ApiCall;

/** The (B, 1, L) additive key bias of a caption mask: key 0 always kept, others kept with p ≈ 0.69. */
export function captionMaskBias(B: number, L: number): InputSpec {
  return {
    shape: [B, 1, L],
    values: (n, rng) => {
      const m = new Float32Array(n);
      for (let i = 0; i < n; i++) m[i] = i % L === 0 || rng.normal() > -0.5 ? 0 : -10000;
      return m;
    },
  };
}

/** A seeded Float32Array for a spec (the seed makes every backend see the same values). */
export function inputValues(spec: InputSpec, seed: number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(seed);
  if (spec.values) return spec.values(n, rng);
  const a = new Float32Array(n);
  rng.fillNormal(a, spec.mean ?? 0, spec.std ?? 1);
  return a;
}

const w = (shape: number[], fanIn: number): InputSpec => ({ shape, std: 1 / Math.sqrt(fanIn) });
const act = (shape: number[]): InputSpec => ({ shape });
const small = (shape: number[], std = 0.3, mean = 0): InputSpec => ({ shape, std, mean });

/** LiteMLA's projection weights for C channels in heads of 32 (q, k, v; 5×5 depthwise; grouped 1×1; out). */
function liteMlaWeights(C: number): Record<string, InputSpec> {
  return {
    wq: w([C, C], C),
    wk: w([C, C], C),
    wv: w([C, C], C),
    wDw: small([3 * C, 1, 5, 5], 0.2),
    wGroup: w([3 * C, 32, 1, 1], 32),
    wOut: w([C, 2 * C], 2 * C),
  };
}

/** mode → the op's async (Promise) or sync form. */
function pick<A extends unknown[]>(mode: CallMode, asyncFn: (...a: A) => Promise<BackendTensor>, syncFn: (...a: A) => BackendTensor, ...args: A) {
  return mode === 'async' ? asyncFn(...args) : syncFn(...args);
}

export const API_CALLS: { readonly [O in OpName]?: ApiCallBuilder<O> } = {
  gemm: (d) => ({
    inputs: { x: act([d.M, d.K]), w: w([d.N, d.K], d.K), ...(d.bias ? { b: small([d.N], 0.5) } : {}) },
    outShape: [d.M, d.N],
    run: (t, out, mode) => pick(mode, ops.gemm, ops.gemmSync, t.x!, t.w!, { bias: t.b ?? null, activation: d.activation, out }),
  }),

  'linear-attention': (d) => ({
    inputs: { q: act([d.B, d.N, d.C]), k: act([d.B, d.N, d.C]), v: act([d.B, d.N, d.C]) },
    outShape: [d.B, d.N, d.C],
    run: (t, out, mode, o) =>
      pick(mode, ops.linearAttention, ops.linearAttentionSync, t.q!, t.k!, t.v!, { headDim: d.headDim, out, ...(o?.variant ? { variant: o.variant as 'fused' | 'unfused' } : {}) }),
  }),

  'linear-attention-block': (d) => ({
    inputs: { x: act([d.B, d.N, d.C]), wq: w([d.C, d.C], d.C), wk: w([d.C, d.C], d.C), wv: w([d.C, d.C], d.C), wo: w([d.C, d.C], d.C), bo: small([d.C]) },
    outShape: [d.B, d.N, d.C],
    run: (t, out, mode) =>
      pick(mode, ops.linearAttentionBlock, ops.linearAttentionBlockSync, t.x!, { wq: t.wq!, wk: t.wk!, wv: t.wv!, wo: t.wo!, bo: t.bo! }, { headDim: d.headDim, out }),
  }),

  'mix-ffn': (d) => ({
    inputs: {
      x: act([d.B, d.N, d.C]),
      wInv: w([2 * d.hidden, d.C], d.C),
      bInv: small([2 * d.hidden], 0.5),
      wDw: small([2 * d.hidden, 1, 3, 3], 1 / 3),
      bDw: small([2 * d.hidden], 0.5),
      wPoint: w([d.C, d.hidden], d.hidden),
    },
    outShape: [d.B, d.N, d.C],
    run: (t, out, mode) =>
      pick(mode, ops.mixFfn, ops.mixFfnSync, t.x!, { wInv: t.wInv!, bInv: t.bInv!, wDw: t.wDw!, bDw: t.bDw!, wPoint: t.wPoint! }, { height: d.h, width: d.w, out }),
  }),

  'cross-attention': (d) => {
    const I = d.heads * d.headDim;
    return {
      inputs: {
        x: act([d.B, d.N, d.C]),
        y: act([d.B, d.L, d.C]),
        wq: w([I, d.C], d.C),
        bq: small([I]),
        wk: w([I, d.C], d.C),
        bk: small([I]),
        wv: w([I, d.C], d.C),
        bv: small([I]),
        wo: w([d.C, I], I),
        bo: small([d.C]),
        maskBias: captionMaskBias(d.B, d.L),
      },
      outShape: [d.B, d.N, d.C],
      run: (t, out, mode) =>
        pick(
          mode,
          ops.crossAttention,
          ops.crossAttentionSync,
          t.x!,
          t.y!,
          { wq: t.wq!, bq: t.bq!, wk: t.wk!, bk: t.bk!, wv: t.wv!, bv: t.bv!, wo: t.wo!, bo: t.bo! },
          { heads: d.heads, maskBias: t.maskBias!, out },
        ),
    };
  },

  'layernorm-modulate': (d) => ({
    inputs: { x: act([d.B, d.N, d.C]), shift: small([d.B, 1, d.C], 0.5), scale: small([d.B, 1, d.C], 0.5) },
    outShape: [d.B, d.N, d.C],
    run: (t, out, mode) => pick(mode, ops.layerNormModulate, ops.layerNormModulateSync, t.x!, t.shift!, t.scale!, { out }),
  }),

  rmsnorm: (d) => ({
    inputs: { x: { shape: [d.rows, d.C], std: 2 }, weight: small([d.C], 0.5, 1) },
    outShape: [d.rows, d.C],
    run: (t, out, mode) => pick(mode, ops.rmsNorm, ops.rmsNormSync, t.x!, { weight: t.weight!, out }),
  }),

  'dit-block': (d) => {
    const { B, N, C, L } = d;
    const two = 2 * d.hidden;
    const sq = () => w([C, C], C);
    return {
      inputs: {
        x: act([B, N, C]),
        y: act([B, L, C]),
        t0: small([B, 6 * C]),
        table: small([6, C]),
        maskBias: captionMaskBias(B, L),
        a1wq: sq(),
        a1wk: sq(),
        a1wv: sq(),
        a1wo: sq(),
        a1bo: small([C]),
        a2wq: sq(),
        a2bq: small([C]),
        a2wk: sq(),
        a2bk: small([C]),
        a2wv: sq(),
        a2bv: small([C]),
        a2wo: sq(),
        a2bo: small([C]),
        ffWInv: w([two, C], C),
        ffBInv: small([two]),
        ffWDw: small([two, 1, 3, 3]),
        ffBDw: small([two]),
        ffWPoint: w([C, d.hidden], d.hidden),
      },
      outShape: [B, N, C],
      run: (t, out, mode) =>
        pick(mode, ops.ditBlock, ops.ditBlockSync, t.x!, ditBlockWeights(t), {
          y: t.y!,
          t0: t.t0!,
          maskBias: t.maskBias!,
          height: d.h,
          width: d.w,
          headDim: d.headDim,
          crossHeads: d.crossHeads,
          out,
        }),
    };
  },

  conv3x3: (d) => {
    const Ho = Math.floor((d.H - 1) / d.stride) + 1;
    const Wo = Math.floor((d.W - 1) / d.stride) + 1;
    return {
      inputs: { x: act([d.B, d.H, d.W, d.Cin]), w: w([d.Cout, d.Cin, 3, 3], 9 * d.Cin), ...(d.bias ? { b: small([d.Cout], 0.5) } : {}) },
      outShape: [d.B, Ho, Wo, d.Cout],
      run: (t, out, mode) => pick(mode, ops.conv3x3, ops.conv3x3Sync, t.x!, t.w!, { bias: t.b ?? null, stride: d.stride, out }),
    };
  },

  rmsnorm2d: (d) => ({
    inputs: { x: { shape: [d.B, d.H, d.W, d.C], std: 2 }, weight: small([d.C], 0.5, 1), bias: small([d.C], 0.5) },
    outShape: [d.B, d.H, d.W, d.C],
    run: (t, out, mode) => pick(mode, ops.rmsNorm2d, ops.rmsNorm2dSync, t.x!, { weight: t.weight!, bias: t.bias!, out }),
  }),

  'lite-mla': (d) => {
    const C = d.C;
    return {
      inputs: {
        x: act([d.B, d.H, d.W, C]),
        ...liteMlaWeights(C),
        normWeight: small([C], 0.2, 1),
        normBias: small([C], 0.2),
      },
      outShape: [d.B, d.H, d.W, C],
      run: (t, out, mode) =>
        pick(
          mode,
          ops.liteMla,
          ops.liteMlaSync,
          t.x!,
          { wq: t.wq!, wk: t.wk!, wv: t.wv!, wDw: t.wDw!, wGroup: t.wGroup!, wOut: t.wOut!, normWeight: t.normWeight!, normBias: t.normBias! },
          { headDim: 32, out },
        ),
    };
  },

  'dcae-resblock': (d) => ({
    inputs: {
      x: act([d.B, d.H, d.W, d.C]),
      w1: w([d.C, d.C, 3, 3], 9 * d.C),
      b1: small([d.C], 0.2),
      w2: w([d.C, d.C, 3, 3], 9 * d.C),
      normWeight: small([d.C], 0.2, 1),
      normBias: small([d.C], 0.2),
    },
    outShape: [d.B, d.H, d.W, d.C],
    run: (t, out, mode) =>
      pick(mode, ops.dcaeResBlock, ops.dcaeResBlockSync, t.x!, { w1: t.w1!, b1: t.b1!, w2: t.w2!, normWeight: t.normWeight!, normBias: t.normBias! }, { out }),
  }),

  // The DC-AE decoder's model-level ops (bindings/models/dcae-ops.ts: sync only; `async` wraps the sync call).
  'dcae-upsample': (d) => ({
    inputs: { x: act([d.B, d.H, d.W, d.Cin]), w: w([d.Cout, d.Cin, 3, 3], 9 * d.Cin), b: small([d.Cout], 0.5) },
    outShape: [d.B, 2 * d.H, 2 * d.W, d.Cout],
    run: (t, out, mode) => {
      const y = dcaeUpsampleSync(t.x!, t.w!, { mode: 'interpolate', bias: t.b!, shortcut: true, out });
      return mode === 'async' ? Promise.resolve(y) : y;
    },
  }),

  'dcae-evit-block': (d) => {
    const C = d.C;
    const two = 2 * 4 * C; // GLUMBConv with expand ratio 4: 2·hidden channels before the GLU
    return {
      inputs: {
        x: act([d.B, d.H, d.W, C]),
        ...liteMlaWeights(C),
        attnNormWeight: small([C], 0.2, 1),
        attnNormBias: small([C], 0.2),
        ffWInv: w([two, C], C),
        ffBInv: small([two], 0.3),
        ffWDw: small([two, 1, 3, 3], 1 / 3),
        ffBDw: small([two], 0.3),
        ffWPoint: w([C, two / 2], two / 2),
        ffNormWeight: small([C], 0.2, 1),
        ffNormBias: small([C], 0.2),
      },
      outShape: [d.B, d.H, d.W, C],
      run: (t, out, mode) => {
        const y = dcaeEvitBlockSync(t.x!, evitBlockWeights(t), { headDim: 32, out });
        return mode === 'async' ? Promise.resolve(y) : y;
      },
    };
  },
};

/** The dcae-evit-block weights object from the flat tensor names of its ApiCall. */
export function evitBlockWeights(t: Tensors): DcaeEvitBlockWeights {
  return Object.fromEntries(EVIT_KEYS.map((k) => [k, t[k]!])) as unknown as DcaeEvitBlockWeights;
}

/** The dit-block weights object from the flat tensor names of its ApiCall. */
export function ditBlockWeights(t: Tensors): ops.DitBlockWeights {
  return {
    table: t.table!,
    attn1: { wq: t.a1wq!, wk: t.a1wk!, wv: t.a1wv!, wo: t.a1wo!, bo: t.a1bo! },
    attn2: { wq: t.a2wq!, bq: t.a2bq!, wk: t.a2wk!, bk: t.a2bk!, wv: t.a2wv!, bv: t.a2bv!, wo: t.a2wo!, bo: t.a2bo! },
    ff: { wInv: t.ffWInv!, bInv: t.ffBInv!, wDw: t.ffWDw!, bDw: t.ffBDw!, wPoint: t.ffWPoint! },
  };
}

/** Whether the bench can call `op` on native and reference tensors (the op API or a model-level op). */
export function hasApiCall(op: OpName): boolean {
  return API_CALLS[op] !== undefined;
}

/** The ApiCall of `op` at `dims`, or null when the op API does not have the op. */
export function apiCall<O extends OpName>(op: O, dims: OpDimsMap[O]): ApiCall | null {
  const b = API_CALLS[op] as ApiCallBuilder<O> | undefined;
  return b === undefined ? null : b(dims);
}

/** Distinct seeds per input name, from a base seed (stable across backends and dtypes). */
export function inputSeeds(call: ApiCall, base: number): Record<string, number> {
  return Object.fromEntries(Object.keys(call.inputs).map((k, i) => [k, base * 101 + i + 1]));
}
