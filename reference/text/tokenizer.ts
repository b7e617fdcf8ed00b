/**
 * A Hugging Face `tokenizer.json` reader for SentencePiece-style BPE tokenizers (Gemma, Llama-2):
 *
 *   1. split the raw text on added tokens (special tokens such as <bos> are matched literally;
 *      `normalized: true` ones after normalisation);
 *   2. normalise each remaining piece (Replace " " → "▁", Prepend, NFC/NFKC, Sequence);
 *   3. BPE over the whole piece (no pre-tokenizer): start from Unicode characters (unknown characters
 *      become <0xNN> byte tokens with byte_fallback, else <unk>), then repeatedly merge the adjacent pair
 *      with the lowest merge rank, leftmost first (what tokenizers' priority queue does);
 *   4. post-process with TemplateProcessing (Gemma: <bos> + tokens).
 * Components outside this subset (other pre-tokenizers, WordPiece/Unigram models, dropout …) are
 * rejected with an error naming them, rather than tokenised differently from Hugging Face.
 *
 * Not a maintained library: the issue asks for `@huggingface/tokenizers`; this covers SANA's Gemma
 * tokenizer format until that dependency is added.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PromptTokenizer } from './sana-prompt.js';

type Json = Record<string, unknown>;

interface AddedToken {
  id: number;
  content: string;
  normalized: boolean;
}

type Normalize = (s: string) => string;

export class HfBpeTokenizer implements PromptTokenizer {
  private readonly vocab: Map<string, number>;
  private readonly merges: Map<string, { rank: number; id: number }>;
  private readonly added: AddedToken[];
  private readonly normalize: Normalize;
  private readonly prefixIds: number[];
  private readonly suffixIds: number[];
  private readonly unkId: number | null;
  private readonly byteFallback: boolean;
  private readonly fuseUnk: boolean;
  private readonly ignoreMerges: boolean;
  private readonly padId: number | null;

  constructor(
    json: Json,
    opts: { padToken?: string } = {},
    private readonly source = 'tokenizer.json',
  ) {
    const fail = (what: string): never => {
      throw new Error(`HfBpeTokenizer ${source}: ${what}`);
    };
    const model = json.model as Json | undefined;
    if (model === undefined || model.type !== 'BPE') fail(`model type ${JSON.stringify(model?.type)} is not supported (BPE only)`);
    const m = model!;
    if (m.dropout !== null && m.dropout !== undefined) fail('BPE dropout is not supported');
    if (m.continuing_subword_prefix || m.end_of_word_suffix) fail('continuing_subword_prefix / end_of_word_suffix are not supported');
    if (json.pre_tokenizer !== null && json.pre_tokenizer !== undefined) {
      fail(`pre_tokenizer ${JSON.stringify((json.pre_tokenizer as Json).type)} is not supported (SentencePiece-style BPE has none)`);
    }
    if (m.vocab === null || typeof m.vocab !== 'object') fail('model.vocab is missing');
    this.vocab = new Map(Object.entries(m.vocab as Record<string, number>));
    this.merges = new Map();
    ((m.merges as unknown[]) ?? []).forEach((raw, rank) => {
      const [a, b] = typeof raw === 'string' ? splitMerge(raw) : (raw as [string, string]);
      const ia = this.vocab.get(a!);
      const ib = this.vocab.get(b!);
      const id = this.vocab.get(a! + b!);
      if (ia === undefined || ib === undefined || id === undefined) fail(`merge ${rank} "${a} ${b}" uses tokens not in the vocabulary`);
      const key = `${ia} ${ib}`;
      if (!this.merges.has(key)) this.merges.set(key, { rank, id: id! });
    });
    this.byteFallback = m.byte_fallback === true;
    this.fuseUnk = m.fuse_unk === true;
    this.ignoreMerges = m.ignore_merges === true;
    const unk = m.unk_token as string | null | undefined;
    this.unkId = unk ? (this.vocab.get(unk) ?? fail(`unk_token "${unk}" is not in the vocabulary`)) : null;

    this.added = ((json.added_tokens as Json[]) ?? []).map((t) => {
      if (t.single_word || t.lstrip || t.rstrip) fail(`added token ${JSON.stringify(t.content)}: single_word/lstrip/rstrip are not supported`);
      return { id: t.id as number, content: t.content as string, normalized: t.normalized === true };
    });
    this.added.sort((a, b) => b.content.length - a.content.length); // longest match first
    for (const t of this.added) this.vocab.set(t.content, t.id);

    this.normalize = buildNormalizer(json.normalizer as Json | null | undefined, fail);
    const post = json.post_processor as Json | null | undefined;
    this.prefixIds = [];
    this.suffixIds = [];
    if (post !== null && post !== undefined) {
      if (post.type !== 'TemplateProcessing') fail(`post_processor ${JSON.stringify(post.type)} is not supported`);
      const specials = post.special_tokens as Record<string, { ids: number[] }>;
      let seen = false;
      for (const item of post.single as Json[]) {
        if ('Sequence' in item) seen = true;
        else if ('SpecialToken' in item) {
          const sid = (item.SpecialToken as Json).id as string;
          const ids = specials[sid]?.ids ?? fail(`post_processor special token "${sid}" has no ids`);
          (seen ? this.suffixIds : this.prefixIds).push(...ids!);
        } else fail('post_processor template item is neither Sequence nor SpecialToken');
      }
    }
    const padName = opts.padToken ?? '<pad>';
    this.padId = this.vocab.get(padName) ?? null;
  }

  /** Read tokenizer.json; the pad token comes from a tokenizer_config.json beside it when present. */
  static fromFile(path: string, opts: { padToken?: string } = {}): HfBpeTokenizer {
    let json: Json;
    try {
      json = JSON.parse(readFileSync(path, 'utf8')) as Json;
    } catch (e) {
      throw new Error(`HfBpeTokenizer ${path}: cannot read: ${(e as Error).message}`);
    }
    let padToken = opts.padToken;
    const cfgPath = join(dirname(path), 'tokenizer_config.json');
    if (padToken === undefined && existsSync(cfgPath)) {
      const pad = (JSON.parse(readFileSync(cfgPath, 'utf8')) as Json).pad_token;
      padToken = typeof pad === 'string' ? pad : typeof (pad as Json | null)?.content === 'string' ? ((pad as Json).content as string) : undefined;
    }
    return new HfBpeTokenizer(json, { padToken }, path);
  }

  get padTokenId(): number {
    if (this.padId === null) throw new Error(`HfBpeTokenizer ${this.source}: no pad token in the vocabulary`);
    return this.padId;
  }

  /** Token id of a token string (vocabulary or added token), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }

  /** Ids with the template's special tokens (Gemma: BOS first). */
  encode(text: string): number[] {
    return [...this.prefixIds, ...this.encodeNoSpecials(text), ...this.suffixIds];
  }

  encodeNoSpecials(text: string): number[] {
    const ids: number[] = [];
    for (const part of splitAdded(text, this.added.filter((t) => !t.normalized))) {
      if (typeof part === 'number') {
        ids.push(part);
        continue;
      }
      for (const sub of splitAdded(this.normalize(part), this.added.filter((t) => t.normalized))) {
        if (typeof sub === 'number') ids.push(sub);
        else ids.push(...this.bpe(sub));
      }
    }
    return ids;
  }

  private bpe(word: string): number[] {
    if (word === '') return [];
    const whole = this.vocab.get(word);
    if (this.ignoreMerges && whole !== undefined) return [whole];
    const syms: number[] = [];
    let lastUnk = false;
    for (const ch of word) {
      const id = this.vocab.get(ch);
      if (id !== undefined) {
        syms.push(id);
        lastUnk = false;
        continue;
      }
      if (this.byteFallback) {
        const bytes = Array.from(new TextEncoder().encode(ch), (b) => this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
        if (bytes.every((b) => b !== undefined)) {
          syms.push(...(bytes as number[]));
          lastUnk = false;
          continue;
        }
      }
      if (this.unkId === null) throw new Error(`HfBpeTokenizer ${this.source}: character ${JSON.stringify(ch)} is not in the vocabulary and there is no unk_token`);
      if (!(this.fuseUnk && lastUnk)) syms.push(this.unkId);
      lastUnk = true;
    }
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      let bestId = 0;
      for (let i = 0; i + 1 < syms.length; i++) {
        const mg = this.merges.get(`${syms[i]} ${syms[i + 1]}`);
        if (mg !== undefined && mg.rank < bestRank) {
          bestRank = mg.rank;
          best = i;
          bestId = mg.id;
        }
      }
      if (best < 0) return syms;
      syms.splice(best, 2, bestId);
    }
  }
}

