// The CUDA launch planning is host C++ (kernels/include/sana/cuda/launch_plan.h): this compiles the
// C++ checks in launch_plan_test.cpp with the system compiler and runs them, so CI without a GPU
// verifies the grid sizes, tile coverage and index ranges at every benchmark shape up to 4096².
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const compiler = ['c++', 'g++', 'clang++'].find((c) => spawnSync(c, ['--version']).status === 0);
if (!compiler) console.warn('launch-plan.test: no C++ compiler found, skipping the CUDA launch-plan checks');

describe.skipIf(!compiler)('CUDA launch planning (host C++)', () => {
  it('fits CUDA limits and covers every element at the SANA and DC-AE shapes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sana-launch-plan-'));
    try {
      const exe = join(dir, 'launch_plan_test');
      const build = spawnSync(
        compiler!,
        ['-std=c++17', '-O1', '-Wall', '-Wextra', '-Werror', '-I', join(root, 'kernels', 'include'), join(root, 'test', 'kernels', 'cuda', 'launch_plan_test.cpp'), '-o', exe],
        { encoding: 'utf8' },
      );
      expect(build.status, build.stderr).toBe(0);
      const run = spawnSync(exe, [], { encoding: 'utf8' });
      expect(run.stdout).toMatch(/all launch-plan checks passed \(\d+\)/);
      expect(run.status, run.stdout).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
