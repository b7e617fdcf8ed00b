/**
 * The DC-AE decoder ops that the op API (bindings/ops.ts) does not have, with its conventions: inputs
 * are BackendTensors of one backend and dtype, every argument is validated first (OpCheck: TypeError for
 * the kind of value, RangeError for shapes), outputs are allocated or written into `opts.out`.
 *
 *   dcae-upsample    out = conv3×3(up(x)) + bias + shortcut(x)          (the decoder's conv_in and up blocks)
 *   dcae-head        out (NCHW) = conv3×3(act(RMSNorm2d(x))) + bias     (norm_out → act → conv_out)
 *   dcae-evit-block  a = lite-mla(x); out = a + RMSNorm2d(GLUMBConv(a))  (one EfficientViT block)
 *
 * Native backends run the addon's kernels (kernels/cpu/dcae_upsample.cpp, dcae_head.cpp,
 * dcae_evit_block.cpp; a backend whose OpTable lacks one reports "not implemented on the … backend").
 * The reference backend computes the reference (reference/dcae) and rounds to the dtype once per op —
 * for the EViT block once per sub-op, where the native block stores its intermediates — which is the
 * "plain" computation bf16 parity compares with.
 *
 * These live here until the op catalogue (bench/catalogue.ts) gives them an op-API name.
 */
import { shapeStr, Tensor } from '../../reference/core/tensor.js';
import { roundToBf16InPlace } from '../../reference/core/dtype.js';
import { activationByName } from '../../reference/dcae/activations.js';
import { add } from '../../reference/dcae/elementwise.js';
import { liteMla as referenceLiteMla } from '../../reference/dcae/lite-mla.js';
import { ParamScope } from '../../reference/dcae/params.js';
import { pixelShuffle } from '../../reference/dcae/pixel-shuffle.js';
import { rmsNorm2d } from '../../reference/dcae/rms-norm-2d.js';
import { decoderInShortcut, upsampleShortcut } from '../../reference/dcae/shortcuts.js';
import { upsampleNearest } from '../../reference/dcae/upsample-nearest.js';
import { conv2d } from '../../reference/ops/conv2d.js';
import { gluMbConv } from '../../reference/ops/mix-ffn.js';
import { loadAddon, type NativeOp, type NativeOpArgs } from '../addon.js';
import { nativeHandle } from '../backend-cpu.js';
import { writeReferenceOut } from '../backend-reference.js';
import type { DeviceTimingOptions } from '../backend.js';
import { captureOpCall, getBackend, scopedVersion } from '../ops.js';
import { BackendTensor } from '../tensor.js';
import { OpCheck } from '../validate.js';
import { nchwToNhwc, nhwcToNchw } from './layout.js';

export type UpsampleMode = 'none' | 'interpolate' | 'pixel-shuffle';
const MODES: readonly UpsampleMode[] = ['none', 'interpolate', 'pixel-shuffle'];

export interface ModelOpOutOption {
  /** Write into this tensor (native backends only; same shape, dtype and backend). */
  out?: BackendTensor | null;
}

interface Prepared {
  op: string;
  native: string;
  check: OpCheck;
  args: Record<string, BackendTensor | number | string | null>;
  out: BackendTensor | null;
  outShape: number[];
  /** The reference computation: f32 values of the output, before rounding to the dtype. */
  reference: () => Float32Array;
}

