/**
 * SANA's Linear DiT (diffusers SanaTransformer2DModel) composed from the op API's native ops: the same
 * forward as reference/dit/model.ts, on any backend of bindings/ops.ts (`cpu`; `cuda` where its OpTable
 * has the ops), with the weights uploaded once in f32 or bf16 and the activations in a reused buffer plan.
 *
 *   condition (once per prompt batch, reused by every step — its output does not depend on t):
 *     y = RMSNorm(W₂·GELU_tanh(W₁·text + b₁) + b₂)              gemm(gelu-tanh) → gemm → rmsnorm (in place)
 *     each block's text keys/values                               2 gemms per block, kept for the run
 *       k_i = W_k,i·y + b_k,i,  v_i = W_v,i·y + b_v,i             (B, L, C) each: the cross-attention
 *                                                                 (alone or inside dit-block) then
 *                                                                 projects only the image queries
 *   step:
 *     tokens = patchify(latent)                                   host: NCHW → (B, N, p²·C_in), proj_out's order
 *     h_t = SiLU(W₁·sinusoidal(t) + b₁)                           host: sinusoid (B × 256); gemm(silu)
 *     s   = SiLU(t̂),  t̂ = W₂·h_t + b₂                             gemm(silu)  (t̂ itself is never needed alone)
 *     x   = W_patch·tokens + b (+ sincos PE as the residual)      gemm
 *     blocks, either one `dit-block` op each (blockMode 'dit-block': t₀ = W·s + b by one gemm, the block
 *     adds its scale_shift_table), or the ops one by one (blockMode 'ops', the per-op breakdown):
 *       u_j = W_j·s + b_j  once per step                          6 gemms (W_j = rows jC…(j+1)C of W)
 *       m_j = u_j + table_j                                       6 adds per block: gemm epilogues
 *                                                                 (bias = table_j, residual = u_j, K = 1 zero operands)
 *       x  += m₂ ⊙ LinearAttn(LN(x)·(1 + m₁) + m₀)                layernorm-modulate, linear-attention-block
 *       x  += CrossAttn(x, k_i, v_i, mask)                        cross-attention with precomputed kv (in place)
 *       x  += m₅ ⊙ MixFFN(LN(x)·(1 + m₄) + m₃)                    layernorm-modulate, mix-ffn (in place)
 *     shift/scale = t̂ + table_{0/1},  t̂ = W₂·h_t + b₂             gemm, 2 adds (gemm epilogues)
 *     out = unpatchify(W_o·(LN(x)·(1 + scale) + shift) + b_o)     layernorm-modulate, gemm; host: unpatchify
 * Host-side work (TypeScript) is latent-sized: patchify, the 256-wide sinusoid, unpatchify, the uploads
 * and the read-back. CFG is a batch of 2 (uncond, cond) through the same call.
 */
import { shapeStr, Tensor } from '../../reference/core/tensor.js';
import { CAPTION_NORM_EPS } from '../../reference/dit/caption.js';
import { ditDims, validateConfig, type DitDims, type SanaTransformerConfig } from '../../reference/dit/config.js';
import { FINAL_NORM_EPS } from '../../reference/dit/final-layer.js';
import type { DitInputs } from '../../reference/dit/model.js';
import { checkWeightKeys, TIMESTEP_FEATURES } from '../../reference/dit/weights.js';
import { maskToBias } from '../../reference/ops/cross-attention.js';
import { LINEAR_ATTENTION_EPS_DIFFUSERS } from '../../reference/ops/linear-attention.js';
import { unpatchify } from '../../reference/ops/patchify.js';
import { sincosPosEmbed2d } from '../../reference/ops/pos-embed.js';
import { timestepEmbedding } from '../../reference/ops/timestep-embedding.js';
import type { Backend } from '../backend.js';
import type { BackendName } from '../backends.js';
import * as ops from '../ops.js';
import type { BackendTensor, TensorDType } from '../tensor.js';
import { BufferPlan, tensorBytes } from './buffers.js';
import { patchEmbedWeight, patchTokens } from './layout.js';
import { OpProfiler } from './profiler.js';
import { randomSource, stateDictSource, WeightUploader, type WeightSource } from './weights.js';

export type DitBlockMode = 'dit-block' | 'ops';

