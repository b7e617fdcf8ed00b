// Device out-of-memory through the op API is a clear JS error naming what did not fit, never a crash,
// and the backend keeps working afterwards (issue 10). Run on the GPU machine by check.sh (step
// node-oom) from the repository root with the built dist/ and build/Release/sana_lab.node:
//   node bench/gpu/node-oom.mjs        → one JSON line per check, exit 0 when every check holds
// SANA_LAB_OOM_BACKEND=cpu runs the same checks on the cpu backend (how it is tried without a GPU).
import * as ops from '../../dist/bindings/ops.js';

const name = process.env.SANA_LAB_OOM_BACKEND ?? 'cuda';

const checks = [];

/** fn must throw a RangeError whose message matches `pattern`. */
function expectRangeError(name, fn, pattern) {
  try {
    fn();
    checks.push({ name, ok: false, got: 'no error' });
  } catch (e) {
    checks.push({ name, ok: e instanceof RangeError && pattern.test(e.message), got: `${e?.constructor?.name}: ${e?.message}` });
  }
}

let be;
try {
  be = ops.getBackend(name);
} catch (e) {
  console.log(`node-oom: the ${name} backend cannot be used here: ${e.message}`);
  process.exit(1);
}
// 4 TiB: more than any device has.
expectRangeError('empty f32[2^40] (4 TiB)', () => be.empty([2 ** 40], 'f32'), new RegExp(`out of memory allocating 4398046511104 bytes for f32\\[1099511627776\\] on ${name}`));
// A valid op whose output alone is 1 TiB: the op names itself and the output it could not allocate.
const x = be.fromArray(new Float32Array(2 ** 19 * 8).fill(0.5), [2 ** 19, 8]);
expectRangeError('gemm with a 1 TiB output', () => ops.gemmSync(x, x), new RegExp(`^gemm: cannot allocate the output f32\\[524288, 524288\\] on ${name}: .*out of memory`));
x.dispose();

// The backend still works: a small gemm against the host.
const n = 16;
const a = Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 11) / 11 - 0.5);
const ta = be.fromArray(a, [n, n]);
const got = ops.gemmSync(ta, ta).toFloat32();
let maxErr = 0;
for (let i = 0; i < n; i++) {
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += a[i * n + k] * a[j * n + k];
    maxErr = Math.max(maxErr, Math.abs(s - got[i * n + j]));
  }
}
checks.push({ name: 'a 16×16 gemm after the failures matches the host', ok: maxErr < 1e-4, got: `max abs error ${maxErr}` });
ta.dispose();

for (const c of checks) console.log(JSON.stringify(c));
const failed = checks.filter((c) => !c.ok).length;
console.log(`${checks.length} checks, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