function run(p: Prepared): BackendTensor {
  const backendName = p.check.backend!;
  const dtype = p.check.dtype!;
  if (backendName === 'reference') {
    const v = p.reference();
    if (p.out === null) return getBackend('reference').fromArray(v, p.outShape, dtype);
    writeReferenceOut(p.out, v, p.op);
    return p.out;
  }
  const addon = loadAddon();
  const fn = (addon as unknown as Record<string, unknown>)[p.native];
  if (typeof fn !== 'function') throw new Error(`${p.op}: the native addon has no ${p.native} (built before this op was added: run "npm run build:native")`);
  const backend = getBackend(backendName);
  const fresh = p.out === null;
  const out = p.out ?? backend.empty(p.outShape, dtype);
  const native: NativeOpArgs = {};
  for (const [k, v] of Object.entries(p.args)) native[k] = v instanceof BackendTensor ? nativeHandle(p.op, k, v) : v;
  native.out = nativeHandle(p.op, 'out', out);
  // The kernel version of an enclosing withVersion (bench and parity) or withOpVersions (profile); the addon checks it.
  const version = scopedVersion(p.op);
  if (version !== undefined && version !== 0) native.version = version;
  const time = (opts?: DeviceTimingOptions) =>
    backendName === 'cuda' ? addon.runtime.timeOp(p.native, native, opts) : Promise.reject(new TypeError(`${p.op}: device timing needs the cuda backend, these tensors are on ${backendName}`));
  if (captureOpCall({ op: p.op, backend, args: { ...p.args, out }, out, fresh, time })) return out;
  try {
    (fn as NativeOp)(native, false);
  } catch (e) {
    if (fresh) out.dispose();
    throw e;
  }
  return out;
}

/** An NHWC backend tensor as a reference NCHW Tensor (f32 values). */
function nchw(t: BackendTensor): Tensor {
  const [B, H, W, C] = t.shape as [number, number, number, number];
  return new Tensor([B, C, H, W], 'f32', nhwcToNchw(t.toFloat32(), B, H, W, C));
}
/** A backend tensor's values as a reference f32 Tensor (optionally reshaped). */
function plain(t: BackendTensor, shape: readonly number[] = t.shape): Tensor {
  return new Tensor(shape, 'f32', t.toFloat32());
}
function toNhwc(x: Tensor): Float32Array {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  return nchwToNhwc(x.toFloat32(), B, C, H, W);
}
/** Rounds like a store in `dtype` (bf16: to bf16; f32: nothing). */
function stored(x: Tensor, dtype: string): Tensor {
  return dtype === 'bf16' ? new Tensor(x.shape, 'f32', roundToBf16InPlace(x.toFloat32().slice())) : x;
}

// ---- dcae-upsample ----

export interface DcaeUpsampleOptions extends ModelOpOutOption {
  bias?: BackendTensor | null;
  /** 'none': the decoder's conv_in (same size); 'interpolate' (SANA) / 'pixel-shuffle': 2× up blocks. */
  mode: UpsampleMode;
  /** Add the non-parametric shortcut (repeat-interleave channels, pixel-shuffle by f). Default true. */
  shortcut?: boolean;
}

/**
 * dcae-upsample on NHWC x (B, H, W, C), w (Nc, C, 3, 3) → (B, f·H, f·W, Co):
 *   none:          conv3×3(x) + b                       f = 1, Co = Nc
 *   interpolate:   conv3×3(nearest2×(x)) + b            f = 2, Co = Nc
 *   pixel-shuffle: pixel_shuffle(conv3×3(x) + b, 2)     f = 2, Co = Nc / 4
 *   + pixel_shuffle(repeat_interleave(x, Co·f²/C), f) when `shortcut`.
 * FLOPs 2·B·(f²·H·W)·9·C·Co (+ the adds).
 */
