/**
 * The bench backends by name. `reference` exists now; `cpu` and `cuda` stand in as unavailable until
 * the native op API (issue 6, bindings/) lands — then their factories return real backends and
 * nothing else in bench/ or reports/ changes.
 */
import { cpuDeviceName } from '../ceilings-cpu.js';
import type { Availability, BenchBackend, PreparedOp } from './backend.js';
import { ReferenceBackend } from './reference.js';

/** A named backend that cannot run here, with the reason every one of its records will carry. */
export class UnavailableBackend implements BenchBackend {
  readonly budgeted = false;
  constructor(
    readonly name: string,
    private readonly reason: string,
    private readonly deviceName = 'unknown',
  ) {}
  available(): Availability {
    return { ok: false, reason: this.reason };
  }
  supports(): Availability {
    return { ok: false, reason: this.reason };
  }
  versions(): number[] {
    return [];
  }
  device(): string {
    return this.deviceName;
  }
  threads(): number {
    return 0;
  }
  prepareOp(): Promise<PreparedOp> {
    return Promise.reject(new Error(`${this.name} backend: ${this.reason}`));
  }
}

export const BACKEND_FACTORIES: Readonly<Record<string, () => Promise<BenchBackend>>> = {
  reference: async () => new ReferenceBackend(),
  cpu: async () => new UnavailableBackend('cpu', 'not available yet: the native CPU op API (issue 6) is not built into bindings/', cpuDeviceName()),
  cuda: async () => new UnavailableBackend('cuda', 'not available yet: the CUDA backend is not built'),
};

export const BACKEND_NAMES: readonly string[] = Object.keys(BACKEND_FACTORIES);

export async function createBackend(name: string): Promise<BenchBackend> {
  const f = BACKEND_FACTORIES[name];
  if (f === undefined) throw new RangeError(`bench: unknown backend "${name}" (backends: ${BACKEND_NAMES.join(', ')})`);
  return f();
}
