/**
 * --version N (parity, bench): a version that no requested op has on any requested native backend that
 * runs here would check or time nothing ("0 of 0 checks pass", every case "unavailable"): a usage error
 * naming the versions there are. Ops that lack N while others have it stay skips, as do backends that
 * are unavailable (those are reported on their own); non-native backends (reference, torch) have no versions.
 */
import { nativeVersions, type OpName } from '../bench/catalogue.js';
import { getBackend } from '../bindings/ops.js';
import { UsageError } from './command.js';

export function checkVersionExists(command: string, backends: readonly string[], ops: readonly OpName[], version: number): void {
  const have: string[] = [];
  for (const b of backends) {
    if (b !== 'cpu' && b !== 'cuda') continue;
    try {
      getBackend(b);
    } catch {
      continue;
    }
    for (const op of ops) {
      const versions = nativeVersions(op, b).map((v) => v.version);
      if (versions.includes(version)) return;
      if (versions.length > 0) have.push(`${op} on ${b}: ${versions.join(', ')}`);
    }
  }
  if (have.length > 0) throw new UsageError(`${command}: --version ${version}: no such version of ${ops.join(', ')} (versions: ${have.join('; ')})`);
}
