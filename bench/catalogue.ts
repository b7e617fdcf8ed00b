/**
 * The op catalogue: every op of the lab declared once — its name, what it computes, which instances it
 * has in the models (the variants bench/shapes.ts generates at each resolution), its FLOP and
 * minimal-byte counts (formulas in bench/cost-model.ts), the small shapes parity runs it at, its parity
 * rule, the op-API op that runs it (bindings/ops.ts) and its native versions per backend.
 *
 * Parity, bench, reports, the CLI and bindings (its OP_NAMES) iterate over OP_NAMES / OP_CATALOGUE
 * instead of keeping lists of their own; the compiler checks that every op of bench/ops.ts's
 * OpDimsMap has exactly one entry here. This module is pure data: it imports only the cost formulas,
 * so bindings can import it without a cycle.
 */
import {
  BENCH_DTYPE_BYTES,
  conv3x3Count,
  crossAttentionCount,
  dcaeDownsampleCount,
  dcaeEvitBlockCount,
  dcaeResBlockCount,
  dcaeUpsampleCount,
  ditBlockCount,
  gemmCount,
  layerNormModulateCount,
  linearAttentionBlockCount,
  linearAttentionCount,
  liteMlaCount,
  mixFfnCount,
  rmsNorm2dCount,
  rmsNormCount,
  type BenchDType,
  type OpCost,
  type OpCount,
} from './cost-model.js';
import type { ModelKey } from './models.js';
import type { OpCall, OpDimsMap } from './ops.js';

/** Which model an op belongs to: the DiT (Sana-0.6B / 1.6B) or the DC-AE. */
export type Family = 'dit' | 'dcae';

/** One numbered native implementation of an op (llm.c style v1…vN). */
export interface NativeVersion {
  version: number;
  /** How it differs from the other versions (cuda: the summary of its kernel file header). */
  description: string;
  /** Extra op-API options that select it (e.g. { variant: 'unfused' }). */
  options?: Readonly<Record<string, string>>;
  /** What it needs beyond the op's rules (cuda: the kernel's own list, e.g. "bf16; K % 8 == 0"). */
  needs?: string;
  /** Storage dtypes it runs (absent: f32 and bf16); bench and parity skip the others. */
  dtypes?: readonly ('f32' | 'bf16')[];
}

const BF16: readonly ('f32' | 'bf16')[] = ['bf16'];

/**
 * The cuda backend's versions, as kernels/cuda/runtime.cu op_versions() lists them from each
 * kernels/cuda/<op>.cu header (a test keeps the two in step; addon.runtime.opVersions('cuda')).
 */
