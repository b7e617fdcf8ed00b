/**
 * A Hugging Face tokenizer (`tokenizer.json` + `tokenizer_config.json`) loaded through the maintained
 * `@huggingface/tokenizers` library (Tokenizers.js), wrapped as the `PromptTokenizer` SANA's prompt
 * handling needs: ids with the special tokens added, and the pad id.
 *
 * Special tokens, as transformers does it:
 *   - when tokenizer_config.json sets `add_bos_token` / `add_eos_token` (Gemma, Llama), those flags
 *     decide — transformers' GemmaTokenizerFast rebuilds its post-processor from them — and
 *     `bos_token` / `eos_token` name the tokens;
 *   - otherwise the post-processor in tokenizer.json (Gemma: TemplateProcessing `<bos> $A`) decides.
 * The pad id is `pad_token` of tokenizer_config.json, else the token `<pad>`.
 * Padding and truncation are not done here (sana-prompt.ts pads right to a fixed length).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { PromptTokenizer } from './sana-prompt.js';

type Json = Record<string, unknown>;

/** A token named in tokenizer_config.json: a string or an AddedToken object `{content: …}`. */
function tokenName(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return null;
}

function readJson(path: string, what: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`HfTokenizer: cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Json;
  } catch (e) {
    throw new Error(`HfTokenizer: ${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

export class HfTokenizer implements PromptTokenizer {
  private readonly tk: Tokenizer;
  private readonly padId: number | null;
  /** Special tokens from tokenizer_config.json's add_bos/eos flags; null = use tokenizer.json's post-processor. */
  private readonly explicitSpecials: { prefix: number[]; suffix: number[] } | null;

  /**
   * `json`: the parsed tokenizer.json; `config`: the parsed tokenizer_config.json ({} if there is none);
   * `source` names the files in errors.
   */
  constructor(json: Json, config: Json = {}, readonly source = 'tokenizer.json') {
    const fail = (what: string): never => {
      throw new Error(`HfTokenizer ${source}: ${what}`);
    };
    if (json.model === null || typeof json.model !== 'object') fail('no "model" section (not a Hugging Face tokenizer.json)');
    for (const k of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) if (!(k in json)) json = { ...json, [k]: null };
    if (!Array.isArray(json.added_tokens)) json = { ...json, added_tokens: [] };
    try {
      this.tk = new Tokenizer(json, config);
    } catch (e) {
      throw new Error(`HfTokenizer ${source}: @huggingface/tokenizers cannot load it: ${(e as Error).message}`);
    }
    const idOf = (name: string, what: string): number => this.tk.token_to_id(name) ?? fail(`${what} "${name}" is not in the vocabulary`);

    const padName = tokenName(config.pad_token);
    this.padId = padName !== null ? idOf(padName, 'pad_token') : (this.tk.token_to_id('<pad>') ?? null);

    const addBos = config.add_bos_token;
    const addEos = config.add_eos_token;
    if (typeof addBos === 'boolean' || typeof addEos === 'boolean') {
      const special = (flag: unknown, key: 'bos_token' | 'eos_token'): number[] => {
        if (flag !== true) return [];
        const name = tokenName(config[key]);
        if (name === null) fail(`add_${key} is true but ${key} is not set`);
        return [idOf(name!, key)];
      };
      this.explicitSpecials = { prefix: special(addBos, 'bos_token'), suffix: special(addEos, 'eos_token') };
    } else {
      this.explicitSpecials = null;
    }
  }

  /** Load `tokenizer.json` and, when present, `tokenizer_config.json` from a tokenizer directory. */
  static fromDir(dir: string): HfTokenizer {
    const jsonPath = join(dir, 'tokenizer.json');
    if (!existsSync(jsonPath)) throw new Error(`HfTokenizer: ${dir} has no tokenizer.json (only the fast-tokenizer format is supported)`);
    return HfTokenizer.fromFile(jsonPath);
  }

  /** Load a tokenizer.json; a tokenizer_config.json beside it is read when present. */
  static fromFile(path: string): HfTokenizer {
    const json = readJson(path, 'tokenizer.json');
    const cfgPath = join(dirname(path), 'tokenizer_config.json');
    const config = existsSync(cfgPath) ? readJson(cfgPath, 'tokenizer_config.json') : {};
    return new HfTokenizer(json, config, path);
  }

  get padTokenId(): number {
    if (this.padId === null) throw new Error(`HfTokenizer ${this.source}: no pad token (tokenizer_config.json has no pad_token and there is no <pad>)`);
    return this.padId;
  }

  /** Token id of a token string (vocabulary or added token), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.tk.token_to_id(token);
  }

  /** The token string of an id, or undefined. */
  idToToken(id: number): string | undefined {
    return this.tk.id_to_token(id);
  }

  /** Number of ids the tokenizer can produce (largest id + 1, added tokens included). */
  get vocabSize(): number {
    let max = -1;
    for (const id of this.tk.get_vocab(true).values()) if (id > max) max = id;
    return max + 1;
  }

  /** Ids with the special tokens transformers would add (Gemma: BOS first, no EOS). */
  encode(text: string): number[] {
    if (this.explicitSpecials === null) return this.tk.encode(text).ids;
    const { prefix, suffix } = this.explicitSpecials;
    return [...prefix, ...this.encodeNoSpecials(text), ...suffix];
  }

  /** Ids without any special tokens added (special tokens written in the text are still matched). */
  encodeNoSpecials(text: string): number[] {
    return this.tk.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of ids (the tokenizer.json decoder). */
  decode(ids: readonly number[], skipSpecialTokens = false): string {
    if (ids.length === 0) return '';
    return this.tk.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }
}