function prepareUpsample(x: BackendTensor, w: BackendTensor, opts: DcaeUpsampleOptions): Prepared {
  const c = new OpCheck('dcae-upsample');
  c.tensor('x', x);
  c.tensor('w', w);
  c.ndim('x', x, 4, '(B, H, W, C) (NHWC)');
  const [B, H, W, C] = x.shape as [number, number, number, number];
  c.shape(w.ndim === 4 && w.shape[1] === C && w.shape[2] === 3 && w.shape[3] === 3, `w ${shapeStr(w.shape)} is not (Nc, ${C}, 3, 3) for x ${shapeStr(x.shape)}`);
  const Nc = w.shape[0]!;
  opts = c.record('options', opts, true, ['bias', 'mode', 'shortcut', 'out']);
  const mode = opts.mode;
  if (!MODES.includes(mode)) throw new TypeError(`dcae-upsample: mode must be one of ${MODES.join(', ')}, got ${String(mode)}`);
  const f = mode === 'none' ? 1 : 2;
  if (mode === 'pixel-shuffle') c.shape(Nc % 4 === 0, `pixel-shuffle needs 4·Co conv channels, w is ${shapeStr(w.shape)}`);
  const Co = mode === 'pixel-shuffle' ? Nc / 4 : Nc;
  const shortcut = opts.shortcut ?? true;
  if (typeof shortcut !== 'boolean') throw new TypeError(`dcae-upsample: shortcut must be a boolean, got ${String(shortcut)}`);
  if (shortcut) c.shape((Co * f * f) % C === 0, `the shortcut cannot repeat the ${C} channels of x ${shapeStr(x.shape)} into ${Co}·${f * f}`);
  const bias = c.optional('bias', opts.bias);
  c.vector('bias', bias, Nc);
  const outShape = [B, f * H, f * W, Co];
  const out = c.out(opts.out, outShape);
  return {
    op: 'dcae-upsample',
    native: 'dcaeUpsample',
    check: c,
    args: { x, w, bias, mode, shortcut: shortcut ? 1 : 0 },
    out,
    outShape,
    reference: () => {
      const xs = nchw(x);
      const wt = plain(w);
      const bt = bias ? plain(bias, [Nc]) : null;
      let y: Tensor;
      if (mode === 'interpolate') y = conv2d(upsampleNearest(xs, 2), wt, bt, { padding: 1 });
      else if (mode === 'pixel-shuffle') y = pixelShuffle(conv2d(xs, wt, bt, { padding: 1 }), 2);
      else y = conv2d(xs, wt, bt, { padding: 1 });
      if (shortcut) y = add(y, mode === 'none' ? decoderInShortcut(xs, Co) : upsampleShortcut(xs, Co, 2), 'dcae-upsample shortcut');
      return toNhwc(y);
    },
  };
}

export function dcaeUpsampleSync(x: BackendTensor, w: BackendTensor, opts: DcaeUpsampleOptions): BackendTensor {
  return run(prepareUpsample(x, w, opts));
}

// ---- dcae-head ----

export interface DcaeHeadOptions extends ModelOpOutOption {
  bias?: BackendTensor | null;
  /** RMSNorm2d eps (1e-5). */
  eps?: number;
  /** The activation between norm and conv (diffusers decoder_conv_act_fn; SANA: relu). */
  activation?: 'relu' | 'silu' | 'none';
}

/**
 * dcae-head on NHWC x (B, H, W, C) → NCHW (B, Cout, H, W): conv3×3(act(RMSNorm2d(x; nw, nb)); w) + bias.
 * FLOPs 2·B·H·W·9·C·Cout + ~6·B·H·W·C.
 */
function prepareHead(x: BackendTensor, normWeight: BackendTensor, normBias: BackendTensor, w: BackendTensor, opts: DcaeHeadOptions): Prepared {
  const c = new OpCheck('dcae-head');
  c.tensor('x', x);
  c.tensor('normWeight', normWeight);
  c.tensor('normBias', normBias);
  c.tensor('w', w);
  c.ndim('x', x, 4, '(B, H, W, C) (NHWC)');
  const [B, H, W, C] = x.shape as [number, number, number, number];
  c.vector('normWeight', normWeight, C);
  c.vector('normBias', normBias, C);
  c.shape(w.ndim === 4 && w.shape[1] === C && w.shape[2] === 3 && w.shape[3] === 3, `w ${shapeStr(w.shape)} is not (Cout, ${C}, 3, 3) for x ${shapeStr(x.shape)}`);
  const Cout = w.shape[0]!;
  opts = c.record('options', opts, false, ['bias', 'eps', 'activation', 'out']);
  const bias = c.optional('bias', opts.bias);
  c.vector('bias', bias, Cout);
  const eps = c.eps(opts.eps ?? 1e-5);
  const act = opts.activation ?? 'relu';
  if (act !== 'relu' && act !== 'silu' && act !== 'none') throw new TypeError(`dcae-head: activation must be relu, silu or none, got ${String(act)}`);
  const outShape = [B, Cout, H, W];
  const out = c.out(opts.out, outShape);
  return {
    op: 'dcae-head',
    native: 'dcaeHead',
    check: c,
    args: { x, normWeight, normBias, w, bias, eps, act },
    out,
    outShape,
    reference: () => {
      let h = rmsNorm2d(nchw(x), plain(normWeight, [C]), plain(normBias, [C]), eps);
      if (act !== 'none') h = activationByName(act)(h);
      return conv2d(h, plain(w), bias ? plain(bias, [Cout]) : null, { padding: 1 }).toFloat32();
    },
  };
}

