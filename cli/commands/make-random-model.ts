/**
 * `sana-lab make-random-model`: write a SANA directory of small random weights in the diffusers
 * layout, so `sana-lab generate` runs end to end without downloading a checkpoint.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { intOption, parseArgs } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { RANDOM_MODEL_PRESETS, writeRandomModel } from '../../reference/pipeline/random-model.js';

const USAGE = `usage: sana-lab make-random-model [--preset NAME] [--seed S] [--force] OUT

Writes OUT/ in the layout of a diffusers SANA repository — model_index.json, transformer/, vae/,
text_encoder/ (Gemma-2), tokenizer/ (tokenizer.json), scheduler/ — with small random weights,
deterministic from the seed. The images it makes are noise-like; it exists to run and time the
pipeline end to end.

  --preset NAME   ${Object.values(RANDOM_MODEL_PRESETS).map((p) => `${p.name}: ${p.description}`).join('\n                  ')}
                  (default tiny)
  --seed S        weight seed, an integer >= 0 (default 0)
  --force         write into OUT even if it is not empty`;

export const makeRandomModelCommand: Command = {
  name: 'make-random-model',
  summary: 'write a diffusers-layout SANA directory of small random weights (for generate)',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const cmd = 'make-random-model';
    const { values, flags, positionals } = parseArgs(cmd, argv, { preset: { type: 'string' }, seed: { type: 'string' }, force: { type: 'flag' } });
    if (positionals.length !== 1) throw new UsageError(`${cmd}: expected one output directory, got ${positionals.length} (usage: sana-lab ${cmd} --preset tiny OUT)`);
    const preset = values.get('preset') ?? 'tiny';
    if (!(preset in RANDOM_MODEL_PRESETS)) throw new UsageError(`${cmd}: unknown --preset "${preset}" (presets: ${Object.keys(RANDOM_MODEL_PRESETS).join(', ')})`);
    const seed = intOption(cmd, 'seed', values.get('seed'), 0, 0);
    const out = positionals[0]!;
    if (existsSync(out) && !statSync(out).isDirectory()) throw new UsageError(`${cmd}: ${out} exists and is not a directory`);
    if (!flags.has('force') && existsSync(out) && readdirSync(out).length > 0) throw new UsageError(`${cmd}: ${out} exists and is not empty (use --force to write into it)`);
    const summary = writeRandomModel(out, preset, seed, { overwrite: true });
    const p = summary.parameters;
    console.log(
      `make-random-model: wrote ${summary.dir} (preset ${preset}, seed ${seed}): ${summary.files.length} files; ` +
        `parameters: transformer ${p.transformer.toLocaleString('en-US')}, vae ${p.vae.toLocaleString('en-US')}, ` +
        `text_encoder ${p.textEncoder.toLocaleString('en-US')}; tokenizer vocabulary ${summary.vocabSize}`,
    );
    return 0;
  },
};
