/**
 * `sana-lab lab` (npm run lab): the lab's main job — everything that exists, in order, with progress.
 * Today: environment, golden-file integrity, native ↔ reference conversion parity. Parity, benchmarks
 * and reports join as their issues land.
 */
import { readdirSync } from 'node:fs';
import { parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { environment } from '../environment.js';
import { tryLoadAddon } from '../../bindings/addon.js';
import { f32ToBf16Bits } from '../../reference/core/dtype.js';
import { goldenAvailable, goldenDir, goldenPath } from '../../reference/core/golden.js';
import { Rng } from '../../reference/core/random.js';
import { SafetensorsFile } from '../../reference/core/safetensors.js';

interface StepResult {
  step: string;
  ok: boolean;
  detail: string;
}

function goldenStep(): StepResult {
  if (!goldenAvailable()) return { step: 'golden files', ok: true, detail: `skipped: ${goldenDir()} is absent` };
  const files = readdirSync(goldenDir()).filter((f) => f.endsWith('.safetensors'));
  let tensors = 0;
  let bytes = 0;
  for (const f of files) {
    const st = SafetensorsFile.open(goldenPath(f));
    try {
      for (const e of st.header.entries) {
        tensors++;
        bytes += e.end - e.begin;
      }
    } finally {
      st.close();
    }
  }
  return { step: 'golden files', ok: true, detail: `${files.length} files, ${tensors} tensors, ${(bytes / 2 ** 20).toFixed(1)} MiB validated` };
}

function conversionStep(): StepResult {
  const { addon, error } = tryLoadAddon();
  if (addon === null) return { step: 'native bf16 conversion', ok: false, detail: error ?? 'addon unavailable' };
  const n = 1 << 20;
  const x = new Float32Array(n);
  new Rng(7).fillNormal(x, 0, 100);
  const native = addon.f32ToBf16(x);
  let mismatches = 0;
  for (let i = 0; i < n; i++) if (native[i] !== f32ToBf16Bits(x[i]!)) mismatches++;
  return {
    step: 'native bf16 conversion',
    ok: mismatches === 0,
    detail: `${n} random values, ${mismatches} bit mismatches between the addon and reference/core/dtype.ts`,
  };
}

export const labCommand: Command = {
  name: 'lab',
  summary: 'the main job: environment, integrity and parity checks, benchmarks and reports that exist',
  usage: ['usage: sana-lab lab [--json]', '', 'Runs every lab step that exists, printing progress; exits non-zero when a step fails.', '', '  --json    print the step results as JSON at the end'].join('\n'),
  async run(argv) {
    const args = parseArgs('lab', argv, { json: { type: 'flag' } });
    const env = environment();
    console.error(`[lab] sana-kernel-lab ${env.version} on ${env.machine.cpuModel} (${env.machine.threads} threads); backends: ${env.backends.filter((b) => b.available).map((b) => b.name).join(', ')}`);
    const steps = [goldenStep, conversionStep];
    const results: StepResult[] = [];
    for (const [i, step] of steps.entries()) {
      const r = step();
      results.push(r);
      console.error(`[lab ${i + 1}/${steps.length}] ${r.ok ? 'ok  ' : 'FAIL'} ${r.step}: ${r.detail}`);
    }
    if (args.flags.has('json')) console.log(JSON.stringify({ environment: env, steps: results }, null, 2));
    return results.every((r) => r.ok) ? 0 : 1;
  },
};
