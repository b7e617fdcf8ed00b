/**
 * Gemma-2 decoder (transformers `Gemma2Model`), the SANA text encoder: token ids → last hidden state
 * after the final norm, (B, L, hidden). Eager-attention semantics (logit soft-capping applied).
 *
 *   h = embed(ids) · √hidden                      (√hidden cast to the model dtype first, as HF does)
 *   for each layer ℓ (sliding window on "sliding_attention" layers — even ℓ by default):
 *     h = h + postAttnNorm(Attn(inputNorm(h)))      Attn: q,k,v proj → RoPE(q,k) → causal GQA
 *                                                    (scale query_pre_attn_scalar^−½, soft-cap) → o proj
 *     h = h + postFfnNorm(down(gelu_tanh(gate(x)) ⊙ up(x))),  x = preFfnNorm(h)
 *   out = norm(h)                                   every norm: x/rms(x)·(1 + w), eps = rms_norm_eps
 *
 * FLOPs per token and layer ≈ 2·(H·(Hq+2·Hkv)·d + Hq·d·H + 3·H·I) + 4·L·Hq·d (attention, causal half).
 *
 * dtype 'f32' (default) keeps float32 activations (matmuls accumulated in float64). 'bf16' (SANA runs
 * Gemma in bf16) rounds to bf16 at module outputs — embedding × √hidden, every projection, RoPE'd q/k,
 * attention probabilities and output, norms, GELU, the GeGLU product, residual sums — but not inside
 * fused sub-steps (the softcap's /cap, tanh, ·cap and RoPE's two products are rounded once, not each).
 */
import { roundToBf16InPlace, f32ToBf16Bits, bf16BitsToF32 } from '../core/dtype.js';
import { shapeStr, Tensor } from '../core/tensor.js';
import { linear } from '../ops/linear.js';
import type { Gemma2Config } from './gemma2-config.js';
import { geluTanhScalar } from '../ops/activations.js';
import { applyRope, causalGqaAttention, gemmaRmsNorm, ropeTables, type ActivationRound } from './gemma2-ops.js';
import { gemma2WeightsFromMap, loadGemma2Dir } from './gemma2-weights.js';

export type Gemma2DType = 'f32' | 'bf16';

/** Token ids or an attention mask for a batch: a (B, L) integer Tensor or nested arrays. */
export type TokenBatch = Tensor | readonly (readonly number[])[];

interface LayerWeights {
  inputNorm: Float32Array;
  postAttnNorm: Float32Array;
  preFfnNorm: Float32Array;
  postFfnNorm: Float32Array;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  o: Tensor;
  qb: Tensor | null;
  kb: Tensor | null;
  vb: Tensor | null;
  ob: Tensor | null;
  gate: Tensor;
  up: Tensor;
  down: Tensor;
  sliding: boolean;
}

export class Gemma2Model {
  readonly config: Gemma2Config;
  readonly dtype: Gemma2DType;
  private readonly embed: Tensor;
  private readonly layers: LayerWeights[];
  private readonly finalNorm: Float32Array;
  private readonly round: ActivationRound;

  /** `weights`: a state dict with HF key names (Gemma2Model or Gemma2ForCausalLM layout). */
  constructor(config: Gemma2Config, weights: ReadonlyMap<string, Tensor>, opts: { dtype?: Gemma2DType } = {}) {
    this.config = config;
    this.dtype = opts.dtype ?? 'f32';
    if (this.dtype !== 'f32' && this.dtype !== 'bf16') throw new TypeError(`Gemma2Model: dtype must be 'f32' or 'bf16', got ${String(this.dtype)}`);
    this.round = this.dtype === 'bf16' ? roundToBf16InPlace : (a) => a;
    const w = gemma2WeightsFromMap(config, weights);
    const get = (k: string): Tensor => w.get(k)!;
    const vec = (k: string): Float32Array => Float32Array.from(get(k).toFloat32());
    this.embed = get('embed_tokens.weight');
    this.finalNorm = vec('norm.weight');
    this.layers = config.layerTypes.map((type, l) => {
      const p = `layers.${l}.`;
      const bias = (n: string): Tensor | null => (config.attentionBias ? get(`${p}self_attn.${n}.bias`) : null);
      return {
        inputNorm: vec(`${p}input_layernorm.weight`),
        postAttnNorm: vec(`${p}post_attention_layernorm.weight`),
        preFfnNorm: vec(`${p}pre_feedforward_layernorm.weight`),
        postFfnNorm: vec(`${p}post_feedforward_layernorm.weight`),
        q: get(`${p}self_attn.q_proj.weight`),
        k: get(`${p}self_attn.k_proj.weight`),
        v: get(`${p}self_attn.v_proj.weight`),
        o: get(`${p}self_attn.o_proj.weight`),
        qb: bias('q_proj'),
        kb: bias('k_proj'),
        vb: bias('v_proj'),
        ob: bias('o_proj'),
        gate: get(`${p}mlp.gate_proj.weight`),
        up: get(`${p}mlp.up_proj.weight`),
        down: get(`${p}mlp.down_proj.weight`),
        sliding: type === 'sliding_attention' && config.slidingWindow !== null,
      };
    });
  }

  /** Load `config.json` + safetensors from a Hugging Face Gemma-2 directory. */
  static fromDir(dir: string, opts: { dtype?: Gemma2DType } = {}): Gemma2Model {
    const { config, weights } = loadGemma2Dir(dir);
    return new Gemma2Model(config, weights, opts);
  }

