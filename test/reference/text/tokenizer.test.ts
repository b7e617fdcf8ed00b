import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HfBpeTokenizer } from '../../../reference/text/index.js';

/** A miniature tokenizer.json in the Gemma layout (Replace " "→"▁", no pre-tokenizer, BPE + byte fallback, <bos> template). */
function gemmaLikeJson(): Record<string, unknown> {
  return {
    version: '1.0',
    added_tokens: [
      { id: 0, content: '<pad>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 1, content: '<eos>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 2, content: '<bos>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 3, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 14, content: '<start_of_turn>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
    ],
    normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [],
      special_tokens: { '<bos>': { id: '<bos>', ids: [2], tokens: ['<bos>'] } },
    },
    decoder: null,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab: { '<pad>': 0, '<eos>': 1, '<bos>': 2, '<unk>': 3, '▁': 4, a: 5, b: 6, c: 7, '▁a': 8, ab: 9, '▁ab': 10, '<0x0A>': 11, '<0xC3>': 12, '<0xA9>': 13, '<start_of_turn>': 14 },
      merges: ['a b', '▁ a', '▁ ab'],
    },
  };
}

describe('HfBpeTokenizer (SentencePiece-style BPE from tokenizer.json)', () => {
  const tk = new HfBpeTokenizer(gemmaLikeJson());

  it('adds <bos>, maps spaces to ▁ and merges by rank, leftmost first', () => {
    expect(tk.encode('ab ab')).toEqual([2, 9, 10]); // a·b → ab (rank 0) twice, then ▁·ab → ▁ab (rank 2)
    // rank beats position: in "▁ab" the pair a·b (rank 0) merges before ▁·a (rank 1)
    expect(tk.encode(' ab')).toEqual([2, 10]);
    expect(tk.encode(' ac')).toEqual([2, 8, 7]); // ▁·a (rank 1), no merge for c
  });

  it('falls back to UTF-8 byte tokens, else a fused <unk>', () => {
    expect(tk.encode('a\né')).toEqual([2, 5, 11, 12, 13]);
    expect(tk.encode('xxa')).toEqual([2, 3, 5]);
  });

  it('splits out added tokens before normalising', () => {
    expect(tk.encode('a<start_of_turn>b')).toEqual([2, 5, 14, 6]);
    expect(tk.encode('<bos>a')).toEqual([2, 2, 5]);
  });

  it('pad id from tokenizer_config.json beside tokenizer.json, or <pad>', () => {
    expect(tk.padTokenId).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'sana-tok-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(gemmaLikeJson()));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ pad_token: { content: '<eos>' } }));
    const fromDir = HfBpeTokenizer.fromFile(join(dir, 'tokenizer.json'));
    expect(fromDir.padTokenId).toBe(1);
    expect(fromDir.encode('ab ab')).toEqual([2, 9, 10]);
  });

  it('rejects components it does not implement, naming them', () => {
    expect(() => new HfBpeTokenizer({ ...gemmaLikeJson(), pre_tokenizer: { type: 'ByteLevel' } })).toThrow(/pre_tokenizer "ByteLevel"/);
    expect(() => new HfBpeTokenizer({ ...gemmaLikeJson(), model: { type: 'WordPiece' } })).toThrow(/"WordPiece" is not supported/);
    expect(() => new HfBpeTokenizer({ ...gemmaLikeJson(), normalizer: { type: 'Lowercase' } })).toThrow(/normalizer "Lowercase"/);
    const badMerge = gemmaLikeJson();
    (badMerge.model as Record<string, unknown>).merges = ['a z'];
    expect(() => new HfBpeTokenizer(badMerge)).toThrow(/merge 0 "a z"/);
    expect(() => HfBpeTokenizer.fromFile('/nonexistent/tokenizer.json')).toThrow(/cannot read/);
  });
});
