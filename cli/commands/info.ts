/** `sana-lab info`: version, machine, and which backends are compiled and usable (and why not). */
import { parseArgs } from '../args.js';
import { UsageError, type Command } from '../command.js';
import { environment } from '../environment.js';
import { DIT_PRESETS, ditPreset, parameterGroups } from '../../reference/dit/index.js';

/** Parameter count of a model preset, from its shapes (nothing allocated). */
function modelInfo(name: string): { model: string; description: string; parameters: number; groups: Record<string, number> } {
  let preset;
  try {
    preset = ditPreset(name);
  } catch (e) {
    throw new UsageError(`info: ${(e as Error).message}`);
  }
  const groups = Object.fromEntries(parameterGroups(preset.config));
  const parameters = Object.values(groups).reduce((a, b) => a + b, 0);
  return { model: preset.name, description: preset.description, parameters, groups };
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'version, machine and backends (compiled / available, with the reason)',
  usage: [
    'usage: sana-lab info [--json] [--model NAME]',
    '',
    'Prints the package version, the machine (CPU model, threads, memory, GPU if any) and the backends:',
    'reference (pure TypeScript, always), cpu (native addon) and cuda (compiled in when nvcc was found at',
    'build time; available when a device and driver are present).',
    '',
    '  --json         machine-readable output',
    `  --model NAME   parameter count of a model preset from its shapes (${DIT_PRESETS.map((p) => p.name).join(', ')}; 0.6b, 1.6b)`,
  ].join('\n'),
  async run(argv) {
    const args = parseArgs('info', argv, { json: { type: 'flag' }, model: { type: 'string' } });
    if (args.positionals.length > 0) throw new UsageError(`info: unexpected argument "${args.positionals[0]}"`);
    const model = args.values.get('model');
    if (model !== undefined) {
      const m = modelInfo(model);
      if (args.flags.has('json')) console.log(JSON.stringify(m, null, 2));
      else {
        console.log(`${m.model}: ${m.description}`);
        console.log(`parameters: ${m.parameters.toLocaleString('en-US')} (${(m.parameters / 1e9).toFixed(3)} B)`);
        for (const [g, n] of Object.entries(m.groups)) console.log(`  ${g.padEnd(24)} ${n.toLocaleString('en-US').padStart(14)}`);
      }
      return 0;
    }
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
