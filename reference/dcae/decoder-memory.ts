/**
 * Peak activation memory of one decoder pass (this reference's `decoderForward`), from shapes only.
 *
 * Model: every op allocates a fresh output; a tensor is released right after its last use; a block's
 * input stays alive until the block returns (its residual / shortcut needs it). The walk below follows
 * decoderForward op by op under that model and reports the largest simultaneous total (and where).
 * Weights are not counted here (they are resident throughout; see decode-plan.ts). Real runtimes
 * (a GC, a caching allocator, fused kernels) differ, but the dominant term is the same: at the
 * full-resolution stage the up block holds its input, the nearest-upsampled input and the conv output,
 * (C₁/4 + C₁ + C₀)·H·W values — 448·H·W for f32c32.
 */
import type { DcaeConfig, DcaeStage } from './config.js';

export interface ActivationShape {
  name: string;
  shape: number[];
}

export interface DecoderMemoryEstimate {
  /** Largest simultaneous activation bytes, and the op where it is reached. */
  peakBytes: number;
  peakAt: string;
  /** Largest single activation tensor. */
  largestTensor: ActivationShape & { bytes: number };
  /** Output shape of each recorded point (decoder.conv_in, decoder.up_blocks.i, …). */
  stages: ActivationShape[];
}

class LiveSet {
  private live = new Map<number, number>();
  private next = 0;
  private current = 0;
  peak = 0;
  peakAt = '';
  largest = { name: '', shape: [] as number[], elems: 0 };

  alloc(name: string, shape: number[]): number {
    const n = shape.reduce((a, b) => a * b, 1);
    const id = this.next++;
    this.live.set(id, n);
    this.current += n;
    if (this.current > this.peak) {
      this.peak = this.current;
      this.peakAt = name;
    }
    if (n > this.largest.elems) this.largest = { name, shape, elems: n };
    return id;
  }

  free(...ids: number[]): void {
    for (const id of ids) {
      const n = this.live.get(id);
      if (n === undefined) throw new Error(`decoder memory walk: tensor ${id} freed twice`);
      this.current -= n;
      this.live.delete(id);
    }
  }
}

type T = { id: number; shape: number[] };

export function estimateDecoderMemory(config: DcaeConfig, batch: number, latentHeight: number, latentWidth: number, bytesPerElement = 4): DecoderMemoryEstimate {
  const live = new LiveSet();
  const B = batch;
  const alloc = (name: string, shape: number[]): T => ({ id: live.alloc(name, shape), shape });
  const stages: ActivationShape[] = [];
  const st = config.decoder.stages;
  const n = st.length;
  let h = latentHeight;
  let w = latentWidth;

  const z = alloc('decoder input latent', [B, config.latentChannels, h, w]);
  let x = alloc('decoder.conv_in', [B, st[n - 1]!.channels, h, w]);
  stages.push({ name: 'decoder.conv_in', shape: x.shape });
  if (config.decoder.inShortcut) {
    const r = alloc('decoder in shortcut', x.shape);
    const s = alloc('decoder in shortcut add', x.shape);
    live.free(x.id, r.id);
    x = s;
  }

  /** A chain of ops inside one block: each output replaces the previous; the block input stays. */
  const chain = (input: T, steps: [string, number][], key: string): T => {
    let prev: T | null = null;
    for (const [op, channels] of steps) {
      const t = alloc(`${key} ${op}`, [B, channels, h, w]);
      if (prev !== null) live.free(prev.id);
      prev = t;
    }
    live.free(input.id);
    return prev!;
  };

  const block = (input: T, key: string, s: DcaeStage): T => {
    const C = s.channels;
    if (s.blockType === 'ResBlock') return chain(input, [['conv1', C], ['act', C], ['conv2', C], ['norm', C], ['residual add', C]], key);
    // LiteMLA
    const d = config.attentionHeadDim;
    const I = Math.floor(C / d) * d;
    const S = s.qkvMultiscales.length;
    const wqkv = alloc(`${key}.attn stacked qkv weight`, [3 * I, C]);
    const qkv = alloc(`${key}.attn qkv`, [B, 3 * I, h, w]);
    live.free(wqkv.id);
    const aggs: T[] = [];
    for (let i = 0; i < S; i++) {
      const a1 = alloc(`${key}.attn.to_qkv_multiscale.${i}.proj_in`, [B, 3 * I, h, w]);
      aggs.push(alloc(`${key}.attn.to_qkv_multiscale.${i}.proj_out`, [B, 3 * I, h, w]));
      live.free(a1.id);
    }
    let m = qkv;
    if (S > 0) {
      m = alloc(`${key}.attn concat`, [B, 3 * I * (1 + S), h, w]);
      live.free(qkv.id, ...aggs.map((a) => a.id));
    }
    const N = h * w;
    const scratch = alloc(`${key}.attn scratch`, [N > d ? (d + 1) * d + d * N : N * N]);
    const att = alloc(`${key}.attn attention`, [B, I * (1 + S), h, w]);
    live.free(scratch.id, m.id);
    const afterAttn = chain(att, [['attn.to_out', C], ['attn.norm_out', C]], key);
    const sum = alloc(`${key}.attn residual add`, [B, C, h, w]);
    live.free(afterAttn.id);
    // GLUMBConv (the block's input is still referenced by the caller until the block returns)
    const hid = 4 * C;
    const out = chain(sum, [['conv_out.conv_inverted', 2 * hid], ['conv_out.silu', 2 * hid], ['conv_out.conv_depth', 2 * hid], ['conv_out.glu', hid], ['conv_out.conv_point', C], ['conv_out.norm', C], ['conv_out residual add', C]], key);
    live.free(input.id);
    return out;
  };

  for (let i = n - 1; i >= 0; i--) {
    const s = st[i]!;
    let j = 0;
    if (i + 1 < n) {
      const key = `decoder.up_blocks.${i}.${j++}`;
      const input = x;
      let main: T;
      if (config.decoder.upsampleBlockType === 'interpolate') {
        const up = alloc(`${key} nearest upsample`, [B, input.shape[1]!, 2 * h, 2 * w]);
        main = alloc(`${key}.conv`, [B, s.channels, 2 * h, 2 * w]);
        live.free(up.id);
      } else {
        const c = alloc(`${key}.conv`, [B, 4 * s.channels, h, w]);
        main = alloc(`${key} pixel shuffle`, [B, s.channels, 2 * h, 2 * w]);
        live.free(c.id);
      }
      h *= 2;
      w *= 2;
      const sc = alloc(`${key} shortcut`, [B, s.channels, h, w]);
      x = alloc(`${key} shortcut add`, [B, s.channels, h, w]);
      live.free(main.id, sc.id, input.id);
    }
    for (let l = 0; l < s.layers; l++) x = block(x, `decoder.up_blocks.${i}.${j++}`, s);
    stages.push({ name: `decoder.up_blocks.${i}`, shape: x.shape });
  }
  const norm = alloc('decoder.norm_out', x.shape);
  live.free(x.id);
  stages.push({ name: 'decoder.norm_out', shape: norm.shape });
  const act = alloc('decoder conv act', norm.shape);
  live.free(norm.id);
  const out = alloc('decoder.conv_out', [B, config.inChannels, h, w]);
  live.free(act.id);
  stages.push({ name: 'decoder.conv_out', shape: out.shape });
  live.free(out.id, z.id);
  return {
    peakBytes: live.peak * bytesPerElement,
    peakAt: live.peakAt,
    largestTensor: { name: live.largest.name, shape: live.largest.shape, bytes: live.largest.elems * bytesPerElement },
    stages,
  };
}