const CUDA = {
  gemm: [
    { version: 1, description: 'SIMT tiles: 64×64 outputs per block, K slices of 16 in shared memory, 4×4 outputs per thread' },
    { version: 2, description: 'tensor cores: mma.sync m16n8k16 bf16→f32, 128×128×32 tiles, 4-stage cp.async, swizzled ldmatrix', needs: 'bf16; K % 8 == 0', dtypes: BF16 },
    {
      version: 3,
      description: 'Hopper: wgmma m64n256k16/m64n128k16 from TMA-loaded 128B-swizzled tiles, producer warp + 2 consumer warpgroups, mbarrier ring',
      needs: 'bf16; sm_90; K % 8 == 0; 16-byte aligned x, w',
      dtypes: BF16,
    },
  ],
  'linear-attention': [
    { version: 1, description: 'state by token chunks staged in shared memory + atomics; apply one thread per (token, channel)', needs: 'head_dim ≤ 64' },
    { version: 2, description: '4×4 register-blocked state (float4 smem), apply 4 threads per token with quad shuffles, 16-byte loads', needs: 'head_dim 32' },
    {
      version: 3,
      description: 'tensor cores (mma.sync) for state and apply (state split bf16 hi + lo), 4-stage cp.async tiles, 16-byte stores',
      needs: 'bf16; head_dim 32; 16-byte aligned rows',
      dtypes: BF16,
    },
  ],
  'linear-attention-block': [
    { version: 1, description: '3 gemms → core v1 → gemm with bias/gate/residual epilogue', needs: 'head_dim ≤ 64' },
    { version: 2, description: '3 gemms → core v2 → gemm with bias/gate/residual epilogue', needs: 'head_dim 32' },
    {
      version: 3,
      description: 'q gemm; k/v tensor-core gemm with the state reduction in its epilogue (K, V never in HBM); apply v2; out gemm',
      needs: 'bf16; head_dim 32; C % 64 == 0; N % 128 == 0',
      dtypes: BF16,
    },
    { version: 4, description: 'v2 with its four gemms on the Hopper wgmma engine (gemm v3)', needs: 'bf16; sm_90; head_dim 32; C % 8 == 0', dtypes: BF16 },
    { version: 5, description: 'v4 with core v3 (tensor-core state and apply) instead of core v2', needs: 'bf16; sm_90; head_dim 32; C % 8 == 0', dtypes: BF16 },
  ],
  'mix-ffn': [
    { version: 1, description: 'gemm+SiLU → depthwise 3×3+GLU one thread per (pixel, channel) → gemm' },
    { version: 2, description: 'gemm+SiLU → depthwise 3×3+GLU 8 channels × 4 pixels per thread, column reuse → gemm', needs: 'hidden % 8 == 0' },
    { version: 3, description: 'v2 with both gemms on the Hopper wgmma engine (gemm v3)', needs: 'bf16; sm_90; C % 8 == 0; hidden % 8 == 0', dtypes: BF16 },
    {
      version: 4,
      description: 'v3 with depthwise step v3: 8 × 16-pixel tiles with their halo staged in shared memory by cp.async',
      needs: 'bf16; sm_90; C % 8 == 0; hidden % 8 == 0',
      dtypes: BF16,
    },
  ],
  'cross-attention': [
    { version: 1, description: 'projections → SIMT core: one warp per query, online softmax → projection', needs: 'head dim ≤ 128' },
    { version: 2, description: 'projections → flash-style core on tensor cores (mma.sync, P kept in registers) → projection', needs: 'bf16; head dim % 8 == 0, ≤ 128', dtypes: BF16 },
    { version: 3, description: 'v2 with the projections on the Hopper wgmma engine (gemm v3)', needs: 'bf16; sm_90; C, Cy, head dim % 8 == 0, ≤ 128', dtypes: BF16 },
    {
      version: 4,
      description: "core v3 (128 queries per block, the head's K/V resident in shared memory, exp2 softmax) with the projections on the wgmma engine",
      needs: 'bf16; sm_90; C, Cy, head dim % 8 == 0, ≤ 128; K/V of a head within shared memory (L ≤ 640 at d = 72)',
      dtypes: BF16,
    },
  ],
  'layernorm-modulate': [
    { version: 1, description: 'one block per row, two passes re-read from L1/L2' },
    { version: 2, description: 'a lane group per row, the row in registers, 16-byte loads', needs: 'C % 8 == 0, C ≤ 3072' },
  ],
  rmsnorm: [
    { version: 1, description: 'one block per row' },
    { version: 2, description: 'a lane group per row, the row in registers, 16-byte loads', needs: 'C % 8 == 0, C ≤ 3072' },
  ],
  conv3x3: [
    { version: 1, description: 'direct: one thread per output element' },
    { version: 2, description: 'implicit gemm on the SIMT engine (im2col on the fly)' },
    { version: 3, description: 'implicit gemm on tensor cores (weights reordered, 16-byte zero-filled tap chunks)', needs: 'bf16; Cin % 8 == 0', dtypes: BF16 },
    {
      version: 4,
      description: 'Hopper: implicit gemm on the wgmma pipeline, im2col by 4-D TMA boxes (zero-filled padding)',
      needs: 'bf16; sm_90; stride 1, no upsampling; Cin % 64 == 0; W % 128 == 0',
      dtypes: BF16,
    },
  ],
  'dcae-resblock': [
    { version: 1, description: 'conv v1 → conv v1 → rmsnorm v1 (+ residual)' },
    { version: 2, description: 'conv v2 → conv v2 → rmsnorm (+ residual)' },
    { version: 3, description: 'conv v3 → conv v3 → rmsnorm (+ residual)', needs: 'bf16; C % 8 == 0', dtypes: BF16 },
    { version: 4, description: 'conv v4 → conv v4 → rmsnorm (+ residual)', needs: 'bf16; sm_90; C % 64 == 0; W % 128 == 0', dtypes: BF16 },
  ],
  'dit-block': [
    { version: 1, description: 'LN-modulate → linear-attention-block → cross-attention → LN-modulate → mix-ffn, each at v1', needs: 'head_dim ≤ 64' },
    { version: 2, description: 'the same composition, each op at its portable default (no sm_90 version: the mma.sync composition)' },
    {
      version: 3,
      description: 'the composition with the wgmma versions: linear-attention-block v4, cross-attention v3, mix-ffn v3',
      needs: 'bf16; sm_90; head_dim 32; C, hidden % 8 == 0',
      dtypes: BF16,
    },
  ],
  'lite-mla': [
    { version: 1, description: '3 gemms → depthwise k×k → grouped 1×1 → core v1 (or quadratic form) → gemm → rmsnorm v1 + residual', needs: 'head_dim ≤ 64' },
    { version: 2, description: "the same with the core's and rmsnorm's default versions" },
    {
      version: 3,
      description: 'v2 with the depthwise k×k and grouped 1×1 fused in one kernel (t kept in registers, 16-byte loads, weights in shared memory)',
      needs: 'head_dim 32; depthwise kernel ≤ 7',
    },
  ],
  // The DC-AE model-level ops (bindings/models/dcae-ops.ts); dcae-head has no catalogue entry of its own.
  'dcae-upsample': [
    {
      version: 1,
      description: 'shortcut copied into out → conv3x3 v1 (nearest-2× input read in place) with out as its residual; pixel-shuffle: conv → shuffle + shortcut',
    },
    { version: 2, description: "the same with conv3x3's default version and the shortcut copied 8 channels per thread" },
    {
      version: 3,
      description: "interpolate only, sub-pixel form: 4 phase convs of 4 taps (K = 4·C, combined weights summed in f32, rounded to bf16) on x itself, wgmma + TMA (conv3x3 v4's engine), each phase's rows stored 2 apart; the shortcut as v2",
      needs: 'bf16; sm_90; C % 64 == 0, W % 128 == 0',
      dtypes: BF16,
    },
  ],
  'dcae-head': [
    { version: 1, description: 'rmsnorm v1 → activation → conv3x3 v1 → NCHW store' },
    { version: 2, description: 'rmsnorm and conv3x3 at their default versions, the activation 8 elements per thread → NCHW store' },
    {
      version: 3,
      description: 'one fused kernel: act(RMSNorm2d) of a 18×18 halo tile into shared memory, narrow direct 3×3 conv, NCHW store',
      needs: 'C ≤ 128, Cout ≤ 4',
    },
    {
      version: 4,
      description: "v3's fusion with the halo staged by cp.async, normalized in place in bf16, the conv on tensor cores (mma.sync, outputs padded to 8)",
      needs: 'bf16; C % 16 == 0, C ≤ 128, Cout ≤ 8',
      dtypes: BF16,
    },
  ],
  'dcae-evit-block': [
    { version: 1, description: 'lite-mla v1 → mix-ffn v1 → rmsnorm v1 + residual', needs: 'head_dim ≤ 64' },
    { version: 2, description: 'the same composition, each op at its default (fastest) version' },
  ],
  // The sampling loop's elementwise tail (bindings/models/sampler-ops.ts); no catalogue entry of its own.
  'sampler-update': [
    { version: 1, description: 'grid-stride elementwise: guidance, the Flow-DPM-Solver++ / Euler update and the next model input in one pass, coefficients read from the device' },
  ],
} as const satisfies Readonly<Record<string, readonly NativeVersion[]>>;

