/**
 * Reader and writer for the safetensors format (https://github.com/huggingface/safetensors):
 *
 *   [u64 little-endian N][N bytes of UTF-8 JSON header][raw little-endian tensor data, C order]
 *
 * The header maps each name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the
 * start of the data) plus an optional "__metadata__" of string → string. Like the official reader we
 * require the tensors to tile the data region exactly: in range, non-overlapping, no gaps, and each
 * byte count equal to numel × dtype size. Every failure is a SafetensorsError naming the file.
 *
 * Files are opened lazily: `SafetensorsFile.open` reads only the header; `tensor(name)` reads that
 * tensor's bytes straight into its own buffer, so a checkpoint is never held twice in memory.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { DTYPE_BYTES, viewStorage, type DType } from './dtype.js';
import { numel, shapeStr, Tensor } from './tensor.js';

/** Largest header we accept (the official reader's limit is 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

const FILE_TO_DTYPE: Readonly<Record<string, DType>> = {
  F32: 'f32',
  BF16: 'bf16',
  F16: 'f16',
  F64: 'f64',
  I64: 'i64',
  I32: 'i32',
};
const DTYPE_TO_FILE: Readonly<Record<DType, string>> = {
  f32: 'F32',
  bf16: 'BF16',
  f16: 'F16',
  f64: 'F64',
  i64: 'I64',
  i32: 'I32',
};

export class SafetensorsError extends Error {
  constructor(
    readonly source: string,
    readonly problem: string,
  ) {
    super(`safetensors ${source}: ${problem}`);
    this.name = 'SafetensorsError';
  }
}

export interface TensorEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Byte range within the data region (after the header). */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly metadata: Readonly<Record<string, string>>;
  /** Entries in file order (by begin offset). */
  readonly entries: readonly TensorEntry[];
  /** Absolute file offset of the data region. */
  readonly dataStart: number;
}

function assertLittleEndian(): void {
  if (endianness() !== 'LE') throw new Error('safetensors: only little-endian hosts are supported');
}

/**
 * Parse and validate a header. `prefix` holds at least the first 8 bytes (and the header if given);
 * `totalBytes` is the file size.
 */
