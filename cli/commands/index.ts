/** Every `sana-lab` subcommand, in help order. Register new commands here. */
import type { Command } from '../command.js';

export const COMMANDS: Command[] = [];