/** Every op the cuda backend lists (addon.runtime.opVersions('cuda')) with its versions, catalogue op or not. */
export const CUDA_VERSIONS: Readonly<Record<string, readonly NativeVersion[]>> = CUDA;

/**
 * The parity rule (the same for every op unless an entry says otherwise):
 *   f32:  ‖out − ref‖/‖ref‖ ≤ rel and max|out − ref| / max|ref| ≤ maxRel, no NaN/Inf;
 *   bf16: ‖out − ref‖/‖ref‖ ≤ factor × that of a plain bf16 computation of the same op (inputs rounded
 *         to bf16, every intermediate tensor rounded to bf16, as a bf16 framework stores them), no
 *         NaN/Inf; the plain computation must itself show a bf16-level error (≥ minPlainRel), or the
 *         comparison says nothing.
 * `ref` is the reference backend (float64 accumulation) on the same f32 inputs.
 */
export interface ParityRule {
  f32: { rel: number; maxRel: number };
  bf16: { factor: number; minPlainRel: number };
}

export const DEFAULT_PARITY: ParityRule = Object.freeze({
  f32: Object.freeze({ rel: 1e-5, maxRel: 1e-4 }),
  bf16: Object.freeze({ factor: 2, minPlainRel: 1e-4 }),
});

