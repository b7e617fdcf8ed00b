// The emulator checks itself: each mutant is a deliberately broken kernel (one edit of a translated
// source in build-emu/src/), rebuilt and run through the emulated self-test, which must FAIL it.
// A mutant that passes ("survived") means the emulator or the self-test cannot see that kind of bug.
// A mutant is one edit (from → to) or several (edits: [{ from, to }, …]), each matching exactly once; `env`
// adds environment variables to its self-test run (e.g. SANA_LAB_PDL=1 for the launch mode it breaks).
//
//   node kernels/emu/mutants.mjs [--build-dir build-emu] [--only NAME,NAME] [--jobs N]   (after kernels/emu/build.sh)
//   node kernels/emu/mutants.mjs --asan --build-dir build-emu-asan            (after an ASan build, see check.sh)
// Without --asan the mutants that a failing check must kill run; with --asan those that only an
// AddressSanitizer build can see (out-of-bounds global memory, what compute-sanitizer memcheck reports).
// Exit 0 when every mutant is killed; 1 when one survives or an edit no longer applies.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

// layernorm-modulate v2 without its PDL wait (the kernel's first statement), shared by two mutants.
const LN_V2_NO_WAIT = {
  from: 'const T* __restrict__ scale, int64_t rows_per_mod, float eps, T* __restrict__ out) {\n  ptx::dependent_prologue();  // PDL: wait for the kernel ahead (launch_dependent)\n',
  to: 'const T* __restrict__ scale, int64_t rows_per_mod, float eps, T* __restrict__ out) {\n',
};

