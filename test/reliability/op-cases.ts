/**
 * Every public op of the op API (bindings/ops.ts) as data: a small valid call (tensor shapes by name,
 * options, the output shape), which tensors are optional and which `out` may alias, bad option values
 * with the error they must get, and two ways to call it — through the public API (TS validation, then
 * the backend) and straight into the native addon (the kernels' own checks only), so the suite can
 * check both layers on the same inputs.
 */
import type { NativeOpArgs, NativeTensorHandle } from '../../bindings/addon.js';
import { loadAddon } from '../../bindings/addon.js';
import * as ops from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';

type ErrorClass = typeof TypeError | typeof RangeError;
type T = Record<string, unknown>;
type O = Record<string, unknown>;
export interface Over {
  weights?: unknown;
  options?: unknown;
}

export interface OpCase {
  op: string;
  /** Its function in bindings/ops.ts (the async form; `${fn}Sync` is the sync one). */
  fn: string;
  shapes: Record<string, number[]>;
  optional: string[];
  options: O;
  outShape: number[];
  /** Inputs that may be passed as `out` (in-place forms). */
  mayAlias: string[];
  badOptions: [O, ErrorClass, RegExp][];
  /** Name of the weights argument when the op takes one (for the null-weights check). */
  weights: string | null;
  /**
   * Public API call. `over.weights` / `over.options` (when the key is present) replace the whole
   * weights / options argument, to pass null or junk.
   */
  call(t: T, opts: O, sync: boolean, over?: Over): unknown;
  /** Direct addon call with native handles (null = absent) and the output handle. */
  native(h: Record<string, NativeTensorHandle | null>, opts: O, out: NativeTensorHandle, async: boolean): unknown;
}

const bt = (v: unknown) => v as BackendTensor;
// The weights / options argument: the override when one is given, else the one built from the tensors.
const W = <X>(over: Over | undefined, built: () => unknown): X => (over && 'weights' in over ? over.weights : built()) as X;
const OPT = <X>(over: Over | undefined, built: () => unknown): X => (over && 'options' in over ? over.options : built()) as X;
const pick = (t: T, keys: string[]): Record<string, BackendTensor> => Object.fromEntries(keys.filter((k) => k in t).map((k) => [k, bt(t[k])]));
const addon = () => loadAddon();
const nat = (fn: keyof ReturnType<typeof loadAddon>, h: Record<string, NativeTensorHandle | null>, extra: O, out: NativeTensorHandle, async: boolean) =>
  (addon()[fn] as (a: NativeOpArgs, async: boolean) => unknown)({ ...(h as NativeOpArgs), ...(extra as NativeOpArgs), out }, async);

const BAD_EPS: [O, ErrorClass, RegExp][] = [
  [{ eps: -1 }, RangeError, /eps must be a finite number > 0, got -1/],
  [{ eps: 0 }, RangeError, /eps must be a finite number > 0, got 0/],
  [{ eps: 1e-50 }, RangeError, /eps must be a finite number > 0 in float32, got 1e-50/],
  [{ eps: NaN }, RangeError, /eps must be a finite number > 0, got NaN/],
  [{ eps: Infinity }, RangeError, /eps must be a finite number > 0, got Infinity/],
  [{ eps: '1e-6' }, RangeError, /eps must be a finite number > 0, got "1e-6" \(a string\)/],
];
const badInt = (name: string): [O, ErrorClass, RegExp][] => [
  [{ [name]: 0 }, RangeError, new RegExp(`option ${name} must be an integer >= 1, got 0`)],
  [{ [name]: -32 }, RangeError, new RegExp(`option ${name} must be an integer >= 1, got -32`)],
  [{ [name]: 2.5 }, RangeError, new RegExp(`option ${name} must be an integer >= 1, got 2.5`)],
  [{ [name]: NaN }, RangeError, new RegExp(`option ${name} must be an integer >= 1, got NaN`)],
  [{ [name]: 2 ** 53 }, RangeError, new RegExp(`option ${name} must be an integer >= 1, got 9007199254740992`)],
  [{ [name]: '2' }, RangeError, new RegExp(`option ${name} must be an integer >= 1, got "2" \\(a string\\)`)],
];

