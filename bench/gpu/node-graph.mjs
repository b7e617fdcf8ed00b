// CUDA graphs through the op API (ops.captureCudaGraph; issue 9's dispatch overhead): a captured op
// sequence replays with new inputs written in place and gives the eager result bit for bit; what a
// graph cannot hold (a read-back inside the capture) is a clear Error, and the backend keeps working;
// a disposed graph refuses to launch. Run on the GPU machine by check.sh (step node-graph), and on the
// host emulator by kernels/emu/check.sh, from the repository root with the built dist/ and addon:
//   node bench/gpu/node-graph.mjs        → one JSON line per check, exit 0 when every check holds
import * as ops from '../../dist/bindings/ops.js';

const checks = [];
const check = (name, ok, got) => checks.push({ name, ok: Boolean(ok), got });

/** fn must throw an Error of class `cls` whose message matches `pattern`. */
function expectError(name, fn, cls, pattern) {
  try {
    fn();
    check(name, false, 'no error');
  } catch (e) {
    check(name, e instanceof cls && pattern.test(e.message), `${e?.constructor?.name}: ${e?.message}`);
  }
}

let be;
try {
  be = ops.getBackend('cuda');
} catch (e) {
  console.log(`node-graph: the cuda backend cannot be used here: ${e.message}`);
  process.exit(1);
}

const rand = (n, seed) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5);
const M = 64, K = 128, N = 96;
const x = be.fromArray(rand(M * K, 1), [1, M, K], 'bf16');
const w = be.fromArray(rand(N * K, 2), [N, K], 'bf16');
const b = be.fromArray(rand(N, 3), [N], 'bf16');
const h = be.empty([1, M, N], 'bf16');
const y = be.empty([1, M, N], 'bf16');
const seq = () => {
  ops.gemmSync(x, w, { bias: b, activation: 'silu', out: h });
  return ops.layerNormModulateSync(h, b, b, { out: y });
};

// Eager reference for three inputs, then: capture (nothing runs), launch per input.
const inputs = [rand(M * K, 10), rand(M * K, 11), rand(M * K, 12)];
const eager = inputs.map((v) => {
  x.write(v);
  seq();
  return y.toArray();
});
be.fillBytes(y, 0xff);  // poisoned: a launch must write every element
const { graph, result } = ops.captureCudaGraph(be, 'node-graph gemm + layernorm-modulate', seq);
check('the capture returns fn\'s result (the output tensor) and a graph', result === y && !graph.disposed, `${result === y} ${graph.disposed}`);
const poisoned = y.toArray();
check('capturing runs nothing (the output is still poisoned)', poisoned.every((v) => v === 0xffff), `${poisoned.filter((v) => v !== 0xffff).length} elements written`);
inputs.forEach((v, i) => {
  x.write(v);
  graph.launch();
  const got = y.toArray();
  const differ = got.reduce((n, g, j) => n + (g !== eager[i][j] ? 1 : 0), 0);
  check(`launch ${i + 1} with new inputs written in place equals the eager result bit for bit`, differ === 0, `${differ} of ${got.length} differ`);
});
graph.dispose();
graph.dispose();
expectError('a disposed graph refuses to launch', () => graph.launch(), TypeError, /the graph has been disposed/);

// A read-back inside the capture breaks it: a clear Error naming the capture, and the backend still works.
expectError('a read-back inside the capture is an Error naming the capture', () => ops.captureCudaGraph(be, 'broken', () => {
  seq();
  return y.toArray();
}), Error, /broken/);
x.write(inputs[0]);
seq();
const after = y.toArray();
check('the backend works after a broken capture (eager result unchanged)', after.every((v, j) => v === eager[0][j]), 'compared with the first eager result');
expectError('a capture inside a capture is refused', () => ops.captureCudaGraph(be, 'outer', () => ops.captureCudaGraph(be, 'inner', seq)), Error, /already in progress/);
seq();
check('the backend works after the refused nested capture', y.toArray().every((v, j) => v === eager[0][j]), 'compared with the first eager result');

for (const t of [x, w, b, h, y]) t.dispose();
for (const c of checks) console.log(JSON.stringify(c));
const failed = checks.filter((c) => !c.ok).length;
console.log(`node-graph: ${checks.length - failed} of ${checks.length} checks hold`);
process.exit(failed === 0 ? 0 : 1);
