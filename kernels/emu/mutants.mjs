// The emulator checks itself: each mutant is a deliberately broken kernel (one edit of a translated
// source in build-emu/src/), rebuilt and run through the emulated self-test, which must FAIL it.
// A mutant that passes ("survived") means the emulator or the self-test cannot see that kind of bug.
//
//   node kernels/emu/mutants.mjs [--build-dir build-emu] [--only NAME,NAME]   (after kernels/emu/build.sh)
// Exit 0 when every mutant is killed; 1 when one survives or an edit no longer applies.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
    why: 'gemm v3: the consumers release a stage and read the accumulators without wgmma.wait_group',
    file: 'gemm_wgmma',
    from: '    wgmma_commit();\n    wgmma_wait0();\n',
    to: '    wgmma_commit();\n',
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
];

function main() {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : fallback;
  };
  const dir = arg('--build-dir', 'build-emu');
  const only = arg('--only', null)?.split(',');
  const cxx = process.env.CXX ?? 'g++';
  const objs = readdirSync(join(dir, 'obj')).filter((f) => f.endsWith('.o'));
  let bad = 0;
  for (const m of MUTANTS) {
    if (only && !only.includes(m.name)) continue;
    const t0 = Date.now();
    const src = readFileSync(join(dir, 'src', `${m.file}.cpp`), 'utf8');
    const hits = src.split(m.from).length - 1;
    if (hits !== 1) {
      console.log(`[mutants] ${m.name}: the edit matches ${hits} times in ${m.file} (expected once): update kernels/emu/mutants.mjs`);
      bad++;
      continue;
    }
    const mdir = join(dir, 'mutants', m.name);
    mkdirSync(mdir, { recursive: true });
    writeFileSync(join(mdir, `${m.file}.cpp`), src.replace(m.from, m.to));
    const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
    let r = run(cxx, ['-include', 'kernels/emu/cuda_emu.h', `@${join(dir, 'flags.rsp')}`, '-w', '-c', join(mdir, `${m.file}.cpp`), '-o', join(mdir, `${m.file}.o`)]);
    if (r.status !== 0) {
      console.log(`[mutants] ${m.name}: does not compile:\n${r.stderr.slice(0, 2000)}`);
      bad++;
      continue;
    }
    const others = objs.filter((o) => o !== `${m.file}.o`).map((o) => join(dir, 'obj', o));
    r = run(cxx, ['-o', join(mdir, 'selftest'), ...others, join(mdir, `${m.file}.o`), '-lpthread']);
    if (r.status !== 0) {
      console.log(`[mutants] ${m.name}: does not link:\n${r.stderr.slice(0, 2000)}`);
      bad++;
      continue;
    }
    r = run(join(mdir, 'selftest'), ['--parity', '--only', m.op], { timeout: 600_000 });
    const out = `${r.stdout}${r.stderr}`;
    const failedLine = out.split('\n').find((l) => /\d+ checks, \d+ failed/.test(l)) ?? '';
    const fault = out.split('\n').find((l) => l.startsWith('[sana-emu]')) ?? '';
    const secs = ((Date.now() - t0) / 1000).toFixed(0);
    if (r.status === 1) {
      console.log(`[mutants] killed   ${m.name} (${m.why}): ${failedLine.trim()}${fault ? ` — ${fault.slice(0, 160)}` : ''} [${secs} s]`);
    } else {
      console.log(`[mutants] SURVIVED ${m.name} (${m.why}): exit ${r.status ?? r.signal}, ${failedLine.trim()} [${secs} s]`);
      bad++;
    }
  }
  console.log(bad === 0 ? '[mutants] every mutant was killed' : `[mutants] ${bad} mutant(s) survived or could not be built`);
  process.exit(bad === 0 ? 0 : 1);
}

main();
