import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HfTokenizer, sanaSelectIndex, tokenizeSanaPrompts } from '../../../reference/text/index.js';

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
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
      ],
    },
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

const made: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sana-tok-'));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function tokenizerDir(json: Record<string, unknown>, config?: Record<string, unknown>): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  if (config !== undefined) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

describe('HfTokenizer (tokenizer.json through @huggingface/tokenizers)', () => {
  const tk = new HfTokenizer(gemmaLikeJson());

  it('adds <bos> from the template, maps spaces to ▁ and merges by rank', () => {
    expect(tk.encode('ab ab')).toEqual([2, 9, 10]); // a·b → ab (rank 0) twice, then ▁·ab → ▁ab (rank 2)
    // rank beats position: in "▁ab" the pair a·b (rank 0) merges before ▁·a (rank 1)
    expect(tk.encode(' ab')).toEqual([2, 10]);
    expect(tk.encode(' ac')).toEqual([2, 8, 7]);
    expect(tk.encode('')).toEqual([2]);
    expect(tk.encodeNoSpecials('ab ab')).toEqual([9, 10]);
  });

  it('falls back to UTF-8 byte tokens, else a fused <unk>', () => {
    expect(tk.encode('a\né')).toEqual([2, 5, 11, 12, 13]);
    expect(tk.encode('xxa')).toEqual([2, 3, 5]);
  });

  it('splits out added tokens before normalising, and decodes back', () => {
    expect(tk.encode('a<start_of_turn>b')).toEqual([2, 5, 14, 6]);
    expect(tk.encode('<bos>a')).toEqual([2, 2, 5]);
    expect(tk.decode([2, 9, 10, 11], true)).toBe('ab ab\n');
    expect(tk.vocabSize).toBe(15);
    expect(tk.tokenToId('▁ab')).toBe(10);
    expect(tk.idToToken(10)).toBe('▁ab');
  });

  it('reads tokenizer_config.json: pad_token, and add_bos/add_eos override the template as transformers does', () => {
    expect(tk.padTokenId).toBe(0); // no config: the <pad> token
    const padEos = HfTokenizer.fromDir(tokenizerDir(gemmaLikeJson(), { pad_token: { content: '<eos>' } }));
    expect(padEos.padTokenId).toBe(1);
    expect(padEos.encode('ab ab')).toEqual([2, 9, 10]);

    const noBos = HfTokenizer.fromDir(tokenizerDir(gemmaLikeJson(), { add_bos_token: false, bos_token: '<bos>', pad_token: '<pad>' }));
    expect(noBos.encode('ab ab')).toEqual([9, 10]);
    const bosEos = HfTokenizer.fromDir(tokenizerDir(gemmaLikeJson(), { add_bos_token: true, add_eos_token: true, bos_token: '<bos>', eos_token: '<eos>' }));
    expect(bosEos.encode('ab')).toEqual([2, 9, 1]);
    // A tokenizer.json without a post-processor gets its BOS from the config flag alone.
    const bare = { ...gemmaLikeJson(), post_processor: null };
    expect(new HfTokenizer(bare).encode('ab')).toEqual([9]);
    expect(new HfTokenizer(bare, { add_bos_token: true, bos_token: '<bos>' }).encode('ab')).toEqual([2, 9]);
  });

  it('gives SANA prompt handling what it expects: BOS at 0, the CHI trailing ▁ merging into the prompt', () => {
    // CHI "ab " → [bos, ab, ▁]; CHI + "ab" → [bos, ab, ▁ab]: one token shorter than the sum (the −2 of L_all).
    expect(tk.encode('ab ').length).toBe(3);
    expect(tk.encode('ab ab').length).toBe(3);
    const tok = tokenizeSanaPrompts(tk, ['  AB '], { maxSequenceLength: 4, complexHumanInstruction: ['ab '] });
    expect(tok.lengthAll).toBe(3 + 4 - 2);
    expect(tok.ids).toEqual([[2, 9, 10, 0, 0]]);
    expect(tok.mask).toEqual([[1, 1, 1, 0, 0]]);
    const kept = sanaSelectIndex(tok.lengthAll, 4).map((p) => tok.ids[0]![p]);
    expect(kept).toEqual([2, 10, 0, 0]); // BOS, then the prompt token "▁ab", then padding
  });

  it('errors clearly on missing files, bad JSON, unknown components and unknown tokens', () => {
    const empty = tempDir();
    expect(() => HfTokenizer.fromDir(empty)).toThrow(/has no tokenizer\.json/);
    expect(() => HfTokenizer.fromFile('/nonexistent/tokenizer.json')).toThrow(/cannot read tokenizer\.json/);
    const bad = tempDir();
    writeFileSync(join(bad, 'tokenizer.json'), '{"model": ');
    expect(() => HfTokenizer.fromDir(bad)).toThrow(/not valid JSON/);
    expect(() => new HfTokenizer({ version: '1.0' })).toThrow(/no "model" section/);
    expect(() => new HfTokenizer({ ...gemmaLikeJson(), normalizer: { type: 'NoSuchNormalizer' } })).toThrow(/cannot load it: .*NoSuchNormalizer/);
    expect(() => new HfTokenizer(gemmaLikeJson(), { pad_token: '<nope>' })).toThrow(/pad_token "<nope>" is not in the vocabulary/);
    expect(() => new HfTokenizer(gemmaLikeJson(), { add_bos_token: true })).toThrow(/bos_token is not set/);
    const noPad = gemmaLikeJson();
    noPad.added_tokens = (noPad.added_tokens as { content: string }[]).filter((t) => t.content !== '<pad>');
    const vocab = { ...((noPad.model as Record<string, unknown>).vocab as Record<string, number>) };
    delete vocab['<pad>'];
    noPad.model = { ...(noPad.model as Record<string, unknown>), vocab };
    expect(() => new HfTokenizer(noPad).padTokenId).toThrow(/no pad token/);
  });
});
