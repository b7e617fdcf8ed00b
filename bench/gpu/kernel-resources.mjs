// Static resource report of the CUDA kernels: registers, spills and static shared memory per kernel
// as ptxas allocates them (nvcc -Xptxas -v), and the warps per SM that the registers alone allow. No
// GPU needed. A kernel's occupancy is what hides its memory latency: on 2026-11-29 this view showed that
// the norms' v2 kernels ran SANA's rows (C 1152) with a register budget for C 3072 (127–177 registers,
// 8–16 warps per SM), which the H200 run had timed at 37% of the copy bandwidth.
//
//   node bench/gpu/kernel-resources.mjs [--arch 90a] [--json FILE] [--only SUBSTRING] [kernels/cuda/x.cu …]
//
// Without files: every kernels/cuda/*.cu (2–3 minutes on 2 cores). Rows are sorted by the warps the
// registers allow, fewest first; `spills` flags local-memory traffic. The limit printed is the register
// file's alone: a kernel's block size and dynamic shared memory (known only at launch) can lower it.
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { demangle } from './addon-symbols.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// sm_80 / sm_90: 64 K 32-bit registers and at most 64 resident warps per SM; registers are allocated
// per warp in units of 256 (CUDA occupancy calculator: "register allocation unit size", warp granularity).
export const SM = { registers: 65536, maxWarps: 64, allocUnit: 256 };

/** Warps per SM that `registers` per thread allow (0 for more than the 255 a thread can hold). */
export function registerLimitedWarps(registers, sm = SM) {
  if (registers > 255) return 0;
  const perWarp = Math.ceil((Math.max(registers, 1) * 32) / sm.allocUnit) * sm.allocUnit;
  return Math.min(sm.maxWarps, Math.floor(sm.registers / perWarp));
}

/**
 * The kernels of a ptxas -v log: each "Compiling entry function 'NAME' for 'sm_XX'" with the
 * "N bytes stack frame, S bytes spill stores, L bytes spill loads" and "Used R registers[, …, M bytes smem]"
 * lines that follow it.
 */
export function parsePtxasInfo(text) {
  const kernels = [];
  let cur = null;
  for (const line of text.split('\n')) {
    const entry = /Compiling entry function '([^']+)' for '(sm_\w+)'/.exec(line);
    if (entry) {
      cur = { kernel: entry[1], arch: entry[2], registers: 0, spillStores: 0, spillLoads: 0, stackBytes: 0, smemBytes: 0 };
      kernels.push(cur);
      continue;
    }
    if (!cur) continue;
    const frame = /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (frame) {
      cur.stackBytes = Number(frame[1]);
      cur.spillStores = Number(frame[2]);
      cur.spillLoads = Number(frame[3]);
    }
    const used = /Used (\d+) registers/.exec(line);
    if (used) {
      cur.registers = Number(used[1]);
      const smem = /(\d+) bytes smem/.exec(line);
      cur.smemBytes = smem ? Number(smem[1]) : 0;
    }
  }
  return kernels.map((k) => ({ ...k, warps: registerLimitedWarps(k.registers) }));
}

/** "ln_mod_v2<__nv_bfloat16, 5>" from "void sana::cuda::(anonymous namespace)::ln_mod_v2<__nv_bfloat16, 5>(…)". */
export function shortName(demangled) {
  let s = demangled.replace(/^void /, '').replace(/sana::cuda::(\(anonymous namespace\)::)?/g, '');
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '<') depth++;
    else if (s[i] === '>') depth--;
    else if (s[i] === '(' && depth === 0) return s.slice(0, i);
  }
  return s;
}

/** nvcc -Xptxas -v on one source: the parsed kernels, each with its file. */
export function compileForResources(file, { arch = '90a', nvcc = process.env.NVCC || 'nvcc' } = {}) {
  const args = ['-std=c++17', '-O3', '-DNDEBUG', '--expt-relaxed-constexpr', `-arch=sm_${arch}`, '-I', join(ROOT, 'kernels', 'include'),
    '-DSANA_LAB_WITH_CUDA=1', '-Xptxas', '-v', '-c', file, '-o', '/dev/null'];
  return new Promise((resolve, reject) => {
    const p = spawn(nvcc, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    p.stdout.on('data', (d) => (log += d));
    p.stderr.on('data', (d) => (log += d));
    p.on('error', reject);
    p.on('close', (rc) => {
      if (rc !== 0) reject(new Error(`kernel-resources: nvcc failed on ${file} (exit ${rc}):\n${log.slice(-2000)}`));
      else resolve(parsePtxasInfo(log).map((k) => ({ ...k, file })));
    });
  });
}

async function main(argv) {
  let arch = '90a';
  let json = null;
  let only = null;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--arch') arch = argv[++i];
    else if (argv[i] === '--json') json = argv[++i];
    else if (argv[i] === '--only') only = argv[++i];
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: node bench/gpu/kernel-resources.mjs [--arch 90a] [--json FILE] [--only SUBSTRING] [kernels/cuda/x.cu …]');
      return 0;
    } else files.push(argv[i]);
  }
  const dir = join(ROOT, 'kernels', 'cuda');
  if (files.length === 0) for (const f of readdirSync(dir).sort()) if (f.endsWith('.cu')) files.push(join(dir, f));
  const jobs = Math.max(1, Math.min(availableParallelism(), files.length));
  const results = [];
  let next = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < files.length) {
        const f = files[next++];
        results.push(...(await compileForResources(f, { arch })));
        console.error(`[kernel-resources] ${f.replace(`${ROOT}/`, '')} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      }
    }),
  );
  const names = demangle(results.map((r) => r.kernel));
  let rows = results.map((r, i) => ({ ...r, name: shortName(names[i]) }));
  if (only) rows = rows.filter((r) => r.name.includes(only));
  rows.sort((a, b) => a.warps - b.warps || b.registers - a.registers || a.name.localeCompare(b.name));
  console.log(`kernel resources (ptxas, sm_${arch}; warps per SM allowed by the registers alone, of ${SM.maxWarps})`);
  console.log(`${'registers'.padStart(9)} ${'warps'.padStart(5)} ${'smem B'.padStart(7)}  ${'spills'.padEnd(11)} kernel`);
  for (const r of rows) {
    const spills = r.spillStores || r.spillLoads ? `${r.spillStores}/${r.spillLoads} B` : '-';
    console.log(`${String(r.registers).padStart(9)} ${String(r.warps).padStart(5)} ${String(r.smemBytes).padStart(7)}  ${spills.padEnd(11)} ${r.name}`);
  }
  if (json) {
    writeFileSync(json, `${JSON.stringify({ kind: 'kernel-resources', arch: `sm_${arch}`, sm: SM, kernels: rows }, null, 1)}\n`);
    console.log(`→ ${json}`);
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (rc) => process.exit(rc),
    (e) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
