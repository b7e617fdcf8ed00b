/**
 * How the `reference` bench backend runs each op: inputs and weights built once (fresh random values,
 * stored at the bench dtype), then one call of the TS reference per run.
 *
 * The weights of the composite ops are generated from the reference's own parameter layouts
 * (reference/dit/weights.ts blockWeightShapes, reference/dcae/param-shapes.ts), so the keys the
 * reference reads are exactly the ones it declares; DC-AE blocks of any width get a one-off DC-AE
 * config with that width.
 */
import { randn } from '../../reference/core/random.js';
import { Tensor } from '../../reference/core/tensor.js';
import { DC_AE_F32C32_SANA_1_0, parseDcaeConfig, type DcaeConfig } from '../../reference/dcae/config.js';
import { downBlock } from '../../reference/dcae/down-block.js';
import { efficientVitBlock } from '../../reference/dcae/efficientvit-block.js';
import { liteMla } from '../../reference/dcae/lite-mla.js';
import { dcaeParamShapes } from '../../reference/dcae/param-shapes.js';
import { ParamScope } from '../../reference/dcae/params.js';
import { resBlock } from '../../reference/dcae/res-block.js';
import { rmsNorm2d } from '../../reference/dcae/rms-norm-2d.js';
import { upBlock } from '../../reference/dcae/up-block.js';
import { sanaTransformerBlock } from '../../reference/dit/block.js';
import { DIFFUSERS_DEFAULTS } from '../../reference/dit/config.js';
import { modulate } from '../../reference/dit/modulation.js';
import { blockWeightShapes } from '../../reference/dit/weights.js';
import { conv2d } from '../../reference/ops/conv2d.js';
import { crossAttentionModule, maskToBias } from '../../reference/ops/cross-attention.js';
import { linear } from '../../reference/ops/linear.js';
import { linearAttentionModule, reluLinearAttention } from '../../reference/ops/linear-attention.js';
import { mixFfnTokens } from '../../reference/ops/mix-ffn.js';
import { layerNorm, rmsNorm } from '../../reference/ops/norms.js';
import type { BenchDType } from '../cost-model.js';
import type { Activation, OpName } from '../ops.js';
import type { OpShape } from '../shapes.js';

/** One prepared call: `run` executes the op once and returns its output. */
export interface ReferenceCall {
  run(): Tensor;
}

export type ReferencePrepare = (shape: OpShape, dtype: BenchDType) => ReferenceCall;

/** Random tensors with distinct seeds, stored at the bench dtype. */
class Inputs {
  private seed = 1;
  constructor(private readonly dtype: BenchDType) {}
  /** N(0, std²) values; weights use std = 1/√fan_in so activations stay O(1). */
  t(shape: number[], std = 1): Tensor {
    const x = randn(shape, this.seed++, std);
    return this.dtype === 'f32' ? x : x.to('bf16');
  }
  weight(shape: number[]): Tensor {
    const fanIn = shape.length > 1 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    return this.t(shape, shape.length > 1 ? 1 / Math.sqrt(fanIn) : 0.1);
  }
  /** A {0,1} mask with at least one kept token per sample (the rest random). */
  mask(B: number, L: number): Tensor {
    const m = new Float32Array(B * L);
    const r = randn([B * L], this.seed++).data as Float32Array;
    for (let i = 0; i < m.length; i++) m[i] = i % L === 0 || r[i]! > -0.5 ? 1 : 0;
    return new Tensor([B, L], 'f32', m);
  }
  /** Every tensor of a reference parameter map, under its key. */
  params(shapes: Iterable<[string, number[]]>): Map<string, Tensor> {
    return new Map([...shapes].map(([k, s]) => [k, this.weight(s)]));
  }
}

/** The gemm epilogue activation as a separate pass (the reference linear has no fused epilogue). */
function applyActivation(y: Float32Array, act: Activation): void {
  switch (act) {
    case 'none':
      return;
    case 'relu':
      for (let i = 0; i < y.length; i++) y[i] = Math.max(0, y[i]!);
      return;
    case 'silu':
      for (let i = 0; i < y.length; i++) y[i] = y[i]! / (1 + Math.exp(-y[i]!));
      return;
    case 'gelu-tanh':
      for (let i = 0; i < y.length; i++) {
        const x = y[i]!;
        y[i] = 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
      }
      return;
  }
}

function wrongOp(want: string, got: string): never {
  throw new TypeError(`reference bench: preparer for ${want} got op ${got}`);
}