export const OP_CASES: OpCase[] = [
  {
    op: 'gemm',
    fn: 'gemm',
    shapes: { x: [2, 3, 8], w: [5, 8], bias: [5], gate: [2, 1, 5], residual: [2, 3, 5] },
    optional: ['bias', 'gate', 'residual'],
    options: { activation: 'silu' },
    outShape: [2, 3, 5],
    mayAlias: ['residual'],
    badOptions: [
      [{ activation: 'tanh' }, TypeError, /gemm: activation must be one of none, relu, silu, gelu-tanh, got tanh/],
      [{ activation: 7 }, TypeError, /gemm: activation must be one of/],
    ],
    weights: null,
    call: (t, o, sync, v) => (sync ? ops.gemmSync : ops.gemm)(bt(t.x), bt(t.w), OPT(v, () => ({ bias: t.bias, gate: t.gate, residual: t.residual, ...o }))),
    native: (h, o, out, a) => nat('gemm', h, { act: o.activation }, out, a),
  },
  {
    op: 'linear-attention',
    fn: 'linearAttention',
    shapes: { q: [2, 6, 64], k: [2, 7, 64], v: [2, 7, 64] },
    optional: [],
    options: { headDim: 32, eps: 1e-15 },
    outShape: [2, 6, 64],
    mayAlias: [],
    badOptions: [
      ...badInt('headDim'),
      [{ headDim: 24 }, RangeError, /linear-attention: 64 channels of q \[2, 6, 64\] are not a multiple of headDim 24/],
      ...BAD_EPS,
      [{ variant: 'fast' }, TypeError, /linear-attention: variant must be 'fused' or 'unfused', got fast/],
    ],
    weights: null,
    call: (t, o, sync, v) => (sync ? ops.linearAttentionSync : ops.linearAttention)(bt(t.q), bt(t.k), bt(t.v), OPT(v, () => o)),
    native: (h, o, out, a) => nat('linearAttention', h, o, out, a),
  },
  {
    op: 'linear-attention-block',
    fn: 'linearAttentionBlock',
    shapes: { x: [1, 6, 64], wq: [64, 64], wk: [64, 64], wv: [64, 64], wo: [48, 64], bo: [48], gate: [1, 1, 48], residual: [1, 6, 48] },
    optional: ['bo', 'gate', 'residual'],
    options: { headDim: 32 },
    outShape: [1, 6, 48],
    mayAlias: ['residual'],
    badOptions: [...badInt('headDim'), ...BAD_EPS],
    weights: 'weights',
    call: (t, o, sync, v) =>
      (sync ? ops.linearAttentionBlockSync : ops.linearAttentionBlock)(
        bt(t.x),
        W(v, () => pick(t, ['wq', 'wk', 'wv', 'wo', 'bo'])),
        OPT(v, () => ({ gate: t.gate, residual: t.residual, ...o })),
      ),
    native: (h, o, out, a) => nat('linearAttentionBlock', h, o, out, a),
  },
  {
    op: 'mix-ffn',
    fn: 'mixFfn',
    shapes: { x: [1, 12, 16], wInv: [40, 16], bInv: [40], wDw: [40, 1, 3, 3], bDw: [40], wPoint: [16, 20], gate: [1, 1, 16], residual: [1, 12, 16] },
    optional: ['gate', 'residual'],
    options: { height: 3, width: 4 },
    outShape: [1, 12, 16],
    mayAlias: ['residual', 'x'],
    badOptions: [
      ...badInt('height'),
      [{ height: 4 }, RangeError, /mix-ffn: grid 4×4 does not match the 12 tokens of x \[1, 12, 16\]/],
      [{ height: 2 ** 30, width: 2 ** 30 }, RangeError, /mix-ffn: grid 1073741824×1073741824 does not match the 12 tokens/],
    ],
    weights: 'weights',
    call: (t, o, sync, v) =>
      (sync ? ops.mixFfnSync : ops.mixFfn)(
        bt(t.x),
        W(v, () => pick(t, ['wInv', 'bInv', 'wDw', 'bDw', 'wPoint'])),
        OPT(v, () => ({ gate: t.gate, residual: t.residual, ...o })),
      ),
    native: (h, o, out, a) => nat('mixFfn', h, o, out, a),
  },
  {
    op: 'cross-attention',
    fn: 'crossAttention',
    shapes: {
      x: [1, 12, 16], y: [1, 5, 8], wq: [16, 16], bq: [16], wk: [16, 8], bk: [16], wv: [16, 8], bv: [16], wo: [16, 16], bo: [16], maskBias: [1, 5], residual: [1, 12, 16],
    },
    optional: ['bq', 'bk', 'bv', 'bo', 'maskBias', 'residual'],
    options: { heads: 2 },
    outShape: [1, 12, 16],
    mayAlias: ['residual', 'x'],
    badOptions: [...badInt('heads'), [{ heads: 3 }, RangeError, /cross-attention: 16 channels of x \[1, 12, 16\] cannot be split into 3 heads/]],
    weights: 'weights',
    call: (t, o, sync, v) =>
      (sync ? ops.crossAttentionSync : ops.crossAttention)(
        bt(t.x),
        bt(t.y),
        W(v, () => pick(t, ['wq', 'bq', 'wk', 'bk', 'wv', 'bv', 'wo', 'bo'])),
        OPT(v, () => ({ maskBias: t.maskBias, residual: t.residual, ...o })),
      ),
    native: (h, o, out, a) => nat('crossAttention', h, o, out, a),
  },
  {
    op: 'layernorm-modulate',
    fn: 'layerNormModulate',
    shapes: { x: [2, 5, 16], shift: [2, 16], scale: [2, 16] },
    optional: [],
    options: { eps: 1e-6 },
    outShape: [2, 5, 16],
    mayAlias: ['x'],
    badOptions: BAD_EPS,
    weights: null,
    call: (t, o, sync, v) => (sync ? ops.layerNormModulateSync : ops.layerNormModulate)(bt(t.x), bt(t.shift), bt(t.scale), OPT(v, () => o)),
    native: (h, o, out, a) => nat('layerNormModulate', h, o, out, a),
  },
  {
    op: 'rmsnorm',
    fn: 'rmsNorm',
    shapes: { x: [2, 5, 16], weight: [16], bias: [16], residual: [2, 5, 16] },
    optional: ['weight', 'bias', 'residual'],
    options: { eps: 1e-5 },
    outShape: [2, 5, 16],
    mayAlias: ['x', 'residual'],
    badOptions: BAD_EPS,
    weights: null,
    call: (t, o, sync, v) => (sync ? ops.rmsNormSync : ops.rmsNorm)(bt(t.x), OPT(v, () => ({ weight: t.weight, bias: t.bias, residual: t.residual, ...o }))),
    native: (h, o, out, a) => nat('rmsNorm', h, o, out, a),
  },
  {
    op: 'rmsnorm2d',
    fn: 'rmsNorm2d',
    shapes: { x: [1, 3, 4, 16], weight: [16], bias: [16] },
    optional: ['weight', 'bias'],
    options: { eps: 1e-5 },
    outShape: [1, 3, 4, 16],
    mayAlias: ['x'],
    badOptions: BAD_EPS,
    weights: null,
    call: (t, o, sync, v) => (sync ? ops.rmsNorm2dSync : ops.rmsNorm2d)(bt(t.x), OPT(v, () => ({ weight: t.weight, bias: t.bias, ...o }))),
    native: (h, o, out, a) => nat('rmsNorm', h, o, out, a),
  },
  {
    op: 'conv3x3',
    fn: 'conv3x3',
    shapes: { x: [1, 4, 5, 8], w: [6, 8, 3, 3], bias: [6], residual: [1, 2, 3, 6] },
    optional: ['bias', 'residual'],
    options: { stride: 2, activation: 'relu' },
    outShape: [1, 2, 3, 6],
    mayAlias: ['residual'],
    badOptions: [
      [{ stride: 3 }, RangeError, /conv3x3: stride must be 1 or 2, got 3/],
      [{ stride: 0 }, RangeError, /conv3x3: stride must be 1 or 2, got 0/],
      [{ stride: '2' }, RangeError, /conv3x3: stride must be 1 or 2, got 2/],
      [{ activation: 'gelu' }, TypeError, /conv3x3: activation must be one of/],
    ],
    weights: null,
    call: (t, o, sync, v) => (sync ? ops.conv3x3Sync : ops.conv3x3)(bt(t.x), bt(t.w), OPT(v, () => ({ bias: t.bias, residual: t.residual, ...o }))),
    native: (h, o, out, a) => nat('conv3x3', h, { stride: o.stride, act: o.activation }, out, a),
  },
  {
    op: 'dcae-resblock',
    fn: 'dcaeResBlock',
    shapes: { x: [1, 4, 5, 8], w1: [8, 8, 3, 3], b1: [8], w2: [8, 8, 3, 3], normWeight: [8], normBias: [8] },
    optional: [],
    // eps stays at its default here: the reference backend implements the ResBlock with eps 1e-5 only
    // (any other value is a RangeError there), so mutating it would only show that limitation.
    options: {},
    outShape: [1, 4, 5, 8],
    mayAlias: [],
    badOptions: BAD_EPS,
    weights: 'weights',
    call: (t, o, sync, v) => (sync ? ops.dcaeResBlockSync : ops.dcaeResBlock)(bt(t.x), W(v, () => pick(t, ['w1', 'b1', 'w2', 'normWeight', 'normBias'])), OPT(v, () => o)),
    native: (h, o, out, a) => nat('dcaeResBlock', h, o, out, a),
  },
  {
    op: 'lite-mla',
    fn: 'liteMla',
    shapes: { x: [1, 3, 4, 16], wq: [16, 16], wk: [16, 16], wv: [16, 16], wDw: [48, 1, 5, 5], wGroup: [48, 8, 1, 1], wOut: [16, 32], normWeight: [16], normBias: [16] },
    optional: [],
    options: { headDim: 8, eps: 1e-15 },
    outShape: [1, 3, 4, 16],
    mayAlias: [],
    badOptions: [...badInt('headDim'), ...BAD_EPS],
    weights: 'weights',
    call: (t, o, sync, v) =>
      (sync ? ops.liteMlaSync : ops.liteMla)(bt(t.x), W(v, () => pick(t, ['wq', 'wk', 'wv', 'wDw', 'wGroup', 'wOut', 'normWeight', 'normBias'])), OPT(v, () => o)),
    native: (h, o, out, a) => nat('liteMla', h, o, out, a),
  },
  {
    op: 'dit-block',
    fn: 'ditBlock',
    shapes: {
      x: [1, 6, 64], y: [1, 4, 64], t0: [1, 384], table: [6, 64], maskBias: [1, 4],
      attn1Wq: [64, 64], attn1Wk: [64, 64], attn1Wv: [64, 64], attn1Wo: [64, 64], attn1Bo: [64],
      attn2Wq: [64, 64], attn2Bq: [64], attn2Wk: [64, 64], attn2Bk: [64], attn2Wv: [64, 64], attn2Bv: [64], attn2Wo: [64, 64], attn2Bo: [64],
      ffWInv: [64, 64], ffBInv: [64], ffWDw: [64, 1, 3, 3], ffBDw: [64], ffWPoint: [64, 32],
    },
    optional: ['maskBias'],
    options: { height: 2, width: 3, crossHeads: 2, normEps: 1e-6, eps: 1e-15 },
    outShape: [1, 6, 64],
    mayAlias: [],
    badOptions: [...badInt('crossHeads'), ...badInt('height'), ...badInt('headDim'), ...BAD_EPS, [{ normEps: -1 }, RangeError, /dit-block: normEps must be a finite number > 0, got -1/]],
    weights: 'weights',
    call: (t, o, sync, v) =>
      (sync ? ops.ditBlockSync : ops.ditBlock)(
        bt(t.x),
        W(v, () => ({
          table: t.table,
          attn1: { wq: t.attn1Wq, wk: t.attn1Wk, wv: t.attn1Wv, wo: t.attn1Wo, bo: t.attn1Bo },
          attn2: { wq: t.attn2Wq, bq: t.attn2Bq, wk: t.attn2Wk, bk: t.attn2Bk, wv: t.attn2Wv, bv: t.attn2Bv, wo: t.attn2Wo, bo: t.attn2Bo },
          ff: { wInv: t.ffWInv, bInv: t.ffBInv, wDw: t.ffWDw, bDw: t.ffBDw, wPoint: t.ffWPoint },
        })),
        OPT(v, () => ({ y: t.y, t0: t.t0, maskBias: t.maskBias, ...o })),
      ),
    native: (h, o, out, a) => nat('ditBlock', h, o, out, a),
  },
];
