// Before a GPU session: is what travels to the GPU machine complete, built from the current sources,
// for the right target, and under the 64 MiB the device tool carries? A stale addon (built before a
// kernel version was added) would spend the session's scarce device minutes on old code.
//
//   node bench/gpu/bundle-check.mjs            exit 0: ready (prints the carry list); 1: what to rebuild
//
// Checks: each carried path exists and is newer than its sources (file mtimes; dist/ by dist/cli/main.js,
// which every `tsc` run rewrites); the addon is a real CUDA build (cudaInfo().compiled, not the host
// emulator's "emu" runtime) and, like the self-test, holds sm_90a code (cuobjdump --list-elf, where
// cuobjdump is installed) and has no undefined `sana::` symbols (a stale object, addon-symbols.mjs);
// node.xz is the major version of the node here; the total size.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REBUILD_HINT, undefinedProjectSymbols } from './addon-symbols.mjs';

export const CARRY_LIMIT_BYTES = 64 * 2 ** 20;

/** What travels (the `carry` list of bench/gpu/README.md), what each is built from and how to rebuild it. */
export const ARTIFACTS = [
  {
    path: 'build-gpu/node.xz',
    sources: [],
    make: 'bench/gpu/prepare.sh',
  },
  {
    path: 'build-gpu/node_modules.tar.xz',
    sources: ['bench/gpu/runtime-modules.txt', 'package-lock.json'],
    make: 'bench/gpu/prepare.sh',
  },
  {
    path: 'build-gpu/cuda-selftest',
    sources: ['kernels/cuda', 'kernels/include', 'bench/gpu/selftest', 'bench/gpu/build-selftest.sh'],
    make: 'bench/gpu/build-selftest.sh',
    sm90a: true,
  },
  {
    path: 'build/Release/sana_lab.node',
    sources: ['kernels/cuda', 'kernels/cpu', 'kernels/include', 'bindings/native', 'CMakeLists.txt'],
    make: 'SANA_LAB_WERROR=1 node bindings/build-native.mjs',
    sm90a: true,
    addon: true,
  },
  {
    path: 'dist',
    builtAt: 'dist/cli/main.js',
    sources: ['bench', 'bindings', 'cli', 'reference', 'reports', 'index.ts', 'tsconfig.json'],
    sourceExt: ['.ts'],
    make: 'npm run build:ts',
  },
];

/** Newest mtime (ms) of the files under `p` (a file or a folder), keeping only `ext` when given; 0 when none. */
function newest(p, ext) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return ext && !ext.some((e) => p.endsWith(e)) ? 0 : st.mtimeMs;
  let t = 0;
  for (const e of readdirSync(p)) t = Math.max(t, newest(join(p, e), ext));
  return t;
}

function sizeOf(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((s, e) => s + sizeOf(join(p, e)), 0);
}

/**
 * The GPU architectures a binary holds code for (e.g. ["sm_80", "sm_90a"]): cuobjdump --list-elf where
 * installed; else the ptxas options each embedded cubin records ("-arch sm_90a -m 64"), readable while
 * the fatbin is not compressed; null when neither can tell.
 */
