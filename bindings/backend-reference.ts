/**
 * The `reference` backend: tensors in JS memory, ops computed by the pure-TS reference in
 * reference/ (float64 accumulation, results rounded once to the tensor's storage dtype). This is the
 * spec the native backends are checked against; it is slow and runs on the JS thread (its "async"
 * ops are computed before the returned Promise settles).
 *
 * Only glue lives here: layout changes (NHWC ↔ NCHW for the DC-AE ops, whose reference is NCHW like
 * diffusers) and the shared gemm-style epilogue (gate multiply, residual add) that the native ops fuse.
 */
import { f32ArrayToBf16 } from '../reference/core/dtype.js';
import { shapeStr, Tensor } from '../reference/core/tensor.js';
import { ParamScope } from '../reference/dcae/params.js';
import { liteMla } from '../reference/dcae/lite-mla.js';
import { resBlock } from '../reference/dcae/res-block.js';
import { sanaTransformerBlock } from '../reference/dit/block.js';
import { modulate } from '../reference/dit/modulation.js';
import { geluTanhScalar, mapElements, reluScalar, siluScalar } from '../reference/ops/activations.js';
import { conv2d } from '../reference/ops/conv2d.js';
import { crossAttentionModule, crossAttentionWithKv } from '../reference/ops/cross-attention.js';
import { nchwToTokens, tokensToNchw } from '../reference/ops/layout.js';
import { linearAttentionModule, reluLinearAttention } from '../reference/ops/linear-attention.js';
import { linear } from '../reference/ops/linear.js';
import { mixFfnTokens } from '../reference/ops/mix-ffn.js';
import { layerNorm, rmsNorm } from '../reference/ops/norms.js';
import { checkDType, checkShape, storageFor, type Backend, type OpArgs, type OpName, type OpVersion } from './backend.js';
import { BackendTensor, type TensorDType, type TensorStorage } from './tensor.js';

class JsStorage implements TensorStorage {
  constructor(public data: Float32Array | Uint16Array | null) {}
  read(): Float32Array | Uint16Array {
    return this.data!.slice();
  }
  write(data: Float32Array | Uint16Array): void {
    this.data!.set(data);
  }
  free(): void {
    this.data = null;
  }
}

/** The reference Tensor over a reference-backend tensor's storage (no copy). */
function view(t: BackendTensor, op: string, what: string): Tensor {
  const st = t.storage(op, what);
  if (!(st instanceof JsStorage)) throw new TypeError(`${op}: ${what} is not a reference-backend tensor`);
  return new Tensor(t.shape, t.dtype, st.data!);
}

/** Writes f32 values into a reference-backend tensor (rounded to bf16 when it is bf16). */
export function writeReferenceOut(out: BackendTensor, values: Float32Array, op: string): void {
  write(out, values, op);
}

function write(out: BackendTensor, values: Float32Array, op: string): void {
  const st = out.storage(op, 'out');
  if (!(st instanceof JsStorage)) throw new TypeError(`${op}: out is not a reference-backend tensor`);
  st.data!.set(out.dtype === 'bf16' ? f32ArrayToBf16(values) : values);
}

const ACT: Readonly<Record<string, ((v: number) => number) | null>> = {
  none: null,
  relu: reluScalar,
  silu: siluScalar,
  'gelu-tanh': geluTanhScalar,
};

/** y ← residual + gate ⊙ y over rows of N; gate row m / (M / G) (the native epilogue's broadcast rule). */
function gateResidual(y: Float32Array, N: number, gate: Tensor | null, residual: Tensor | null): void {
  if (gate) {
    const g = gate.toFloat32();
    const M = y.length / N;
    const rowsPer = M / (g.length / N);
    for (let m = 0; m < M; m++) {
      const go = Math.floor(m / rowsPer) * N;
      for (let n = 0; n < N; n++) y[m * N + n] = Math.fround(y[m * N + n]! * g[go + n]!);
    }
  }
  if (residual) {
    const r = residual.toFloat32();
    for (let i = 0; i < y.length; i++) y[i] = y[i]! + r[i]!;
  }
}

