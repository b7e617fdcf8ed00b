/**
 * Shared pieces of the reliability suite: seeded tensors on a backend, the native handle behind a cpu
 * tensor, an assertion that a call fails cleanly (the right error class, a message that starts with the
 * op's name, a rejected Promise rather than a synchronous throw for async ops), and the CLI runner that
 * spawns the built binary (`node dist/cli/main.js`) with a timeout so a hang fails the test.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import type { NativeTensorHandle } from '../../bindings/addon.js';
import { getBackend } from '../../bindings/ops.js';
import type { BackendTensor, TensorDType } from '../../bindings/tensor.js';
import { projectRoot } from '../../reference/core/golden.js';
import { Rng } from '../../reference/core/random.js';

export type BackendKind = 'cpu' | 'reference';

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Fresh normal(0, 1) values, seeded (never zeros). */
export function randValues(n: number, seed: number, std = 1): Float32Array {
  const a = new Float32Array(n);
  new Rng(seed).fillNormal(a, 0, std);
  return a;
}

/** A tensor of seeded random values on a backend. */
export function randTensor(backend: BackendKind, shape: readonly number[], seed: number, dtype: TensorDType = 'f32', std = 1): BackendTensor {
  return getBackend(backend).fromArray(randValues(numelOf(shape), seed, std), shape, dtype);
}

/** The native handle behind a cpu BackendTensor (its storage object carries it). */
export function handleOf(t: BackendTensor): NativeTensorHandle {
  return (t.storage('test') as unknown as { handle: NativeTensorHandle }).handle;
}

type ErrorClass = typeof TypeError | typeof RangeError | typeof Error;

function checkError(err: unknown, cls: ErrorClass, message: RegExp | string): Error {
  const shown = `${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`;
  expect(err, `want ${cls.name} matching ${String(message)}, got ${shown}`).toBeInstanceOf(cls);
  if (cls === Error) expect(err instanceof TypeError || err instanceof RangeError, `want a plain Error, got ${shown}`).toBe(false);
  const msg = (err as Error).message;
  if (typeof message === 'string') expect(msg, shown).toContain(message);
  else expect(msg, shown).toMatch(message);
  return err as Error;
}

/** `call` (a sync op form) throws exactly `cls` with a message matching `message`. */
export function expectThrow(call: () => unknown, cls: ErrorClass, message: RegExp | string): Error {
  let r: unknown;
  try {
    r = call();
  } catch (e) {
    return checkError(e, cls, message);
  }
  if (r instanceof Promise) r.catch(() => {});
  throw new Error(`want ${cls.name} matching ${String(message)}, but the call returned ${String(r)}`);
}

/**
 * `call` (an async op form) returns a Promise that rejects with exactly `cls` and a message matching
 * `message`; a synchronous throw fails (it would escape a caller's .catch()).
 */
