// kernels/emu/translate.mjs: the only source rewriting the emulator does (launch syntax, dynamic
// shared memory, function attributes); everything else of a .cu file must come through unchanged.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { root } from './toolchain.js';

// @ts-expect-error: a plain .mjs script without type declarations
const { translate } = (await import('../../../kernels/emu/translate.mjs')) as { translate: (src: string) => string };

describe('translate.mjs', () => {
  it('turns a launch into sana_emu::launch with a generic lambda (template arguments deduced as nvcc does)', () => {
    const out = translate('  k<T, 4><<<grid, dim3(32, 4), smem, op_stream()>>>(a, f(b, c),\n      d);\n');
    expect(out).toBe('  ::sana_emu::launch(::sana_emu::Config(grid, dim3(32, 4), smem, op_stream()), "k<T, 4>", [&](auto... a_) { k<T, 4>(a_...); }, a, f(b, c),\n      d);\n');
    expect(translate('probe<<<1, 1, 0, s>>>();')).toBe('::sana_emu::launch(::sana_emu::Config(1, 1, 0, s), "probe", [&](auto... a_) { probe(a_...); });');
    expect(translate('ns::kern<<<g, b>>>(x); // "<<<" in a comment after')).toContain('"ns::kern", [&](auto... a_) { ns::kern(a_...); }, x);');
  });

  it('rewrites extern __shared__ arrays and cudaFuncSetAttribute, keeping line numbers', () => {
    expect(translate('  extern __shared__ __align__(128) uint8_t smem[];')).toBe('  uint8_t* const smem = static_cast<uint8_t*>(::sana_emu::dynamic_smem(128));');
    expect(translate('extern __shared__ float dyn[];')).toBe('float* const dyn = static_cast<float*>(::sana_emu::dynamic_smem(16));');
    expect(translate('cudaFuncSetAttribute(gemm<kA, kB>, cudaFuncAttributeMaxDynamicSharedMemorySize, n)')).toBe(
      '::sana_emu::func_set_attribute("gemm<kA, kB>", cudaFuncAttributeMaxDynamicSharedMemorySize, n)',
    );
    expect(() => translate('k<<<1, 1>>>(a;')).toThrow(/unbalanced/);
  });

  it('turns cudaLaunchKernelEx (the cluster launch) into sana_emu::launch_ex, leaving comments and other names alone', () => {
    expect(translate('  SANA_CUDA_CHECK(op, cudaLaunchKernelEx(&cfg, gemm<BN, false, 2>, ta, f(tb, 1), p));')).toBe(
      '  SANA_CUDA_CHECK(op, ::sana_emu::launch_ex(&cfg, "gemm<BN, false, 2>", [&](auto... a_) { gemm<BN, false, 2>(a_...); }, ta, f(tb, 1), p));',
    );
    expect(translate('cudaLaunchKernelEx(&c, probe)')).toBe('::sana_emu::launch_ex(&c, "probe", [&](auto... a_) { probe(a_...); })');
    expect(translate('// cudaLaunchKernelEx(&c, k, x) in a comment\nmy_cudaLaunchKernelEx(&c, k);')).toBe('// cudaLaunchKernelEx(&c, k, x) in a comment\nmy_cudaLaunchKernelEx(&c, k);');
    expect(() => translate('cudaLaunchKernelEx(&c)')).toThrow(/without a kernel/);
  });

  it('turns static __shared__ variables into references into the emulated shared memory (every declarator)', () => {
    const out = translate('  __shared__ float kt[4][8], vt[4];\n  __shared__ __align__(16) T red[8];  // note\n');
    expect(out).toBe(
      '  float (&kt)[4][8] = *reinterpret_cast<float (*)[4][8]>(::sana_emu::static_smem(sizeof(float[4][8]), 0, alignof(float), __FILE__, __LINE__, "kt")); ' +
        'float (&vt)[4] = *reinterpret_cast<float (*)[4]>(::sana_emu::static_smem(sizeof(float[4]), 0, alignof(float), __FILE__, __LINE__, "vt"));\n' +
        '  T (&red)[8] = *reinterpret_cast<T (*)[8]>(::sana_emu::static_smem(sizeof(T[8]), 16, alignof(T), __FILE__, __LINE__, "red"));  // note\n',
    );
  });

  it('translates every kernel source: no launch syntax left, same number of lines', () => {
    const dir = join(root, 'kernels', 'cuda');
    const files = readdirSync(dir).filter((f) => f.endsWith('.cu'));
    expect(files.length).toBeGreaterThan(10);
    let launches = 0;
    for (const f of files) {
      const src = readFileSync(join(dir, f), 'utf8');
      const out = translate(src);
      // every launch form: <<< >>>, cudaLaunchKernelEx, and launch_dependent (common.cuh: the PDL-capable launch)
      launches += src.split('<<<').length - 1 + src.split('cudaLaunchKernelEx(').length - 1 + src.split('launch_dependent("').length - 1;
      expect(out, f).not.toMatch(/<<<|>>>\s*\(|__shared__/);
      expect(out.split('\n').length, f).toBe(src.split('\n').length);
    }
    expect(launches).toBeGreaterThan(30);
  });
});
