// Whole-model parity of the native runners on the GPU (issue 9): the DiT (both block modes) and the
// DC-AE decoder on random mid-size configs, f32 (≤ 1e-4 of the TS reference) and bf16 (≤ 2× the plain
// bf16 model's error) — bench/parity/models.ts, as the tests run it on the cpu backend. Run from the
// repository root with the built dist/ and build/Release/sana_lab.node (bench/gpu/models.sh does):
//   node bench/gpu/model-parity.mjs [--backend cuda|cpu] [--json FILE]   → exit 0 when every record passes
import { writeFileSync } from 'node:fs';
import { modelParity } from '../../dist/bench/parity/models.js';
import { formatStats } from '../../dist/reference/core/compare.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const backend = arg('--backend', 'cuda');
const json = arg('--json', null);

let records;
try {
  records = modelParity(backend, (r) => {
    const v = r.verdict;
    console.log(`${v.pass ? 'pass' : 'FAIL'} ${r.model} ${r.variant} ${r.dtype} [${r.shape.join(', ')}]: ${formatStats(v.stats)}${v.plain ? ` | plain bf16 ${formatStats(v.plain)}` : ''}${v.pass ? '' : ` — ${v.reason}`}`);
  });
} catch (e) {
  console.log(`model-parity: ${backend}: ${e?.message ?? e}`);
  process.exit(1);
}
const failed = records.filter((r) => !r.verdict.pass).length;
console.log(`model-parity ${backend}: ${records.length - failed} of ${records.length} pass`);
if (json) writeFileSync(json, `${JSON.stringify({ schema: 'sana-lab-model-parity/1', backend, timestamp: new Date().toISOString(), records }, null, 2)}\n`);
process.exit(failed === 0 ? 0 : 1);