function nhwcToNchw(x: Tensor): Tensor {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  return tokensToNchw(new Tensor([B, H * W, C], 'f32', x.toFloat32()), H, W);
}

function nchwToNhwc(x: Tensor): Tensor {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  return nchwToTokens(x).reshape([B, H, W, C]);
}

/** A vector operand as 1-D: the shared checks accept (N) or (1, …, 1, N); the reference layers take (N). */
function vec<T extends Tensor | null>(x: T): T {
  return (x === null ? null : x.reshape([x.numel])) as T;
}

export class ReferenceBackend implements Backend {
  readonly name = 'reference' as const;

  empty(shape: readonly number[], dtype: TensorDType): BackendTensor {
    checkDType('empty', dtype);
    checkShape('empty', shape);
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array | Uint16Array;
    try {
      data = dtype === 'f32' ? new Float32Array(n) : new Uint16Array(n);
    } catch (e) {
      // V8's "Invalid typed array length" / "Array buffer allocation failed": say what did not fit.
      throw new RangeError(`empty: out of memory: ${dtype}${shapeStr(shape)} (${n * (dtype === 'f32' ? 4 : 2)} bytes) cannot be allocated in JS memory (${(e as Error).message})`, { cause: e });
    }
    return new BackendTensor('reference', dtype, shape, new JsStorage(data));
  }

  fromArray(data: Float32Array | Uint16Array, shape: readonly number[], dtype?: TensorDType): BackendTensor {
    const s = storageFor('fromArray', data, shape, dtype);
    return new BackendTensor('reference', s.dtype, shape, new JsStorage(s.data === data ? data.slice() : s.data));
  }

  supports(op: OpName): boolean {
    return op in this.impl;
  }

  /** The reference is one implementation per op: only version 0. */
  versions(): readonly OpVersion[] {
    return [];
  }