export function listElfArchs(file, cuobjdump = 'cuobjdump') {
  try {
    const out = execFileSync(cuobjdump, ['--list-elf', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return [...new Set([...out.matchAll(/\.(sm_\d+a?)\./g)].map((m) => m[1]))];
  } catch (e) {
    if (e.code !== 'ENOENT') return [];
  }
  const text = readFileSync(file).toString('latin1');
  const archs = [...new Set([...text.matchAll(/-arch (sm_\d+a?) -m 64/g)].map((m) => m[1]))];
  return archs.length > 0 ? archs : null;
}

/** The addon's cudaInfo() (loaded in a child process, so a broken addon cannot take this one down). */
export function inspectAddon(file) {
  const script = `const a = require(${JSON.stringify(resolve(file))}); const i = a.cudaInfo(); console.log(JSON.stringify({ compiled: i.compiled, runtimeVersion: i.runtimeVersion, archs: i.archs }));`;
  try {
    return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  } catch (e) {
    return { error: String(e.stderr || e.message).split('\n').find((l) => l.trim()) ?? 'cannot load' };
  }
}

/**
 * Checks the bundle under `root`. `tools` replaces the inspections (tests): listElf(file) → archs | null,
 * addon(file) → { compiled, runtimeVersion, archs } | { error }, undefinedSymbols(file) → { symbols } | { missing },
 * nodeMajor → the local major version.
 */
export function checkBundle(root, tools = {}) {
  const listElf = tools.listElf ?? listElfArchs;
  const addon = tools.addon ?? inspectAddon;
  const undefinedSymbols = tools.undefinedSymbols ?? undefinedProjectSymbols;
  const nodeMajor = tools.nodeMajor ?? process.versions.node.split('.')[0];
  const problems = [];
  const notes = [];
  let total = 0;
  for (const a of ARTIFACTS) {
    const p = join(root, a.path);
    if (!existsSync(p)) {
      problems.push(`${a.path}: missing — run ${a.make}`);
      continue;
    }
    total += sizeOf(p);
    const built = statSync(join(root, a.builtAt ?? a.path), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    const stale = a.sources
      .map((s) => ({ s, t: newest(join(root, s), a.sourceExt) }))
      .filter((x) => x.t > built)
      .map((x) => x.s);
    if (stale.length > 0) problems.push(`${a.path}: older than ${stale.join(', ')} — run ${a.make}`);
    if (a.sm90a) {
      let archs = listElf(p);
      // A compressed fatbin (--compress-mode=size) hides the cubins' records: the addon says what it was built for.
      if (archs === null && a.addon) {
        const configured = addon(p).archs;
        if (typeof configured === 'string' && configured !== '') archs = configured.split(/\s+/).map((x) => `sm_${x.replace(/-(real|virtual)$/, '')}`);
      }
      if (archs === null) notes.push(`${a.path}: no cuobjdump and no readable cubin options: its sm_90a code not checked`);
      else if (!archs.includes('sm_90a')) problems.push(`${a.path}: no sm_90a code (has ${archs.join(', ') || 'no CUDA code'}) — gemm v3 needs it; run ${a.make}`);
    }
    if (a.addon) {
      const i = addon(p);
      if (i.error) problems.push(`${a.path}: cannot be loaded: ${i.error}`);
      else if (!i.compiled) problems.push(`${a.path}: built without CUDA — run ${a.make} where nvcc is installed`);
      else if (i.runtimeVersion === 'emu') problems.push(`${a.path}: the host emulator's build (SANA_LAB_CUDA_EMU=1), not CUDA — run ${a.make}`);
      // Loading succeeds with an unresolved symbol (lazy binding): it fails only when the op runs.
      let u;
      try {
        u = undefinedSymbols(p);
      } catch (e) {
        u = { missing: e.message };
      }
      if (u.missing) notes.push(`${a.path}: undefined project symbols not checked: ${u.missing}`);
      else if (u.symbols.length > 0) problems.push(`${a.path}: ${u.symbols.length} undefined sana:: symbol${u.symbols.length > 1 ? 's' : ''} (a stale object): ${u.symbols.join('; ')} — ${REBUILD_HINT}`);
    }
  }
  const versionFile = join(root, 'build-gpu/node.version');
  if (existsSync(join(root, 'build-gpu/node.xz'))) {
    const v = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : '';
    if (v.split('.')[0] !== String(nodeMajor)) problems.push(`build-gpu/node.xz: node ${v || '(unknown version)'}, not the major ${nodeMajor} of the node here — run bench/gpu/prepare.sh`);
  }
  if (total > CARRY_LIMIT_BYTES) problems.push(`the carried paths total ${(total / 2 ** 20).toFixed(1)} MiB, over the device tool's 64 MiB`);
  return { ok: problems.length === 0, problems, notes, totalBytes: total, carry: ARTIFACTS.map((a) => a.path) };
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && resolve(process.argv[1]) === self) {
  const root = resolve(self, '..', '..', '..');
  const r = checkBundle(root);
  for (const n of r.notes) console.log(`[bundle] note: ${n}`);
  if (!r.ok) {
    for (const p of r.problems) console.log(`[bundle] ${p}`);
    console.log(`[bundle] NOT ready (${r.problems.length} problem${r.problems.length > 1 ? 's' : ''})`);
    process.exit(1);
  }
  console.log(`[bundle] ready: ${(r.totalBytes / 2 ** 20).toFixed(1)} MiB of ${CARRY_LIMIT_BYTES / 2 ** 20} MiB, every path newer than its sources`);
  console.log(`[bundle] carry=${JSON.stringify(r.carry)}`);
}
