/** The facts every report and benchmark record carries about where it ran. */
import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { listBackends, type BackendStatus } from '../bindings/backends.js';
import { projectRoot } from '../reference/core/golden.js';

export interface Environment {
  version: string;
  node: string;
  platform: string;
  machine: { cpuModel: string; threads: number; memoryGiB: number; gpu: string | null };
  backends: BackendStatus[];
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function environment(): Environment {
  const backends = listBackends();
  const cuda = backends.find((b) => b.name === 'cuda');
  return {
    version: packageVersion(),
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    machine: {
      cpuModel: cpus()[0]?.model ?? 'unknown',
      threads: availableParallelism(),
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      gpu: cuda?.available ? (cuda.device ?? null) : null,
    },
    backends,
  };
}
