/**
 * `sana-lab schedule`: print a diffusers scheduler config's sampling grid — the model timesteps and the
 * N+1 sigmas — as the reference schedulers compute them (bit-identical to diffusers).
 */
import { UsageError, type Command } from '../command.js';
import { existsSync } from 'node:fs';
import { intOption, MAX_STEPS, parseArgs } from '../args.js';
import { loadScheduler } from '../../reference/schedulers/from-config.js';
import { modelTimestep } from '../../reference/schedulers/guidance.js';

const USAGE = `usage: sana-lab schedule --config scheduler_config.json [--steps N] [--json]

Prints the timesteps and sigmas that a diffusers scheduler config gives for N steps (default 20).
Supported: DPMSolverMultistepScheduler with use_flow_sigmas (SANA's Flow-DPM-Solver) and
FlowMatchEulerDiscreteScheduler.

  --config PATH   a diffusers scheduler_config.json (Python's -Infinity is accepted)
  --steps N       number of inference steps (default 20)
  --json          print {"timesteps": [...], "sigmas": [...]} (sigmas are the float32 values, N+1 of them)`;

export const scheduleCommand: Command = {
  name: 'schedule',
  summary: 'timesteps and sigmas of a scheduler config (Flow-DPM-Solver, Flow-Euler)',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const args = parseArgs('schedule', argv, { config: { type: 'string' }, steps: { type: 'string' }, json: { type: 'flag' } });
    if (args.positionals.length > 0) throw new UsageError(`schedule: unexpected argument "${args.positionals[0]}"`);
    const path = args.values.get('config');
    if (path === undefined) throw new UsageError('schedule: --config scheduler_config.json is required');
    const steps = intOption('schedule', 'steps', args.values.get('steps'), 20, 1, MAX_STEPS);
    // A missing file is a usage error (exit 2), as run dit's --weights is; a bad one stays an error (exit 1).
    if (!existsSync(path)) throw new UsageError(`schedule: cannot read --config ${path}: it does not exist`);
    const scheduler = loadScheduler(path);
    scheduler.setTimesteps(steps);
    const timesteps = scheduler.timesteps;
    const sigmas = Array.from(scheduler.sigmas);
    if (args.flags.has('json')) {
      process.stdout.write(JSON.stringify({ timesteps, sigmas }) + '\n');
      return 0;
    }
    const kind = scheduler.constructor.name;
    const shift = 'flowShift' in scheduler.config ? scheduler.config.flowShift : scheduler.config.shift;
    const lines = [`${kind}, shift ${shift}, ${steps} steps (${path})`, '', ' step    timestep  model t (f32)  sigma'];
    sigmas.forEach((sigma, i) => {
      const t = i < timesteps.length ? timesteps[i]! : null;
      const tStr = t === null ? '—' : Number.isInteger(t) ? String(t) : t.toFixed(4);
      const modelT = t === null ? '—' : String(modelTimestep(t, 1)[0]);
      lines.push(`${String(i).padStart(5)}  ${tStr.padStart(10)}  ${modelT.padStart(13)}  ${sigma.toFixed(8)}`);
    });
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
