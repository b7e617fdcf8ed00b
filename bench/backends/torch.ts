/**
 * The `torch` bench backend: PyTorch eager, the baseline users compare against, measured in the same
 * `sana-lab bench` run as the native kernels (same machine state, same results file, records with
 * backend "torch"). The ops are written the way diffusers runs them (bench/torch/sana_torch_ops.py)
 * and executed by a long-lived Python worker (bench/torch/worker.py) that builds the inputs once per
 * case and times the calls itself, so no Node↔Python round trip is inside a timed call:
 *   CPU — time.perf_counter per call, torch.set_num_threads = the native cpu backend's thread count;
 *   CUDA — CUDA events per call with an L2 flush before each, as the native cuda timer.
 *
 * Which Python: SANA_LAB_PYTHON, else Debian's /usr/bin/python3, else `python3` on PATH — the first
 * that imports torch. Which device: SANA_LAB_TORCH_DEVICE (cpu | cuda), else cuda when torch sees a
 * GPU, else cpu. Without a usable torch the backend is unavailable and says why.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tryLoadAddon } from '../../bindings/addon.js';
import { opEntry, type OpName } from '../catalogue.js';
import { cpuDeviceName } from '../ceilings-cpu.js';
import type { BenchDType } from '../cost-model.js';
import type { OpShape } from '../shapes.js';
import { timingFromSamples, type Timing } from '../timing.js';
import type { Availability, BenchBackend, PreparedOp } from './backend.js';
import { UnavailableBackend } from './unavailable.js';

/** bench/torch/ of the package: beside this file's folder in the source tree (bench/backends/), or three
 * levels up from the compiled dist/bench/backends/ (tsc does not copy the Python files). */
export function torchDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'torch'), join(here, '..', '..', '..', 'bench', 'torch')];
  return candidates.find((d) => existsSync(join(d, 'worker.py'))) ?? candidates[0]!;
}

export const TORCH_WORKER = join(torchDir(), 'worker.py');

/** The ops the worker implements (BUILDERS in sana_torch_ops.py). */
export const TORCH_OPS: readonly OpName[] = [
  'gemm',
  'linear-attention',
  'linear-attention-block',
  'mix-ffn',
  'cross-attention',
  'layernorm-modulate',
  'rmsnorm',
  'dit-block',
  'conv3x3',
  'rmsnorm2d',
  'lite-mla',
  'dcae-resblock',
  'dcae-evit-block',
  'dcae-upsample',
];

interface Hello {
  torch: string;
  python: string;
  device_name: string;
  device_type: 'cpu' | 'cuda';
  threads: number;
  cuda: string | null;
}

/** The pipes are net.Sockets underneath; their ref/unref decide whether they keep Node alive. */
interface Refable {
  ref(): void;
  unref(): void;
}

type Reply = { ok: true; [k: string]: unknown } | { ok: false; error: string };

/** The first Python that imports torch, with its version and whether it sees a GPU; or why none. */
export function findTorchPython(): { python: string; torch: string; cuda: boolean } | { error: string } {
  const candidates = process.env.SANA_LAB_PYTHON ? [process.env.SANA_LAB_PYTHON] : ['/usr/bin/python3', 'python3'];
  const tried: string[] = [];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, json; print(json.dumps([torch.__version__, torch.cuda.is_available()]))'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.status === 0) {
      const [version, cuda] = JSON.parse(r.stdout.trim().split('\n').pop()!) as [string, boolean];
      return { python: py, torch: version, cuda };
    }
    const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
    tried.push(`${py}: ${why}`);
  }
  return { error: `no Python with torch (${tried.join('; ')}); set SANA_LAB_PYTHON` };
}

/** One Python worker process, one request in flight at a time (the bench runs cases in order). */
class TorchWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: ((r: Reply) => void)[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private exited: string | null = null;
  private stderrTail = '';

  constructor(python: string) {
    this.child = spawn(python, [TORCH_WORKER], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const resolve = this.waiting.shift();
      if (resolve === undefined) return;
      try {
        resolve(JSON.parse(line) as Reply);
      } catch {
        resolve({ ok: false, error: `unreadable worker reply: ${line.slice(0, 200)}` });
      }
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-2000);
    });
    const fail = (why: string) => {
      this.exited = why;
      for (const resolve of this.waiting.splice(0)) resolve({ ok: false, error: `${why}${this.stderrTail ? `: ${this.stderrTail.trim().split('\n').pop()}` : ''}` });
    };
    this.child.on('exit', (code, signal) => fail(`torch worker exited (${signal ?? `code ${code}`})`));
    this.child.on('error', (e) => fail(`torch worker failed to start: ${e.message}`));
    this.idle();
  }

  /** Let Node exit while no request is pending (the worker ends when its stdin closes). */
  private idle(): void {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as Partial<Refable>).unref?.();
  }

  private busy(): void {
    this.child.ref();
    (this.child.stdout as unknown as Partial<Refable>).ref?.();
  }

  request(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    const next = this.chain.then(
      () =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          if (this.exited !== null) return reject(new Error(this.exited));
          this.busy();
          this.waiting.push((r) => {
            this.idle();
            if (r.ok) resolve(r);
            else reject(new Error(`torch ${String(msg.cmd)}${msg.op ? ` ${String(msg.op)}` : ''}: ${r.error}`));
          });
          this.child.stdin.write(`${JSON.stringify(msg)}\n`);
        }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.child.stdin.end();
  }
}