export const MUTANTS = [
  {
    name: 'wgmma-descriptor-stride',
    why: 'gemm v3: the smem descriptor strides 8-row groups by 512 bytes instead of 1024 (TMA wrote them 1024 apart)',
    file: 'gemm_wgmma',
    from: '(uint64_t{1024 >> 4} << 32)',
    to: '(uint64_t{512 >> 4} << 32)',
    op: 'gemm-v3',
  },
  {
    name: 'wgmma-no-wait',
    why: 'gemm v3: the epilogue reads the accumulators without waiting for the last wgmma batch',
    file: 'gemm_wgmma',
    from: '  wgmma_wait<0>();  // the last batch',
    to: '  // (removed) the last batch',
    op: 'gemm-v3',
  },
  {
    name: 'wgmma-inflight-release',
    why: 'gemm v3: a stage is handed back to the producer while the wgmma batch reading it is still in flight',
    file: 'gemm_wgmma',
    from: 'if (kt > 0 && lane == 0) {  // this warp is done reading stage kt − 1\n      const uint32_t bar = empty0 + 8 * ((kt - 1) % S);',
    to: 'if (lane == 0) {\n      const uint32_t bar = empty0 + 8 * s;',
    op: 'gemm-v3',
  },
  {
    name: 'cluster-empty-count',
    why: 'gemm v3 in clusters: a stage counts as free once this block\'s consumers are done with it, not the other block\'s (whose copy of B the refill overwrites)',
    file: 'gemm_wgmma',
    from: 'mbar_init(empty0 + 8 * s, plan::kWgConsumerWarps * kCluster);',
    to: 'mbar_init(empty0 + 8 * s, plan::kWgConsumerWarps);',
    op: 'gemm-v3',
  },
  {
    name: 'cluster-local-release',
    why: 'gemm v3 in clusters: consumers hand a stage back to their own producer only (the other block\'s never refills it)',
    file: 'gemm_wgmma',
    from: 'for (int r = 0; r < kCluster; ++r) mbar_arrive_cluster(bar, r);',
    to: 'mbar_arrive_cluster(bar, rank);',
    op: 'gemm-v3',
  },
  {
    name: 'cluster-multicast-self',
    why: 'gemm v3 in clusters: each block\'s share of B lands in its own shared memory only (the other half never arrives)',
    file: 'gemm_wgmma',
    from: 'static_cast<uint16_t>((1u << kCluster) - 1));',
    to: 'static_cast<uint16_t>(1u << rank));',
    op: 'gemm-v3',
  },
  {
    name: 'cluster-b-share-offset',
    why: 'gemm v3 in clusters: both blocks\' shares of B land at the start of the B tile (one overwrites the other)',
    file: 'gemm_wgmma',
    from: 'tma_load_2d_multicast(sa + kABytes + rank * kBRows * 128,',
    to: 'tma_load_2d_multicast(sa + kABytes,',
    op: 'gemm-v3',
  },
  {
    name: 'cluster-exit-early',
    why: 'gemm v3 in clusters: a block exits without waiting for the other block to be done with its shared memory',
    file: 'gemm_wgmma',
    from: '__device__ __forceinline__ void cluster_wait_before_exit() { cluster_wait(); }',
    to: '__device__ __forceinline__ void cluster_wait_before_exit() {}',
    op: 'gemm-v3',
  },
  {
    name: 'mbarrier-parity',
    why: 'gemm v3: the producer waits on the empty barrier with the wrong parity (a pipeline that never starts)',
    file: 'gemm_wgmma',
    from: 'mbar_wait(empty0 + 8 * s, (use & 1u) ^ 1u);',
    to: 'mbar_wait(empty0 + 8 * s, use & 1u);',
    op: 'gemm-v3',
  },
  {
    name: 'wgmma-192-narrow',
    why: 'gemm v3: the 192-wide tile issues the 128-wide wgmma (each tile\'s last 64 columns never computed)',
    file: 'gemm_wgmma',
    from: '    wgmma_m64n192k16(d, desc_a, desc_b);',
    to: '    wgmma_m64n128k16(reinterpret_cast<float(&)[64]>(d), desc_a, desc_b);',
    op: 'gemm-v3',
  },
  {
    name: 'splitk-previous-range',
    why: 'gemm v3 split-K: split s starts at the previous split\'s first k-slice (its range overlaps split s − 1\'s, those slices counted twice)',
    file: 'gemm_wgmma',
    from: 'kt0 = static_cast<int>(plan::wg_split_begin(KT, blockIdx.y, p.splits));',
    to: 'kt0 = static_cast<int>(plan::wg_split_begin(KT, blockIdx.y > 0 ? blockIdx.y - 1 : 0, p.splits));',
    op: 'gemm-v3',
  },
  {
    name: 'splitk-reduce-drops-last',
    why: 'gemm v3 split-K: the reduce (16-byte path) sums the partials of splits 0 … S − 2 and drops the last',
    file: 'gemm_splitk_reduce',
    from: 'for (int s = 1; s < splits; ++s) {\n        load8(',
    to: 'for (int s = 1; s < splits - 1; ++s) {\n        load8(',
    op: 'gemm-v3',
  },
  {
    name: 'cp-async-early',
    why: 'gemm v2: the main loop waits for one cp.async group too few, reading a stage before it landed',
    file: 'gemm_mma',
    from: 'cp_async_wait<STAGES - 2>();',
    to: 'cp_async_wait<STAGES - 1>();',
    op: 'gemm',
  },
  {
    name: 'ldmatrix-a-rows',
    why: 'gemm v2: the A fragments are loaded from the wrong k half for lanes 8–15 and 24–31',
    file: 'gemm_mma',
    from: 'kk * 2 + lane / 16',
    to: 'kk * 2 + (lane / 8) % 2',
    op: 'gemm',
  },
  {
    name: 'xattn-pv-not-transposed',
    why: 'cross-attention v2: V loaded for P·V without .trans',
    file: 'cross_attention',
    from: 'ptx::ldmatrix_x4_trans(',
    to: 'ptx::ldmatrix_x4(',
    op: 'cross-attention',
  },
  {
    name: 'missing-syncthreads',
    why: 'norms: block_sum reads the per-warp partial sums without the barrier after they are written',
    file: 'norms',
    from: '  if (lane == 0) red[warp] = v;\n  __syncthreads();\n',
    to: '  if (lane == 0) red[warp] = v;\n',
    op: 'layernorm-modulate',
  },
  {
    name: 'tile-overwritten-early',
    why: 'linear-attention v2: the next key/value tile is stored without waiting until every thread has consumed the previous one',
    file: 'linear_attention',
    from: '    __syncthreads();  // the previous tile is consumed\n    // float4 stores',
    to: '    // float4 stores',
    op: 'linear-attention',
  },
  {
    name: 'la-state-zero-half',
    why: 'linear-attention: la_state_zero clears only the first half of the state the atomics accumulate into (the rest keeps what the scratch held)',
    file: 'linear_attention',
    from: 'i < n; i += static_cast<int64_t>(gridDim.x) * 256) state[i] = 0.f;',
    to: 'i < n / 2; i += static_cast<int64_t>(gridDim.x) * 256) state[i] = 0.f;',
    op: 'linear-attention',
  },
  {
    name: 'la3-state-no-ones-tile',
    why: 'linear-attention v3: the state mma multiplies φ(k) by zeros instead of the all-ones tile (no Σφ(k) row: the denominator is eps alone)',
    file: 'linear_attention',
    from: 'bv[4][0] = bv[4][1] = kOnesBf16x2;',
    to: 'bv[4][0] = bv[4][1] = 0u;',
    op: 'linear-attention@3',
  },
  {
    name: 'la3-apply-no-s-lo',
    why: 'linear-attention v3: the apply pass multiplies by S_hi only (the state rounded to bf16: ~8 mantissa bits instead of ~16)',
    file: 'linear_attention',
    from: '        ptx::mma_m16n8k16_bf16(acc[nt], a[ks], blo[nt][ks][0], blo[nt][ks][1]);\n',
    to: '',
    op: 'linear-attention@3',
  },
  {
    name: 'la3-cp-async-early',
    why: 'linear-attention v3: the state loop waits for one cp.async group too few, multiplying a k/v stage before it landed',
    file: 'linear_attention',
    from: 'ptx::cp_async_wait<kStages3 - 2>();  // this thread',
    to: 'ptx::cp_async_wait<kStages3 - 1>();  // this thread',
    op: 'linear-attention@3',
  },
  {
    name: 'softmax-no-rescale',
    why: 'cross-attention cores v2 and v3 (online_softmax_step): the running sum and output are not rescaled when a later key block raises the row maximum',
    file: 'cross_attention',
    from: 'const float corr = kExp2 ? exp2f(m_run[r] - m_use) : expf(m_run[r] - m_use);',
    to: 'const float corr = 1.0f;',
    op: 'cross-attention@2',
  },
  {
    name: 'xattn-v3-natural-exp',
    why: 'cross-attention core v3 (op v4): its log2-domain logits (scale and mask pre-multiplied by log2 e) exponentiated with expf instead of exp2f',
    file: 'cross_attention',
    from: '    online_softmax_step<true>(s, o, m_run, l_run);',
    to: '    online_softmax_step<false>(s, o, m_run, l_run);',
    op: 'cross-attention@4',
  },
  {
    name: 'state-without-ones-row',
    why: 'linear-attention-block v3: the QKV gemm epilogue accumulates the k/v state but not Σφ(k) (the normaliser row)',
    file: 'gemm_mma',
    from: 'if (i0 == 0) atomicAdd(&S[32 * 32 + j0 + c], ks[c]);',
    to: '(void)ks;',
    op: 'linear-attention-block',
  },
  {
    name: 'la-packed-qkv-n',
    why: 'linear-attention-block: with q, k, v weights back to back the one gemm computes only N = C columns (k and v never written)',
    file: 'linear_attention',
    from: 'p.N = packed ? 3 * C : C;',
    to: 'p.N = C;',
    op: 'linear-attention-block',
  },
  {
    name: 'depthwise-edge',
    why: 'mix-ffn v2: the depthwise 3×3 reads the row below the image (the next image\'s first row) instead of padding',
    file: 'mix_ffn',
    from: 'if (iy < 0 || iy >= H) continue;',
    to: 'if (iy < 0 || iy > H) continue;',
    op: 'mix-ffn',
  },
  {
    name: 'head-v4-b-fragment',
    why: 'dcae-head v4: the B fragment\'s second register holds k-rows + 4 instead of + 8 (half the channels multiplied by the wrong weights)',
    file: 'dcae_head',
    from: 'const int n = l / 4, c = ks * 16 + 2 * (l % 4) + 8 * j;',
    to: 'const int n = l / 4, c = ks * 16 + 2 * (l % 4) + 4 * j;',
    op: 'dcae-head@4',
  },
  {
    name: 'head-v4-padding-normalized',
    why: 'dcae-head v4: the halo pixels outside the image are normalized too, so the conv\'s zero padding becomes act(bias)',
    file: 'dcae_head',
    from: '      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;\n      bf16* tr',
    to: '      bf16* tr',
    op: 'dcae-head@4',
  },
  {
    name: 'depthwise-v3-halo-shift',
    why: 'mix-ffn v4 (depthwise v3): the halo tile is staged one pixel to the right (no left halo column), so every tap reads its neighbour',
    file: 'mix_ffn',
    from: 'ix = x0 + p % kHaloW3 - 1;',
    to: 'ix = x0 + p % kHaloW3;',
    op: 'mix-ffn@4',
  },
  {
    name: 'depthwise-v3-no-wait',
    why: 'mix-ffn v4 (depthwise v3): the threads read the staged tile without waiting for its cp.async copies',
    file: 'mix_ffn',
    from: '  ptx::cp_async_wait<0>();\n  __syncthreads();\n\n  // Thread → 8 channels',
    to: '  __syncthreads();\n\n  // Thread → 8 channels',
    op: 'mix-ffn@4',
  },
  {
    name: 'lite-mla-tap-shift',
    why: 'lite-mla v3: each input column is weighted with the tap one to its right (kx + 1 mod k) in the fused depthwise step',
    file: 'lite_mla',
    from: 'const float* wtap = wt[ky * KS + kx];',
    to: 'const float* wtap = wt[ky * KS + (kx + 1) % KS];',
    op: 'lite-mla@3',
  },
  {
    name: 'head-padding',
    why: 'dcae-head v3: the halo outside the image is not the conv\'s zero padding',
    file: 'dcae_head',
    from: 'for (int c = lane; c < C; c += 32) tr[c] = 0.0f;',
    to: 'for (int c = lane; c < C; c += 32) tr[c] = 0.5f;',
    op: 'dcae-head',
  },
  {
    name: 'conv-tap-column',
    why: 'conv3x3 v4: the 4-D TMA box of tap (ky, kx) starts at column ox0 + kx instead of ox0 + kx − 1 (a window shifted by one pixel)',
    file: 'gemm_wgmma',
    from: 'conv_ox0 + tap % 3 - 1',
    to: 'conv_ox0 + tap % 3',
    op: 'conv3x3',
  },
  {
    name: 'conv-image-origin',
    why: 'conv3x3 v4: the tile\'s image index is taken from the row count (m0 / W) instead of m0 / (H·W)',
    file: 'gemm_wgmma',
    from: 'conv_b = static_cast<int32_t>(m0 / (p.conv_h * p.conv_w));',
    to: 'conv_b = static_cast<int32_t>(m0 / (p.conv_h * p.conv_w)) * 0;',
    op: 'conv3x3',
  },
  {
    name: 'upsample-phase-row',
    why: 'dcae-upsample v3: the phase-1 output rows (2y + 1) read the phase-0 window (x rows y − 1, y instead of y, y + 1)',
    file: 'gemm_wgmma',
    from: 'conv_oy + (p.conv_phase >> 1) - 1 + (tap >> 1)',
    to: 'conv_oy + (p.conv_phase >> 1) * 0 - 1 + (tap >> 1)',
    op: 'dcae-upsample@3',
  },
  {
    name: 'row-budget-too-small',
    why: 'norms v2: rows that need 3–5 vectors per lane (SANA\'s C 1152) get the 2-vector register budget, so the rest of each row is never read or written',
    file: 'norms',
    from: 'case 5: launch(std::integral_constant<int, 5>{}); break;',
    to: 'case 5: launch(std::integral_constant<int, 2>{}); break;',
    op: 'layernorm-modulate',
  },
  {
    name: 'row-overrun',
    why: 'layernorm-modulate v1: the row loop reads one element past each row (past the buffer on the last row)',
    file: 'norms',
    from: 'for (int64_t c = threadIdx.x; c < C; c += 256) s += ldf(xr[c]);',
    to: 'for (int64_t c = threadIdx.x; c <= C; c += 256) s += ldf(xr[c]);',
    op: 'layernorm-modulate',
    asan: true,
  },
  {
    name: 'pdl-producer-early',
    why: 'gemm v3 as a programmatic dependent: the producer issues its TMA loads before griddepcontrol.wait (the kernel ahead may still be writing x)',
    file: 'gemm_wgmma',
    edits: [
      { from: '  ptx::dependent_prologue();\n', to: '  if (warp != plan::kWgConsumerWarps || lane != 0) ptx::dependent_prologue();\n' },
      { from: "    if constexpr (kCluster > 1) {\n      // Done with the other blocks' shared memory", to: "    if (lane == 0) ptx::grid_dependency_wait();\n    if constexpr (kCluster > 1) {\n      // Done with the other blocks' shared memory" },
    ],
    env: { SANA_LAB_PDL: '1' },
    op: 'gemm-v3',
  },
  {
    name: 'pdl-no-wait',
    why: 'layernorm-modulate v2 launched as a programmatic dependent without griddepcontrol.wait (nothing orders it after the kernel ahead)',
    file: 'norms',
    edits: [LN_V2_NO_WAIT],
    env: { SANA_LAB_PDL: '1' },
    op: 'layernorm-modulate',
  },
  {
    name: 'pdl-read-before-wait',
    why: 'layernorm-modulate v2 as a programmatic dependent reads its input rows before griddepcontrol.wait (plain loads: only the poisoned device memory of an ASan build shows it)',
    file: 'norms',
    edits: [
      LN_V2_NO_WAIT,
      { from: '  const float mu = group_sum(s, tpr) / static_cast<float>(C);\n', to: '  ptx::dependent_prologue();\n  const float mu = group_sum(s, tpr) / static_cast<float>(C);\n' },
    ],
    env: { SANA_LAB_PDL: '1' },
    op: 'layernorm-modulate',
    asan: true,
  },
  {
    name: 'sampler-fma',
    why: 'sampler-update: the data prediction x − σ·g as one fused multiply-add (one rounding instead of the reference\'s two)',
    file: 'sampler_update',
    from: 'const float m = __fsub_rn(xk, __fmul_rn(sigma, g));',
    to: 'const float m = fmaf(-sigma, g, xk);',
    op: 'sampler-update',
  },
  {
    name: 'sampler-d1-sign',
    why: 'sampler-update: the 2nd-order correction added instead of subtracted',
    file: 'sampler_update',
    from: 'if (kind == 1.0f) xn = __fsub_rn(xn,',
    to: 'if (kind == 1.0f) xn = __fadd_rn(xn,',
    op: 'sampler-update',
  },
  {
    name: 'sampler-one-token-copy',
    why: 'sampler-update: only the first copy of the next model input is written (the cond half keeps stale tokens)',
    file: 'sampler_update',
    from: 'for (int64_t j = 0; j < copies; ++j) tokens',
    to: 'for (int64_t j = 0; j < 1; ++j) tokens',
    op: 'sampler-update',
  },
];

