/**
 * A small tokenizer.json in the layout of Gemma's (so every code path of the real tokenizer is used):
 * normalizer Replace " " → "▁", no pre-tokenizer, BPE with byte fallback and fused <unk>, the
 * TemplateProcessing `<bos> $A` post-processor, and the Replace/ByteFallback/Fuse decoder.
 *
 * Vocabulary: <pad> 0, <eos> 1, <bos> 2, <unk> 3 (Gemma's ids), the 256 byte tokens <0x00>…<0xFF>,
 * "▁" and the printable ASCII characters, then merges learned by plain BPE training (most frequent
 * adjacent pair, ties by the pair's text, never across a "▁" word start) on a built-in corpus — the
 * SANA instruction and some common prompt words — so the ~1100-character instruction becomes a few
 * hundred tokens instead of one per character. Deterministic: no randomness is involved.
 */
import { SANA_COMPLEX_HUMAN_INSTRUCTION } from '../text/sana-prompt.js';

export const TINY_SPECIAL_TOKENS = ['<pad>', '<eos>', '<bos>', '<unk>'] as const;

const EXTRA_CORPUS = [
  'a photo of a cat sitting on a red chair in the garden',
  'a painting of a mountain landscape with a lake at sunset',
  'an astronaut riding a horse on the moon, highly detailed, digital art',
  'a cyberpunk city at night with neon signs and rain',
];

function byteToken(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/** Words of the normalised corpus: each starts at a "▁" (SentencePiece never merges across one). */
function corpusWords(corpus: string): string[][] {
  const norm = corpus.replaceAll(' ', '▁');
  const words: string[][] = [];
  let cur: string[] = [];
  for (const ch of norm) {
    if (ch === '▁' && cur.length > 0) {
      words.push(cur);
      cur = [];
    }
    cur.push(ch);
  }
  if (cur.length > 0) words.push(cur);
  return words;
}

/** Learn up to `numMerges` BPE merges over `words` (merged in place as training goes). */
function learnMerges(words: string[][], numMerges: number): [string, string][] {
  const merges: [string, string][] = [];
  for (let m = 0; m < numMerges; m++) {
    const counts = new Map<string, { a: string; b: string; n: number }>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.length; i++) {
        const key = `${w[i]}\u0000${w[i + 1]}`;
        const c = counts.get(key);
        if (c) c.n++;
        else counts.set(key, { a: w[i]!, b: w[i + 1]!, n: 1 });
      }
    }
    let best: { a: string; b: string; n: number } | null = null;
    for (const c of counts.values()) {
      if (best === null || c.n > best.n || (c.n === best.n && c.a + ' ' + c.b < best.a + ' ' + best.b)) best = c;
    }
    if (best === null) break;
    merges.push([best.a, best.b]);
    const joined = best.a + best.b;
    for (const w of words) {
      for (let i = 0; i + 1 < w.length; i++) {
        if (w[i] === best.a && w[i + 1] === best.b) w.splice(i, 2, joined);
      }
    }
  }
  return merges;
}

/** The tokenizer.json object (vocabulary size 4 + 256 + 95 + merges). */
export function tinyTokenizerJson(numMerges = 240): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  const add = (t: string): void => {
    if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  };
  TINY_SPECIAL_TOKENS.forEach(add);
  for (let b = 0; b < 256; b++) add(byteToken(b));
  add('▁');
  for (let c = 33; c < 127; c++) add(String.fromCharCode(c));
  const known = new Set(Object.keys(vocab));
  const corpus = [SANA_COMPLEX_HUMAN_INSTRUCTION.join('\n'), ...EXTRA_CORPUS].join(' ');
  // Characters outside the base alphabet (the newline) are bytes; leave them out of training.
  const words = corpusWords(corpus).map((w) => w.filter((ch) => known.has(ch))).filter((w) => w.length > 0);
  const merges = learnMerges(words, numMerges);
  for (const [a, b] of merges) add(a + b);
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: TINY_SPECIAL_TOKENS.map((t, i) => special(t, i)),
    normalizer: { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<bos>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<bos>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<bos>': { id: '<bos>', ids: [2], tokens: ['<bos>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }],
    },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => [a, b]),
    },
  };
}

/** tokenizer_config.json as transformers writes it for GemmaTokenizerFast (the fields that matter). */
export function tinyTokenizerConfig(): Record<string, unknown> {
  return {
    tokenizer_class: 'GemmaTokenizer',
    add_bos_token: true,
    add_eos_token: false,
    bos_token: '<bos>',
    eos_token: '<eos>',
    pad_token: '<pad>',
    unk_token: '<unk>',
    padding_side: 'right',
    clean_up_tokenization_spaces: false,
  };
}

/** special_tokens_map.json. */
export function tinySpecialTokensMap(): Record<string, unknown> {
  return { bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', unk_token: '<unk>' };
}