/** A DC-AE config whose stages have the given widths and block layout (for parameter shapes). */
function dcaeConfig(stages: { type: 'ResBlock' | 'EfficientViTBlock'; channels: number; layers: number }[]): DcaeConfig {
  const types = stages.map((s) => s.type);
  const chans = stages.map((s) => s.channels);
  const layers = stages.map((s) => s.layers);
  const ms = stages.map((s) => (s.type === 'EfficientViTBlock' ? [5] : []));
  return parseDcaeConfig(
    {
      ...DC_AE_F32C32_SANA_1_0,
      latent_channels: chans[chans.length - 1], // divides the last width, as the in/out shortcuts require
      encoder_block_types: types,
      decoder_block_types: types,
      encoder_block_out_channels: chans,
      decoder_block_out_channels: chans,
      encoder_layers_per_block: layers,
      decoder_layers_per_block: layers,
      encoder_qkv_multiscales: ms,
      decoder_qkv_multiscales: ms,
    },
    'bench shape',
  );
}

/** The parameters under `prefix` of a config, as a scope rooted there. */
function scopeOf(inp: Inputs, cfg: DcaeConfig, prefix: string): ParamScope {
  const shapes = [...dcaeParamShapes(cfg)].filter(([k]) => k.startsWith(prefix));
  return new ParamScope(inp.params(shapes), prefix);
}

const LITE_MLA = { headDim: 32, kernelSizes: [5] } as const;

