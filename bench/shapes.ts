/**
 * The shape catalogue: every op's shape at each model, image resolution and batch.
 *
 * Derived from the model dimensions in bench/models.ts (plain constants for now; see there). The DiT
 * sees tokens = (H/32)·(W/32) (patch 1 on the 32× DC-AE latent); batch 2 is one CFG step. DC-AE
 * shapes follow the decoder (stage s works at H/2^s with widths[s] channels) plus the encoder's
 * stride-2 convs and down-sample blocks.
 *
 * Plans (`ditBlockPlan`, `ditStepPlan`, `dcaeDecodePlan`) list the op calls that make up a DiT block, a
 * DiT forward step and a DC-AE decode, with multiplicities: the report's time breakdowns and the cost
 * model's composite counts both come from them.
 */
import { DCAE_F32C32, ditDims, type DitDims, type ModelKey } from './models.js';
import { opsOfModel, type OpName } from './catalogue.js';

export { opsOfModel };
import type { OpCall } from './ops.js';

/** An image resolution, height × width in pixels (multiples of 32). */
export interface Resolution {
  height: number;
  width: number;
}

/** The catalogue's resolutions: 256² … 4096² and one non-square (1024 high, 2048 wide). */
export const RESOLUTIONS: readonly Resolution[] = Object.freeze([
  { height: 256, width: 256 },
  { height: 512, width: 512 },
  { height: 1024, width: 1024 },
  { height: 2048, width: 2048 },
  { height: 4096, width: 4096 },
  { height: 1024, width: 2048 },
]);

export const BATCHES: readonly number[] = [1, 2];

/** "1024" for square, "1024x2048" (height x width) otherwise. */
export function resLabel(r: Resolution): string {
  return r.height === r.width ? String(r.height) : `${r.height}x${r.width}`;
}

/** Parse "1024", "1024x2048" (height x width) or "1024×2048"; sides must be positive multiples of 32. */
export function parseResolution(s: string): Resolution {
  const m = /^(\d+)(?:[x×](\d+))?$/.exec(s.trim());
  if (m === null) throw new RangeError(`resolution: "${s}" is not N or HxW (e.g. 1024 or 1024x2048)`);
  const height = Number(m[1]);
  const width = m[2] === undefined ? height : Number(m[2]);
  for (const side of [height, width]) {
    if (!Number.isSafeInteger(side) || side <= 0 || side % 32 !== 0) {
      throw new RangeError(`resolution: "${s}" — sides must be positive multiples of 32 (the DC-AE compresses 32×)`);
    }
  }
  return { height, width };
}

/** Latent tokens the DiT sees: (H/32)·(W/32). */
export function tokensOf(r: Resolution): number {
  return (r.height / 32) * (r.width / 32);
}

/** One catalogue entry: an op call plus where it comes from. */
export type OpShape = OpCall & {
  model: ModelKey;
  /** Which instance of the op within the model (e.g. 'qkv' for a gemm, 's3' for a DC-AE stage). */
  variant: string;
  res: string;
  height: number;
  width: number;
  tokens: number;
  batch: number;
};

/** An op shape and how many times it runs inside a larger unit (block, step, decode). */
export interface PlanEntry {
  shape: OpShape;
  count: number;
}

function ctx(model: ModelKey, r: Resolution, batch: number) {
  if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError(`shapes: batch must be a positive integer, got ${batch}`);
  return { model, res: resLabel(r), height: r.height, width: r.width, tokens: tokensOf(r), batch };
}

// ---------------------------------------------------------------------------------------------
// DiT