/** "a b" → ["a", "b"] (the legacy merges format; tokens never contain a space there). */
function splitMerge(s: string): [string, string] {
  const i = s.indexOf(' ');
  return [s.slice(0, i), s.slice(i + 1)];
}

/** Split text into plain strings and added-token ids (leftmost, longest match). */
function splitAdded(text: string, tokens: readonly AddedToken[]): (string | number)[] {
  if (tokens.length === 0) return [text];
  const out: (string | number)[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const t = tokens.find((tk) => tk.content.length > 0 && text.startsWith(tk.content, i));
    if (t === undefined) {
      i++;
      continue;
    }
    if (i > start) out.push(text.slice(start, i));
    out.push(t.id);
    i += t.content.length;
    start = i;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

function buildNormalizer(n: Json | null | undefined, fail: (what: string) => never): Normalize {
  if (n === null || n === undefined) return (s) => s;
  switch (n.type) {
    case 'Sequence': {
      const parts = (n.normalizers as Json[]).map((x) => buildNormalizer(x, fail));
      return (s) => parts.reduce((acc, f) => f(acc), s);
    }
    case 'Replace': {
      const pat = n.pattern as Json;
      if (typeof pat.String !== 'string') fail('Replace normalizer with a Regex pattern is not supported');
      const from = pat.String as string;
      const to = n.content as string;
      return (s) => s.split(from).join(to);
    }
    case 'Prepend':
      return (s) => (s.length > 0 ? (n.prepend as string) + s : s);
    case 'NFC':
      return (s) => s.normalize('NFC');
    case 'NFKC':
      return (s) => s.normalize('NFKC');
    default:
      return fail(`normalizer ${JSON.stringify(n.type)} is not supported`);
  }
}
