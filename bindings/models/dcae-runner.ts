/**
 * The DC-AE decoder (diffusers AutoencoderDC.decode, reference/dcae/decoder.ts) composed from native
 * ops, NHWC inside, on any backend of the op API; optionally tiled exactly like diffusers' tiled_decode
 * (the reference's tile grid and blend, reference/dcae/tiling.ts):
 *
 *   z (NCHW latent)  → NHWC on the host, upload
 *   h = conv_in(z) + repeat(z)                         dcae-upsample, mode none (decoder-in shortcut)
 *   for stage i = n−1 … 0:
 *     if i < n−1: h = conv3×3(up₂(h)) + shortcut(h)     dcae-upsample, interpolate / pixel-shuffle
 *     h = block(h) × layers_i                           dcae-resblock | dcae-evit-block
 *   image = conv_out(act(RMSNorm2d(h)))                dcae-head (writes NCHW); read back to the host
 *
 * Buffer plan: a stage's activations live in two slots (`s<i>.a`, `s<i>.b`) that its blocks ping-pong
 * between; the up block writes the next stage's `a` and the finished stage's slots are freed, so the
 * activation peak is max_i max(2·S_i, 2·S_{i+1} + S_i) for stage tensor sizes S (see `planNativeDecode`). Blending runs on the host over the read-back tiles (two rows held).
 */
import { shapeStr, Tensor } from '../../reference/core/tensor.js';
import { spatialCompressionRatio, type DcaeConfig } from '../../reference/dcae/config.js';
import { decoderParamShapes } from '../../reference/dcae/param-shapes.js';
import { assembleTiles, cropLatent, needsTiling, tileGrid, type Planes, type TileSpec, type TilingOptions } from '../../reference/dcae/tiling.js';
import { checkDcaeWeights } from '../../reference/dcae/weights.js';
import type { Backend } from '../backend.js';
import type { BackendName } from '../backends.js';
import * as ops from '../ops.js';
import type { BackendTensor, TensorDType } from '../tensor.js';
import { BufferPlan, tensorBytes } from './buffers.js';
import { dcaeEvitBlockSync, dcaeHeadSync, dcaeUpsampleSync, type DcaeEvitBlockWeights, type UpsampleMode } from './dcae-ops.js';
import { gemmScratch } from './dit-runner.js';
import { nchwToNhwc } from './layout.js';
import { OpProfiler } from './profiler.js';
import { randomSource, stateDictSource, WeightUploader, type WeightSource } from './weights.js';

export interface NativeDcaeOptions {
  backend?: BackendName;
  dtype?: TensorDType;
  profiler?: OpProfiler;
}

export interface NativeDecodeOptions {
  /** Tile like diffusers' enable_tiling (only when the latent exceeds one tile). */
  tiling?: TilingOptions;
  onTile?: (spec: TileSpec, index: number, count: number) => void;
}

type StageWeights =
  | { kind: 'res'; blocks: ops.DcaeResBlockWeights[] }
  | { kind: 'evit'; blocks: DcaeEvitBlockWeights[] };

/** Throws unless the config uses only what the native decoder ops implement. */
export function checkNativeDcaeConfig(config: DcaeConfig): void {
  const bad = (m: string) => {
    throw new RangeError(`NativeDcaeDecoder: ${m}`);
  };
  config.decoder.stages.forEach((s, i) => {
    if (s.blockType === 'ResBlock' && s.act !== 'silu') bad(`decoder stage ${i}: ResBlock activation ${s.act} (the dcae-resblock op implements SiLU)`);
    if (s.blockType === 'EfficientViTBlock' && s.qkvMultiscales.length !== 1) {
      bad(`decoder stage ${i}: ${s.qkvMultiscales.length} LiteMLA aggregation scales (the lite-mla op implements exactly one, SANA's (5,))`);
    }
    if (s.blockType === 'EfficientViTBlock' && s.channels % config.attentionHeadDim !== 0) {
      bad(`decoder stage ${i}: ${s.channels} channels are not whole heads of ${config.attentionHeadDim}`);
    }
  });
  if (config.decoder.convAct !== 'relu' && config.decoder.convAct !== 'silu') bad(`decoder_conv_act_fn ${config.decoder.convAct} (dcae-head implements relu and silu)`);
}

