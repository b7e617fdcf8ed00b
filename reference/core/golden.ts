/**
 * Where the diffusers golden vectors live: `../shared/golden` beside the project root, or the folder
 * named by SANA_LAB_GOLDEN. Tests skip (with a visible message) only when the folder is absent.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (works from the TS sources and from dist/). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('sana-kernel-lab: cannot find the project root (package.json)');
    dir = up;
  }
  return dir;
}

export function goldenDir(): string {
  return process.env.SANA_LAB_GOLDEN ? resolve(process.env.SANA_LAB_GOLDEN) : resolve(projectRoot(), '..', 'shared', 'golden');
}

export function goldenAvailable(): boolean {
  return existsSync(goldenDir());
}

export function goldenPath(file: string): string {
  return join(goldenDir(), file);
}
