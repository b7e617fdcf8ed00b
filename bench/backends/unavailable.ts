/** A named bench backend that cannot run here, with the reason every one of its records will carry. */
import type { Availability, BenchBackend, PreparedOp } from './backend.js';

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
