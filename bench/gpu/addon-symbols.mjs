// Undefined symbols of the project's own namespace in the addon. Everything in `sana::` is compiled into
// sana_lab.node, so an undefined one means a stale object: on the H200 (2026-11-28) lite_mla.cu.o,
// compiled before launch_gemm gained a parameter, left `sana::cuda::launch_gemm(char const*,
// GemmProblem const&, int)` unresolved, and Node died (exit 127, "symbol lookup error") only when lite-mla
// first ran on the GPU. `nm` finds it before the addon leaves this machine. Used by bundle-check.mjs and
// test/bindings/addon-symbols.test.ts.
import { execFileSync } from 'node:child_process';

export const REBUILD_HINT = 'rebuild the addon (node bindings/build-native.mjs); if it persists, delete build/ first';

// Itanium-mangled names inside namespace sana: _ZN4sana…, const/volatile/ref-qualified members
// (_ZNK4sana…), and their vtables / typeinfo (_ZTVN4sana…). Matched on the mangled name, because a
// demangled template function starts with its return type ("void sana::f<int>(int)").
const PROJECT_MANGLED = /^_Z(?:T[VIST])?N[rVKRO]*4sana/;

/** The project's mangled names among `nm -D --undefined-only` lines ("    U name@VERSION"). */
export function projectSymbolsIn(nmText) {
  const names = [];
  for (const line of nmText.split('\n')) {
    const m = /^\s*[Uwv]\s+(\S+)/.exec(line);
    const name = m?.[1]?.split('@')[0];
    if (name && PROJECT_MANGLED.test(name)) names.push(name);
  }
  return names;
}

/** Demangled by c++filt where installed (same binutils as nm), else left mangled (also kernel-resources.mjs). */
export function demangle(names) {
  if (names.length === 0) return names;
  try {
    const out = execFileSync('c++filt', [], { input: names.join('\n') + '\n', encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
    const lines = out.split('\n').slice(0, names.length);
    return lines.length === names.length ? lines : names;
  } catch {
    return names;
  }
}

/**
 * Undefined `sana::` symbols of a shared object: `{ symbols }` (demangled, empty when clean), or
 * `{ missing }` when `nm` is not installed. Throws when nm cannot read the file.
 */
export function undefinedProjectSymbols(file, nm = 'nm') {
  let out;
  try {
    out = execFileSync(nm, ['-D', '--undefined-only', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20 });
  } catch (e) {
    if (e.code === 'ENOENT') return { missing: `${nm} not found (binutils)` };
    throw new Error(`${nm} -D --undefined-only ${file}: ${String(e.stderr || e.message).trim().split('\n')[0]}`);
  }
  return { symbols: demangle(projectSymbolsIn(out)) };
}
