/**
 * Per-op timing of a runner: every op call and every host-side step (uploads, read-backs, layout
 * changes, the small host math) goes through `op()` / `host()`, which, when enabled, record wall time
 * per name. Names are `<part>.<op>` (e.g. `block.mix-ffn`, `caption.gemm`, `host.upload`).
 *
 * What a time means: on the cpu backend ops are synchronous, so an op's time is its kernel time plus
 * the dispatch cost (argument validation in TS, the N-API call). On an asynchronous device backend a
 * host timer only sees the enqueue; per-op device times need device events there.
 * `gapMs` is the wall time between the profiled calls of a run (JS glue of the runner itself).
 */
import { performance } from 'node:perf_hooks';

export interface OpTiming {
  name: string;
  /** 'op': a backend op call; 'host': work done in TypeScript / copies between host and backend. */
  kind: 'op' | 'host';
  calls: number;
  ms: number;
}

export class OpProfiler {
  enabled: boolean;
  private readonly entries = new Map<string, OpTiming>();
  private lastEnd = -1;
  /** Wall time between consecutive profiled calls (runner glue), since the last reset. */
  gapMs = 0;
  /** Number of backend op calls since the last reset. */
  opCalls = 0;

  constructor(enabled = true) {
    this.enabled = enabled;
  }

  /** Runs `fn` (a backend op call) and records its wall time under `name`. */
  op<T>(name: string, fn: () => T): T {
    return this.timed(name, 'op', fn);
  }

  /** Runs `fn` (host-side work) and records its wall time under `name`. */
  host<T>(name: string, fn: () => T): T {
    return this.timed(name, 'host', fn);
  }

  private timed<T>(name: string, kind: 'op' | 'host', fn: () => T): T {
    if (kind === 'op') this.opCalls++;
    if (!this.enabled) return fn();
    const t0 = performance.now();
    if (this.lastEnd >= 0) this.gapMs += t0 - this.lastEnd;
    const r = fn();
    const t1 = performance.now();
    this.lastEnd = t1;
    const e = this.entries.get(name);
    if (e) {
      e.calls++;
      e.ms += t1 - t0;
    } else this.entries.set(name, { name, kind, calls: 1, ms: t1 - t0 });
    return r;
  }

  /** Marks the end of a run: the time until the next call is not counted as a gap. */
  endRun(): void {
    this.lastEnd = -1;
  }

  reset(): void {
    this.entries.clear();
    this.lastEnd = -1;
    this.gapMs = 0;
    this.opCalls = 0;
  }

  /** The recorded timings, slowest first. */
  timings(): OpTiming[] {
    return [...this.entries.values()].map((e) => ({ ...e })).sort((a, b) => b.ms - a.ms);
  }

  totalMs(kind?: 'op' | 'host'): number {
    let s = 0;
    for (const e of this.entries.values()) if (kind === undefined || e.kind === kind) s += e.ms;
    return s;
  }
}
