// Programmatic dependent launch (SANA_LAB_PDL=1): a kernel launched through launch_dependent may start while
// the kernel ahead of it still runs, so nothing it does before griddepcontrol.wait may touch memory that
// kernel writes. The emulator checks it dynamically (a dependent thread that never waits faults; TMA and
// cp.async before the wait fault; in the AddressSanitizer build any load or store before it is reported),
// but the ASan run covers only some ops. This is the static half, over every kernel source: each kernel
// handed to launch_dependent starts with ptx::dependent_prologue(), and the one exception, gemm v3, does
// only its barrier inits and descriptor prefetches before it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(__dirname, '..', '..', '..', 'kernels', 'cuda');

/** The body of `__global__ … name(…) {` … `}`: the text between its braces, or null. */
function kernelBody(src: string, name: string): string | null {
  const m = new RegExp(`__global__[^;{]*?\\b${name}\\s*\\(`).exec(src);
  if (!m) return null;
  let i = m.index + m[0].length - 1;
  for (let depth = 0; ; i++) {
    if (src[i] === '(') depth++;
    else if (src[i] === ')' && --depth === 0) break;
  }
  const open = src.indexOf('{', i);
  let depth = 0;
  for (let j = open; j < src.length; j++) {
    if (src[j] === '{') depth++;
    else if (src[j] === '}' && --depth === 0) return src.slice(open + 1, j);
  }
  return null;
}

/** The kernels each source launches through launch_dependent (the second argument, template arguments dropped). */
function dependentKernels(src: string): string[] {
  const names = new Set<string>();
  for (const m of src.matchAll(/launch_dependent\("[^"]*",\s*([A-Za-z_]\w*)/g)) names.add(m[1]!);
  return [...names];
}

describe('programmatic dependent launch: the kernels wait first (kernels/cuda)', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cu'));

  it('every kernel launched through launch_dependent starts with ptx::dependent_prologue()', () => {
    let kernels = 0;
    for (const f of files) {
      const src = readFileSync(join(dir, f), 'utf8');
      for (const k of dependentKernels(src)) {
        if (k === 'gemm_wgmma_kernel') continue;  // the exception, below
        const body = kernelBody(src, k);
        expect(body, `${f}: kernel ${k}`).not.toBeNull();
        const first = body!.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('//'));
        expect(first, `${f}: ${k} must call ptx::dependent_prologue() first`).toMatch(/^ptx::dependent_prologue\(\);/);
        kernels++;
      }
    }
    expect(kernels).toBeGreaterThan(30);
  });

  it('gemm v3 (its own cluster-aware launch) waits after its barrier inits and descriptor prefetches only, before its role split', () => {
    const src = readFileSync(join(dir, 'gemm_wgmma.cu'), 'utf8');
    const body = kernelBody(src, 'gemm_wgmma_kernel')!;
    const wait = body.indexOf('ptx::dependent_prologue();');
    expect(wait).toBeGreaterThan(0);
    const before = body.slice(0, wait);
    // no TMA loads, no epilogue pointers, no partial workspace before the wait
    expect(before).not.toMatch(/tma_load|ep\.|p\.partial|p\.a\b|p\.b\b/);
    expect(before).toContain('prefetch_tensormap(&tma_a)');
    expect(before).toContain('mbar_init(');
    expect(body.slice(wait)).toMatch(/if \(warp == plan::kWgConsumerWarps\) \{  \/\/ ---- producer warp/);
    // and both of its launches (plain and clustered) carry the attribute when PDL is on
    expect(src).toMatch(/launch_dependent\("gemm_wgmma_kernel<BN, kSplit, 1, kProbe>"/);
    expect(src).toMatch(/attr\[1\]\.id = cudaLaunchAttributeProgrammaticStreamSerialization/);
  });
});
