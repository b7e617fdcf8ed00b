/**
 * Per-op timing of a runner: every op call and every host-side step (uploads, read-backs, layout
 * changes, the small host math) goes through `op()` / `host()`, which, when enabled, record wall time
 * per name. Names are `<part>.<op>` (e.g. `block.mix-ffn`, `caption.gemm`, `host.upload`).
 *
 * What a time means: on the cpu backend ops are synchronous, so an op's time is its kernel time plus
 * the dispatch cost (argument validation in TS, the N-API call). On an asynchronous device backend a
 * host timer only sees the enqueue; per-op device times need device events there.
 * `gapMs` is the wall time between the profiled calls of a run (JS glue of the runner itself).
 *
 * Device timeline (cuda, queued runs): between `startDevice` and `readDevice` every op call is
 * bracketed by two device events (addon.runtime.timelineMark), so its device time — from the moment the
 * device finished the work before it to the end of its own kernels, launch gaps inside the op included —
 * is measured without any synchronize; the device's idle time between op calls is the rest of the span.
 */
import { performance } from 'node:perf_hooks';

export interface OpTiming {
  name: string;
  /** 'op': a backend op call; 'host': work done in TypeScript / copies between host and backend. */
  kind: 'op' | 'host';
  calls: number;
  ms: number;
}

/** A source of device events (cuda: addon.runtime.timelineMark / timelineRead). */
export interface DeviceTimeline {
  /** Records an event after the work queued so far; → its index since the last read. */
  mark(): number;
  /** Waits for the last event; → device ms from mark 0 to each mark; clears the marks. */
  read(): Float64Array;
}

export interface DeviceOpTiming {
  name: string;
  calls: number;
  /** Σ device time between each call's two events. */
  ms: number;
}

export interface DeviceTimelineResult {
  /** Σ of the ops' device times. */
  busyMs: number;
  /** First op's first event to the last op's last event. */
  spanMs: number;
  /** span − busy: the device waiting between op calls (host work, uploads, JS glue, launches). */
  idleMs: number;
  /** Per op name, slowest first. */
  ops: DeviceOpTiming[];
}

export class OpProfiler {
  enabled: boolean;
  private device: { timeline: DeviceTimeline; spans: { name: string; a: number; b: number }[] } | null = null;
  private readonly entries = new Map<string, OpTiming>();
  private lastEnd = -1;
  /** Wall time between consecutive profiled calls (runner glue), since the last reset. */
  gapMs = 0;
  /** Number of backend op calls since the last reset. */
  opCalls = 0;

  constructor(enabled = true) {
    this.enabled = enabled;
  }

  /** Runs `fn` (a backend op call) and records its wall time under `name` (and its device time, see startDevice). */
  op<T>(name: string, fn: () => T): T {
    const d = this.device;
    if (d === null) return this.timed(name, 'op', fn);
    const a = d.timeline.mark();
    const r = this.timed(name, 'op', fn);
    d.spans.push({ name, a, b: d.timeline.mark() });
    return r;
  }

  /** Whether a device timeline is being recorded. */
  get deviceActive(): boolean {
    return this.device !== null;
  }

  /** From now on, brackets every op call with device events (whether or not wall times are recorded). */
  startDevice(timeline: DeviceTimeline): void {
    if (this.device !== null) throw new Error('OpProfiler.startDevice: a device timeline is already being recorded');
    timeline.read();  // drop marks left by anyone else
    this.device = { timeline, spans: [] };
  }

  /** Stops the device timeline and returns what it measured (waits for the device). */
  readDevice(): DeviceTimelineResult {
    const d = this.device;
    if (d === null) throw new Error('OpProfiler.readDevice: no device timeline is being recorded (call startDevice first)');
    this.device = null;
    const t = d.timeline.read();
    const byName = new Map<string, DeviceOpTiming>();
    let busyMs = 0;
    for (const s of d.spans) {
      const ms = t[s.b]! - t[s.a]!;
      busyMs += ms;
      const e = byName.get(s.name);
      if (e) {
        e.calls++;
        e.ms += ms;
      } else byName.set(s.name, { name: s.name, calls: 1, ms });
    }
    const spanMs = d.spans.length > 0 ? t[d.spans[d.spans.length - 1]!.b]! - t[d.spans[0]!.a]! : 0;
    return { busyMs, spanMs, idleMs: Math.max(0, spanMs - busyMs), ops: [...byName.values()].sort((x, y) => y.ms - x.ms) };
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