/** Runs a command; resolves with its exit status, signal and output (never rejects). */
function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = opts.timeout ? setTimeout(() => child.kill('SIGKILL'), opts.timeout) : null;
    child.on('error', (e) => resolve({ status: null, signal: null, out: `${out}${e.message}` }));
    child.on('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ status, signal, out });
    });
  });
}

/** Builds mutant m against the objects in dir and runs its op's parity; returns the line to print and whether it was killed. */
async function trial(m, dir, objs, cxx, asan) {
  const t0 = Date.now();
  let src = readFileSync(join(dir, 'src', `${m.file}.cpp`), 'utf8');
  for (const e of m.edits ?? [{ from: m.from, to: m.to }]) {
    const hits = src.split(e.from).length - 1;
    if (hits !== 1) return { ok: false, line: `[mutants] ${m.name}: an edit matches ${hits} times in ${m.file} (expected once): update kernels/emu/mutants.mjs` };
    src = src.replace(e.from, e.to);
  }
  const mdir = join(dir, 'mutants', m.name);
  mkdirSync(mdir, { recursive: true });
  writeFileSync(join(mdir, `${m.file}.cpp`), src);
  let r = await run(cxx, ['-include', 'kernels/emu/cuda_emu.h', `@${join(dir, 'flags.rsp')}`, '-w', '-c', join(mdir, `${m.file}.cpp`), '-o', join(mdir, `${m.file}.o`)]);
  if (r.status !== 0) return { ok: false, line: `[mutants] ${m.name}: does not compile:\n${r.out.slice(0, 2000)}` };
  const others = objs.filter((o) => o !== `${m.file}.o`).map((o) => join(dir, 'obj', o));
  r = await run(cxx, [...(asan ? ['-fsanitize=address'] : []), '-o', join(mdir, 'selftest'), ...others, join(mdir, `${m.file}.o`), '-lpthread']);
  if (r.status !== 0) return { ok: false, line: `[mutants] ${m.name}: does not link:\n${r.out.slice(0, 2000)}` };
  // --fail-fast: the first failed check kills the mutant; the op's other cases would only cost time
  // (ASan mutants run every case: the report, not a failed check, is what kills them).
  r = await run(join(mdir, 'selftest'), ['--parity', '--only', m.op, ...(asan ? [] : ['--fail-fast'])], { timeout: 600_000, env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0', ...(m.env ?? {}) } });
  const lines = r.out.split('\n');
  const failedLine = (lines.find((l) => /\d+ checks, \d+ failed/.test(l)) ?? '').trim();
  const fault = lines.find((l) => l.startsWith('[sana-emu]')) ?? '';
  const where = (lines.find((l) => / elements off by > /.test(l)) ?? '').trim();
  const asanReport = lines.find((l) => /ERROR: AddressSanitizer/.test(l));
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  if (asan ? asanReport !== undefined : r.status === 1) {
    const how = asan ? asanReport.trim() : `${failedLine}${fault ? ` — ${fault.slice(0, 160)}` : ''}${where ? ` — first: ${where.slice(0, 160)}` : ''}`;
    return { ok: true, line: `[mutants] killed   ${m.name} (${m.why}): ${how} [${secs} s]` };
  }
  return { ok: false, line: `[mutants] SURVIVED ${m.name} (${m.why}): exit ${r.status ?? r.signal}, ${failedLine} [${secs} s]` };
}

async function main() {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : fallback;
  };
  const dir = arg('--build-dir', 'build-emu');
  const only = arg('--only', null)?.split(',');
  const asan = process.argv.includes('--asan');
  const jobs = Math.max(1, Number(arg('--jobs', process.env.SANA_EMU_JOBS ?? String(availableParallelism()))));
  const cxx = process.env.CXX ?? 'g++';
  const objs = readdirSync(join(dir, 'obj')).filter((f) => f.endsWith('.o'));
  const todo = MUTANTS.filter((m) => (!only || only.includes(m.name)) && Boolean(m.asan) === asan);
  let bad = 0;
  let next = 0;
  // `jobs` mutants at a time (each is one compile, one link and one single-threaded run).
  await Promise.all(
    Array.from({ length: Math.min(jobs, todo.length) }, async () => {
      while (next < todo.length) {
        const m = todo[next++];
        const r = await trial(m, dir, objs, cxx, asan);
        console.log(r.line);
        if (!r.ok) bad++;
      }
    }),
  );
  console.log(bad === 0 ? `[mutants] every mutant was killed (${todo.length})` : `[mutants] ${bad} mutant(s) survived or could not be built`);
  process.exit(bad === 0 ? 0 : 1);
}

await main();
