// bench/gpu/kernel-resources.mjs: the ptxas log parser and the register-limited occupancy, and (where
// nvcc is installed, as in CI) the norms' register budgets as ptxas really allocates them.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { demangle } from '../../bench/gpu/addon-symbols.mjs';
import { compileForResources, parsePtxasInfo, registerLimitedWarps, shortName } from '../../bench/gpu/kernel-resources.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const nvcc = spawnSync(process.env.NVCC || 'nvcc', ['--version']).status === 0;
if (!nvcc) console.warn('[kernel-resources] nvcc not found: the ptxas check of the norms is skipped');

const LOG = `ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function '_Z3fooPf' for 'sm_90a'
ptxas info    : Function properties for _Z3fooPf
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 127 registers, used 0 barriers
ptxas info    : Compiling entry function '_Z3barv' for 'sm_90a'
ptxas info    : Function properties for _Z3barv
    24 bytes stack frame, 20 bytes spill stores, 24 bytes spill loads
ptxas info    : Used 64 registers, used 1 barriers, 28480 bytes smem, 408 bytes cmem[0]
`;

describe('kernel resources (ptxas -v)', () => {
  it('parses each entry function with its registers, spills and static shared memory', () => {
    expect(parsePtxasInfo(LOG)).toEqual([
      { kernel: '_Z3fooPf', arch: 'sm_90a', registers: 127, spillStores: 0, spillLoads: 0, stackBytes: 0, smemBytes: 0, warps: 16 },
      { kernel: '_Z3barv', arch: 'sm_90a', registers: 64, spillStores: 20, spillLoads: 24, stackBytes: 24, smemBytes: 28480, warps: 32 },
    ]);
    expect(parsePtxasInfo('no kernels here')).toEqual([]);
  });

  it('counts the warps per SM the registers allow (256-register units per warp, 64 K registers, 64 warps)', () => {
    expect([1, 32, 40, 64, 65, 127, 128, 177, 255, 256].map((r) => registerLimitedWarps(r))).toEqual([64, 64, 51, 32, 28, 16, 16, 11, 8, 0]);
  });

  it('shortens demangled names to the kernel and its template arguments', () => {
    expect(shortName('void sana::cuda::(anonymous namespace)::ln_mod_v2<__nv_bfloat16, 5>(__nv_bfloat16 const*, long)')).toBe('ln_mod_v2<__nv_bfloat16, 5>');
    expect(shortName('sana::cuda::dw_glu_v3(a<b>(c))')).toBe('dw_glu_v3');
    expect(demangle([])).toEqual([]);
  });

  it.skipIf(!nvcc)('the norms run SANA\'s rows (C 1152: budget 5) at 32 warps per SM, without spills', async () => {
    const ks = await compileForResources(join(root, 'kernels', 'cuda', 'norms.cu'));
    const names = demangle(ks.map((k) => k.kernel)).map(shortName);
    const find = (n: string) => ks[names.indexOf(n)];
    const ln5 = find('ln_mod_v2<__nv_bfloat16, 5>');
    expect(ln5, names.join(', ')).toBeDefined();
    expect(ln5!.warps).toBeGreaterThanOrEqual(32);
    expect(ln5!.spillStores).toBe(0);
    // the budget every smaller row takes keeps more warps than the largest one
    expect(find('ln_mod_v2<__nv_bfloat16, 2>')!.warps).toBeGreaterThan(find('ln_mod_v2<__nv_bfloat16, 12>')!.warps);
  }, 180_000);
});
