#!/usr/bin/env node
/** `sana-lab`: the lab's command line. Each subcommand lives in cli/commands/. */
import { UsageError } from './command.js';
import { COMMANDS } from './commands/index.js';
import { packageVersion } from './environment.js';

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'sana-lab — SANA kernel lab: reference spec, native kernels, parity, benchmarks, reports',
    '',
    'usage: sana-lab <command> [options]     (sana-lab <command> --help for details; sana-lab --version)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

/** The message of a failure; V8's own allocation failures are named for what they are. */
function describeError(e: unknown): string {
  const message = (e as Error)?.message ?? String(e);
  if (e instanceof RangeError && /^(Invalid typed array length|Array buffer allocation failed)/.test(message)) {
    return `out of memory: a tensor of the requested size cannot be allocated (${message}); use a smaller size or batch`;
  }
  return message;
}

/**
 * A message as one printable line: errors are one line (a tokenizer's JSON error spans two, a binary
 * file's parse error carries NULs), so newlines become spaces and other control characters are escaped.
 */
export function oneLine(message: string): string {
  return message
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .trim();
}

/** `sana-lab <name>: <message>`, without repeating the command when the message already starts with it ("run dit: …", "report: …"). */
function failureLine(name: string, message: string): string {
  return message.startsWith(`${name}:`) || message.startsWith(`${name} `) ? `sana-lab ${message}` : `sana-lab ${name}: ${message}`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    console.log(packageVersion());
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (cmd === undefined) {
    console.error(`sana-lab: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.helpFor?.(rest.filter((a) => a !== '--help' && a !== '-h')) ?? cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`sana-lab: ${oneLine(e.message)}`);
      return 2;
    }
    const err = e as Error;
    console.error(failureLine(name, oneLine(describeError(e))));
    if (process.env.SANA_LAB_DEBUG) console.error(err?.stack);
    return 1;
  }
}

// Run when executed directly (not when imported by tests).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
