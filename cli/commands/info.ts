/** `sana-lab info`: version, machine, and which backends are compiled and usable (and why not). */
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { environment } from '../environment.js';

export const infoCommand: Command = {
  name: 'info',
  summary: 'version, machine and backends (compiled / available, with the reason)',
  usage: [
    'usage: sana-lab info [--json]',
    '',
    'Prints the package version, the machine (CPU model, threads, memory, GPU if any) and the backends:',
    'reference (pure TypeScript, always), cpu (native addon) and cuda (compiled in when nvcc was found at',
    'build time; available when a device and driver are present).',
    '',
    '  --json    machine-readable output',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs('info', argv, { json: { type: 'flag' } });
    const env = environment();
    if (args.flags.has('json')) {
      console.log(JSON.stringify(env, null, 2));
      return 0;
    }
    console.log(`sana-kernel-lab ${env.version} (node ${env.node}, ${env.platform})`);
    console.log(`machine: ${env.machine.cpuModel}, ${env.machine.threads} threads, ${env.machine.memoryGiB} GiB; GPU: ${env.machine.gpu ?? 'none'}`);
    console.log('backends:');
    for (const b of env.backends) {
      const state = b.available ? 'available' : b.compiled ? 'compiled, not available' : 'not compiled';
      console.log(`  ${b.name.padEnd(9)} ${state}${b.device ? ` — ${b.device}` : ''}${b.reason ? ` (${b.reason})` : ''}`);
    }
    return 0;
  },
};
