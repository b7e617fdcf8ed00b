/** The shape of one `sana-lab` subcommand. Each lives in cli/commands/<name>.ts. */
export interface Command {
  name: string;
  /** One line for `sana-lab --help`. */
  summary: string;
  /** Full help text for `sana-lab <name> --help`. */
  usage: string;
  /** Help for a sub-target, e.g. `run dit --help` (defaults to `usage`). */
  helpFor?(argv: string[]): string;
  /** Runs with the arguments after the subcommand name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

/** A user error: printed as one line without a stack, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
