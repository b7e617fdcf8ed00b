/**
 * `sana-lab run <target>`: run one model component on tensors from safetensors files.
 * Each target lives in its own file (run-dit.ts, run-dcae.ts, …); this only dispatches.
 */
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { DCAE_DECODE_USAGE, DCAE_ENCODE_USAGE, runDcaeDecode, runDcaeEncode } from './run-dcae.js';
import { runDit, RUN_DIT_SUMMARY, RUN_DIT_USAGE } from './run-dit.js';

interface RunTarget {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

const TARGETS: Readonly<Record<string, RunTarget>> = {
  dit: { summary: RUN_DIT_SUMMARY, usage: RUN_DIT_USAGE, run: runDit },
  'dcae-encode': { summary: 'DC-AE encode: sample (B,3,H,W) → latent', usage: DCAE_ENCODE_USAGE, run: runDcaeEncode },
  'dcae-decode': { summary: 'DC-AE decode: latent → sample, optionally tiled; --plan prints a memory plan', usage: DCAE_DECODE_USAGE, run: runDcaeDecode },
};

function usage(): string {
  const width = Math.max(...Object.keys(TARGETS).map((t) => t.length));
  return [
    'usage: sana-lab run <target> [options]     (sana-lab run <target> --help for details)',
    '',
    ...Object.entries(TARGETS).map(([name, t]) => `  ${name.padEnd(width)}  ${t.summary}`),
  ].join('\n');
}

export const runCommand: Command = {
  name: 'run',
  summary: `run a model component on safetensors inputs (${Object.keys(TARGETS).join(', ')})`,
  get usage() {
    return usage();
  },
  helpFor(argv) {
    const t = argv[0] === undefined ? undefined : TARGETS[argv[0]];
    return t?.usage ?? usage();
  },
  async run(argv) {
    const [target, ...rest] = argv;
    if (target === undefined) throw new UsageError(`run: missing target (${Object.keys(TARGETS).join(', ')})`);
    const t = TARGETS[target];
    if (t === undefined) throw new UsageError(`run: unknown target "${target}" (targets: ${Object.keys(TARGETS).join(', ')})`);
    return t.run(rest);
  },
};
