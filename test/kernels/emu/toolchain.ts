// What the emulator's C++ tests need from the machine: a C++ compiler and the CUDA headers (types
// and cuda_bf16.h only; nothing of the CUDA runtime is linked). The include folder is found from
// CUDA_HOME / CUDA_PATH, else nvcc on PATH (<bin>/../include, also with symlinks resolved), else the
// conventional /usr/local/cuda/include (where nvcc on PATH may be a wrapper script).
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const compiler = ['c++', 'g++', 'clang++'].find((c) => spawnSync(c, ['--version']).status === 0);

function cudaInclude(): string | undefined {
  const candidates: string[] = [];
  for (const env of [process.env.CUDA_HOME, process.env.CUDA_PATH]) if (env) candidates.push(join(env, 'include'));
  const which = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' });
  const nvcc = which.status === 0 ? which.stdout.trim() : '';
  if (nvcc) {
    candidates.push(join(dirname(nvcc), '..', 'include'));
    candidates.push(join(dirname(realpathSync(nvcc)), '..', 'include'));
  }
  candidates.push('/usr/local/cuda/include');
  return candidates.find((dir) => existsSync(join(dir, 'cuda.h')));
}

export const cudaInc = cudaInclude();

/** Why the emulator's C++ tests cannot run here ('' when they can). */
export function missingToolchain(): string {
  if (!compiler) return 'no C++ compiler found';
  if (!cudaInc) return 'no cuda.h found (CUDA_HOME, nvcc, /usr/local/cuda)';
  return '';
}

/** Compiles `args` (sources and flags, C++17, warnings as errors) into a temporary executable and runs it. */
export function buildAndRun(tag: string, args: string[]): { build: SpawnSyncReturns<string>; run?: SpawnSyncReturns<string>; output: string } {
  const dir = mkdtempSync(join(tmpdir(), `sana-${tag}-`));
  try {
    const exe = join(dir, tag);
    const build = spawnSync(compiler!, ['-std=c++17', '-O1', '-Wall', '-Wextra', '-Werror', '-I', join(root, 'kernels', 'emu'), '-I', cudaInc!, ...args, '-o', exe], {
      encoding: 'utf8',
    });
    if (build.status !== 0) return { build, output: build.stderr };
    const run = spawnSync(exe, [], { encoding: 'utf8' });
    return { build, run, output: `${run.stdout}${run.stderr}${run.signal ? `\nkilled by ${run.signal}` : ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
