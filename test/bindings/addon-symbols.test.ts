/**
 * The addon the tests load has every `sana::` symbol defined inside it. An undefined one (an object
 * compiled before a header change) still loads — lazy binding — and kills Node with "symbol lookup
 * error" only when the op that needs it runs: on the H200 (2026-11-28), lite-mla's launch_gemm.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REBUILD_HINT, undefinedProjectSymbols } from '../../bench/gpu/addon-symbols.mjs';
import { addonPath } from '../../bindings/addon.js';

const path = addonPath();
const hasNm = (() => {
  try {
    execFileSync('nm', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = !existsSync(path) ? `no addon at ${path}` : !hasNm ? 'nm (binutils) is not installed' : null;
if (skip) console.warn(`[addon-symbols] ${skip}: the addon's undefined-symbol check is skipped`);

describe.skipIf(skip !== null)('the addon (nm -D --undefined-only)', () => {
  it('has no undefined symbols of namespace sana', () => {
    const r = undefinedProjectSymbols(path);
    if ('missing' in r) throw new Error(r.missing);
    expect(r.symbols, `${path}: undefined sana:: symbols — ${REBUILD_HINT}`).toEqual([]);
  });
});