export function dcaeHeadSync(x: BackendTensor, normWeight: BackendTensor, normBias: BackendTensor, w: BackendTensor, opts: DcaeHeadOptions = {}): BackendTensor {
  return run(prepareHead(x, normWeight, normBias, w, opts));
}

// ---- dcae-evit-block ----

/** One EfficientViT block's weights (diffusers keys under `attn.` and `conv_out.`). */
export interface DcaeEvitBlockWeights {
  /** attn.to_q/to_k/to_v.weight (I, C). */
  wq: BackendTensor;
  wk: BackendTensor;
  wv: BackendTensor;
  /** attn.to_qkv_multiscale.0.proj_in.weight (3I, 1, k, k). */
  wDw: BackendTensor;
  /** attn.to_qkv_multiscale.0.proj_out.weight (3I, d, 1, 1). */
  wGroup: BackendTensor;
  /** attn.to_out.weight (C, 2I). */
  wOut: BackendTensor;
  /** attn.norm_out.weight/bias (C). */
  attnNormWeight: BackendTensor;
  attnNormBias: BackendTensor;
  /** conv_out.conv_inverted.weight (2h, C, 1, 1) / .bias, conv_depth (2h, 1, 3, 3) / .bias, conv_point (C, h, 1, 1). */
  ffWInv: BackendTensor;
  ffBInv: BackendTensor;
  ffWDw: BackendTensor;
  ffBDw: BackendTensor;
  ffWPoint: BackendTensor;
  /** conv_out.norm.weight/bias (C). */
  ffNormWeight: BackendTensor;
  ffNormBias: BackendTensor;
}

export interface DcaeEvitBlockOptions extends ModelOpOutOption {
  /** Attention head dim (SANA's DC-AE: 32). */
  headDim?: number;
  /** LiteMLA denominator eps (1e-15). */
  eps?: number;
}

/** The weight names of a dcae-evit-block, in argument order (also the bench/parity input names). */
export const EVIT_KEYS: readonly (keyof DcaeEvitBlockWeights)[] = [
  'wq', 'wk', 'wv', 'wDw', 'wGroup', 'wOut', 'attnNormWeight', 'attnNormBias',
  'ffWInv', 'ffBInv', 'ffWDw', 'ffBDw', 'ffWPoint', 'ffNormWeight', 'ffNormBias',
];

/**
 * dcae-evit-block on NHWC x (B, H, W, C): a = x + RMSNorm2d(LiteMLA(x)); out = a + RMSNorm2d(GLUMBConv(a)).
 * FLOPs: lite-mla's + 2·B·H·W·(C·2h + 9·2h + h·C) + ~10·B·H·W·C.
 */