function ditShapes(d: DitDims, r: Resolution, batch: number) {
  const c = ctx(d.key, r, batch);
  const h = r.height / 32;
  const w = r.width / 32;
  const N = h * w;
  const B = batch;
  const C = d.hidden;
  const L = d.textTokens;
  const M = B * N;
  const gemm = (variant: string, Mr: number, K: number, Nout: number, bias: boolean, activation: 'none' | 'silu' | 'gelu-tanh' = 'none'): OpShape => ({
    ...c,
    op: 'gemm',
    variant,
    dims: { M: Mr, N: Nout, K, bias, activation },
  });
  const la = { B, N, C, heads: d.linearHeads, headDim: d.linearHeadDim };
  const shapes = {
    // The block's gemms (token rows unless noted).
    qkv: gemm('qkv', M, C, 3 * C, false),
    attnProj: gemm('attn-proj', M, C, C, true),
    crossQ: gemm('cross-q', M, C, C, true),
    crossKv: gemm('cross-kv', B * L, C, 2 * C, true), // on the caption tokens
    crossOut: gemm('cross-out', M, C, C, true),
    ffnIn: gemm('ffn-in', M, C, 2 * d.ffnHidden, true, 'silu'),
    ffnOut: gemm('ffn-out', M, d.ffnHidden, C, false),
    // Once per forward, outside the blocks.
    patchEmbed: gemm('patch-embed', M, d.inChannels * d.patch * d.patch, C, true),
    tEmb1: gemm('t-embed-1', B, d.timestepFeatures, C, true, 'silu'),
    tEmb2: gemm('t-embed-2', B, C, C, true),
    tBlock: gemm('t-block', B, C, 6 * C, true), // its input SiLU runs on B·C values (negligible)
    yProj1: gemm('y-proj-1', B * L, d.captionChannels, C, true, 'gelu-tanh'),
    yProj2: gemm('y-proj-2', B * L, C, C, true),
    final: gemm('final', M, C, d.outChannels * d.patch * d.patch, true),
    linearAttention: { ...c, op: 'linear-attention', variant: '', dims: { ...la } } as OpShape,
    linearAttentionBlock: { ...c, op: 'linear-attention-block', variant: '', dims: { ...la } } as OpShape,
    mixFfn: { ...c, op: 'mix-ffn', variant: '', dims: { B, N, C, h, w, hidden: d.ffnHidden } } as OpShape,
    crossAttention: {
      ...c,
      op: 'cross-attention',
      variant: '',
      dims: { B, N, C, L, heads: d.crossHeads, headDim: d.crossHeadDim },
    } as OpShape,
    layerNormModulate: { ...c, op: 'layernorm-modulate', variant: '', dims: { B, N, C } } as OpShape,
    yNorm: { ...c, op: 'rmsnorm', variant: 'y-norm', dims: { rows: B * L, C } } as OpShape,
    ditBlock: {
      ...c,
      op: 'dit-block',
      variant: '',
      dims: {
        B,
        N,
        C,
        h,
        w,
        heads: d.linearHeads,
        headDim: d.linearHeadDim,
        hidden: d.ffnHidden,
        L,
        crossHeads: d.crossHeads,
        crossHeadDim: d.crossHeadDim,
      },
    } as OpShape,
  };
  return shapes;
}

// ---------------------------------------------------------------------------------------------
// DC-AE

function dcaeShapes(r: Resolution, batch: number) {
  const dc = DCAE_F32C32;
  const c = ctx('dcae', r, batch);
  const B = batch;
  const at = (s: number) => ({ H: r.height >> s, W: r.width >> s });
  const fm = (op: 'rmsnorm2d' | 'lite-mla' | 'dcae-resblock' | 'dcae-evit-block', s: number): OpShape =>
    ({ ...c, op, variant: `s${s}`, dims: { B, C: dc.widths[s]!, ...at(s) } }) as OpShape;
  const conv = (variant: string, Cin: number, Cout: number, s: number, stride: 1 | 2, bias: boolean): OpShape => ({
    ...c,
    op: 'conv3x3',
    variant,
    dims: { B, Cin, Cout, ...at(s), stride, bias },
  });
  // Up-sample into stage s comes from stage s+1 (input at H/2^(s+1)); down-sample out of stage s.
  const up = (s: number): OpShape => ({
    ...c,
    op: 'dcae-upsample',
    variant: `up-s${s}`,
    dims: { B, Cin: dc.widths[s + 1]!, Cout: dc.widths[s]!, ...at(s + 1) },
  });
  const down = (s: number): OpShape => ({
    ...c,
    op: 'dcae-downsample',
    variant: `down-s${s}`,
    dims: { B, Cin: dc.widths[s]!, Cout: dc.widths[s + 1]!, ...at(s) },
  });
  const last = dc.widths.length - 1;
  return {
    decIn: conv('dec-in', dc.latentChannels, dc.widths[last]!, last, 1, true),
    decOut: conv('dec-out', dc.widths[0]!, dc.imageChannels, 0, 1, true),
    encIn: conv('enc-in', dc.imageChannels, dc.widths[0]!, 0, 1, true),
    // The ResBlock convs of stages 0–2 (first has a bias, second does not; same cost otherwise).
    resConv: [0, 1, 2].map((s) => conv(`res-s${s}`, dc.widths[s]!, dc.widths[s]!, s, 1, true)),
    // The stride-2 convs inside the encoder's down-sample blocks.
    downConv: [0, 1, 2, 3, 4].map((s) => conv(`down-s${s}`, dc.widths[s]!, dc.widths[s + 1]!, s, 2, true)),
    rmsnorm2d: dc.widths.map((_, s) => fm('rmsnorm2d', s)),
    liteMla: [3, 4, 5].map((s) => fm('lite-mla', s)),
    resblock: [0, 1, 2].map((s) => fm('dcae-resblock', s)),
    evit: [3, 4, 5].map((s) => fm('dcae-evit-block', s)),
    up: [0, 1, 2, 3, 4].map(up),
    down: [0, 1, 2, 3, 4].map(down),
  };
}

// ---------------------------------------------------------------------------------------------
// Catalogue and plans

