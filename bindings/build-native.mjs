#!/usr/bin/env node
// Builds the native addon with cmake-js (offline: package.json "binary.napi_versions" makes cmake-js use
// the node-api-headers package instead of downloading Node headers).
//   SANA_LAB_CUDA=0        force a CPU-only addon even when nvcc is installed
//   SANA_LAB_SANITIZE=1    AddressSanitizer + UBSan build (see README)
//   SANA_LAB_BUILD_DIR=D   build into D instead of build/ (e.g. a second, CPU-only or sanitizer build)
//   SANA_LAB_WERROR=1      warnings are errors, C++ and CUDA (CI builds this way)
//   SANA_LAB_CUDA_EMU=1    the CUDA kernels compiled for the host emulator (kernels/emu/): the cuda
//                          backend then runs, slowly, on the CPU (for checking kernels without a GPU)
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');

const on = (v) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'off' && v.toLowerCase() !== 'false';
const cuda = process.env.SANA_LAB_CUDA === undefined ? true : on(process.env.SANA_LAB_CUDA);
const emu = on(process.env.SANA_LAB_CUDA_EMU);
const args = [cmakeJs, 'compile', '--directory', root, `--CDSANA_LAB_CUDA=${cuda && !emu ? 'ON' : 'OFF'}`, `--CDSANA_LAB_CUDA_EMU=${emu ? 'ON' : 'OFF'}`];
if (on(process.env.SANA_LAB_SANITIZE)) args.push('--CDSANA_LAB_SANITIZE=ON', '--debug');
if (process.env.SANA_LAB_BUILD_DIR) args.push('--out', process.env.SANA_LAB_BUILD_DIR);
if (process.env.SANA_LAB_NATIVE_ARCH && on(process.env.SANA_LAB_NATIVE_ARCH)) args.push('--CDSANA_LAB_NATIVE_ARCH=ON');
// Always passed, so that a build folder configured once with it does not keep it from the CMake cache.
args.push(`--CDSANA_LAB_WERROR=${on(process.env.SANA_LAB_WERROR) ? 'ON' : 'OFF'}`);
const jobs = process.env.CMAKE_BUILD_PARALLEL_LEVEL ?? String(Math.max(1, (await import('node:os')).availableParallelism()));

// An object whose header dependencies ninja never recorded ("#deps 0", left by an interrupted build)
// is not rebuilt when a header changes: one such object once linked an addon with an undefined symbol
// that only failed on the GPU. Remove those objects so that this build compiles them again.
const outDir = join(root, process.env.SANA_LAB_BUILD_DIR ?? 'build');
if (existsSync(join(outDir, 'build.ninja'))) {
  const deps = spawnSync('ninja', ['-C', outDir, '-t', 'deps'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const stale = deps.status === 0 ? [...deps.stdout.matchAll(/^(\S+\.o): #deps 0,/gm)].map((m) => m[1]) : [];
  for (const o of stale) rmSync(join(outDir, o), { force: true });
  if (stale.length > 0) console.error(`[sana-lab] ${stale.length} object(s) had no recorded header dependencies; rebuilding them: ${stale.join(', ')}`);
}

console.error(`[sana-lab] building the native addon (CUDA ${emu ? 'kernels for the host emulator' : cuda ? 'if nvcc is found' : 'disabled by SANA_LAB_CUDA=0'})`);
const r = spawnSync(process.execPath, [...args, '--parallel', jobs], { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  console.error('[sana-lab] native build failed: see the cmake/compiler output above. Requirements: CMake >= 3.18 and a C++17 compiler.');
  process.exit(r.status ?? 1);
}