export class NativeDcaeDecoder {
  readonly backend: Backend;
  readonly dtype: TensorDType;
  readonly profiler: OpProfiler;
  readonly plan: BufferPlan;
  readonly f: number;
  private readonly up: WeightUploader;
  private readonly w: {
    convInW: BackendTensor; convInB: BackendTensor;
    ups: ({ w: BackendTensor; b: BackendTensor } | null)[];
    stages: StageWeights[];
    normW: BackendTensor; normB: BackendTensor; convOutW: BackendTensor; convOutB: BackendTensor;
  };
  /** Host bytes of the tile rows held for blending (largest seen). */
  tileBufferBytes = 0;

  /** From a diffusers AutoencoderDC state dict (the decoder's keys are checked; encoder keys are ignored). */
  static fromStateDict(config: DcaeConfig, params: ReadonlyMap<string, Tensor>, opts: NativeDcaeOptions = {}, source = '<state_dict>'): NativeDcaeDecoder {
    checkNativeDcaeConfig(config);
    const decoder = new Map([...params].filter(([k]) => k.startsWith('decoder.')));
    checkDcaeWeights(decoderParamShapes(config), decoder, source);
    return new NativeDcaeDecoder(config, stateDictSource(decoder, `AutoencoderDC ${source}`), opts);
  }

  /** Random weights with the config's real shapes (profiling). */
  static random(config: DcaeConfig, opts: NativeDcaeOptions & { seed?: number } = {}): NativeDcaeDecoder {
    return new NativeDcaeDecoder(config, randomSource(opts.seed ?? 2), opts);
  }

  constructor(
    readonly config: DcaeConfig,
    source: WeightSource,
    opts: NativeDcaeOptions = {},
  ) {
    checkNativeDcaeConfig(config);
    this.backend = ops.getBackend(opts.backend ?? 'cpu');
    this.dtype = opts.dtype ?? 'f32';
    this.profiler = opts.profiler ?? new OpProfiler(false);
    this.plan = new BufferPlan(this.backend, this.dtype);
    this.f = spatialCompressionRatio(config);
    const shapes = decoderParamShapes(config);
    const up = new WeightUploader(this.backend, this.dtype, source);
    this.up = up;
    const g = (key: string) => {
      const s = shapes.get(`decoder.${key}`);
      if (s === undefined) throw new Error(`NativeDcaeDecoder: no parameter decoder.${key} in this config`);
      return up.get(`decoder.${key}`, s);
    };
    const st = config.decoder.stages;
    const n = st.length;
    try {
      this.w = {
        convInW: g('conv_in.weight'), convInB: g('conv_in.bias'),
        ups: st.map((_, i) => (i + 1 < n ? { w: g(`up_blocks.${i}.0.conv.weight`), b: g(`up_blocks.${i}.0.conv.bias`) } : null)),
        stages: st.map((s, i) => {
          const first = i + 1 < n ? 1 : 0;
          const keys = Array.from({ length: s.layers }, (_, l) => `up_blocks.${i}.${first + l}`);
          if (s.blockType === 'ResBlock') {
            return { kind: 'res', blocks: keys.map((k) => ({ w1: g(`${k}.conv1.weight`), b1: g(`${k}.conv1.bias`), w2: g(`${k}.conv2.weight`), normWeight: g(`${k}.norm.weight`), normBias: g(`${k}.norm.bias`) })) };
          }
          return {
            kind: 'evit',
            blocks: keys.map((k) => ({
              wq: g(`${k}.attn.to_q.weight`), wk: g(`${k}.attn.to_k.weight`), wv: g(`${k}.attn.to_v.weight`),
              wDw: g(`${k}.attn.to_qkv_multiscale.0.proj_in.weight`), wGroup: g(`${k}.attn.to_qkv_multiscale.0.proj_out.weight`),
              wOut: g(`${k}.attn.to_out.weight`), attnNormWeight: g(`${k}.attn.norm_out.weight`), attnNormBias: g(`${k}.attn.norm_out.bias`),
              ffWInv: g(`${k}.conv_out.conv_inverted.weight`), ffBInv: g(`${k}.conv_out.conv_inverted.bias`),
              ffWDw: g(`${k}.conv_out.conv_depth.weight`), ffBDw: g(`${k}.conv_out.conv_depth.bias`),
              ffWPoint: g(`${k}.conv_out.conv_point.weight`), ffNormWeight: g(`${k}.conv_out.norm.weight`), ffNormBias: g(`${k}.conv_out.norm.bias`),
            })),
          };
        }),
        normW: g('norm_out.weight'), normB: g('norm_out.bias'),
        convOutW: g('conv_out.weight'), convOutB: g('conv_out.bias'),
      };
    } catch (e) {
      up.dispose();
      throw e;
    }
  }