export function parseHeader(headerBytes: Uint8Array, totalBytes: number, source: string): SafetensorsHeader {
  const fail = (problem: string): never => {
    throw new SafetensorsError(source, problem);
  };
  const dataStart = 8 + headerBytes.length;
  const dataBytes = totalBytes - dataStart;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return fail('header is not valid UTF-8 (not a safetensors file?)');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message}); not a safetensors file?`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('header is not a JSON object');
  const obj = json as Record<string, unknown>;
  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, raw] of Object.entries(obj)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    if (raw === null || typeof raw !== 'object') fail(`tensor "${name}": entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string') fail(`tensor "${name}": missing dtype`);
    const dt = FILE_TO_DTYPE[dtype as string];
    if (dt === undefined) {
      fail(`tensor "${name}": unsupported dtype "${String(dtype)}" (supported: ${Object.keys(FILE_TO_DTYPE).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(`tensor "${name}": data_offsets ${JSON.stringify(offsets)} is not [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataBytes) {
      fail(`tensor "${name}": data_offsets [${begin}, ${end}] beyond the ${dataBytes} data bytes (file truncated?)`);
    }
    let n = 0;
    try {
      n = numel(shape as number[], `tensor "${name}"`);
    } catch (e) {
      fail((e as Error).message);
    }
    const want = n * DTYPE_BYTES[dt!];
    if (end - begin !== want) {
      fail(
        `tensor "${name}": ${end - begin} bytes for ${dtype} ${shapeStr(shape as number[])}, which needs ${want}`,
      );
    }
    entries.push({ name, dtype: dt!, shape: Object.freeze([...(shape as number[])]), begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin < cursor) fail(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap the previous tensor`);
    if (e.begin > cursor) fail(`tensor "${e.name}": gap of ${e.begin - cursor} bytes before data_offsets [${e.begin}, ${e.end}]`);
    cursor = e.end;
  }
  if (cursor !== dataBytes) {
    fail(`tensors cover ${cursor} of the ${dataBytes} data bytes (trailing bytes or wrong offsets)`);
  }
  return { metadata, entries, dataStart };
}

function headerLength(prefix: Uint8Array, totalBytes: number, source: string): number {
  if (totalBytes < 8) throw new SafetensorsError(source, `file has ${totalBytes} bytes; a safetensors file has at least 8`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(source, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  }
  if (n + 8n > BigInt(totalBytes)) {
    throw new SafetensorsError(source, `header length ${n} runs past the end of the ${totalBytes}-byte file (truncated?)`);
  }
  return Number(n);
}

/** Storage of `entry` from `bytes` (the entry's own bytes); a view when aligned, otherwise one copy. */
function tensorFromBytes(entry: TensorEntry, bytes: Uint8Array): Tensor {
  const n = (entry.end - entry.begin) / DTYPE_BYTES[entry.dtype];
  const aligned = bytes.byteOffset % DTYPE_BYTES[entry.dtype] === 0;
  const src = aligned ? bytes : bytes.slice();
  return new Tensor(entry.shape, entry.dtype, viewStorage(entry.dtype, src.buffer, src.byteOffset, n));
}

/** A safetensors file opened for lazy reading. Call `close()` when done (or use `readSafetensors`). */
export class SafetensorsFile {
  private fd: number | null;
  private readonly byName: Map<string, TensorEntry>;

  private constructor(
    readonly path: string,
    fd: number,
    readonly header: SafetensorsHeader,
  ) {
    this.fd = fd;
    this.byName = new Map(header.entries.map((e) => [e.name, e]));
  }

  static open(path: string): SafetensorsFile {
    assertLittleEndian();
    // A directory would fail later with a bare EISDIR, and a FIFO or device would block the open or
    // the reads: only regular files are safetensors files.
    const st = statSync(path, { throwIfNoEntry: false });
    if (st !== undefined && !st.isFile()) throw new SafetensorsError(path, `not a regular file (${st.isDirectory() ? 'a directory' : 'a device, FIFO or socket'})`);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new SafetensorsError(path, `cannot open: ${(e as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      const prefix = new Uint8Array(8);
      if (size >= 8) readFully(fd, prefix, 0, path);
      const n = headerLength(prefix, size, path);
      const hb = new Uint8Array(n);
      readFully(fd, hb, 8, path);
      return new SafetensorsFile(path, fd, parseHeader(hb, size, path));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  names(): string[] {
    return this.header.entries.map((e) => e.name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entry(name: string): TensorEntry {
    const e = this.byName.get(name);
    if (e === undefined) throw new SafetensorsError(this.path, `no tensor named "${name}"`);
    return e;
  }

  /** Read one tensor (a fresh buffer per call). */
  tensor(name: string): Tensor {
    if (this.fd === null) throw new SafetensorsError(this.path, 'file is closed');
    const e = this.entry(name);
    const bytes = new Uint8Array(e.end - e.begin);
    readFully(this.fd, bytes, this.header.dataStart + e.begin, this.path);
    return tensorFromBytes(e, bytes);
  }

  /** Read every tensor, in file order. */
  readAll(): Map<string, Tensor> {
    return new Map(this.header.entries.map((e) => [e.name, this.tensor(e.name)]));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function readFully(fd: number, into: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < into.length) {
    const got = readSync(fd, into, done, into.length - done, position + done);
    if (got === 0) throw new SafetensorsError(path, `unexpected end of file at byte ${position + done}`);
    done += got;
  }
}

export interface SafetensorsContents {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: Map<string, Tensor>;
}

/** Read a whole file. */
export function readSafetensors(path: string): SafetensorsContents {
  const f = SafetensorsFile.open(path);
  try {
    return { metadata: f.metadata, tensors: f.readAll() };
  } finally {
    f.close();
  }
}

/** Parse an in-memory file; tensors are views into `bytes` where alignment allows. */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContents {
  assertLittleEndian();
  const n = headerLength(bytes, bytes.length, source);
  const header = parseHeader(bytes.subarray(8, 8 + n), bytes.length, source);
  const tensors = new Map<string, Tensor>();
  for (const e of header.entries) {
    tensors.set(e.name, tensorFromBytes(e, bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end)));
  }
  return { metadata: header.metadata, tensors };
}

export type TensorDict = Map<string, Tensor> | Readonly<Record<string, Tensor>>;

/** Serialize tensors (in the given order) and optional string metadata to safetensors bytes. */
export function serializeSafetensors(tensors: TensorDict, metadata?: Readonly<Record<string, string>>): Uint8Array {
  assertLittleEndian();
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new TypeError('serializeSafetensors: "__metadata__" is not a valid tensor name');
    header[name] = { dtype: DTYPE_TO_FILE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // pad with spaces so the data starts 8-aligned
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.byteLength), pos);
    pos += t.byteLength;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: TensorDict, metadata?: Readonly<Record<string, string>>): void {
  writeFileSync(path, serializeSafetensors(tensors, metadata));
}