/** What the catalogue says about one op. */
export interface OpEntry<O extends keyof OpDimsMap = keyof OpDimsMap> {
  op: O;
  family: Family;
  /** One line for tables and --help. */
  summary: string;
  /** The math, as the reference computes it. */
  math: string;
  /** Where the pure-TS reference implementation lives (file: function). */
  reference: string;
  /** What the dims mean and how the model shapes are derived from the model dimensions. */
  shapeRule: string;
  /** The instances at model shapes (bench/shapes.ts variants); [''] for an op with one instance. */
  variants: readonly string[];
  /** FLOPs and the elements of inputs, weights and outputs of one call. */
  count(dims: OpDimsMap[O]): OpCount;
  /** Small parity shapes: odd sizes, batch 2, real head widths — distinct from the benchmark shapes. */
  testShapes: readonly OpDimsMap[O][];
  parity: ParityRule;
  /**
   * The op-API op that runs it (bindings/ops.ts; rmsnorm2d runs as the rmsnorm kernel over NHWC rows),
   * or null when only the pure-TS bench reference (bench/backends/reference-ops.ts) implements it.
   */
  apiOp: keyof OpDimsMap | null;
  /** Native versions per backend (the cpu backend's are what bench and parity run). */
  native: { cpu: readonly NativeVersion[]; cuda: readonly NativeVersion[] };
}

const V1: readonly NativeVersion[] = [{ version: 1, description: 'the native kernel' }];
const NONE: readonly NativeVersion[] = [];
/** A DC-AE model-level op: the addon's kernel, called through bindings/models/dcae-ops.ts (not the op API). */
const MODEL_OP: readonly NativeVersion[] = [{ version: 1, description: 'the native kernel (bindings/models/dcae-ops.ts)' }];
const DIT_GEMMS = [
  'qkv',
  'attn-proj',
  'cross-q',
  'cross-kv',
  'cross-out',
  'ffn-in',
  'ffn-out',
  'patch-embed',
  't-embed-1',
  't-embed-2',
  't-block',
  'y-proj-1',
  'y-proj-2',
  'final',
] as const;
const DCAE_CONVS = ['dec-in', 'res-s0', 'res-s1', 'res-s2', 'dec-out', 'enc-in', 'down-s0', 'down-s1', 'down-s2', 'down-s3', 'down-s4'] as const;
const stages = (from: number, to: number, prefix = 's') => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

/** Typed entry (keeps the literal apiOp so bindings can derive its op-name type). */
function def<O extends keyof OpDimsMap, A extends keyof OpDimsMap | null>(e: OpEntry<O> & { apiOp: A }): OpEntry<O> & { apiOp: A } {
  return e;
}