  get weightsBytes(): number {
    return this.up.bytes;
  }

  /** Raw latent (B, latent, h, w) → image (B, in, h·f, w·f), float32 on the host (tiled when asked and needed). */
  decode(latent: Tensor, opts: NativeDecodeOptions = {}): Tensor {
    if (latent.ndim !== 4 || latent.shape[1] !== this.config.latentChannels) {
      throw new RangeError(`NativeDcaeDecoder: want a latent (B, ${this.config.latentChannels}, h, w), got ${shapeStr(latent.shape)}`);
    }
    const [B, , h, w] = latent.shape as [number, number, number, number];
    const Cout = this.config.inChannels;
    if (opts.tiling === undefined || !needsTiling(h, w, this.f, opts.tiling)) {
      return new Tensor([B, Cout, h * this.f, w * this.f], 'f32', this.decodeTile(latent));
    }
    const grid = tileGrid(h, w, this.f, opts.tiling);
    const H = h * this.f;
    const W = w * this.f;
    const out: Planes = { data: new Float32Array(B * Cout * H * W), planes: B * Cout, height: H, width: W };
    const rowBytes = (r: number) => grid.tiles.filter((t) => t.row === r).reduce((s, t) => s + 4 * B * Cout * t.sampleHeight * t.sampleWidth, 0);
    for (let r = 0; r < grid.rows; r++) this.tileBufferBytes = Math.max(this.tileBufferBytes, rowBytes(r) + (r > 0 ? rowBytes(r - 1) : 0));
    let i = 0;
    assembleTiles(
      grid,
      (spec) => {
        opts.onTile?.(spec, i++, grid.tiles.length);
        const z = this.profiler.host('host.crop', () => cropLatent(latent, spec));
        return { data: this.decodeTile(z), planes: B * Cout, height: spec.sampleHeight, width: spec.sampleWidth };
      },
      out,
    );
    return new Tensor([B, Cout, H, W], 'f32', out.data as Float32Array);
  }

  /**
   * The decoder on one latent window: NCHW f32 values of the decoded tile. On cuda its ops are queued and
   * synchronized once (ops.queued) unless the profiler is on (per-op times need each op to finish).
   */
  private decodeTile(z: Tensor): Float32Array {
    if (this.profiler.enabled) return this.decodeTileOps(z);
    return ops.queued(this.backend, 'NativeDcaeDecoder.decode', () => this.decodeTileOps(z));
  }