export const REFERENCE_OPS: Partial<Record<OpName, ReferencePrepare>> = {
  gemm(s, dtype) {
    if (s.op !== 'gemm') wrongOp('gemm', s.op);
    const { M, N, K, bias, activation } = s.dims;
    const inp = new Inputs(dtype);
    const x = inp.t([M, K]);
    const w = inp.weight([N, K]);
    const b = bias ? inp.weight([N]) : null;
    return {
      run: () => {
        const y = linear(x, w, b);
        applyActivation(y.data as Float32Array, activation);
        return y;
      },
    };
  },

  'linear-attention'(s, dtype) {
    if (s.op !== 'linear-attention') wrongOp('linear-attention', s.op);
    const { B, N, C, heads } = s.dims;
    const inp = new Inputs(dtype);
    const [q, k, v] = [inp.t([B, N, C]), inp.t([B, N, C]), inp.t([B, N, C])];
    return { run: () => reluLinearAttention(q, k, v, { heads }) };
  },

  'linear-attention-block'(s, dtype) {
    if (s.op !== 'linear-attention-block') wrongOp('linear-attention-block', s.op);
    const { B, N, C, heads } = s.dims;
    const inp = new Inputs(dtype);
    const x = inp.t([B, N, C]);
    const w = { toQ: inp.weight([C, C]), toK: inp.weight([C, C]), toV: inp.weight([C, C]), toOut: inp.weight([C, C]), toOutBias: inp.weight([C]) };
    return { run: () => linearAttentionModule(x, w, { heads }) };
  },

  'mix-ffn'(s, dtype) {
    if (s.op !== 'mix-ffn') wrongOp('mix-ffn', s.op);
    const { B, N, C, h, w: wd, hidden } = s.dims;
    const inp = new Inputs(dtype);
    const x = inp.t([B, N, C]);
    const w = {
      convInverted: inp.weight([2 * hidden, C, 1, 1]),
      convInvertedBias: inp.weight([2 * hidden]),
      convDepth: inp.weight([2 * hidden, 1, 3, 3]),
      convDepthBias: inp.weight([2 * hidden]),
      convPoint: inp.weight([C, hidden, 1, 1]),
    };
    return { run: () => mixFfnTokens(x, h, wd, w) };
  },

  'cross-attention'(s, dtype) {
    if (s.op !== 'cross-attention') wrongOp('cross-attention', s.op);
    const { B, N, C, L, heads, headDim } = s.dims;
    const inp = new Inputs(dtype);
    const I = heads * headDim;
    const x = inp.t([B, N, C]);
    const y = inp.t([B, L, C]);
    const mask = inp.mask(B, L);
    const w = {
      toQ: inp.weight([I, C]),
      toQBias: inp.weight([I]),
      toK: inp.weight([I, C]),
      toKBias: inp.weight([I]),
      toV: inp.weight([I, C]),
      toVBias: inp.weight([I]),
      toOut: inp.weight([C, I]),
      toOutBias: inp.weight([C]),
    };
    return { run: () => crossAttentionModule(x, y, w, { heads, bias: maskToBias(mask) }) };
  },

  'layernorm-modulate'(s, dtype) {
    if (s.op !== 'layernorm-modulate') wrongOp('layernorm-modulate', s.op);
    const { B, N, C } = s.dims;
    const inp = new Inputs(dtype);
    const x = inp.t([B, N, C]);
    const chunks = inp.t([B, 2, C], 0.1); // (shift, scale) per sample
    return { run: () => modulate(layerNorm(x, { eps: 1e-6 }), chunks, 0, 1) };
  },

  rmsnorm(s, dtype) {
    if (s.op !== 'rmsnorm') wrongOp('rmsnorm', s.op);
    const { rows, C } = s.dims;
    const inp = new Inputs(dtype);
    const x = inp.t([rows, C]);
    const weight = inp.weight([C]);
    return { run: () => rmsNorm(x, { eps: 1e-5, weight }) };
  },

  'dit-block'(s, dtype) {
    if (s.op !== 'dit-block') wrongOp('dit-block', s.op);
    const d = s.dims;
    const cfg = {
      ...DIFFUSERS_DEFAULTS,
      numAttentionHeads: d.heads,
      attentionHeadDim: d.headDim,
      numCrossAttentionHeads: d.crossHeads,
      crossAttentionHeadDim: d.crossHeadDim,
      crossAttentionDim: d.C,
      mlpRatio: d.hidden / d.C,
    };
    const inp = new Inputs(dtype);
    const weights = inp.params(blockWeightShapes(cfg).map(([k, sh]) => [`transformer_blocks.0.${k}`, sh] as [string, number[]]));
    const x = inp.t([d.B, d.N, d.C]);
    const ctx = {
      encoderHiddenStates: inp.t([d.B, d.L, d.C]),
      encoderBias: maskToBias(inp.mask(d.B, d.L)),
      timestep: inp.t([d.B, 6 * d.C], 0.1),
      height: d.h,
      width: d.w,
      selfAttentionHeads: d.heads,
      crossAttentionHeads: d.crossHeads,
      normEps: 1e-6,
      linearAttentionEps: 1e-15,
    };
    return { run: () => sanaTransformerBlock(x, 0, weights, ctx) };
  },

  conv3x3(s, dtype) {
    if (s.op !== 'conv3x3') wrongOp('conv3x3', s.op);
    const { B, Cin, Cout, H, W, stride, bias } = s.dims;
    const inp = new Inputs(dtype);
    const x = inp.t([B, Cin, H, W]);
    const w = inp.weight([Cout, Cin, 3, 3]);
    const b = bias ? inp.weight([Cout]) : null;
    return { run: () => conv2d(x, w, b, { stride, padding: 1 }) };
  },

  rmsnorm2d(s, dtype) {
    if (s.op !== 'rmsnorm2d') wrongOp('rmsnorm2d', s.op);
    const { B, C, H, W } = s.dims;
    const inp = new Inputs(dtype);
    const x = inp.t([B, C, H, W]);
    const [w, b] = [inp.weight([C]), inp.weight([C])];
    return { run: () => rmsNorm2d(x, w, b) };
  },

  'lite-mla'(s, dtype) {
    if (s.op !== 'lite-mla') wrongOp('lite-mla', s.op);
    const { B, C, H, W } = s.dims;
    const inp = new Inputs(dtype);
    const p = scopeOf(inp, dcaeConfig([{ type: 'EfficientViTBlock', channels: C, layers: 1 }]), 'decoder.up_blocks.0.0.');
    const x = inp.t([B, C, H, W]);
    return { run: () => liteMla(x, p.child('attn'), LITE_MLA) };
  },

  'dcae-resblock'(s, dtype) {
    if (s.op !== 'dcae-resblock') wrongOp('dcae-resblock', s.op);
    const { B, C, H, W } = s.dims;
    const inp = new Inputs(dtype);
    const p = scopeOf(inp, dcaeConfig([{ type: 'ResBlock', channels: C, layers: 1 }]), 'decoder.up_blocks.0.0.');
    const x = inp.t([B, C, H, W]);
    return { run: () => resBlock(x, p) };
  },

  'dcae-evit-block'(s, dtype) {
    if (s.op !== 'dcae-evit-block') wrongOp('dcae-evit-block', s.op);
    const { B, C, H, W } = s.dims;
    const inp = new Inputs(dtype);
    const p = scopeOf(inp, dcaeConfig([{ type: 'EfficientViTBlock', channels: C, layers: 1 }]), 'decoder.up_blocks.0.0.');
    const x = inp.t([B, C, H, W]);
    return { run: () => efficientVitBlock(x, p, LITE_MLA) };
  },

  'dcae-upsample'(s, dtype) {
    if (s.op !== 'dcae-upsample') wrongOp('dcae-upsample', s.op);
    const { B, Cin, Cout, H, W } = s.dims;
    const inp = new Inputs(dtype);
    const cfg = dcaeConfig([
      { type: 'ResBlock', channels: Cout, layers: 1 },
      { type: 'ResBlock', channels: Cin, layers: 1 },
    ]);
    const p = scopeOf(inp, cfg, 'decoder.up_blocks.0.0.'); // the up-sample conv before stage 0 (its blocks follow at .1)
    const x = inp.t([B, Cin, H, W]);
    return { run: () => upBlock(x, p, 'interpolate') };
  },

  'dcae-downsample'(s, dtype) {
    if (s.op !== 'dcae-downsample') wrongOp('dcae-downsample', s.op);
    const { B, Cin, Cout, H, W } = s.dims;
    const inp = new Inputs(dtype);
    const cfg = dcaeConfig([
      { type: 'ResBlock', channels: Cin, layers: 1 },
      { type: 'ResBlock', channels: Cout, layers: 1 },
    ]);
    const p = scopeOf(inp, cfg, 'encoder.down_blocks.0.1.'); // the down-sample conv after stage 0's one block
    const x = inp.t([B, Cin, H, W]);
    return { run: () => downBlock(x, p, 'conv') };
  },
};

