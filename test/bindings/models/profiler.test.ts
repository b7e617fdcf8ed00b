// bindings/models/profiler.ts: wall-time entries and the device timeline (events around op calls).
import { describe, expect, it } from 'vitest';
import { OpProfiler, type DeviceTimeline } from '../../../bindings/models/profiler.js';

/** A fake device: mark i happens at times[i] ms (as if the device had reached it then). */
function fakeTimeline(times: number[]): DeviceTimeline & { marks: number } {
  let n = 0;
  return {
    get marks() {
      return n;
    },
    mark: () => n++,
    read: () => {
      const r = Float64Array.from(times.slice(0, n));
      n = 0;
      return r;
    },
  };
}

describe('OpProfiler device timeline', () => {
  it('brackets each op call (not host work) with two marks; busy, span and idle follow from the mark times', () => {
    // op a: 0 → 2, host work (no marks), op b: 5 → 6, op a: 6 → 10  ⇒ busy 7, span 10, idle 3
    const tl = fakeTimeline([0, 2, 5, 6, 6, 10]);
    const p = new OpProfiler(false);
    p.startDevice(tl);
    expect(p.deviceActive).toBe(true);
    expect(p.op('a', () => 1)).toBe(1);
    p.host('host.upload', () => undefined);
    p.op('b', () => undefined);
    p.op('a', () => undefined);
    expect(tl.marks).toBe(6);
    const r = p.readDevice();
    expect(p.deviceActive).toBe(false);
    expect(r.busyMs).toBe(7);
    expect(r.spanMs).toBe(10);
    expect(r.idleMs).toBe(3);
    expect(r.ops).toEqual([
      { name: 'a', calls: 2, ms: 6 },
      { name: 'b', calls: 1, ms: 1 },
    ]);
    // wall times were off: nothing recorded there; op calls still counted
    expect(p.timings()).toEqual([]);
    expect(p.opCalls).toBe(3);
    p.op('c', () => undefined);
    expect(tl.marks, 'no marks once the timeline is read').toBe(0);
  });

  it('refuses a second start and a read without a start; an empty run measures nothing', () => {
    const p = new OpProfiler(true);
    expect(() => p.readDevice()).toThrow('OpProfiler.readDevice: no device timeline is being recorded (call startDevice first)');
    p.startDevice(fakeTimeline([]));
    expect(() => p.startDevice(fakeTimeline([]))).toThrow(/already being recorded/);
    expect(p.readDevice()).toEqual({ busyMs: 0, spanMs: 0, idleMs: 0, ops: [] });
  });
});
