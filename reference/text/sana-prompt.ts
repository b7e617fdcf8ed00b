/**
 * SANA's prompt handling (diffusers `SanaPipeline.encode_prompt` / `_get_gemma_prompt_embeds`):
 *
 *   conditional:   text = CHI.join("\n") + lower(strip(prompt));  n_chi = |tokenize(CHI)| (BOS included)
 *                  tokenize to L_all = n_chi + 300 − 2 (BOS added, right-padded with the pad id,
 *                  truncated), Gemma-2 → (B, L_all, 2304), then keep positions [0] + [L_all−299 … L_all−1]
 *                  of the hidden states and of the attention mask → 300 tokens.
 *                  (−2: the BOS, and the CHI's trailing space token that merges into the first prompt
 *                  token — so the 299 kept positions are the prompt's tokens and padding, each having
 *                  attended to the whole instruction.)
 *   unconditional: the negative prompt ("" by default), no CHI, tokenized to 300 and padded, all
 *                  300 positions kept with their own mask.
 *   CFG batch:     [unconditional | conditional] along the batch (embeddings and masks).
 */
import { shapeStr, Tensor } from '../core/tensor.js';

/** The Complex Human Instruction, diffusers' default (NVlabs' yaml quotes "Enhanced prompt" with double quotes). */
export const SANA_COMPLEX_HUMAN_INSTRUCTION: readonly string[] = Object.freeze([
  "Given a user prompt, generate an 'Enhanced prompt' that provides detailed visual descriptions suitable for image generation. Evaluate the level of detail in the user prompt:",
  '- If the prompt is simple, focus on adding specifics about colors, shapes, sizes, textures, and spatial relationships to create vivid and concrete scenes.',
  '- If the prompt is already detailed, refine and enhance the existing details slightly without overcomplicating.',
  'Here are examples of how to transform or refine prompts:',
  '- User Prompt: A cat sleeping -> Enhanced: A small, fluffy white cat curled up in a round shape, sleeping peacefully on a warm sunny windowsill, surrounded by pots of blooming red flowers.',
  '- User Prompt: A busy city street -> Enhanced: A bustling city street scene at dusk, featuring glowing street lamps, a diverse crowd of people in colorful clothing, and a double-decker bus passing by towering glass skyscrapers.',
  'Please generate only the enhanced description for the prompt below and avoid including any additional commentary or evaluations:',
  'User Prompt: ',
]);

/** What prompt handling needs from a tokenizer (a Hugging Face tokenizer.json wrapper, or a test double). */
export interface PromptTokenizer {
  /** Token ids with the special tokens the tokenizer adds (Gemma: a leading BOS, no EOS). */
  encode(text: string): number[];
  /** Id used for right padding (Gemma: 0). */
  readonly padTokenId: number;
}

/** What the encoder must provide: last hidden states (B, L, H) for ids and a 0/1 mask, both (B, L). */
export interface PromptEncoder {
  forward(inputIds: readonly (readonly number[])[], attentionMask: readonly (readonly number[])[]): Tensor;
}

export interface TokenizedPrompts {
  ids: number[][];
  mask: number[][];
}

/** diffusers' text preprocessing with clean_caption=False: lower-case, then strip. */
export function preprocessPrompt(prompt: string): string {
  return prompt.toLowerCase().trim();
}

/**
 * HF `tokenizer(texts, padding="max_length", max_length=n, truncation=True)` for a tokenizer whose
 * special tokens are a prefix only (Gemma's BOS): keep the first n ids, pad right, mask 1/0.
 */
export function tokenizePadded(tokenizer: PromptTokenizer, texts: readonly string[], maxLength: number): TokenizedPrompts {
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) throw new RangeError(`tokenizePadded: maxLength must be >= 1, got ${maxLength}`);
  const ids: number[][] = [];
  const mask: number[][] = [];
  for (const t of texts) {
    const enc = tokenizer.encode(t).slice(0, maxLength);
    const pad = maxLength - enc.length;
    ids.push([...enc, ...new Array<number>(pad).fill(tokenizer.padTokenId)]);
    mask.push([...new Array<number>(enc.length).fill(1), ...new Array<number>(pad).fill(0)]);
  }
  return { ids, mask };
}

export interface SanaPromptOptions {
  /** Tokens the DiT sees (diffusers `max_sequence_length`, 300). */
  maxSequenceLength?: number;
  /** The instruction lines; an empty list disables the CHI (then L_all = maxSequenceLength). */
  complexHumanInstruction?: readonly string[];
}

/** Tokenize conditional prompts the SANA way; returns the ids/mask of length L_all and L_all itself. */
export function tokenizeSanaPrompts(tokenizer: PromptTokenizer, prompts: readonly string[], opts: SanaPromptOptions = {}): TokenizedPrompts & { lengthAll: number } {
  const maxSeq = opts.maxSequenceLength ?? 300;
  const chi = opts.complexHumanInstruction ?? SANA_COMPLEX_HUMAN_INSTRUCTION;
  const cleaned = prompts.map(preprocessPrompt);
  if (chi.length === 0) return { ...tokenizePadded(tokenizer, cleaned, maxSeq), lengthAll: maxSeq };
  const chiPrompt = chi.join('\n');
  const lengthAll = tokenizer.encode(chiPrompt).length + maxSeq - 2;
  return { ...tokenizePadded(tokenizer, cleaned.map((p) => chiPrompt + p), lengthAll), lengthAll };
}

