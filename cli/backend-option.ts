/**
 * The `--backend` option of the whole-model commands (profile, run dit, run dcae-decode, generate): a
 * name from the command's list, and for a native backend a check that it can run here, so that a
 * missing GPU is one clear line ("the cuda backend is not available here: <reason>") before any work.
 */
import { backendStatus, cudaEmulationNotice, type BackendName } from '../bindings/backends.js';
import { UsageError } from './command.js';

export class BackendUnavailableError extends Error {}

/** `value` (or `fallback`) checked against `allowed` and, for cpu/cuda, against this installation. */
export function backendOption<const B extends BackendName>(cmd: string, value: string | undefined, allowed: readonly B[], fallback: B): B {
  const name = value ?? fallback;
  if (!(allowed as readonly string[]).includes(name)) throw new UsageError(`${cmd}: --backend ${name} is not one of ${allowed.join(', ')}`);
  if (name !== 'reference') {
    const st = backendStatus(name as B);
    if (!st.available) throw new BackendUnavailableError(`the ${name} backend is not available here: ${st.reason ?? 'unknown reason'}`);
    const notice = cudaEmulationNotice(st);
    if (notice) console.warn(`[sana-lab] ${cmd}: ${notice}`);
  }
  return name as B;
}
