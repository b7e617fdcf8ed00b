/**
 * A progress bar with an ETA on stderr. On a terminal it redraws one line; otherwise (CI logs, pipes)
 * it prints one line per finished case. The ETA weights the remaining cases by their expected cost
 * (e.g. the time budget or a FLOP estimate) when given, else assumes equal cost.
 */

export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class Progress {
  private done = 0;
  private doneWeight = 0;
  private readonly totalWeight: number;
  private readonly start: number;

  /** `weights[i]` is the expected relative cost of case i (defaults to 1 each). */
  constructor(
    private readonly total: number,
    private readonly sink: ProgressSink = process.stderr,
    private readonly weights: readonly number[] = [],
    private readonly now: () => number = () => performance.now(),
    private readonly width = 24,
  ) {
    this.totalWeight = Array.from({ length: total }, (_, i) => this.weightOf(i)).reduce((a, b) => a + b, 0);
    this.start = this.now();
  }

  private weightOf(i: number): number {
    const w = this.weights[i];
    return w !== undefined && Number.isFinite(w) && w > 0 ? w : 1;
  }

  /** Seconds left, from the elapsed time per unit of finished weight; null before the first case. */
  eta(): number | null {
    if (this.doneWeight <= 0) return null;
    const elapsed = (this.now() - this.start) / 1e3;
    return (elapsed / this.doneWeight) * (this.totalWeight - this.doneWeight);
  }

  /** The current line (without the carriage return). */
  line(label: string): string {
    const frac = this.total === 0 ? 1 : this.done / this.total;
    const filled = Math.round(frac * this.width);
    const eta = this.eta();
    const elapsed = formatDuration((this.now() - this.start) / 1e3);
    return `[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${this.done}/${this.total} ${elapsed} elapsed, ETA ${eta === null ? '?' : formatDuration(eta)}  ${label}`;
  }

  /** Show which case is starting (terminal only). */
  begin(label: string): void {
    if (this.sink.isTTY) this.sink.write(`\r\x1b[K${this.line(`running ${label}`)}`);
  }

  /** Mark case `index` finished with an outcome label. */
  tick(index: number, label: string): void {
    this.done++;
    this.doneWeight += this.weightOf(index);
    if (this.sink.isTTY) this.sink.write(`\r\x1b[K${this.line(label)}`);
    else this.sink.write(`${this.line(label)}\n`);
  }

  finish(): void {
    if (this.sink.isTTY) this.sink.write('\n');
  }
}