function prepareEvitBlock(x: BackendTensor, w: DcaeEvitBlockWeights, opts: DcaeEvitBlockOptions): Prepared {
  const c = new OpCheck('dcae-evit-block');
  c.tensor('x', x);
  c.ndim('x', x, 4, '(B, H, W, C) (NHWC)');
  const [B, H, W, C] = x.shape as [number, number, number, number];
  w = c.record('weights', w, true, EVIT_KEYS);
  opts = c.record('options', opts, false, ['headDim', 'eps', 'out']);
  const t = {} as DcaeEvitBlockWeights;
  for (const k of EVIT_KEYS) t[k] = c.tensor(k, w[k]);
  const headDim = c.int('headDim', opts.headDim ?? 32);
  const is = (v: BackendTensor, s: number[]) => v.ndim === s.length && v.shape.every((d, i) => d === s[i]);
  const I = t.wq.shape[0]!;
  const k = t.wDw.shape[2] ?? 0;
  c.shape(
    t.wq.ndim === 2 && t.wq.shape[1] === C && I % headDim === 0 && is(t.wk, [I, C]) && is(t.wv, [I, C]) && t.wDw.ndim === 4 && k % 2 === 1 &&
      is(t.wDw, [3 * I, 1, k, k]) && (is(t.wGroup, [3 * I, headDim, 1, 1]) || is(t.wGroup, [3 * I, headDim])) && is(t.wOut, [C, 2 * I]),
    `attention weights wq ${shapeStr(t.wq.shape)}, wk ${shapeStr(t.wk.shape)}, wv ${shapeStr(t.wv.shape)}, wDw ${shapeStr(t.wDw.shape)}, wGroup ${shapeStr(t.wGroup.shape)}, wOut ${shapeStr(t.wOut.shape)} do not fit x ${shapeStr(x.shape)} with headDim ${headDim}`,
  );
  const two = t.ffWInv.shape[0]!;
  c.shape(
    (is(t.ffWInv, [two, C, 1, 1]) || is(t.ffWInv, [two, C])) && two % 2 === 0 && is(t.ffWDw, [two, 1, 3, 3]) &&
      (is(t.ffWPoint, [C, two / 2, 1, 1]) || is(t.ffWPoint, [C, two / 2])),
    `GLUMBConv weights ffWInv ${shapeStr(t.ffWInv.shape)}, ffWDw ${shapeStr(t.ffWDw.shape)}, ffWPoint ${shapeStr(t.ffWPoint.shape)} do not fit ${C} channels`,
  );
  c.vector('ffBInv', t.ffBInv, two);
  c.vector('ffBDw', t.ffBDw, two);
  for (const n of ['attnNormWeight', 'attnNormBias', 'ffNormWeight', 'ffNormBias'] as const) c.vector(n, t[n], C);
  const eps = c.eps(opts.eps ?? 1e-15);
  const out = c.out(opts.out, x.shape);
  const dtype = c.dtype!;
  return {
    op: 'dcae-evit-block',
    native: 'dcaeEvitBlock',
    check: c,
    args: { x, ...t, headDim, eps },
    out,
    outShape: [B, H, W, C],
    reference: () => {
      const attn = new ParamScope(
        new Map<string, Tensor>([
          ['to_q.weight', plain(t.wq)],
          ['to_k.weight', plain(t.wk)],
          ['to_v.weight', plain(t.wv)],
          ['to_qkv_multiscale.0.proj_in.weight', plain(t.wDw)],
          ['to_qkv_multiscale.0.proj_out.weight', plain(t.wGroup, [3 * I, headDim, 1, 1])],
          ['to_out.weight', plain(t.wOut)],
          ['norm_out.weight', plain(t.attnNormWeight, [C])],
          ['norm_out.bias', plain(t.attnNormBias, [C])],
        ]),
      );
      // Rounded where the native block stores: after lite-mla, after the GLUMBConv, after the norm.
      const a = stored(referenceLiteMla(nchw(x), attn, { headDim, kernelSizes: [k], eps }), dtype);
      const g = stored(
        gluMbConv(a, {
          convInverted: plain(t.ffWInv, [two, C, 1, 1]),
          convInvertedBias: plain(t.ffBInv, [two]),
          convDepth: plain(t.ffWDw),
          convDepthBias: plain(t.ffBDw, [two]),
          convPoint: plain(t.ffWPoint, [C, two / 2, 1, 1]),
        }),
        dtype,
      );
      return toNhwc(add(a, rmsNorm2d(g, plain(t.ffNormWeight, [C]), plain(t.ffNormBias, [C])), 'dcae-evit-block residual'));
    },
  };
}

export function dcaeEvitBlockSync(x: BackendTensor, w: DcaeEvitBlockWeights, opts: DcaeEvitBlockOptions = {}): BackendTensor {
  return run(prepareEvitBlock(x, w, opts));
}
