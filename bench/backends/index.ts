/**
 * The bench backends by name: `reference` (the pure-TS spec, budgeted), `cpu` (the native addon),
 * `cuda` (the addon's CUDA build on a usable device) and `torch` (PyTorch eager in a Python worker, the
 * baseline people use). A backend that cannot run here still exists, as
 * an UnavailableBackend whose cases are recorded as 'unavailable' with the reason.
 */
import type { BenchBackend } from './backend.js';
import { createCpuBackend, createCudaBackend } from './native.js';
import { ReferenceBackend } from './reference.js';
import { createTorchBackend } from './torch.js';

export { UnavailableBackend } from './unavailable.js';

export const BACKEND_FACTORIES: Readonly<Record<string, () => Promise<BenchBackend>>> = {
  reference: async () => new ReferenceBackend(),
  cpu: async () => createCpuBackend(),
  cuda: async () => createCudaBackend(),
  torch: async () => createTorchBackend(),
};

export const BACKEND_NAMES: readonly string[] = Object.keys(BACKEND_FACTORIES);

export async function createBackend(name: string): Promise<BenchBackend> {
  const f = BACKEND_FACTORIES[name];
  if (f === undefined) throw new RangeError(`bench: unknown backend "${name}" (backends: ${BACKEND_NAMES.join(', ')})`);
  return f();
}