  /**
   * Last hidden state (after the final norm) for a batch of token ids, (B, L, hidden) float32.
   * `attentionMask` (1 = token, 0 = padding; default all ones) removes padded keys; padded positions
   * still get hidden states. Positions are 0…L−1 for every sequence (HF's default position_ids).
   */
  forward(inputIds: TokenBatch, attentionMask?: TokenBatch): Tensor {
    const ids = toRows('Gemma2Model.forward: inputIds', inputIds);
    const B = ids.length;
    const L = ids[0]?.length ?? 0;
    if (B === 0 || L === 0) throw new RangeError('Gemma2Model.forward: inputIds must be a non-empty (B, L) batch');
    const mask = attentionMask === undefined ? ids.map((r) => r.map(() => 1)) : toRows('Gemma2Model.forward: attentionMask', attentionMask);
    if (mask.length !== B || mask.some((r) => r.length !== L)) {
      throw new RangeError(`Gemma2Model.forward: attentionMask must be (B, L) = (${B}, ${L}) like inputIds`);
    }
    const H = this.config.hiddenSize;
    const out = new Float32Array(B * L * H);
    for (let b = 0; b < B; b++) out.set(this.forwardOne(ids[b]!, mask[b]!), b * L * H);
    return new Tensor([B, L, H], 'f32', out);
  }

  private forwardOne(ids: readonly number[], keyMask: readonly number[]): Float32Array {
    const c = this.config;
    const { hiddenSize: H, numAttentionHeads: Hq, numKeyValueHeads: Hkv, headDim: d, rmsNormEps: eps } = c;
    const L = ids.length;
    const round = this.round;
    const lin = (x: Float32Array, rows: number, w: Tensor, b: Tensor | null): Float32Array =>
      round(linear(new Tensor([rows, x.length / rows], 'f32', x), w, b).data as Float32Array);

    // Embedding × √hidden, the normaliser cast to the model dtype (bf16: √2304 = 48 exactly).
    const sqrtH = this.dtype === 'bf16' ? bf16BitsToF32(f32ToBf16Bits(Math.sqrt(H))) : Math.fround(Math.sqrt(H));
    let h: Float32Array = new Float32Array(L * H);
    for (let p = 0; p < L; p++) {
      const id = ids[p]!;
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) {
        throw new RangeError(`Gemma2Model.forward: token id ${id} at position ${p} is outside the vocabulary [0, ${c.vocabSize})`);
      }
      const row = this.embedRow(id);
      for (let i = 0; i < H; i++) h[p * H + i] = row[i]! * sqrtH;
    }
    round(h);

    const { cos, sin } = ropeTables(L, d, c.ropeTheta, round);
    const scaling = Math.pow(c.queryPreAttnScalar, -0.5);
    for (const lw of this.layers) {
      // Attention block (sandwich norms).
      let x = gemmaRmsNorm(h, lw.inputNorm, eps, round);
      const q = applyRope(lin(x, L, lw.q, lw.qb), L, Hq, d, cos, sin, round);
      const k = applyRope(lin(x, L, lw.k, lw.kb), L, Hkv, d, cos, sin, round);
      const v = lin(x, L, lw.v, lw.vb);
      const attn = causalGqaAttention(
        q,
        k,
        v,
        { seqLen: L, numHeads: Hq, numKvHeads: Hkv, headDim: d },
        { scaling, softcap: c.attnLogitSoftcapping, window: lw.sliding ? c.slidingWindow : null, keyMask },
        round,
      );
      let y = gemmaRmsNorm(lin(attn, L, lw.o, lw.ob), lw.postAttnNorm, eps, round);
      h = round(h.map((hv, i) => hv + y[i]!));
      // GeGLU MLP block.
      x = gemmaRmsNorm(h, lw.preFfnNorm, eps, round);
      const gate = lin(x, L, lw.gate, null);
      const up = lin(x, L, lw.up, null);
      const act = round(gate.map(geluTanhScalar)); // GeGLU with gelu_pytorch_tanh
      const prod = round(act.map((a, i) => a * up[i]!));
      y = gemmaRmsNorm(lin(prod, L, lw.down, null), lw.postFfnNorm, eps, round);
      h = round(h.map((hv, i) => hv + y[i]!));
    }
    return gemmaRmsNorm(h, this.finalNorm, eps, round);
  }

  private embedRow(id: number): Float32Array {
    const H = this.config.hiddenSize;
    const e = this.embed;
    const slice = new Tensor([H], e.dtype, e.data.subarray(id * H, (id + 1) * H) as typeof e.data);
    return slice.toFloat32();
  }
}

function toRows(what: string, x: TokenBatch): number[][] {
  if (x instanceof Tensor) {
    if (x.ndim !== 2) throw new RangeError(`${what}: want a (B, L) tensor, got ${shapeStr(x.shape)}`);
    if (x.dtype !== 'i64' && x.dtype !== 'i32') throw new TypeError(`${what}: want an i64 or i32 tensor, got ${x.dtype}`);
    const [B, L] = x.shape as [number, number];
    const v = x.toFloat64();
    return Array.from({ length: B }, (_, b) => Array.from(v.subarray(b * L, (b + 1) * L)));
  }
  if (!Array.isArray(x) || x.some((r) => !Array.isArray(r))) throw new TypeError(`${what}: want a (B, L) tensor or number[][]`);
  const L = x[0]?.length ?? 0;
  if (x.some((r) => r.length !== L)) throw new RangeError(`${what}: rows have different lengths`);
  return x.map((r) => [...r]);
}