  private decodeTileOps(z: Tensor): Float32Array {
    const cfg = this.config;
    const st = cfg.decoder.stages;
    const n = st.length;
    const [B, L, h, w] = z.shape as [number, number, number, number];
    const prof = this.profiler;
    const plan = this.plan;
    const W_ = this.w;
    for (const s of nativeDecoderScratch(cfg, this.dtype, B, h, w)) plan.scratch(s);
    const zDev = prof.host('host.upload', () => this.backend.fromArray(nchwToNhwc(z.toFloat32(), B, L, h, w), [B, h, w, L], this.dtype));
    let H = h;
    let W = w;
    let slot = `s${n - 1}.a`;
    let x = prof.op('conv-in.dcae-upsample', () =>
      dcaeUpsampleSync(zDev, W_.convInW, { bias: W_.convInB, mode: 'none', shortcut: cfg.decoder.inShortcut, out: plan.slot(slot, [B, H, W, st[n - 1]!.channels]) }),
    );
    const mode: UpsampleMode = cfg.decoder.upsampleBlockType === 'interpolate' ? 'interpolate' : 'pixel-shuffle';
    for (let i = n - 1; i >= 0; i--) {
      const C = st[i]!.channels;
      const upw = W_.ups[i];
      if (upw) {
        H *= 2;
        W *= 2;
        const xin = x;
        slot = `s${i}.a`;
        x = prof.op(`s${i}.dcae-upsample`, () => dcaeUpsampleSync(xin, upw.w, { bias: upw.b, mode, shortcut: true, out: plan.slot(slot, [B, H, W, C]) }));
        plan.releasePrefix(`s${i + 1}.`);
      }
      const sw = W_.stages[i]!;
      for (let l = 0; l < sw.blocks.length; l++) {
        const next = slot.endsWith('.a') ? `s${i}.b` : `s${i}.a`;
        const out = plan.slot(next, [B, H, W, C]);
        const xin = x;
        x = sw.kind === 'res'
          ? prof.op(`s${i}.dcae-resblock`, () => ops.dcaeResBlockSync(xin, sw.blocks[l]!, { out }))
          : prof.op(`s${i}.dcae-evit-block`, () => dcaeEvitBlockSync(xin, sw.blocks[l]!, { headDim: cfg.attentionHeadDim, out }));
        slot = next;
      }
    }
    const xl = x;
    const img = prof.op('head.dcae-head', () =>
      dcaeHeadSync(xl, W_.normW, W_.normB, W_.convOutW, { bias: W_.convOutB, activation: cfg.decoder.convAct as 'relu' | 'silu', out: plan.slot('image', [B, cfg.inChannels, H, W]) }),
    );
    plan.releasePrefix('s0.');
    const values = prof.host('host.readback', () => img.toFloat32());
    zDev.dispose(); // after the read-back: on cuda a free waits for the device (no stall inside a queued decode)
    plan.release('image');
    prof.endRun();
    return values;
  }

  memory(): { weightsBytes: number; activationBytes: number; scratchBytes: number; tileBufferBytes: number; totalBytes: number } {
    const m = { weightsBytes: this.weightsBytes, activationBytes: this.plan.peakBytes, scratchBytes: this.plan.scratchPeakBytes, tileBufferBytes: this.tileBufferBytes };
    return { ...m, totalBytes: m.weightsBytes + m.activationBytes + m.scratchBytes + m.tileBufferBytes };
  }

  dispose(): void {
    this.plan.dispose();
    this.up.dispose();
  }
}

/** Estimated op scratch (bytes) of every op of one tile decode (from the CPU kernels' documented buffers). */
export function nativeDecoderScratch(config: DcaeConfig, dtype: TensorDType, B: number, h: number, w: number): number[] {
  const st = config.decoder.stages;
  const n = st.length;
  const out: number[] = [];
  const conv = (M: number, Cin: number, Cout: number) => gemmScratch(M, Cout, 9 * Cin);
  let H = h;
  let W = w;
  const chunk = 4 * 2 ** 20; // dcae-upsample / dcae-head: ≤ 4 MiB of f32 per chunk or band (+ the band's conv output)
  out.push(chunk + conv(B * H * W, config.latentChannels, st[n - 1]!.channels));
  for (let i = n - 1; i >= 0; i--) {
    const C = st[i]!.channels;
    if (i + 1 < n) {
      H *= 2;
      W *= 2;
      // + the four phases' combined weights (4 × 4·Cin × Cout f32), built once per call
      out.push(chunk + 4 * 16 * st[i + 1]!.channels * C + gemmScratch(B * (H / 2) * (W / 2), C, 4 * st[i + 1]!.channels));
    }
    const M = B * H * W;
    if (st[i]!.blockType === 'ResBlock') out.push(4 * 2 * M * C + conv(M, C, C));
    else {
      const I = Math.floor(C / config.attentionHeadDim) * config.attentionHeadDim;
      const liteMla = 4 * M * (11 * I + C) + gemmScratch(M, 3 * I, C);
      const mixFfn = 4 * M * 3 * 4 * C + gemmScratch(M, 8 * C, C);
      out.push(tensorBytes([M, C], dtype) + Math.max(liteMla, mixFfn));
    }
  }
  out.push(chunk * (1 + config.inChannels / st[0]!.channels) + conv(B * H * W, st[0]!.channels, config.inChannels));
  return out;
}

