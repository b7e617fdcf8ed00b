/**
 * Where a step's time goes inside its ops, kernel by kernel (cuda): runtime.kernelTimelineBegin/End
 * record a CUDA event after every kernel launch (kernels/cuda/timing.cu), and the device time between
 * consecutive events is the launched kernel's — under queued dispatch, where the host queues ahead of
 * the device; otherwise it also holds the host's gap before the launch (an upper bound). Summed here per
 * (op, kernel) and per step, largest first.
 */
import { loadAddon, type NativeKernelTime } from '../addon.js';

export interface KernelShare {
  /** The op that launched it (a composite's sub-ops name themselves), and the kernel. */
  op: string;
  kernel: string;
  /** Launches and device ms per step (per run of `fn`), and the share of all recorded kernel time. */
  calls: number;
  ms: number;
  share: number;
}

export interface KernelBreakdown {
  /** Recorded kernel time per step. */
  totalMs: number;
  launchesPerStep: number;
  kernels: KernelShare[];
  /** More than 2^16 launches: the rest was not recorded. */
  truncated: boolean;
}

/** Groups launches by (op, kernel), per step (`steps` runs were recorded), largest first. */
export function summarizeKernels(list: readonly NativeKernelTime[], steps = 1, truncated = false): KernelBreakdown {
  const by = new Map<string, KernelShare>();
  for (const k of list) {
    const key = `${k.op}\u0000${k.kernel}`;
    const e = by.get(key) ?? { op: k.op, kernel: k.kernel, calls: 0, ms: 0, share: 0 };
    e.calls += 1 / steps;
    e.ms += k.ms / steps;
    by.set(key, e);
  }
  const kernels = [...by.values()].sort((a, b) => b.ms - a.ms);
  const totalMs = kernels.reduce((s, e) => s + e.ms, 0);
  for (const e of kernels) e.share = totalMs > 0 ? e.ms / totalMs : 0;
  return { totalMs, launchesPerStep: list.length / steps, kernels, truncated };
}

/** Runs `fn` (`steps` steps) with the kernel timeline recording (always stopped, also when `fn` throws): its kernels per step. */
export function recordKernels<T>(what: string, steps: number, fn: () => T): { result: T; kernels: KernelBreakdown } {
  const rt = loadAddon().runtime;
  rt.kernelTimelineBegin(what);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    try {
      rt.kernelTimelineEnd(what);
    } catch {
      // the op's own error is the one to report
    }
    throw e;
  }
  const r = rt.kernelTimelineEnd(what);
  return { result, kernels: summarizeKernels(r.kernels, steps, r.truncated) };
}

/** Lines of a kernel breakdown for a terminal: the `top` largest, then the rest summed. */
export function formatKernels(b: KernelBreakdown, top = 12): string[] {
  const lines = b.kernels.slice(0, top).map((k) => `    ${`${k.op} / ${k.kernel}`.padEnd(58)} ${k.calls.toFixed(k.calls % 1 ? 1 : 0).padStart(6)} ${k.ms.toFixed(3).padStart(10)} ms ${(100 * k.share).toFixed(1).padStart(5)}%`);
  const rest = b.kernels.slice(top);
  if (rest.length > 0) {
    const ms = rest.reduce((s, k) => s + k.ms, 0);
    lines.push(`    ${`… ${rest.length} more kernels`.padEnd(58)} ${''.padStart(6)} ${ms.toFixed(3).padStart(10)} ms ${((100 * ms) / Math.max(b.totalMs, 1e-12)).toFixed(1).padStart(5)}%`);
  }
  if (b.truncated) lines.push('    (truncated: more than 65536 launches; the rest was not recorded)');
  return lines;
}
