import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../reference/core/index.js';
import {
  cfgPromptBatch,
  encodeSanaCfg,
  encodeSanaNegative,
  encodeSanaPrompts,
  Gemma2Model,
  gemma2ConfigFromJson,
  preprocessPrompt,
  SANA_COMPLEX_HUMAN_INSTRUCTION,
  sanaSelectIndex,
  tokenizePadded,
  tokenizeSanaPrompts,
  type PromptTokenizer,
} from '../../../reference/text/index.js';
import { randomGemma2Weights, TINY_GEMMA2 } from './tiny-gemma2.js';

/**
 * A SentencePiece-like toy: pieces are words carrying their leading space, and a trailing space is a
 * piece of its own — so "…Prompt: " ends in a lone space that merges into the next word when a prompt
 * is appended, as with Gemma's tokenizer. BOS = 2 first, pad = 0. Ids: a table built as pieces appear.
 */
class ToyTokenizer implements PromptTokenizer {
  readonly padTokenId = 0;
  readonly table = new Map<string, number>();
  constructor(private readonly vocab = 1_000_000) {}
  pieces(text: string): string[] {
    return text.match(/\s*[^\s]+|\s+$/g) ?? [];
  }
  encode(text: string): number[] {
    return [2, ...this.pieces(text).map((p) => this.id(p))];
  }
  id(piece: string): number {
    if (!this.table.has(piece)) this.table.set(piece, 3 + (this.table.size % (this.vocab - 3)));
    return this.table.get(piece)!;
  }
}

describe('SANA prompt tokenization', () => {
  it('preprocesses like diffusers (clean_caption=False): lower-case and strip', () => {
    expect(preprocessPrompt('  A Red CAT \n')).toBe('a red cat');
  });

  it('the CHI has eight lines and ends in "User Prompt: " (trailing space)', () => {
    expect(SANA_COMPLEX_HUMAN_INSTRUCTION.length).toBe(8);
    expect(SANA_COMPLEX_HUMAN_INSTRUCTION[7]).toBe('User Prompt: ');
    expect(SANA_COMPLEX_HUMAN_INSTRUCTION[0]).toMatch(/'Enhanced prompt'/);
  });

  it('pads right with the pad id and masks the padding; truncates to max length', () => {
    const tk = new ToyTokenizer();
    const { ids, mask } = tokenizePadded(tk, ['a b', 'a b c d e f'], 4);
    expect(ids[0]).toEqual([2, tk.id('a'), tk.id(' b'), 0]);
    expect(mask).toEqual([[1, 1, 1, 0], [1, 1, 1, 1]]);
    expect(ids[1]).toEqual([2, tk.id('a'), tk.id(' b'), tk.id(' c')]);
  });

  it('L_all = n_chi + N − 2, and the kept positions are BOS + exactly the prompt tokens then padding', () => {
    const tk = new ToyTokenizer();
    const chi = ['Describe:', 'User Prompt: '];
    const N = 8;
    const tok = tokenizeSanaPrompts(tk, ['  A Small Cat  '], { maxSequenceLength: N, complexHumanInstruction: chi });
    const nChi = tk.encode(chi.join('\n')).length; // BOS, "Describe:", "\nUser", " Prompt:", " "
    expect(nChi).toBe(5);
    expect(tok.lengthAll).toBe(nChi + N - 2);
    const idx = sanaSelectIndex(tok.lengthAll, N);
    expect(idx).toEqual([0, 4, 5, 6, 7, 8, 9, 10]);
    const kept = idx.map((p) => tok.ids[0]![p]);
    // the lone trailing space merged into " a": kept = BOS, " a", " small", " cat", then padding
    expect(kept).toEqual([2, tk.id(' a'), tk.id(' small'), tk.id(' cat'), 0, 0, 0, 0]);
    expect(idx.map((p) => tok.mask[0]![p])).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
  });

  it('without CHI the selection is the identity over max_sequence_length', () => {
    expect(sanaSelectIndex(300)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(sanaSelectIndex(470).slice(0, 3)).toEqual([0, 171, 172]);
    expect(() => sanaSelectIndex(299)).toThrow(/shorter than the 300/);
  });
});

describe('SANA prompt encoding with a tiny Gemma-2', () => {
  const cfgRaw = { ...TINY_GEMMA2, sliding_window: 4096 };
  const model = new Gemma2Model(gemma2ConfigFromJson(cfgRaw), randomGemma2Weights(cfgRaw, 3));
  const tk = new ToyTokenizer(11);

  it('conditional: 300 positions gathered from the CHI-prefixed sequence, with the sliced mask', () => {
    const out = encodeSanaPrompts(model, tk, ['A cat sleeping']);
    expect(out.embeds.shape).toEqual([1, 300, 12]);
    expect(out.mask.shape).toEqual([1, 300]);
    const tok = tokenizeSanaPrompts(tk, ['A cat sleeping']);
    const full = model.forward(tok.ids, tok.mask);
    const idx = sanaSelectIndex(tok.lengthAll);
    const H = 12;
    for (const [i, p] of [[0, 0], [1, idx[1]!], [299, tok.lengthAll - 1]] as const) {
      expect(Array.from((out.embeds.data as Float32Array).subarray(i * H, (i + 1) * H))).toEqual(
        Array.from((full.data as Float32Array).subarray(p * H, (p + 1) * H)),
      );
    }
    const m = Array.from(out.mask.data as BigInt64Array, Number);
    expect(m.slice(0, 4)).toEqual([1, 1, 1, 1]); // BOS + "a cat sleeping" (3 pieces)
    expect(m.slice(4).every((v) => v === 0)).toBe(true);
  });

  it('unconditional: "" → BOS then padding, 300 positions, own mask; CFG batch is [uncond | cond]', () => {
    const neg = encodeSanaNegative(model, tk, ['']);
    expect(neg.embeds.shape).toEqual([1, 300, 12]);
    expect(Array.from(neg.mask.data as BigInt64Array, Number).reduce((a, b) => a + b, 0)).toBe(1);
    const both = encodeSanaCfg(model, tk, ['A cat', 'A dog']);
    expect(both.embeds.shape).toEqual([4, 300, 12]);
    expect(both.mask.shape).toEqual([4, 300]);
    const cond = encodeSanaPrompts(model, tk, ['A cat', 'A dog']);
    const per = 300 * 12;
    expect(Array.from((both.embeds.data as Float32Array).subarray(0, per))).toEqual(Array.from(neg.embeds.data as Float32Array));
    expect(Array.from((both.embeds.data as Float32Array).subarray(2 * per))).toEqual(Array.from(cond.embeds.data as Float32Array));
    expect(() => cfgPromptBatch(neg, { embeds: new Tensor([1, 300, 5], 'f32'), mask: neg.mask })).toThrow(/do not stack/);
  });
});