export interface NativeDecodePlan {
  /** Distinct tile latent shapes (h × w) and how many tiles have each. */
  tiles: { latentHeight: number; latentWidth: number; count: number }[];
  tiled: boolean;
  weightsBytes: number;
  /** Peak of the stage slots (the plan above) of the largest tile. */
  activationBytes: number;
  /** Largest op scratch (estimate). */
  scratchBytes: number;
  /** Host: the output image and two rows of tiles for blending (tiled only). */
  outputBytes: number;
  tileBufferBytes: number;
  /** On the backend: weights + activations + scratch. */
  deviceBytes: number;
}

/** The native decoder's memory for an image, from the config alone (nothing allocated). */
export function planNativeDecode(config: DcaeConfig, opts: { height: number; width: number; batch?: number; dtype?: TensorDType; tiling?: TilingOptions }): NativeDecodePlan {
  const f = spatialCompressionRatio(config);
  const B = opts.batch ?? 1;
  const dtype = opts.dtype ?? 'f32';
  const { height, width } = opts;
  if (!Number.isSafeInteger(height) || !Number.isSafeInteger(width) || height < f || width < f || height % f !== 0 || width % f !== 0) {
    throw new RangeError(`planNativeDecode: image ${height}×${width} is not a positive multiple of ${f}`);
  }
  const lh = height / f;
  const lw = width / f;
  const tiled = opts.tiling !== undefined && needsTiling(lh, lw, f, opts.tiling);
  const shapes = new Map<string, { latentHeight: number; latentWidth: number; count: number }>();
  let tileBufferBytes = 0;
  const C3 = config.inChannels;
  if (tiled) {
    const grid = tileGrid(lh, lw, f, opts.tiling!);
    for (const t of grid.tiles) {
      const k = `${t.latentHeight}x${t.latentWidth}`;
      const e = shapes.get(k);
      if (e) e.count++;
      else shapes.set(k, { latentHeight: t.latentHeight, latentWidth: t.latentWidth, count: 1 });
    }
    const rowBytes = (r: number) => grid.tiles.filter((t) => t.row === r).reduce((s, t) => s + 4 * B * C3 * t.sampleHeight * t.sampleWidth, 0);
    for (let r = 0; r < grid.rows; r++) tileBufferBytes = Math.max(tileBufferBytes, rowBytes(r) + (r > 0 ? rowBytes(r - 1) : 0));
  } else shapes.set(`${lh}x${lw}`, { latentHeight: lh, latentWidth: lw, count: 1 });
  let activationBytes = 0;
  let scratchBytes = 0;
  const st = config.decoder.stages;
  const n = st.length;
  for (const s of shapes.values()) {
    // stage i holds a and b; while the up block into stage i runs, stage i+1's current slot is live too
    const S = (i: number) => tensorBytes([B, s.latentHeight * 2 ** (n - 1 - i), s.latentWidth * 2 ** (n - 1 - i), st[i]!.channels], dtype);
    let peak = 0;
    for (let i = n - 1; i >= 0; i--) peak = Math.max(peak, 2 * S(i), i + 1 < n ? 2 * S(i + 1) + S(i) : 0);
    const image = tensorBytes([B, C3, s.latentHeight * f, s.latentWidth * f], dtype);
    peak = Math.max(peak, 2 * S(0) + image);
    activationBytes = Math.max(activationBytes, peak);
    scratchBytes = Math.max(scratchBytes, ...nativeDecoderScratch(config, dtype, B, s.latentHeight, s.latentWidth));
  }
  let weights = 0;
  for (const s of decoderParamShapes(config).values()) weights += tensorBytes(s, dtype);
  return {
    tiles: [...shapes.values()],
    tiled,
    weightsBytes: weights,
    activationBytes,
    scratchBytes,
    outputBytes: 4 * B * C3 * height * width,
    tileBufferBytes,
    deviceBytes: weights + activationBytes + scratchBytes,
  };
}