export const OP_CATALOGUE = {
  // ---- DiT ----
  gemm: def({
    op: 'gemm',
    family: 'dit',
    summary: 'y = act(x·Wᵀ + b): every linear layer and 1×1 conv',
    math: 'y = act(x·Wᵀ + b), x (M, K), W (N, K); act ∈ {none, relu, silu, gelu-tanh}; FLOPs 2·M·N·K + epilogue',
    reference: 'reference/ops/linear.ts: linear (+ activations.ts)',
    shapeRule: 'M = B·N tokens (B·L caption rows for cross-kv and y-proj, B rows for the timestep MLP); K, N from the layer',
    variants: DIT_GEMMS,
    count: gemmCount,
    testShapes: [
      { M: 37, N: 45, K: 67, bias: true, activation: 'silu' },
      { M: 130, N: 300, K: 300, bias: false, activation: 'gelu-tanh' },
    ],
    parity: DEFAULT_PARITY,
    apiOp: 'gemm',
    native: { cpu: [{ version: 1, description: 'blocked AVX-512/AVX2 gemm, fused epilogue' }], cuda: CUDA.gemm },
  }),
  'linear-attention': def({
    op: 'linear-attention',
    family: 'dit',
    summary: 'ReLU linear-attention core (heads of 32), one pass over K/V, one over Q',
    math: 'per head (d = 32): S = Σⱼ [vⱼ; 1]·φ(kⱼ)ᵀ ((d+1)×d), outᵢ = S[:d]·φ(qᵢ) / (S[d]·φ(qᵢ) + ε), φ = ReLU',
    reference: 'reference/ops/linear-attention.ts: reluLinearAttention',
    shapeRule: 'q, k, v (B, N, C) with N = (H/32)·(W/32) tokens, C = hidden, C/32 heads',
    variants: [''],
    count: linearAttentionCount,
    testShapes: [
      { B: 2, N: 37, C: 64, heads: 2, headDim: 32 },
      { B: 1, N: 30, C: 1152, heads: 36, headDim: 32 },
    ],
    parity: DEFAULT_PARITY,
    apiOp: 'linear-attention',
    native: {
      cpu: [
        { version: 1, description: 'unfused composition: ReLU → pad → matmul → matmul → divide, intermediates materialised', options: { variant: 'unfused' } },
        { version: 2, description: 'fused one-pass kernel ((d+1)×d state per head, f32)', options: { variant: 'fused' } },
      ],
      cuda: CUDA['linear-attention'],
    },
  }),
  'linear-attention-block': def({
    op: 'linear-attention-block',
    family: 'dit',
    summary: 'QKV gemm + linear-attention core + output projection',
    math: 'out = core(x·Wqᵀ, x·Wkᵀ, x·Wvᵀ)·Woᵀ + bo',
    reference: 'reference/ops/linear-attention.ts: linearAttentionModule',
    shapeRule: 'x (B, N, C), four (C, C) weights',
    variants: [''],
    count: linearAttentionBlockCount,
    testShapes: [{ B: 2, N: 35, C: 64, heads: 2, headDim: 32 }],
    parity: DEFAULT_PARITY,
    apiOp: 'linear-attention-block',
    native: { cpu: V1, cuda: CUDA['linear-attention-block'] },
  }),
  'mix-ffn': def({
    op: 'mix-ffn',
    family: 'dit',
    summary: 'GLUMBConv: 1×1 → depthwise 3×3 + GLU (fused) → 1×1',
    math: 'u = SiLU(x·Winvᵀ + b₁) (2h wide); u′ = DW3×3(u) + b₂; out = (u′ₐ ⊙ SiLU(u′_g))·Wptᵀ',
    reference: 'reference/ops/mix-ffn.ts: mixFfnTokens',
    shapeRule: 'tokens (B, N = h·w, C) on the latent grid, hidden h = 2.5·C',
    variants: [''],
    count: mixFfnCount,
    testShapes: [{ B: 2, N: 35, C: 32, h: 5, w: 7, hidden: 80 }],
    parity: DEFAULT_PARITY,
    apiOp: 'mix-ffn',
    native: { cpu: V1, cuda: CUDA['mix-ffn'] },
  }),
  'cross-attention': def({
    op: 'cross-attention',
    family: 'dit',
    summary: 'softmax cross-attention to the caption (masked)',
    math: 'out = softmax(q·kᵀ/√d + mask)·v·Woᵀ + bo, q = x·Wqᵀ + bq, k, v = y·Wk,vᵀ + bk,v',
    reference: 'reference/ops/cross-attention.ts: crossAttentionModule',
    shapeRule: 'x (B, N, C), caption y (B, L = 300, C), heads × width = C',
    variants: [''],
    count: crossAttentionCount,
    testShapes: [{ B: 2, N: 35, C: 64, L: 7, heads: 4, headDim: 16 }],
    parity: DEFAULT_PARITY,
    apiOp: 'cross-attention',
    native: { cpu: V1, cuda: CUDA['cross-attention'] },
  }),
  'layernorm-modulate': def({
    op: 'layernorm-modulate',
    family: 'dit',
    summary: 'LayerNorm (no affine) then ·(1 + scale) + shift',
    math: 'out = LN(x; ε = 1e-6)·(1 + scale) + shift, scale/shift per sample (B, C)',
    reference: 'reference/ops/norms.ts: layerNorm + reference/dit/modulation.ts: modulate',
    shapeRule: 'x (B, N, C)',
    variants: [''],
    count: layerNormModulateCount,
    testShapes: [{ B: 2, N: 37, C: 96 }],
    parity: DEFAULT_PARITY,
    apiOp: 'layernorm-modulate',
    native: { cpu: V1, cuda: CUDA['layernorm-modulate'] },
  }),
  rmsnorm: def({
    op: 'rmsnorm',
    family: 'dit',
    summary: 'RMSNorm over the last dim (the caption norm)',
    math: 'out = x / √(mean(x²) + ε)·w, ε = 1e-5',
    reference: 'reference/ops/norms.ts: rmsNorm',
    shapeRule: 'rows = B·L caption tokens, C = hidden',
    variants: ['y-norm'],
    count: rmsNormCount,
    testShapes: [
      { rows: 9, C: 33 },
      { rows: 14, C: 1152 },
    ],
    parity: DEFAULT_PARITY,
    apiOp: 'rmsnorm',
    native: { cpu: V1, cuda: CUDA.rmsnorm },
  }),
  'dit-block': def({
    op: 'dit-block',
    family: 'dit',
    summary: 'one SanaMSBlock: modulated linear attention, cross-attention, modulated Mix-FFN',
    math: 'x += g₁⊙attn(LNmod(x)); x += cross(x, y); x += g₂⊙MixFFN(LNmod(x)) with (shift, scale, gate) from table + t₀',
    reference: 'reference/dit/block.ts: sanaTransformerBlock',
    shapeRule: 'x (B, N, C), caption (B, L, C), t₀ (B, 6C); the model\'s heads and FFN width',
    variants: [''],
    count: ditBlockCount,
    testShapes: [{ B: 2, N: 30, C: 64, h: 5, w: 6, heads: 2, headDim: 32, hidden: 160, L: 7, crossHeads: 4, crossHeadDim: 16 }],
    parity: DEFAULT_PARITY,
    apiOp: 'dit-block',
    native: { cpu: V1, cuda: CUDA['dit-block'] },
  }),
  // ---- DC-AE ----
  conv3x3: def({
    op: 'conv3x3',
    family: 'dcae',
    summary: '3×3 convolution, padding 1, stride 1 or 2 (NHWC implicit gemm natively)',
    math: 'out[co, y, x] = b[co] + Σ_{ci, dy, dx} w[co, ci, dy, dx]·in[ci, s·y + dy − 1, s·x + dx − 1]',
    reference: 'reference/ops/conv2d.ts: conv2d',
    shapeRule: 'the decoder/encoder convs at stage s: H/2^s × W/2^s pixels, the stage widths',
    variants: DCAE_CONVS,
    count: conv3x3Count,
    testShapes: [
      { B: 2, Cin: 13, Cout: 17, H: 7, W: 5, stride: 1, bias: true },
      { B: 1, Cin: 16, Cout: 24, H: 9, W: 7, stride: 2, bias: true },
    ],
    parity: DEFAULT_PARITY,
    apiOp: 'conv3x3',
    native: { cpu: V1, cuda: CUDA.conv3x3 },
  }),
  rmsnorm2d: def({
    op: 'rmsnorm2d',
    family: 'dcae',
    summary: 'RMSNorm over channels of a feature map, weight and bias',
    math: 'out[:, y, x] = in[:, y, x] / √(mean_c in² + ε)·w + b, ε = 1e-5',
    reference: 'reference/dcae/rms-norm-2d.ts: rmsNorm2d',
    shapeRule: 'feature map (B, C, H/2^s, W/2^s) of each stage',
    variants: stages(0, 5),
    count: rmsNorm2dCount,
    testShapes: [{ B: 2, C: 40, H: 5, W: 3 }],
    parity: DEFAULT_PARITY,
    apiOp: 'rmsnorm',
    native: { cpu: [{ version: 1, description: 'the rmsnorm kernel over NHWC rows' }], cuda: CUDA.rmsnorm },
  }),
  'lite-mla': def({
    op: 'lite-mla',
    family: 'dcae',
    summary: 'LiteMLA: qkv 1×1, 5×5 depthwise + grouped 1×1 aggregation, ReLU linear attention, projection, RMSNorm2d',
    math: 'out = x + RMSNorm2d(Wout·ReLUattn([qkv; agg(qkv)])), heads of 32',
    reference: 'reference/dcae/lite-mla.ts: liteMla',
    shapeRule: 'feature map (B, C, H/2^s, W/2^s) of the EViT stages 3–5',
    variants: stages(3, 5),
    count: (d) => liteMlaCount(d),
    testShapes: [{ B: 2, C: 64, H: 5, W: 7 }],
    parity: DEFAULT_PARITY,
    apiOp: 'lite-mla',
    native: { cpu: V1, cuda: CUDA['lite-mla'] },
  }),
  'dcae-resblock': def({
    op: 'dcae-resblock',
    family: 'dcae',
    summary: 'DC-AE ResBlock: conv3x3 → SiLU → conv3x3 → RMSNorm2d, + x',
    math: 'out = x + RMSNorm2d(conv₂(SiLU(conv₁(x) + b₁)))',
    reference: 'reference/dcae/res-block.ts: resBlock',
    shapeRule: 'feature map (B, C, H/2^s, W/2^s) of the ResBlock stages 0–2',
    variants: stages(0, 2),
    count: dcaeResBlockCount,
    testShapes: [{ B: 2, C: 16, H: 6, W: 7 }],
    parity: DEFAULT_PARITY,
    apiOp: 'dcae-resblock',
    native: { cpu: V1, cuda: CUDA['dcae-resblock'] },
  }),
  'dcae-evit-block': def({
    op: 'dcae-evit-block',
    family: 'dcae',
    summary: 'DC-AE EfficientViT block: LiteMLA, then x + RMSNorm2d(GLUMBConv(x))',
    math: 'x = LiteMLA(x); out = x + RMSNorm2d(GLUMBConv₄(x))',
    reference: 'reference/dcae/efficientvit-block.ts: efficientVitBlock',
    shapeRule: 'feature map (B, C, H/2^s, W/2^s) of the EViT stages 3–5',
    variants: stages(3, 5),
    count: (d) => dcaeEvitBlockCount(d),
    testShapes: [{ B: 1, C: 32, H: 8, W: 8 }],
    parity: DEFAULT_PARITY,
    apiOp: null,
    native: { cpu: MODEL_OP, cuda: CUDA['dcae-evit-block'] },
  }),
  'dcae-upsample': def({
    op: 'dcae-upsample',
    family: 'dcae',
    summary: 'decoder up-sample: nearest ×2 → conv3x3, + the channel-repeat shortcut',
    math: 'out = conv3x3(up₂(x)) + shortcut(x)',
    reference: 'reference/dcae/up-block.ts: upBlock',
    shapeRule: 'input at stage s+1 (B, C_{s+1}, H/2^{s+1}, W/2^{s+1}) → stage s',
    variants: stages(0, 4, 'up-s'),
    count: dcaeUpsampleCount,
    testShapes: [{ B: 1, Cin: 16, Cout: 8, H: 8, W: 8 }],
    parity: DEFAULT_PARITY,
    apiOp: null,
    native: { cpu: MODEL_OP, cuda: CUDA['dcae-upsample'] },
  }),
  'dcae-downsample': def({
    op: 'dcae-downsample',
    family: 'dcae',
    summary: 'encoder down-sample: conv3x3 stride 2, + the averaging shortcut',
    math: 'out = conv3x3_s2(x) + mean-shortcut(unshuffle₂(x))',
    reference: 'reference/dcae/down-block.ts: downBlock',
    shapeRule: 'input at stage s (B, C_s, H/2^s, W/2^s) → stage s+1',
    variants: stages(0, 4, 'down-s'),
    count: dcaeDownsampleCount,
    testShapes: [{ B: 1, Cin: 8, Cout: 16, H: 16, W: 16 }],
    parity: DEFAULT_PARITY,
    apiOp: null,
    native: { cpu: NONE, cuda: NONE },
  }),
} satisfies { [O in keyof OpDimsMap]: OpEntry<O> };