const base = { model: '0.6b' as const, variant: 'calibration', res: '-', height: 0, width: 0, tokens: 0, batch: 1 };
const dcae = { ...base, model: 'dcae' as const };

/**
 * Small shapes per op (a few ms each once JIT-compiled): the backend's time estimate is the op's FLOPs
 * over the rate measured on these (the cost model's counts, so the estimate scales like the op).
 */
export const CALIBRATION: Record<OpName, OpShape> = {
  gemm: { ...base, op: 'gemm', dims: { M: 64, N: 128, K: 256, bias: false, activation: 'none' } },
  'linear-attention': { ...base, op: 'linear-attention', dims: { B: 1, N: 64, C: 64, heads: 2, headDim: 32 } },
  'linear-attention-block': { ...base, op: 'linear-attention-block', dims: { B: 1, N: 16, C: 64, heads: 2, headDim: 32 } },
  'mix-ffn': { ...base, op: 'mix-ffn', dims: { B: 1, N: 16, C: 32, h: 4, w: 4, hidden: 80 } },
  'cross-attention': { ...base, op: 'cross-attention', dims: { B: 1, N: 16, C: 64, L: 20, heads: 2, headDim: 32 } },
  'layernorm-modulate': { ...base, op: 'layernorm-modulate', dims: { B: 1, N: 64, C: 128 } },
  rmsnorm: { ...base, op: 'rmsnorm', dims: { rows: 64, C: 128 } },
  'dit-block': {
    ...base,
    op: 'dit-block',
    dims: { B: 1, N: 16, C: 64, h: 4, w: 4, heads: 2, headDim: 32, hidden: 160, L: 20, crossHeads: 2, crossHeadDim: 32 },
  },
  conv3x3: { ...dcae, op: 'conv3x3', dims: { B: 1, Cin: 32, Cout: 8, H: 32, W: 32, stride: 1, bias: true } },
  rmsnorm2d: { ...dcae, op: 'rmsnorm2d', dims: { B: 1, C: 64, H: 16, W: 16 } },
  'lite-mla': { ...dcae, op: 'lite-mla', dims: { B: 1, C: 64, H: 8, W: 8 } },
  'dcae-resblock': { ...dcae, op: 'dcae-resblock', dims: { B: 1, C: 8, H: 16, W: 16 } },
  'dcae-evit-block': { ...dcae, op: 'dcae-evit-block', dims: { B: 1, C: 32, H: 8, W: 8 } },
  'dcae-upsample': { ...dcae, op: 'dcae-upsample', dims: { B: 1, Cin: 16, Cout: 8, H: 8, W: 8 } },
  'dcae-downsample': { ...dcae, op: 'dcae-downsample', dims: { B: 1, Cin: 8, Cout: 16, H: 16, W: 16 } },
};