/** Every shape of every op of `model` at one resolution and batch (in op order, then variant). */
export function catalogue(model: ModelKey, r: Resolution, batch: number): OpShape[] {
  if (model === 'dcae') {
    const s = dcaeShapes(r, batch);
    return [
      s.decIn,
      ...s.resConv,
      s.decOut,
      s.encIn,
      ...s.downConv,
      ...s.rmsnorm2d,
      ...s.liteMla,
      ...s.resblock,
      ...s.evit,
      ...s.up,
      ...s.down,
    ];
  }
  const s = ditShapes(ditDims(model), r, batch);
  return [
    s.qkv,
    s.attnProj,
    s.crossQ,
    s.crossKv,
    s.crossOut,
    s.ffnIn,
    s.ffnOut,
    s.patchEmbed,
    s.tEmb1,
    s.tEmb2,
    s.tBlock,
    s.yProj1,
    s.yProj2,
    s.final,
    s.linearAttention,
    s.linearAttentionBlock,
    s.mixFfn,
    s.crossAttention,
    s.layerNormModulate,
    s.yNorm,
    s.ditBlock,
  ];
}

/** The catalogue's shapes of one op (all variants). Throws if the op does not belong to the model. */
export function shapesFor(op: OpName, model: ModelKey, r: Resolution, batch: number): OpShape[] {
  if (!opsOfModel(model).includes(op)) {
    throw new RangeError(`shapes: op "${op}" is not part of model "${model}" (its ops: ${opsOfModel(model).join(', ')})`);
  }
  return catalogue(model, r, batch).filter((s) => s.op === op);
}

/**
 * A DiT block as separately launched ops: the unfused composition a fused `dit-block` replaces.
 * (The residual adds and gates are elementwise glue and are not listed.)
 */
export function ditBlockPlan(model: '0.6b' | '1.6b', r: Resolution, batch: number): PlanEntry[] {
  const s = ditShapes(ditDims(model), r, batch);
  return [
    { shape: s.layerNormModulate, count: 2 },
    { shape: s.linearAttentionBlock, count: 1 },
    { shape: s.crossAttention, count: 1 },
    { shape: s.mixFfn, count: 1 },
  ];
}

/** One DiT forward (one denoising step; batch 2 = one CFG step for one image); `textTokens` defaults to the model's 300. */
export function ditStepPlan(model: '0.6b' | '1.6b', r: Resolution, batch: number, textTokens?: number): PlanEntry[] {
  const d = textTokens === undefined ? ditDims(model) : { ...ditDims(model), textTokens };
  const s = ditShapes(d, r, batch);
  return [
    { shape: s.patchEmbed, count: 1 },
    { shape: s.tEmb1, count: 1 },
    { shape: s.tEmb2, count: 1 },
    { shape: s.tBlock, count: 1 },
    { shape: s.yProj1, count: 1 },
    { shape: s.yProj2, count: 1 },
    { shape: s.yNorm, count: 1 },
    { shape: s.ditBlock, count: d.depth },
    { shape: s.layerNormModulate, count: 1 }, // the final layer's norm + modulation
    { shape: s.final, count: 1 },
  ];
}

/**
 * The DC-AE decoder (latent → image): project-in conv, stages 5…0 (up-sample, then blocks), output
 * norm + conv. Elementwise glue (the project-in shortcut add, the output ReLU) is not listed.
 */
export function dcaeDecodePlan(r: Resolution, batch: number): PlanEntry[] {
  const dc = DCAE_F32C32;
  const s = dcaeShapes(r, batch);
  const plan: PlanEntry[] = [{ shape: s.decIn, count: 1 }];
  for (let st = dc.widths.length - 1; st >= 0; st--) {
    if (st < dc.widths.length - 1) plan.push({ shape: s.up[st]!, count: 1 });
    const depth = dc.decoderDepths[st]!;
    plan.push({ shape: dc.blockTypes[st] === 'evit' ? s.evit[st - 3]! : s.resblock[st]!, count: depth });
  }
  plan.push({ shape: s.rmsnorm2d[0]!, count: 1 }, { shape: s.decOut, count: 1 });
  return plan;
}

/** A stable key naming one shape (op, variant, model, resolution, batch) for lookups and tables. */
export function shapeKey(s: Pick<OpShape, 'op' | 'variant' | 'model' | 'res' | 'batch'>): string {
  return `${s.op}${s.variant ? `:${s.variant}` : ''}@${s.model}/${s.res}/b${s.batch}`;
}

/** Dims as a short human string, e.g. "M=1024 N=3456 K=1152 bias activation=silu". */
export function dimsStr(dims: object): string {
  return Object.entries(dims)
    .filter(([, v]) => v !== false && v !== 'none')
    .map(([k, v]) => (v === true ? k : `${k}=${String(v)}`))
    .join(' ');
}