export interface NativeDitOptions {
  /** Backend of the op API (default 'cpu'). */
  backend?: BackendName;
  /** Storage dtype of weights and activations (default 'f32'). */
  dtype?: TensorDType;
  /** One `dit-block` op per block (default) or the block's ops one by one (per-op timings). */
  blockMode?: DitBlockMode;
  /** Linear-attention denominator eps: 1e-15 (diffusers, default) or 1e-8 (NVlabs). */
  linearAttentionEps?: number;
  /** Records per-op times when enabled (default: a disabled profiler). */
  profiler?: OpProfiler;
  /**
   * cuda: replay each queued step's device ops as one CUDA graph (ops.captureCudaGraph) instead of one
   * launch per kernel. The first step of a shape and condition runs eagerly (one-time setup), the second
   * is captured, later ones replay it; inputs go into fixed buffers (BackendTensor.write). Steps with the
   * profiler on (wall times or a device timeline) or with onIntermediate run eagerly. Default false.
   */
  cudaGraph?: boolean;
}

export interface DitStepOptions {
  /** Receives backend tensors under the golden names (patch_embed, transformer_blocks.<i>, norm_out, proj_out); copy them at once, the buffers are reused. */
  onIntermediate?: (name: string, t: BackendTensor) => void;
  /**
   * cuda: queue the step's ops and synchronize once at the end (ops.queued) instead of after every op.
   * Default: queued unless the profiler is on (per-op times need each op to finish). No effect on cpu.
   */
  queued?: boolean;
}

interface BlockWeights {
  w: ops.DitBlockWeights;
  /** The cross-attention's query/output projections (its text side comes precomputed from the condition). */
  attn2Qo: ops.CrossAttentionQueryWeights;
  /** attn2's text projections, used once per prompt by encodeCondition. */
  attn2Text: { wk: BackendTensor; bk: BackendTensor; wv: BackendTensor; bv: BackendTensor };
  /** ops mode: the rows j = 0…5 of the block's scale_shift_table (shift₁, scale₁, gate₁, shift₂, scale₂, gate₂). */
  tableRows: BackendTensor[] | null;
}

let conditionIds = 0;

/**
 * The text condition on the backend: caption projection + norm, the mask bias, and (ops mode) every
 * block's cross-attention keys/values — all constant over the sampling steps of one prompt batch.
 */
export class DitCondition {
  /** Identity of this condition (a captured step graph is valid for one condition only). */
  readonly id = ++conditionIds;
  constructor(
    readonly y: BackendTensor,
    readonly maskBias: BackendTensor | null,
    /** Per block: the cross-attention's text keys and values (B, L, C). */
    readonly kv: ops.CrossAttentionKv[] | null = null,
    /** The model whose weights projected `kv` (only it may use them). */
    readonly encodedBy: object | null = null,
  ) {}
  get batch(): number {
    return this.y.shape[0]!;
  }
  get disposed(): boolean {
    return this.y.disposed || (this.maskBias?.disposed ?? false) || (this.kv ?? []).some((kv) => kv.k.disposed || kv.v.disposed);
  }
  get bytes(): number {
    const t = (x: BackendTensor) => tensorBytes(x.shape, x.dtype);
    return t(this.y) + (this.maskBias ? t(this.maskBias) : 0) + (this.kv ?? []).reduce((s, kv) => s + t(kv.k) + t(kv.v), 0);
  }
  dispose(): void {
    this.y.dispose();
    this.maskBias?.dispose();
    for (const kv of this.kv ?? []) {
      kv.k.dispose();
      kv.v.dispose();
    }
  }
}

/** How the last `step` ran its device ops. */
export interface DitStepRun {
  /** 'eager': op by op; 'capture': recorded into a CUDA graph, then launched; 'replay': the graph launched. */
  mode: 'eager' | 'capture' | 'replay';
  /** Host time from the step's start until its device work was queued (before the read-back waits for it). */
  enqueueMs: number;
  /** The whole step, read-back and unpatchify included. */
  totalMs: number;
}

export interface DitMemory {
  /** Uploaded weights. */
  weightsBytes: number;
  /** Peak of the step's activation buffers (the plan). */
  activationBytes: number;
  /** The largest op-internal scratch (estimated from the kernels' documented buffers). */
  scratchBytes: number;
  /** A condition (y + mask + the blocks' text keys/values) of the last `encodeCondition`. */
  conditionBytes: number;
  totalBytes: number;
}

export class NativeSanaTransformer {
  readonly dims: DitDims;
  readonly backend: Backend;
  readonly dtype: TensorDType;
  readonly blockMode: DitBlockMode;
  readonly profiler: OpProfiler;
  readonly plan: BufferPlan;
  private readonly eps: number;
  private readonly up: WeightUploader;
  private readonly w: {
    patchW: BackendTensor; patchB: BackendTensor;
    t1W: BackendTensor; t1B: BackendTensor; t2W: BackendTensor; t2B: BackendTensor;
    tW: BackendTensor | null; tB: BackendTensor | null;
    /** ops mode: W_j, b_j of the six modulation chunks, and the zero operands of the add-by-epilogue. */
    tChunks: { w: BackendTensor; b: BackendTensor }[] | null; zeroW: BackendTensor;
    finalTable: BackendTensor[];
    cap1W: BackendTensor; cap1B: BackendTensor; cap2W: BackendTensor; cap2B: BackendTensor; capNormW: BackendTensor;
    projW: BackendTensor; projB: BackendTensor;
    blocks: BlockWeights[];
  };
  private pe: { key: string; t: BackendTensor } | null = null;
  readonly cudaGraph: boolean;
  /** The iteration graph (cudaGraph) of one key (shape, condition, loop): set once it ran eagerly, then captured. */
  private graph: { key: string; graph: ops.CudaGraph | null; result: unknown } | null = null;
  /** How the last step ran (null before the first). */
  lastStep: DitStepRun | null = null;
  private zeros: BackendTensor | null = null;
  private conditionBytes = 0;

