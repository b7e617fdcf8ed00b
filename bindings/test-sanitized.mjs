#!/usr/bin/env node
// AddressSanitizer + UndefinedBehaviorSanitizer run of the addon's CPU path (issue: reliability).
//   npm run test:asan [-- test/paths ...]      (default: the native boundary, kernel and reliability tests)
// Builds a CPU-only sanitizer addon into build-asan/ (Debug, -O1 -g), then runs vitest with the ASan
// and UBSan runtimes preloaded into node (node itself is not instrumented, so the runtime must come
// first) and SANA_LAB_ADDON pointing at the instrumented build. Any ASan report or UB aborts the run.
// Leak detection is off: node's own allocations at exit would drown the report; leaks are tested by
// RSS-bounded allocate/dispose cycles instead.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build-asan');
const addon = join(buildDir, 'Debug', 'sana_lab.node');

const build = spawnSync(process.execPath, [join(root, 'bindings', 'build-native.mjs')], {
  stdio: 'inherit',
  env: { ...process.env, SANA_LAB_CUDA: '0', SANA_LAB_SANITIZE: '1', SANA_LAB_BUILD_DIR: buildDir },
});
if (build.status !== 0 || !existsSync(addon)) {
  console.error(`[asan] sanitizer build failed (expected ${addon})`);
  process.exit(1);
}

const runtime = (name) => execFileSync(process.env.CXX ?? 'g++', [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
const preload = [runtime('libasan.so'), runtime('libubsan.so')].join(' ');
const paths = process.argv.slice(2);
const targets = paths.length > 0 ? paths : ['test/bindings', 'test/kernels', 'test/reliability'].filter((p) => existsSync(join(root, p)));
console.error(`[asan] running ${targets.join(' ')} against ${addon}`);
const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...targets], {
  stdio: 'inherit',
  cwd: root,
  env: {
    ...process.env,
    LD_PRELOAD: preload,
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:halt_on_error=1',
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
    SANA_LAB_ADDON: addon,
    SANA_LAB_EXPECT_SANITIZE: '1',
  },
});
process.exit(r.status ?? 1);
