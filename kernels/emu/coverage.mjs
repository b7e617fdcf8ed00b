// Which kernel code does the GPU self-test never run? Builds the emulator with gcov instrumentation
// (build-emu-cov/), runs the self-test's parity on it, and reports, per kernels/cuda/*.cu file, the
// share of lines executed and every __global__ kernel instantiation that never ran (a kernel variant
// the parity cases do not reach, e.g. a long-row path that only SANA-sized inputs take).
//
//   node kernels/emu/coverage.mjs [--only OPS] [--skip-build]
// Exit 0 always (a report, not a check); the kernels never run are listed first.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const dir = 'build-emu-cov';
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
  if (r.error) throw r.error;
  return r;
};

if (!process.argv.includes('--skip-build')) {
  console.error('[coverage] building the emulator with --coverage (build-emu-cov/)');
  const b = run('bash', ['kernels/emu/build.sh'], { env: { ...process.env, SANA_EMU_BUILD_DIR: dir, SANA_EMU_CXXFLAGS: '-O0 --coverage' }, stdio: 'inherit' });
  if (b.status !== 0) process.exit(1);
}
for (const f of readdirSync(join(dir, 'obj'))) if (f.endsWith('.gcda')) rmSync(join(dir, 'obj', f));
const only = arg('--only', null);
console.error(`[coverage] running the self-test's parity${only ? ` (--only ${only})` : ''}`);
const p = run(join(dir, 'cuda-selftest-emu'), ['--parity', ...(only ? ['--only', only] : [])]);
console.error(`[coverage] ${(p.stdout.split('\n').find((l) => /checks, \d+ failed/.test(l)) ?? '').trim()}`);

// Kernel names, from their definitions in the sources.
const sources = readdirSync('kernels/cuda').filter((f) => f.endsWith('.cu'));
const kernels = new Set();
for (const f of sources) {
  for (const m of readFileSync(join('kernels/cuda', f), 'utf8').matchAll(/__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s+)?(\w+)/g)) kernels.add(m[1]);
}

const work = join(dir, 'gcov');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const never = [];
const files = [];
for (const f of sources) {
  const base = f.replace(/\.cu$/, '');
  const g = run('gcov', ['-f', '-o', join('..', 'obj'), join('..', 'src', `${base}.cpp`)], { cwd: work });
  // Function blocks: "Function 'mangled'" then "Lines executed:P% of N".
  const lines = g.stdout.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    const fm = /^Function '(.+)'$/.exec(lines[i]);
    const lm = /^Lines executed:([\d.]+)% of (\d+)/.exec(lines[i + 1]);
    if (!fm || !lm) continue;
    const name = run('c++filt', [fm[1]]).stdout.trim().replaceAll('(anonymous namespace)::', '');
    const short = /(?:^|[\s:])(\w+)(?:<[^(]*>)?\(/.exec(name)?.[1];
    if (short && kernels.has(short) && Number(lm[1]) === 0) never.push(`${f}: ${name.replace(/\(.*$/, '')}`);
  }
  // The file's own line total (gcov prints one per source file it touched).
  const fileIdx = lines.findIndex((l) => l === `File '${join(process.cwd(), 'kernels', 'cuda', f)}'` || l.endsWith(`kernels/cuda/${f}'`));
  const lm = fileIdx >= 0 ? /^Lines executed:([\d.]+)% of (\d+)/.exec(lines[fileIdx + 1]) : null;
  if (lm) files.push(`${f.padEnd(24)} ${lm[1].padStart(6)}% of ${lm[2]} lines`);
}
console.log(never.length ? `kernel instantiations the self-test never runs (${never.length}):` : 'every kernel instantiation runs at least once');
for (const n of [...new Set(never)]) console.log(`  ${n}`);
console.log('line coverage of kernels/cuda/ (host code included: error paths are most of what is left):');
for (const l of files) console.log(`  ${l}`);