  /** From a diffusers state dict (checked first: one error lists every missing / unexpected / mis-shaped key). */
  static fromStateDict(config: SanaTransformerConfig, weights: ReadonlyMap<string, Tensor>, opts: NativeDitOptions = {}, source = '<weights>'): NativeSanaTransformer {
    checkSupported(config);
    checkWeightKeys(config, [...weights].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype })), source);
    return new NativeSanaTransformer(config, stateDictSource(weights, `SanaTransformer2DModel ${source}`), opts);
  }

  /** Random weights with the config's real shapes (profiling). */
  static random(config: SanaTransformerConfig, opts: NativeDitOptions & { seed?: number } = {}): NativeSanaTransformer {
    return new NativeSanaTransformer(config, randomSource(opts.seed ?? 1), opts);
  }

  constructor(
    readonly config: SanaTransformerConfig,
    source: WeightSource,
    opts: NativeDitOptions = {},
  ) {
    checkSupported(config);
    this.dims = ditDims(config);
    const { inner: C, ffnHidden: hid, projOut } = this.dims;
    this.backend = ops.getBackend(opts.backend ?? 'cpu');
    this.dtype = opts.dtype ?? 'f32';
    this.blockMode = opts.blockMode ?? 'dit-block';
    if (this.blockMode !== 'dit-block' && this.blockMode !== 'ops') throw new TypeError(`NativeSanaTransformer: blockMode must be 'dit-block' or 'ops', got ${String(this.blockMode)}`);
    this.eps = opts.linearAttentionEps ?? LINEAR_ATTENTION_EPS_DIFFUSERS;
    this.profiler = opts.profiler ?? new OpProfiler(false);
    this.cudaGraph = opts.cudaGraph ?? false;
    if (this.cudaGraph && this.backend.name !== 'cuda') throw new TypeError(`NativeSanaTransformer: cudaGraph needs the cuda backend, got ${this.backend.name}`);
    this.plan = new BufferPlan(this.backend, this.dtype);
    const up = new WeightUploader(this.backend, this.dtype, source);
    this.up = up;
    const p = config.patchSize;
    const Cin = config.inChannels;
    try {
      const ts = 'time_embed.emb.timestep_embedder.';
      const table = source('scale_shift_table', [2, C]);
      const ops6 = this.blockMode === 'ops';
      const tWAll = ops6 ? source('time_embed.linear.weight', [6 * C, C]) : null;
      const tBAll = ops6 ? source('time_embed.linear.bias', [6 * C]) : null;
      this.w = {
        patchW: up.values(patchEmbedWeight(source('patch_embed.proj.weight', [C, Cin, p, p]), C, Cin, p), [C, p * p * Cin]),
        patchB: up.get('patch_embed.proj.bias', [C]),
        t1W: up.get(`${ts}linear_1.weight`, [C, TIMESTEP_FEATURES]),
        t1B: up.get(`${ts}linear_1.bias`, [C]),
        t2W: up.get(`${ts}linear_2.weight`, [C, C]),
        t2B: up.get(`${ts}linear_2.bias`, [C]),
        tW: ops6 ? null : up.get('time_embed.linear.weight', [6 * C, C]),
        tB: ops6 ? null : up.get('time_embed.linear.bias', [6 * C]),
        tChunks: ops6 ? [0, 1, 2, 3, 4, 5].map((j) => ({ w: up.values(tWAll!.slice(j * C * C, (j + 1) * C * C), [C, C]), b: up.values(tBAll!.slice(j * C, (j + 1) * C), [C]) })) : null,
        zeroW: up.values(new Float32Array(C), [C, 1]),
        finalTable: [up.values(table.slice(0, C), [C]), up.values(table.slice(C, 2 * C), [C])],
        cap1W: up.get('caption_projection.linear_1.weight', [C, config.captionChannels]),
        cap1B: up.get('caption_projection.linear_1.bias', [C]),
        cap2W: up.get('caption_projection.linear_2.weight', [C, C]),
        cap2B: up.get('caption_projection.linear_2.bias', [C]),
        capNormW: up.get('caption_norm.weight', [C]),
        projW: up.get('proj_out.weight', [projOut, C]),
        projB: up.get('proj_out.bias', [projOut]),
        blocks: [],
      };
      for (let i = 0; i < config.numLayers; i++) {
        const k = (s: string) => `transformer_blocks.${i}.${s}`;
        const g = (s: string, shape: number[]) => up.get(k(s), shape);
        const tab = source(k('scale_shift_table'), [6, C]);
        // q, k, v in one allocation where the backend has arenas: cuda's linear-attention-block then runs them as one gemm
        const [wq, wk, wv] = up.packed(['to_q', 'to_k', 'to_v'].map((n) => ({ key: k(`attn1.${n}.weight`), shape: [C, C] }))) as [BackendTensor, BackendTensor, BackendTensor];
        const attn2Qo = { wq: g('attn2.to_q.weight', [C, C]), bq: g('attn2.to_q.bias', [C]), wo: g('attn2.to_out.0.weight', [C, C]), bo: g('attn2.to_out.0.bias', [C]) };
        this.w.blocks.push({
          attn2Qo,
          attn2Text: { wk: g('attn2.to_k.weight', [C, C]), bk: g('attn2.to_k.bias', [C]), wv: g('attn2.to_v.weight', [C, C]), bv: g('attn2.to_v.bias', [C]) },
          w: {
            table: up.values(tab, [6, C]),
            attn1: { wq, wk, wv, wo: g('attn1.to_out.0.weight', [C, C]), bo: g('attn1.to_out.0.bias', [C]) },
            attn2: attn2Qo,
            ff: {
              wInv: g('ff.conv_inverted.weight', [2 * hid, C, 1, 1]), bInv: g('ff.conv_inverted.bias', [2 * hid]),
              wDw: g('ff.conv_depth.weight', [2 * hid, 1, 3, 3]), bDw: g('ff.conv_depth.bias', [2 * hid]),
              wPoint: g('ff.conv_point.weight', [C, hid, 1, 1]),
            },
          },
          tableRows: ops6 ? [0, 1, 2, 3, 4, 5].map((j) => up.values(tab.slice(j * C, (j + 1) * C), [C])) : null,
        });
      }
    } catch (e) {
      up.dispose();
      throw e;
    }
  }

  /** Bytes of the uploaded weights. */
  get weightsBytes(): number {
    return this.up.bytes;
  }

  private upload(data: Float32Array, shape: readonly number[]): BackendTensor {
    return this.profiler.host('host.upload', () => this.backend.fromArray(data, shape, this.dtype));
  }

  /**
   * The text condition: caption projection + RMSNorm (and the mask's additive bias), on the backend, and
   * every block's cross-attention keys/values (2 gemms per block), so the steps project the text never
   * again. Call once per prompt batch and reuse the result for all steps.
   */
  encodeCondition(encoderHiddenStates: Tensor, mask: Tensor | null = null): DitCondition {
    const cfg = this.config;
    const C = this.dims.inner;
    if (encoderHiddenStates.ndim !== 3 || encoderHiddenStates.shape[2] !== cfg.captionChannels || encoderHiddenStates.shape[1]! < 1) {
      throw new RangeError(`NativeSanaTransformer: encoder_hidden_states ${shapeStr(encoderHiddenStates.shape)} is not (B, L, ${cfg.captionChannels}) with L >= 1`);
    }
    const [B, L] = encoderHiddenStates.shape as [number, number];
    if (mask !== null && (mask.ndim !== 2 || mask.shape[0] !== B || mask.shape[1] !== L)) {
      throw new RangeError(`NativeSanaTransformer: encoder_attention_mask ${shapeStr(mask.shape)} is not (${B}, ${L})`);
    }
    const prof = this.profiler;
    const text = this.upload(encoderHiddenStates.toFloat32(), [B, L, cfg.captionChannels]);
    const h = prof.op('caption.gemm', () => ops.gemmSync(text, this.w.cap1W, { bias: this.w.cap1B, activation: 'gelu-tanh' }));
    text.dispose();
    const yp = prof.op('caption.gemm', () => ops.gemmSync(h, this.w.cap2W, { bias: this.w.cap2B }));
    h.dispose();
    const native = this.backend.name !== 'reference';
    const y = prof.op('caption.rmsnorm', () => ops.rmsNormSync(yp, { weight: this.w.capNormW, eps: CAPTION_NORM_EPS, out: native ? yp : null }));
    if (y !== yp) yp.dispose();
    const maskBias = mask === null ? null : this.upload(maskToBias(mask).toFloat32(), [B, 1, L]);
    this.plan.scratch(gemmScratch(B * L, C, cfg.captionChannels));
    let kv: ops.CrossAttentionKv[];
    try {
      kv = this.textKeysValues(y);
    } catch (e) {
      new DitCondition(y, maskBias).dispose();
      throw e;
    }
    const cond = new DitCondition(y, maskBias, kv, this);
    this.conditionBytes = cond.bytes;
    return cond;
  }

  /** Every block's cross-attention text keys/values: k_i = W_k,i·y + b_k,i, v_i = W_v,i·y + b_v,i (B, L, C). */
  private textKeysValues(y: BackendTensor): ops.CrossAttentionKv[] {
    const made: BackendTensor[] = [];
    const project = (w: BackendTensor, b: BackendTensor | null | undefined) => {
      const t = this.profiler.op('caption.text-kv', () => ops.gemmSync(y, w, { bias: b }));
      made.push(t);
      return t;
    };
    try {
      const kv = this.w.blocks.map(({ attn2Text: a }) => ({ k: project(a.wk, a.bk), v: project(a.wv, a.bv) }));
      this.plan.scratch(gemmScratch(y.shape[0]! * y.shape[1]!, this.dims.inner, this.dims.inner));
      return kv;
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
  }

  /** A (B, 1) zero operand for the modulation adds (cached per batch size). */
  private zeroInput(B: number): BackendTensor {
    if (this.zeros?.shape[0] !== B) {
      this.zeros?.dispose();
      this.zeros = this.backend.fromArray(new Float32Array(B), [B, 1], this.dtype);
    }
    return this.zeros;
  }

  /** (B, N, C) sincos position embedding for the grid, repeated over the batch (cached per shape). */
  private posEmbed(B: number, h: number, w: number): BackendTensor | null {
    const cfg = this.config;
    if (cfg.interpolationScale === null) return null;
    const key = `${B}x${h}x${w}`;
    if (this.pe?.key === key) return this.pe.t;
    this.pe?.t.dispose();
    const C = this.dims.inner;
    const pe = sincosPosEmbed2d(C, h, w, { baseSize: Math.floor(cfg.sampleSize / cfg.patchSize), interpolationScale: cfg.interpolationScale }).toFloat32();
    const rep = new Float32Array(B * pe.length);
    for (let b = 0; b < B; b++) rep.set(pe, b * pe.length);
    this.pe = { key, t: this.upload(rep, [B, h * w, C]) };
    return this.pe.t;
  }

  /**
   * One model evaluation: latent (B, C_in, H, W), one timestep per sample (model units 0…1000), the
   * condition of `encodeCondition` → velocity (B, C_out, H, W) float32 on the host.
   */
  step(hiddenStates: Tensor, timestep: Tensor | readonly number[], cond: DitCondition, opts: DitStepOptions = {}): Tensor {
    const queue = opts.queued ?? !this.profiler.enabled;
    const graph = this.cudaGraph && queue && !this.profiler.enabled && !this.profiler.deviceActive && opts.onIntermediate === undefined;
    return queue
      ? ops.queued(this.backend, 'NativeSanaTransformer.step', () => this.stepOps(hiddenStates, timestep, cond, opts, graph))
      : this.stepOps(hiddenStates, timestep, cond, opts, false);
  }

  private stepOps(hiddenStates: Tensor, timestep: Tensor | readonly number[], cond: DitCondition, opts: DitStepOptions, useGraph: boolean): Tensor {
    const started = performance.now();
    const p = this.config.patchSize;
    const { h, w } = this.checkLatent('NativeSanaTransformer', 'hidden_states', hiddenStates);
    const [B, Cin] = hiddenStates.shape as [number, number, number, number];
    const t = timestep instanceof Tensor ? timestep : Tensor.f32([timestep.length], [...timestep]);
    if (t.ndim !== 1 || t.shape[0] !== B) throw new RangeError(`NativeSanaTransformer: timestep ${shapeStr(t.shape)} must have one value per sample, shape [${B}]`);
    if (cond.batch !== B) throw new RangeError(`NativeSanaTransformer: the condition has batch ${cond.batch}, the latent ${B}`);
    this.checkCondition('NativeSanaTransformer', cond);
    const N = h * w;
    const prof = this.profiler;
    this.noteStepScratch(B, N, cond);

    // Inputs (host): tokens and the sinusoidal timestep features.
    const tokens = prof.host('host.patchify', () => patchTokens(hiddenStates.toFloat32(), hiddenStates.shape, p));
    const sin = this.timestepFeatures(t);
    const tokShape = [B, N, Cin * p * p];
    const tShape = [B, TIMESTEP_FEATURES];
    let proj: BackendTensor;
    let mode: DitStepRun['mode'] = 'eager';
    let uploaded: BackendTensor[] = [];
    if (!useGraph) {
      this.dropGraph();
      uploaded = [this.upload(tokens, tokShape), this.upload(sin, tShape)];
      proj = this.deviceStep(uploaded[0]!, uploaded[1]!, cond, B, h, w, opts.onIntermediate);
    } else {
      // Fixed input buffers: a captured graph reads them at their addresses.
      const tokDev = this.plan.slot('in.tokens', tokShape)!;
      const tDev = this.plan.slot('in.t', tShape)!;
      prof.host('host.upload', () => {
        tokDev.write(tokens);
        tDev.write(sin);
      });
      if (cond.disposed) throw new TypeError('NativeSanaTransformer: the condition has been disposed');
      const r = this.graphed(`step ${B}x${h}x${w}x${cond.y.shape[1]}#${cond.id}`, () => this.deviceStep(tokDev, tDev, cond, B, h, w, undefined));
      proj = r.result;
      mode = r.mode;
    }
    const enqueued = performance.now();
    const out = this.readTokens(proj, h, w);
    // Freed after the read-back: on cuda a free waits for the device, which must not stall a queued step.
    for (const t of uploaded) t.dispose();
    prof.endRun();
    this.lastStep = { mode, enqueueMs: enqueued - started, totalMs: performance.now() - started };
    return out;
  }

  /**
   * @internal A latent (B, C_in, H, W) with H, W positive multiples of the patch size (step and the
   * backend loop, dit-denoise.ts; `who` and `what` name the caller and the argument): its token grid.
   */
  checkLatent(who: string, what: string, z: Tensor): { h: number; w: number } {
    const p = this.config.patchSize;
    if (z.ndim !== 4 || z.shape[1] !== this.config.inChannels) throw new RangeError(`${who}: ${what} ${shapeStr(z.shape)} is not (B, ${this.config.inChannels}, H, W)`);
    const [, , H, W] = z.shape as [number, number, number, number];
    if (H < p || W < p || H % p !== 0 || W % p !== 0) throw new RangeError(`${who}: latent ${shapeStr(z.shape)} needs H, W positive multiples of patch size ${p}`);
    return { h: H / p, w: W / p };
  }

  /** @internal A condition this model encoded, with its text keys/values (`who` names the caller in the error). */
  checkCondition(who: string, cond: DitCondition): void {
    if (cond.kv === null || cond.encodedBy !== this) {
      throw new TypeError(`${who}: the condition ${cond.kv === null ? 'has no text keys/values' : "holds another model's text keys/values"} (encode it with this model's encodeCondition)`);
    }
  }

  /** @internal Notes the op scratch of a step on (B, N) tokens with this condition (the memory report). */
  noteStepScratch(B: number, N: number, cond: DitCondition): void {
    const { inner: C, ffnHidden: hid } = this.dims;
    this.plan.scratch(ditScratch(this.blockMode, this.dtype, B, N, cond.y.shape[1]!, C, hid, this.config.captionChannels));
  }

  /** @internal The sinusoidal timestep features (B, 256) of model timesteps t (host, profiled). */
  timestepFeatures(t: Tensor): Float32Array {
    return this.profiler.host('host.timestep-embedding', () => timestepEmbedding(t, { dim: TIMESTEP_FEATURES, flipSinToCos: true, downscaleFreqShift: 0 }).toFloat32());
  }

  /** @internal Tokens (B, h·w, F) on the backend read back as the latent-shaped (B, F/p², h·p, w·p) (profiled). */
  readTokens(tokens: BackendTensor, h: number, w: number): Tensor {
    const values = this.profiler.host('host.readback', () => tokens.toFloat32());
    return this.profiler.host('host.unpatchify', () => unpatchify(new Tensor(tokens.shape, 'f32', values), h, w, this.config.patchSize));
  }

  /**
   * @internal Device work of one iteration through a CUDA graph (cudaGraph): the first call with a key
   * runs `fn` eagerly (one-time setup: lazy module loading, allocations), the second captures it and
   * launches the graph, later ones launch the graph again. Another key drops the graph. `fn` must read
   * its inputs from fixed buffers (the plan's slots, written in place) and return the same result object.
   */
  graphed<T>(key: string, fn: () => T): { result: T; mode: DitStepRun['mode'] } {
    const g = this.graph?.key === key ? this.graph : null;
    if (g?.graph) {
      g.graph.launch();
      return { result: g.result as T, mode: 'replay' };
    }
    if (g) {
      const c = ops.captureCudaGraph(this.backend, `NativeSanaTransformer ${key}`, fn);
      g.graph = c.graph;
      g.result = c.result;
      c.graph.launch();
      return { result: c.result, mode: 'capture' };
    }
    this.dropGraph();
    const result = fn();
    this.graph = { key, graph: null, result: null };
    return { result, mode: 'eager' };
  }

  /** Frees the captured graph (it is rebuilt for the next shape or condition). */
  dropGraph(): void {
    this.graph?.graph?.dispose();
    this.graph = null;
  }

  /**
   * @internal The step's device ops, from the uploaded tokens and timestep features to the projected
   * output (B, N, F) in the plan's 'proj' slot: everything a CUDA graph of the step holds.
   */
  deviceStep(tokDev: BackendTensor, tDev: BackendTensor, cond: DitCondition, B: number, h: number, w: number, emit: DitStepOptions['onIntermediate']): BackendTensor {
    const cfg = this.config;
    const { inner: C, projOut: F } = this.dims;
    const N = h * w;
    const prof = this.profiler;
    const plan = this.plan;
    const W_ = this.w;

    // adaLN-single: h_t, s = SiLU(t̂), and t₀ (dit-block mode).
    const ht = prof.op('adaln.gemm', () => ops.gemmSync(tDev, W_.t1W, { bias: W_.t1B, activation: 'silu', out: plan.slot('t.h', [B, C]) }));
    const s = prof.op('adaln.gemm', () => ops.gemmSync(ht, W_.t2W, { bias: W_.t2B, activation: 'silu', out: plan.slot('t.silu', [B, C]) }));
    const t0 = W_.tW === null ? null : prof.op('adaln.gemm', () => ops.gemmSync(s, W_.tW!, { bias: W_.tB, out: plan.slot('t0', [B, 6 * C]) }));
    const u = W_.tChunks === null ? null : W_.tChunks.map((c, j) => prof.op('adaln.gemm', () => ops.gemmSync(s, c.w, { bias: c.b, out: plan.slot(`t.u${j}`, [B, C]) })));
    const zeros = this.zeroInput(B);

    // Patch embedding (+ position embedding as the residual).
    const pe = this.posEmbed(B, h, w);
    let x = prof.op('patch-embed.gemm', () => ops.gemmSync(tokDev, W_.patchW, { bias: W_.patchB, residual: pe, out: plan.slot('x', [B, N, C]) }));
    emit?.('patch_embed', x);

    let cur = 'x';
    for (let i = 0; i < W_.blocks.length; i++) {
      const bw = W_.blocks[i]!;
      if (t0 !== null) {
        const next = cur === 'x' ? 'x2' : 'x';
        const xin = x;
        x = prof.op('block.dit-block', () =>
          ops.ditBlockSync(xin, bw.w, {
            kv: cond.kv![i]!, t0, maskBias: cond.maskBias, height: h, width: w, headDim: cfg.attentionHeadDim,
            crossHeads: cfg.numCrossAttentionHeads, normEps: cfg.normEps, eps: this.eps, out: plan.slot(next, [B, N, C]),
          }),
        );
        cur = next;
      } else {
        // m_j = u_j + table_j through the gemm epilogue (0·0 + bias + residual: exactly one f32 add).
        const m = bw.tableRows!.map((row, j) => prof.op('block.modulation-add', () => ops.gemmSync(zeros, W_.zeroW, { bias: row, residual: u![j], out: plan.slot(`mod${j}`, [B, C]) })));
        const native = this.backend.name !== 'reference';
        const xs = x;
        const h1 = prof.op('block.layernorm-modulate', () => ops.layerNormModulateSync(xs, m[0]!, m[1]!, { eps: cfg.normEps, out: plan.slot('h', [B, N, C]) }));
        x = prof.op('block.linear-attention-block', () =>
          ops.linearAttentionBlockSync(h1, bw.w.attn1, { headDim: cfg.attentionHeadDim, eps: this.eps, gate: m[2], residual: xs, out: native ? xs : null }),
        );
        const x1 = x;
        const kv = cond.kv![i]!;
        x = prof.op('block.cross-attention', () =>
          ops.crossAttentionSync(x1, null, bw.attn2Qo, { kv, heads: cfg.numCrossAttentionHeads, maskBias: cond.maskBias, residual: x1, out: native ? x1 : null }),
        );
        const x2 = x;
        const h2 = prof.op('block.layernorm-modulate', () => ops.layerNormModulateSync(x2, m[3]!, m[4]!, { eps: cfg.normEps, out: plan.slot('h', [B, N, C]) }));
        x = prof.op('block.mix-ffn', () => ops.mixFfnSync(h2, bw.w.ff, { height: h, width: w, gate: m[5], residual: x2, out: native ? x2 : null }));
      }
      emit?.(`transformer_blocks.${i}`, x);
    }

    // Final layer: shift/scale = t̂ + table rows, modulated LayerNorm, projection; unpatchify on the host.
    const that = prof.op('final.gemm', () => ops.gemmSync(ht, W_.t2W, { bias: W_.t2B, out: plan.slot('t.hat', [B, C]) }));
    const add = (row: BackendTensor, slot: string) => prof.op('final.modulation-add', () => ops.gemmSync(zeros, W_.zeroW, { bias: row, residual: that, out: plan.slot(slot, [B, C]) }));
    const shift = add(W_.finalTable[0]!, 'final.shift');
    const scale = add(W_.finalTable[1]!, 'final.scale');
    const xf = x;
    const hn = prof.op('final.layernorm-modulate', () => ops.layerNormModulateSync(xf, shift, scale, { eps: FINAL_NORM_EPS, out: plan.slot('h', [B, N, C]) }));
    emit?.('norm_out', hn);
    const proj = prof.op('final.gemm', () => ops.gemmSync(hn, W_.projW, { bias: W_.projB, out: plan.slot('proj', [B, N, F]) }));
    emit?.('proj_out', proj);
    return proj;
  }

  /** The reference model's forward signature: condition + one step (the condition is freed after). */
  forward(inputs: DitInputs, opts: DitStepOptions = {}): Tensor {
    const { hiddenStates, timestep, encoderHiddenStates } = inputs;
    if (hiddenStates.ndim !== 4) throw new RangeError(`NativeSanaTransformer: hidden_states ${shapeStr(hiddenStates.shape)} is not (B, C, H, W)`);
    if (encoderHiddenStates.ndim === 3 && encoderHiddenStates.shape[0] !== hiddenStates.shape[0]) {
      throw new RangeError(`NativeSanaTransformer: encoder_hidden_states ${shapeStr(encoderHiddenStates.shape)} and hidden_states ${shapeStr(hiddenStates.shape)} differ in batch`);
    }
    const cond = this.encodeCondition(encoderHiddenStates, inputs.encoderAttentionMask ?? null);
    try {
      return this.step(hiddenStates, timestep, cond, opts);
    } finally {
      cond.dispose();
    }
  }

  memory(): DitMemory {
    const m = {
      weightsBytes: this.weightsBytes,
      activationBytes: this.plan.peakBytes + (this.pe ? tensorBytes(this.pe.t.shape, this.dtype) : 0),
      scratchBytes: this.plan.scratchPeakBytes,
      conditionBytes: this.conditionBytes,
    };
    return { ...m, totalBytes: m.weightsBytes + m.activationBytes + m.scratchBytes + m.conditionBytes };
  }

  dispose(): void {
    this.dropGraph();
    this.plan.dispose();
    this.pe?.t.dispose();
    this.pe = null;
    this.zeros?.dispose();
    this.zeros = null;
    this.up.dispose();
  }
}