export async function expectRejection(call: () => unknown, cls: ErrorClass, message: RegExp | string): Promise<Error> {
  let p: unknown;
  try {
    p = call();
  } catch (e) {
    throw new Error(`the async op threw synchronously instead of rejecting: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
  expect(p, 'an async op returns a Promise').toBeInstanceOf(Promise);
  try {
    const v = await (p as Promise<unknown>);
    throw Object.assign(new Error(`want ${cls.name} matching ${String(message)}, but the op resolved to ${String(v)}`), { unexpected: true });
  } catch (e) {
    if ((e as { unexpected?: boolean }).unexpected) throw e;
    return checkError(e, cls, message);
  }
}

/** expectThrow or expectRejection by mode. */
export async function expectFailure(call: () => unknown, cls: ErrorClass, message: RegExp | string, mode: 'sync' | 'async'): Promise<Error> {
  return mode === 'sync' ? expectThrow(call, cls, message) : expectRejection(call, cls, message);
}

// ---- the CLI ----

export const CLI = join(projectRoot(), 'dist', 'cli', 'main.js');

/** Timeouts stretch under the sanitizer run (npm run test:asan preloads ASan into every node process). */
const SLOW = process.env.SANA_LAB_EXPECT_SANITIZE === '1' ? 4 : 1;

export interface CliResult {
  args: string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Spawns `node dist/cli/main.js ...args`; a run past `timeoutMs` is killed and reported as timedOut. */
export function runCli(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const timeoutMs = (opts.timeoutMs ?? 30_000) * SLOW;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ args, code, signal, stdout, stderr, ms: performance.now() - t0, timedOut });
    });
  });
}

/** Runs many CLI invocations, `concurrency` at a time, preserving order. */
export async function runCliAll(list: string[][], concurrency = 3, opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult[]> {
  const out: CliResult[] = new Array(list.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const i = next++;
      out[i] = await runCli(list[i]!, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
  return out;
}

/**
 * Runs many CLI invocations inside ONE spawned node process that imports the built dist/cli/main.js and
 * calls its main(argv) for each, capturing what each writes to stdout/stderr — the same code path as
 * `node dist/cli/main.js …` minus the node start-up (0.5–1 s each on a loaded 2-core machine). A crash
 * or a hang kills the batch, and the run times out after `timeoutMs`.
 */
export async function runCliBatch(list: string[][], driverDir: string, timeoutMs = 120_000 * SLOW): Promise<CliResult[]> {
  const driver = join(driverDir, 'cli-batch-driver.mjs');
  const casesFile = join(driverDir, 'cli-batch-cases.json');
  writeFileSync(casesFile, JSON.stringify(list));
  writeFileSync(
    driver,
    `import { readFileSync } from 'node:fs';
import { main } from ${JSON.stringify(pathToFileURL(CLI).href)};
const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const real = { log: console.log, error: console.error, warn: console.warn, out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
for (const args of cases) {
  let stdout = '', stderr = '';
  console.log = (...a) => { stdout += a.join(' ') + '\\n'; };
  console.error = console.warn = (...a) => { stderr += a.join(' ') + '\\n'; };
  process.stdout.write = (s) => { stdout += String(s); return true; };
  process.stderr.write = (s) => { stderr += String(s); return true; };
  const t0 = performance.now();
  let code;
  try { code = await main(args); } catch (e) { code = null; stderr += 'UNCAUGHT ' + (e && e.stack || String(e)); }
  Object.assign(console, { log: real.log, error: real.error, warn: real.warn });
  process.stdout.write = real.out;
  process.stderr.write = real.err;
  real.out(JSON.stringify({ args, code, stdout, stderr, ms: performance.now() - t0 }) + '\\n');
}
`,
  );
  const r = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }>((resolve) => {
    const child = spawn(process.execPath, [driver, casesFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
  if (r.timedOut || r.signal !== null || r.code !== 0 || lines.length !== list.length) {
    const last = lines.length < list.length ? list[lines.length] : undefined;
    throw new Error(
      `the CLI batch died (code ${r.code}, signal ${r.signal}, timed out ${r.timedOut}) after ${lines.length}/${list.length} cases` +
        (last ? `; running: sana-lab ${last.join(' ')}` : '') + `\n${r.stderr.slice(-3000)}`,
    );
  }
  return lines.map((l) => {
    const o = JSON.parse(l) as { args: string[]; code: number | null; stdout: string; stderr: string; ms: number };
    return { ...o, signal: null, timedOut: false };
  });
}

/**
 * A clean CLI failure: the expected exit code, no signal, no timeout, a single-line message on stderr
 * that starts with "sana-lab" and matches `message`, and no stack trace.
 */
export function expectCleanExit(r: CliResult, code: number, message: RegExp): void {
  const what = `sana-lab ${r.args.join(' ')}\n--- stderr ---\n${r.stderr}\n--- stdout ---\n${r.stdout.slice(0, 2000)}`;
  expect(r.timedOut, `timed out after ${r.ms.toFixed(0)} ms: ${what}`).toBe(false);
  expect(r.signal, `killed by a signal: ${what}`).toBeNull();
  expect(r.code, what).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1] ?? '';
  expect(last, what).toMatch(/^sana-lab/);
  expect(last, what).toMatch(message);
  expect(r.stderr, `stack trace on stderr: ${what}`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(r.stderr, what).not.toMatch(/Segmentation fault|Aborted|core dumped|FATAL ERROR|terminate called/);
}