/** SANA's kept positions of an L_all sequence: [0] + [L_all − (n−1) … L_all − 1] (diffusers `select_index`). */
export function sanaSelectIndex(lengthAll: number, maxSequenceLength = 300): number[] {
  if (lengthAll < maxSequenceLength) {
    throw new RangeError(`sanaSelectIndex: sequence of ${lengthAll} tokens is shorter than the ${maxSequenceLength} kept positions`);
  }
  return [0, ...Array.from({ length: maxSequenceLength - 1 }, (_, i) => lengthAll - maxSequenceLength + 1 + i)];
}

/** Gather positions `index` of (B, L, H) hidden states → (B, index.length, H). */
export function gatherPositions(hidden: Tensor, index: readonly number[]): Tensor {
  if (hidden.ndim !== 3) throw new RangeError(`gatherPositions: want (B, L, H) hidden states, got ${shapeStr(hidden.shape)}`);
  const [B, L, H] = hidden.shape as [number, number, number];
  const src = hidden.toFloat32();
  const out = new Float32Array(B * index.length * H);
  for (let b = 0; b < B; b++) {
    index.forEach((p, i) => {
      if (!Number.isInteger(p) || p < 0 || p >= L) throw new RangeError(`gatherPositions: position ${p} outside [0, ${L})`);
      out.set(src.subarray((b * L + p) * H, (b * L + p + 1) * H), (b * index.length + i) * H);
    });
  }
  return new Tensor([B, index.length, H], 'f32', out);
}

/** Text conditioning for the DiT: embeddings (B, 300, H) f32 and the key mask (B, 300) i64. */
export interface PromptEmbeds {
  embeds: Tensor;
  mask: Tensor;
}

function maskTensor(rows: readonly (readonly number[])[]): Tensor {
  const L = rows[0]?.length ?? 0;
  return new Tensor([rows.length, L], 'i64', BigInt64Array.from(rows.flat(), (v) => BigInt(v)));
}

/** Conditional branch: CHI + prompt → Gemma-2 → the 300 selected positions and their mask. */
export function encodeSanaPrompts(encoder: PromptEncoder, tokenizer: PromptTokenizer, prompts: readonly string[], opts: SanaPromptOptions = {}): PromptEmbeds {
  const maxSeq = opts.maxSequenceLength ?? 300;
  const tok = tokenizeSanaPrompts(tokenizer, prompts, opts);
  const index = sanaSelectIndex(tok.lengthAll, maxSeq);
  const hidden = encoder.forward(tok.ids, tok.mask);
  return { embeds: gatherPositions(hidden, index), mask: maskTensor(tok.mask.map((r) => index.map((p) => r[p]!))) };
}

/** Unconditional branch: the (lower-cased, stripped) negative prompt without CHI, padded to 300, all kept. */
export function encodeSanaNegative(encoder: PromptEncoder, tokenizer: PromptTokenizer, negativePrompts: readonly string[], maxSequenceLength = 300): PromptEmbeds {
  const tok = tokenizePadded(tokenizer, negativePrompts.map(preprocessPrompt), maxSequenceLength);
  return { embeds: encoder.forward(tok.ids, tok.mask), mask: maskTensor(tok.mask) };
}

/** Stack [unconditional | conditional] along the batch, the order the pipeline feeds the DiT under CFG. */
export function cfgPromptBatch(uncond: PromptEmbeds, cond: PromptEmbeds): PromptEmbeds {
  const cat = (a: Tensor, b: Tensor, what: string): Tensor => {
    if (a.dtype !== b.dtype || a.shape.slice(1).join() !== b.shape.slice(1).join()) {
      throw new RangeError(`cfgPromptBatch: ${what} ${shapeStr(a.shape)} ${a.dtype} and ${shapeStr(b.shape)} ${b.dtype} do not stack`);
    }
    const shape = [a.shape[0]! + b.shape[0]!, ...a.shape.slice(1)];
    if (a.dtype === 'i64') {
      const data = new BigInt64Array(a.numel + b.numel);
      data.set(a.data as BigInt64Array);
      data.set(b.data as BigInt64Array, a.numel);
      return new Tensor(shape, 'i64', data);
    }
    const data = new Float32Array(a.numel + b.numel);
    data.set(a.toFloat32());
    data.set(b.toFloat32(), a.numel);
    return new Tensor(shape, 'f32', data);
  };
  return { embeds: cat(uncond.embeds, cond.embeds, 'embeddings'), mask: cat(uncond.mask, cond.mask, 'masks') };
}

/**
 * Both branches for a batch of prompts, as diffusers `encode_prompt` + the CFG concat:
 * returns [negative × B | prompts] embeddings (2B, 300, H) and masks (2B, 300).
 */
export function encodeSanaCfg(encoder: PromptEncoder, tokenizer: PromptTokenizer, prompts: readonly string[], negativePrompt = '', opts: SanaPromptOptions = {}): PromptEmbeds {
  const cond = encodeSanaPrompts(encoder, tokenizer, prompts, opts);
  const uncond = encodeSanaNegative(encoder, tokenizer, prompts.map(() => negativePrompt), opts.maxSequenceLength ?? 300);
  return cfgPromptBatch(uncond, cond);
}
