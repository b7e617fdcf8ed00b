/**
 * Which compute backends this installation has: `reference` (pure TS, always), `cpu` (the native
 * addon) and `cuda` (compiled in when nvcc was found at build time; available when a device and driver are).
 */
import { tryLoadAddon, type NativeCudaDevice } from './addon.js';

export type BackendName = 'reference' | 'cpu' | 'cuda';

export interface BackendStatus {
  name: BackendName;
  compiled: boolean;
  available: boolean;
  reason?: string;
  device?: string;
  devices?: NativeCudaDevice[];
}

export function listBackends(): BackendStatus[] {
  const reference: BackendStatus = { name: 'reference', compiled: true, available: true, device: 'host (TypeScript)' };
  const { addon, error } = tryLoadAddon();
  if (addon === null) {
    const reason = error ?? 'native addon unavailable';
    return [
      reference,
      { name: 'cpu', compiled: false, available: false, reason },
      { name: 'cuda', compiled: false, available: false, reason },
    ];
  }
  const cpuInfo = addon.cpuInfo();
  const cpu: BackendStatus = {
    name: 'cpu',
    compiled: true,
    available: true,
    // the pool's size (SANA_LAB_THREADS or setThreads), and the hardware's when they differ
    device: `${cpuInfo.model} (${poolThreadsLabel(addon.cpuThreads(), cpuInfo.threads)})`,
  };
  const c = addon.cudaInfo();
  const cuda: BackendStatus = { name: 'cuda', compiled: c.compiled, available: c.available };
  if (c.reason) cuda.reason = c.reason;
  if (c.devices.length > 0) {
    const d = c.devices[0]!;
    cuda.device = `${d.name} (sm_${d.computeCapability.replace('.', '')}, ${(d.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB, driver ${c.driverVersion})`;
    cuda.devices = c.devices;
  }
  return [reference, cpu, cuda];
}

/** One backend's status (listBackends' entry for `name`). */
/**
 * The notice a timing command prints when the cuda backend is the host emulator (an addon built with
 * SANA_LAB_CUDA_EMU=1, kernels/emu/): it runs the real kernels for correctness, but its times are the
 * CPU's, not a GPU's. undefined for a real device or another backend.
 */
export function cudaEmulationNotice(st: Pick<BackendStatus, 'name' | 'device'>): string | undefined {
  if (st.name !== 'cuda' || !st.device?.startsWith('sana-emu')) return undefined;
  return 'the cuda backend is the host emulator of the CUDA kernels (SANA_LAB_CUDA_EMU=1): results check correctness; its times are not GPU times';
}

export function backendStatus(name: BackendName): BackendStatus {
  return listBackends().find((b) => b.name === name)!;
}

function poolThreadsLabel(pool: number, hardware: number): string {
  return pool === hardware ? `${pool} threads` : `${pool} of ${hardware} threads`;
}
