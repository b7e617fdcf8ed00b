/**
 * Argument checks shared by every op of the op API (bindings/ops.ts), so that all backends reject the
 * same inputs with the same messages: TypeError for the wrong kind of value, a disposed tensor, a
 * mixed backend or dtype; RangeError for shapes and option values. Every message starts with the op
 * name and shows the shapes involved.
 */
import { shapeStr } from '../reference/core/tensor.js';
import type { BackendName } from './backends.js';
import { BackendTensor, type TensorDType } from './tensor.js';

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** An option value as the user wrote it: strings quoted, so that '32' does not read as 32. */
function showValue(v: unknown): string {
  return typeof v === 'string' ? `${JSON.stringify(v)} (a string)` : typeof v === 'object' && v !== null ? describeValue(v) : String(v);
}

export class OpCheck {
  backend: BackendName | null = null;
  dtype: TensorDType | null = null;
  private first = '';
  readonly tensors = new Map<string, BackendTensor>();
  /** The `version` option of the options argument (undefined: not given; checked against the backend when the op starts). */
  version: number | undefined = undefined;

  constructor(readonly op: string) {}

  /** A required tensor: a live BackendTensor on the op's backend with the op's dtype, no empty dims. */
  tensor(name: string, v: unknown): BackendTensor {
    return this.accept(name, v, false);
  }

  /**
   * An f32 tensor on the op's backend whatever the op's dtype (a sampler's float32 state beside bf16
   * model tensors). Call after the tensor that sets the backend.
   */
  f32(name: string, v: unknown): BackendTensor {
    return this.accept(name, v, true);
  }

  /** tensor() and f32(): a live BackendTensor on the op's backend, of the op's dtype (or f32), no empty dims. */
  private accept(name: string, v: unknown, f32: boolean): BackendTensor {
    if (!(v instanceof BackendTensor)) throw new TypeError(`${this.op}: ${name} must be a BackendTensor, got ${describeValue(v)}`);
    if (v.disposed) throw new TypeError(`${this.op}: ${name} ${v.describe()} has been disposed`);
    if (this.backend === null && !f32) {
      this.backend = v.backend;
      this.dtype = v.dtype;
      this.first = name;
    } else {
      if (this.backend !== null && v.backend !== this.backend) {
        throw new TypeError(`${this.op}: ${name} is on backend '${v.backend}' but ${this.first} is on '${this.backend}' (copy it with toArray/fromArray)`);
      }
      if (f32 && v.dtype !== 'f32') throw new TypeError(`${this.op}: ${name} must be f32, got ${v.dtype}`);
      if (!f32 && v.dtype !== this.dtype) {
        throw new TypeError(`${this.op}: ${name} is ${v.dtype} but ${this.first} is ${this.dtype} (all tensors of an op share one dtype)`);
      }
    }
    if (v.shape.some((d) => d === 0)) throw new RangeError(`${this.op}: ${name} ${shapeStr(v.shape)} has a zero-size dimension`);
    this.tensors.set(name, v);
    return v;
  }

  /** An optional tensor: undefined/null → null, else as tensor(). */
  optional(name: string, v: unknown): BackendTensor | null {
    return v === undefined || v === null ? null : this.tensor(name, v);
  }

  /**
   * An options or weights argument: a plain object. Optional ones may be null/undefined (→ {}); a
   * required one (weights) that is missing, or anything that is not an object, is a TypeError.
   * The one named 'options' also carries the kernel `version` every op takes (an integer ≥ 0).
   * `accepted`: the keys the op reads; any other key is a TypeError (a misspelt option such as
   * `act` for `activation` would otherwise be ignored and the op would silently compute something else).
   */
  record<T extends object>(name: string, v: T | null | undefined, required = false, accepted?: readonly string[]): T {
    if (v === undefined || v === null) {
      if (required) throw new TypeError(`${this.op}: ${name} must be an object, got ${describeValue(v)}`);
      return {} as T;
    }
    if (typeof v !== 'object' || Array.isArray(v) || v instanceof BackendTensor) {
      throw new TypeError(`${this.op}: ${name} must be an object, got ${Array.isArray(v) ? 'Array' : describeValue(v)}`);
    }
    if (accepted !== undefined) {
      const unknown = Object.keys(v).filter((k) => !accepted.includes(k));
      if (unknown.length > 0) {
        throw new TypeError(`${this.op}: unknown ${name} key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (accepted: ${accepted.join(', ')})`);
      }
    }
    if (name === 'options') {
      const version = (v as { version?: unknown }).version;
      if (version !== undefined) this.version = this.int('version', version, 0);
    }
    return v;
  }

  /** Throws a RangeError `<op>: <message>` unless ok. */
  shape(ok: boolean, message: string): void {
    if (!ok) throw new RangeError(`${this.op}: ${message}`);
  }

  ndim(name: string, t: BackendTensor, n: number, layout: string): void {
    this.shape(t.ndim === n, `${name} must be ${layout}, got ${shapeStr(t.shape)}`);
  }

  /** t is a vector of n: shape (n) or (1, …, 1, n). */
  vector(name: string, t: BackendTensor | null, n: number): void {
    if (t === null) return;
    const ok = t.shape[t.ndim - 1] === n && t.shape.slice(0, -1).every((d) => d === 1);
    this.shape(ok, `${name} ${shapeStr(t.shape)} is not a vector of ${n}`);
  }

  /** A positive integer option. */
  int(name: string, v: unknown, min = 1): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new RangeError(`${this.op}: option ${name} must be an integer >= ${min}, got ${showValue(v)}`);
    }
    return v;
  }

  /** A finite positive number option (an eps): 0 would divide by zero on a constant row or an all-masked key set (NaN out). */
  eps(v: unknown, name = 'eps'): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || !(Math.fround(v) > 0)) {
      throw new RangeError(`${this.op}: ${name} must be a finite number > 0${typeof v === 'number' && Number.isFinite(v) && v > 0 ? ' in float32' : ''}, got ${showValue(v)}`);
    }
    return v;
  }

  /** A gate (G, …, N) broadcast over M rows: last dim N, G·N elements, G divides M. */
  gate(t: BackendTensor | null, M: number, N: number, outShape: readonly number[]): void {
    if (t === null) return;
    const G = t.numel / N;
    this.shape(
      t.shape[t.ndim - 1] === N && Number.isInteger(G) && M % G === 0,
      `gate ${shapeStr(t.shape)} does not broadcast over out ${shapeStr(outShape)} (want (G, N) with G dividing ${M} rows, e.g. (B, 1, N))`,
    );
  }

  same(name: string, t: BackendTensor | null, shape: readonly number[], what: string): void {
    if (t === null) return;
    this.shape(t.ndim === shape.length && t.shape.every((d, i) => d === shape[i]), `${name} ${shapeStr(t.shape)} differs from ${what} ${shapeStr(shape)}`);
  }

  /**
   * The output: `given` (validated: shape, dtype, backend, and no aliasing of an input other than the
   * ones in `mayAlias`) or null when the op should allocate it.
   */
  out(given: unknown, shape: readonly number[], mayAlias: readonly string[] = []): BackendTensor | null {
    if (given === undefined || given === null) return null;
    const inputs = new Map(this.tensors);
    const out = this.tensor('out', given);
    this.same('out', out, shape, 'the expected output shape');
    for (const [name, t] of inputs) {
      if (t === out && !mayAlias.includes(name)) {
        throw new RangeError(`${this.op}: out must not be the same tensor as ${name}${mayAlias.length ? ` (only ${mayAlias.join(', ')} may be)` : ''}`);
      }
    }
    return out;
  }
}