type Catalogue = typeof OP_CATALOGUE;

/** Every op name, DiT ops first, in catalogue order. */
export type OpName = keyof Catalogue;
export const OP_NAMES: readonly OpName[] = Object.freeze(Object.keys(OP_CATALOGUE) as OpName[]);

export type DitOpName = { [O in OpName]: Catalogue[O]['family'] extends 'dit' ? O : never }[OpName];
export type DcaeOpName = Exclude<OpName, DitOpName>;
export const DIT_OPS: readonly OpName[] = Object.freeze(OP_NAMES.filter((o) => OP_CATALOGUE[o].family === 'dit'));
export const DCAE_OPS: readonly OpName[] = Object.freeze(OP_NAMES.filter((o) => OP_CATALOGUE[o].family === 'dcae'));

/** The ops the op API (bindings/ops.ts) has under their own name: bindings' OP_NAMES. */
export type ApiOpName = { [O in OpName]: Catalogue[O]['apiOp'] extends O ? O : never }[OpName];
export const API_OP_NAMES: readonly ApiOpName[] = Object.freeze(OP_NAMES.filter((o): o is ApiOpName => OP_CATALOGUE[o].apiOp === o));

export function isOpName(s: string): s is OpName {
  return Object.prototype.hasOwnProperty.call(OP_CATALOGUE, s);
}