export class TorchBenchBackend implements BenchBackend {
  readonly name = 'torch';
  readonly budgeted = false;
  private readonly ids = new WeakMap<PreparedOp, number>();

  private constructor(
    private readonly worker: TorchWorker,
    private readonly hello: Hello,
    private readonly python: string,
  ) {}

  static async start(python: string, device: 'cpu' | 'cuda', threads: number): Promise<TorchBenchBackend> {
    const worker = new TorchWorker(python);
    const hello = (await worker.request({ cmd: 'hello', device, threads, seed: 0 })) as unknown as Hello;
    return new TorchBenchBackend(worker, hello, python);
  }

  available(): Availability {
    return { ok: true };
  }

  supports(op: OpName, dtype: BenchDType): Availability {
    if (dtype !== 'f32' && dtype !== 'bf16') return { ok: false, reason: `torch: dtype ${String(dtype)} not benchmarked` };
    if (!TORCH_OPS.includes(op)) return { ok: false, reason: `not in the torch baseline: bench/torch/sana_torch_ops.py has no "${op}"` };
    return { ok: true };
  }

  versions(): number[] {
    return [0];
  }

  device(): string {
    return this.hello.device_type === 'cpu' ? cpuDeviceName() : `cuda: ${this.hello.device_name}`;
  }

  threads(): number {
    return this.hello.device_type === 'cpu' ? this.hello.threads : 0;
  }

  async prepareOp(shape: OpShape, dtype: BenchDType): Promise<PreparedOp> {
    const { id } = (await this.worker.request({ cmd: 'prepare', op: shape.op, dims: shape.dims, dtype })) as { id: number };
    let freed = false;
    const layout = this.hello.device_type === 'cpu' && opEntry(shape.op).family === 'dcae' ? ', NCHW' : '';
    const prepared: PreparedOp = {
      run: async () => void (await this.worker.request({ cmd: 'run', id })),
      dispose: () => {
        if (freed) return;
        freed = true;
        void this.worker.request({ cmd: 'free', id }).catch(() => undefined);
      },
      note: `PyTorch ${this.hello.torch} eager (diffusers math${layout}), timed inside the Python worker`,
    };
    this.ids.set(prepared, id);
    return prepared;
  }

  /** The worker times the calls itself (no IPC inside the timed region); see the file header. */
  async timeDevice(op: PreparedOp, opts: { minSamples: number; maxTimeS: number }): Promise<Timing> {
    const id = this.ids.get(op);
    if (id === undefined) throw new Error('torch backend: timeDevice needs an op prepared by this backend');
    const r = (await this.worker.request({ cmd: 'time', id, min_samples: opts.minSamples, max_time_s: opts.maxTimeS })) as {
      samples_ms: number[];
      timer: string;
    };
    return timingFromSamples(r.samples_ms, r.timer);
  }

  environment(): Record<string, string> {
    return {
      torch: this.hello.torch,
      python: `${this.python} (${this.hello.python})`,
      device: this.device(),
      threads: String(this.hello.threads),
      ...(this.hello.cuda ? { cuda: this.hello.cuda } : {}),
    };
  }

  close(): void {
    this.worker.close();
  }
}

/** The torch backend, or an unavailable one saying why (no Python with torch). */
export async function createTorchBackend(): Promise<BenchBackend> {
  const found = findTorchPython();
  if ('error' in found) return new UnavailableBackend('torch', `unavailable: ${found.error}`, cpuDeviceName());
  const want = process.env.SANA_LAB_TORCH_DEVICE;
  if (want !== undefined && want !== 'cpu' && want !== 'cuda') {
    return new UnavailableBackend('torch', `unavailable: SANA_LAB_TORCH_DEVICE must be cpu or cuda, got "${want}"`);
  }
  const device = (want as 'cpu' | 'cuda' | undefined) ?? (found.cuda ? 'cuda' : 'cpu');
  if (device === 'cuda' && !found.cuda) return new UnavailableBackend('torch', `unavailable: SANA_LAB_TORCH_DEVICE=cuda but torch ${found.torch} sees no GPU`);
  const { addon } = tryLoadAddon();
  const threads = addon?.cpuThreads() ?? availableParallelism();
  try {
    return await TorchBenchBackend.start(found.python, device, threads);
  } catch (e) {
    return new UnavailableBackend('torch', `unavailable: ${(e as Error).message}`, cpuDeviceName());
  }
}
