/**
 * A per-step progress bar with an ETA, for the denoising loop. On a terminal it redraws one line;
 * elsewhere (pipes, CI logs) it prints one line per step. ETA = mean step time × steps left.
 */
export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
}

export class StepProgressBar {
  private last: number;
  private elapsedMs = 0;
  private done = 0;

  constructor(
    private readonly total: number,
    private readonly sink: ProgressSink = process.stderr,
    private readonly label = 'denoise',
    private readonly now: () => number = () => performance.now(),
    private readonly width = 20,
  ) {
    this.last = now();
  }

  /** The bar after `done` steps (no newline). */
  line(detail = ''): string {
    const elapsed = this.elapsedMs / 1e3;
    const perStep = this.done > 0 ? elapsed / this.done : NaN;
    const eta = this.done > 0 ? perStep * (this.total - this.done) : NaN;
    const filled = this.total > 0 ? Math.round((this.done / this.total) * this.width) : this.width;
    const rate = this.done > 0 ? `${formatSeconds(perStep)}/step` : '?/step';
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${this.done}/${this.total} ${rate} elapsed ${formatSeconds(elapsed)} ETA ${this.done > 0 ? formatSeconds(eta) : '?'}${detail ? '  ' + detail : ''}`;
  }

  /**
   * One step finished. `stepMs`: its duration when the caller measured it (then time spent between
   * steps, e.g. before the first, is not counted); otherwise the wall time since the last tick.
   */
  tick(detail = '', stepMs?: number): void {
    const t = this.now();
    this.elapsedMs += stepMs ?? t - this.last;
    this.last = t;
    this.done = Math.min(this.total, this.done + 1);
    const l = this.line(detail);
    if (this.sink.isTTY) this.sink.write(`\r${l}\u001b[K${this.done === this.total ? '\n' : ''}`);
    else this.sink.write(`${l}\n`);
  }
}