  run(op: OpName, args: OpArgs, mode: 'sync'): void;
  run(op: OpName, args: OpArgs, mode: 'async'): Promise<void>;
  run(op: OpName, args: OpArgs, mode: 'sync' | 'async'): void | Promise<void> {
    if (mode === 'async') {
      try {
        this.run(op, args, 'sync');
        return Promise.resolve();
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    const t = (k: string): Tensor => {
      const v = args[k];
      if (!(v instanceof BackendTensor)) throw new TypeError(`${op}: missing tensor '${k}'`);
      return view(v, op, k);
    };
    const opt = (k: string): Tensor | null => (args[k] instanceof BackendTensor ? t(k) : null);
    const num = (k: string): number => args[k] as number;
    const out = args.out as BackendTensor;
    let y: Float32Array;
    try {
      y = this.impl[op](t, opt, num, args);
    } catch (e) {
      // V8's own words for a host allocation that failed name neither the op nor the shapes
      if (e instanceof RangeError && /Array buffer allocation failed|Invalid typed array length/.test(e.message)) {
        const shapes = Object.entries(args).filter(([, v]) => v instanceof BackendTensor).map(([k, v]) => `${k} ${shapeStr((v as BackendTensor).shape)}`);
        throw new RangeError(`${op}: out of host memory on the reference backend (${shapes.join(', ')}): ${e.message}`);
      }
      throw e;
    }
    write(out, y, op);
  }

  private readonly impl: Record<
    OpName,
    (t: (k: string) => Tensor, opt: (k: string) => Tensor | null, num: (k: string) => number, args: OpArgs) => Float32Array
  > = {
    gemm: (t, opt, _num, args) => {
      const w = t('w');
      let y = linear(t('x'), w, vec(opt('bias')));
      const act = ACT[(args.act as string | undefined) ?? 'none'];
      if (act) y = mapElements(y, act);
      const ys = y.data as Float32Array;
      gateResidual(ys, w.shape[0]!, opt('gate'), opt('residual'));
      return ys;
    },
    'linear-attention': (t, _opt, num) => {
      const q = t('q');
      return reluLinearAttention(q, t('k'), t('v'), { heads: q.shape[2]! / num('headDim'), eps: num('eps') }).data as Float32Array;
    },
    'linear-attention-block': (t, opt, num) => {
      const x = t('x');
      const wo = t('wo');
      const y = linearAttentionModule(
        x,
        { toQ: t('wq'), toK: t('wk'), toV: t('wv'), toOut: wo, toOutBias: vec(opt('bo')) },
        { heads: x.shape[2]! / num('headDim'), eps: num('eps') },
      ).data as Float32Array;
      gateResidual(y, wo.shape[0]!, opt('gate'), opt('residual'));
      return y;
    },
    'mix-ffn': (t, opt, num) => {
      const wInv = t('wInv');
      const wPoint = t('wPoint');
      const two = wInv.shape[0]!;
      const y = mixFfnTokens(t('x'), num('height'), num('width'), {
        convInverted: wInv.reshape([two, wInv.shape[1]!, 1, 1]),
        convInvertedBias: t('bInv').reshape([two]),
        convDepth: t('wDw').reshape([two, 1, 3, 3]),
        convDepthBias: t('bDw').reshape([two]),
        convPoint: wPoint.reshape([wPoint.shape[0]!, wPoint.shape[1]!, 1, 1]),
      }).data as Float32Array;
      gateResidual(y, wPoint.shape[0]!, opt('gate'), opt('residual'));
      return y;
    },
    'cross-attention': (t, opt, num) => {
      const wo = t('wo');
      const attn = { heads: num('heads'), bias: opt('maskBias') };
      const qo = { toQ: t('wq'), toQBias: vec(opt('bq')), toOut: wo, toOutBias: vec(opt('bo')) };
      // Precomputed text keys/values (k, v) or the text y projected here.
      const k = opt('k');
      const y = (
        k !== null
          ? crossAttentionWithKv(t('x'), { k, v: t('v') }, qo, attn)
          : crossAttentionModule(t('x'), t('y'), { ...qo, toK: t('wk'), toKBias: vec(opt('bk')), toV: t('wv'), toVBias: vec(opt('bv')) }, attn)
      ).data as Float32Array;
      gateResidual(y, wo.shape[0]!, null, opt('residual'));
      return y;
    },
    'layernorm-modulate': (t, _opt, num) => {
      const x = t('x');
      const [B, , C] = x.shape as [number, number, number];
      const sh = t('shift').toFloat32();
      const sc = t('scale').toFloat32();
      const G = sh.length / C;
      const chunks = new Float32Array(B * 2 * C);
      for (let b = 0; b < B; b++) {
        const src = (G === 1 ? 0 : b) * C;
        chunks.set(sh.subarray(src, src + C), b * 2 * C);
        chunks.set(sc.subarray(src, src + C), (b * 2 + 1) * C);
      }
      return modulate(layerNorm(x, { eps: num('eps') }), new Tensor([B, 2, C], 'f32', chunks), 0, 1).data as Float32Array;
    },
    rmsnorm: (t, opt, num) => {
      const x = t('x');
      const C = x.shape[x.ndim - 1]!;
      const w = opt('weight');
      const b = opt('bias');
      const y = rmsNorm(x, { eps: num('eps'), weight: w?.reshape([C]) ?? null, bias: b?.reshape([C]) ?? null }).data as Float32Array;
      gateResidual(y, C, null, opt('residual'));
      return y;
    },
    conv3x3: (t, opt, num, args) => {
      const w = t('w');
      let y = conv2d(nhwcToNchw(t('x')), w, opt('bias')?.reshape([w.shape[0]!]) ?? null, { stride: num('stride'), padding: 1 });
      const act = ACT[(args.act as string | undefined) ?? 'none'];
      if (act) y = mapElements(y, act);
      const ys = nchwToNhwc(y).data as Float32Array;
      gateResidual(ys, w.shape[0]!, null, opt('residual'));
      return ys;
    },
    'dcae-resblock': (t, _opt, num) => {
      const params = new Map<string, Tensor>([
        ['conv1.weight', t('w1')],
        ['conv1.bias', vec(t('b1'))],
        ['conv2.weight', t('w2')],
        ['norm.weight', vec(t('normWeight'))],
        ['norm.bias', vec(t('normBias'))],
      ]);
      if (num('eps') !== 1e-5) throw new RangeError('dcae-resblock: the reference ResBlock uses eps 1e-5');
      return nchwToNhwc(resBlock(nhwcToNchw(t('x')), new ParamScope(params), {})).data as Float32Array;
    },
    'lite-mla': (t, _opt, num) => {
      const wDw = t('wDw');
      const wGroup = t('wGroup');
      const params = new Map<string, Tensor>([
        ['to_q.weight', t('wq')],
        ['to_k.weight', t('wk')],
        ['to_v.weight', t('wv')],
        ['to_qkv_multiscale.0.proj_in.weight', wDw],
        ['to_qkv_multiscale.0.proj_out.weight', wGroup.reshape([wGroup.shape[0]!, wGroup.shape[1]!, 1, 1])],
        ['to_out.weight', t('wOut')],
        ['norm_out.weight', vec(t('normWeight'))],
        ['norm_out.bias', vec(t('normBias'))],
      ]);
      const y = liteMla(nhwcToNchw(t('x')), new ParamScope(params), { headDim: num('headDim'), kernelSizes: [wDw.shape[2]!], eps: num('eps') });
      return nchwToNhwc(y).data as Float32Array;
    },
    'dit-block': (t, opt, num) => {
      const x = t('x');
      const C = x.shape[2]!;
      const conv1x1 = (w: Tensor) => w.reshape([w.shape[0]!, w.shape[1]!, 1, 1]);
      const two = t('ffWInv').shape[0]!;
      const pre = 'transformer_blocks.0.';
      const w = new Map<string, Tensor>([
        [pre + 'scale_shift_table', t('table')],
        [pre + 'attn1.to_q.weight', t('attn1Wq')],
        [pre + 'attn1.to_k.weight', t('attn1Wk')],
        [pre + 'attn1.to_v.weight', t('attn1Wv')],
        [pre + 'attn1.to_out.0.weight', t('attn1Wo')],
        [pre + 'attn1.to_out.0.bias', t('attn1Bo').reshape([C])],
        [pre + 'attn2.to_q.weight', t('attn2Wq')],
        [pre + 'attn2.to_q.bias', t('attn2Bq').reshape([C])],
        [pre + 'attn2.to_out.0.weight', t('attn2Wo')],
        [pre + 'attn2.to_out.0.bias', t('attn2Bo').reshape([C])],
        [pre + 'ff.conv_inverted.weight', conv1x1(t('ffWInv'))],
        [pre + 'ff.conv_inverted.bias', t('ffBInv').reshape([two])],
        [pre + 'ff.conv_depth.weight', t('ffWDw').reshape([two, 1, 3, 3])],
        [pre + 'ff.conv_depth.bias', t('ffBDw').reshape([two])],
        [pre + 'ff.conv_point.weight', conv1x1(t('ffWPoint'))],
      ]);
      // The text side: precomputed keys/values, or y with attn2's k/v projections.
      const k = opt('attn2K');
      const textKv = k === null ? undefined : { k, v: t('attn2V') };
      if (textKv === undefined) {
        w.set(pre + 'attn2.to_k.weight', t('attn2Wk'));
        w.set(pre + 'attn2.to_k.bias', t('attn2Bk').reshape([C]));
        w.set(pre + 'attn2.to_v.weight', t('attn2Wv'));
        w.set(pre + 'attn2.to_v.bias', t('attn2Bv').reshape([C]));
      }
      return sanaTransformerBlock(x, 0, w, {
        encoderHiddenStates: textKv ? textKv.k : t('y'), // not read when textKv is given
        textKv,
        encoderBias: opt('maskBias'),
        timestep: t('t0'),
        height: num('height'),
        width: num('width'),
        selfAttentionHeads: C / num('headDim'),
        crossAttentionHeads: num('crossHeads'),
        normEps: num('normEps'),
        linearAttentionEps: num('eps'),
      }).data as Float32Array;
    },
  };
}