/** The catalogue entry of an op. */
export function opEntry<O extends OpName>(op: O): OpEntry<O> {
  const e = OP_CATALOGUE[op] as OpEntry<O> | undefined;
  if (e === undefined) throw new RangeError(`catalogue: unknown op "${String(op)}" (ops: ${OP_NAMES.join(', ')})`);
  return e;
}

/** The ops a model is described by: DiT ops for 0.6b/1.6b, DC-AE ops for dcae. */
export function opsOfModel(model: ModelKey): readonly OpName[] {
  return model === 'dcae' ? DCAE_OPS : DIT_OPS;
}

// ---- cost (the roofline's x and y) ----

/** The element counts of one op call (the catalogue entry's formula). */
export function opCount(call: OpCall): OpCount {
  return (opEntry(call.op).count as (d: typeof call.dims) => OpCount)(call.dims);
}

/** FLOPs, minimal bytes and arithmetic intensity of one op call at a storage dtype. */
export function opCost(call: OpCall, dtype: BenchDType): OpCost {
  const counts = opCount(call);
  const bytes = (counts.inElems + counts.weightElems + counts.outElems) * BENCH_DTYPE_BYTES[dtype];
  return { flops: counts.flops, bytes, intensity: bytes > 0 ? counts.flops / bytes : 0, counts };
}

/** Total FLOPs and minimal bytes of a plan (each entry as a separate op: bytes are the unfused sum). */
export function planCost(plan: readonly { shape: OpCall; count: number }[], dtype: BenchDType): { flops: number; bytes: number } {
  let flops = 0;
  let bytes = 0;
  for (const e of plan) {
    const c = opCost(e.shape, dtype);
    flops += c.flops * e.count;
    bytes += c.bytes * e.count;
  }
  return { flops, bytes };
}

/** The versions bench and parity run of `op` on a native backend (empty: not implemented there). */
export function nativeVersions(op: OpName, backend: 'cpu' | 'cuda'): readonly NativeVersion[] {
  return opEntry(op).native[backend];
}
