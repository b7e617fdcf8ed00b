/** Every `sana-lab` subcommand, in help order. Register new commands here. */
import type { Command } from '../command.js';
import { benchCommand } from './bench.js';
import { generateCommand } from './generate.js';
import { infoCommand } from './info.js';
import { labCommand } from './lab.js';
import { makeRandomModelCommand } from './make-random-model.js';
import { parityCommand } from './parity.js';
import { profileCommand } from './profile.js';
import { reportCommand } from './report.js';
import { runCommand } from './run.js';
import { scheduleCommand } from './schedule.js';

export const COMMANDS: Command[] = [labCommand, infoCommand, runCommand, scheduleCommand, parityCommand, benchCommand, reportCommand, generateCommand, makeRandomModelCommand, profileCommand];