/** The config is valid and uses only what the native ops implement. */
function checkSupported(config: SanaTransformerConfig): void {
  validateConfig(config);
  const { inner, crossInner } = ditDims(config);
  if (config.attentionBias) throw new RangeError('NativeSanaTransformer: attention_bias = true (biases on attn1 q/k/v) is not supported by the native ops');
  if (crossInner !== inner) throw new RangeError(`NativeSanaTransformer: the cross-attention width ${crossInner} must equal the inner dim ${inner} for the native cross-attention op`);
}

// ---- scratch estimates (bytes of f32 scratch the CPU kernels allocate; see each kernel's header) ----

/** gemm packing: all of B (N × K, f32) + a chunk of A (≤ 32 Mi floats). */
export function gemmScratch(M: number, N: number, K: number): number {
  return 4 * (Math.ceil(N / 32) * 32 * K + Math.min(Math.ceil(M / 8) * 8 * K, 32 * 2 ** 20));
}

/**
 * The largest op scratch of one step (linear-attention-block: 4·M·4C; cross-attention: 4·(2M·C + 2B·L·C)
 * — its k, v come precomputed (f32 read as is, bf16 widened); mix-ffn: 4·M·3h; plus packing).
 */
export function ditScratch(mode: DitBlockMode, dtype: TensorDType, B: number, N: number, L: number, C: number, hid: number, captionChannels: number): number {
  const M = B * N;
  const lab = 4 * M * 4 * C + gemmScratch(M, 3 * C, C);
  const kvScratch = dtype === 'f32' ? 0 : 4 * 2 * B * L * C;
  const xattn = 4 * 2 * M * C + kvScratch + gemmScratch(M, C, C);
  const ffn = 4 * M * 3 * hid + gemmScratch(M, 2 * hid, C);
  const inner = Math.max(lab, xattn, ffn);
  const block = mode === 'dit-block' ? tensorBytes([M + 6 * B, C], dtype) + inner : inner;
  return Math.max(block, gemmScratch(B * L, C, captionChannels));
}
