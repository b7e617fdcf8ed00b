import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DTYPES, type DType } from '../../../reference/core/dtype.js';
import { Rng } from '../../../reference/core/random.js';
import {
  parseSafetensors,
  readSafetensors,
  SafetensorsError,
  SafetensorsFile,
  serializeSafetensors,
  writeSafetensors,
} from '../../../reference/core/safetensors.js';
import { Tensor } from '../../../reference/core/tensor.js';

const dir = mkdtempSync(join(tmpdir(), 'sana-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randomTensor(dtype: DType, shape: number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const t = new Tensor(shape, dtype);
  for (let i = 0; i < t.numel; i++) {
    const v = rng.normal() * 100;
    if (dtype === 'i64') (t.data as BigInt64Array)[i] = BigInt(Math.round(v)) * 1234567891n;
    else if (dtype === 'i32') (t.data as Int32Array)[i] = Math.round(v * 1000);
    else if (dtype === 'bf16' || dtype === 'f16') (t.data as Uint16Array)[i] = rng.nextU32() & 0xffff;
    else (t.data as Float32Array | Float64Array)[i] = v;
  }
  return t;
}

/** Build a raw file from a header object and a data size, for corruption tests. */
function rawFile(header: unknown, dataBytes: number, headerLengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, headerLengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

function expectCorrupt(bytes: Uint8Array, pattern: RegExp): void {
  const path = join(dir, `corrupt-${Math.random().toString(36).slice(2)}.safetensors`);
  writeFileSync(path, bytes);
  for (const attempt of [() => SafetensorsFile.open(path), () => parseSafetensors(bytes, path)]) {
    let caught: unknown;
    try {
      attempt();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SafetensorsError);
    expect((caught as Error).message).toContain(path);
    expect((caught as Error).message).toMatch(pattern);
  }
}

describe('safetensors round trips', () => {
  it('round-trips every dtype, odd sizes, metadata and zero-size tensors (file and buffer)', () => {
    const tensors = new Map<string, Tensor>();
    DTYPES.forEach((dt, i) => {
      tensors.set(`t.${dt}`, randomTensor(dt, [3, 5, 7], 10 + i));
      tensors.set(`odd.${dt}`, randomTensor(dt, [1], 20 + i)); // leaves the next tensor misaligned
      tensors.set(`empty.${dt}`, new Tensor([0, 4], dt));
    });
    tensors.set('scalar', Tensor.f32([], [42]));
    const metadata = { format: 'pt', note: 'round trip ✓' };
    const path = join(dir, 'all.safetensors');
    writeSafetensors(path, tensors, metadata);
    const fromFile = readSafetensors(path);
    const fromBuffer = parseSafetensors(serializeSafetensors(tensors, metadata));
    for (const got of [fromFile, fromBuffer]) {
      expect(got.metadata).toEqual(metadata);
      expect([...got.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
      for (const [name, t] of tensors) {
        const r = got.tensors.get(name)!;
        expect(r.dtype, name).toBe(t.dtype);
        expect(r.shape, name).toEqual(t.shape);
        expect(Array.from(r.data as ArrayLike<number | bigint>), name).toEqual(Array.from(t.data as ArrayLike<number | bigint>));
      }
    }
  });

  it('pads the header to 8 bytes with spaces and writes little-endian data', () => {
    const bytes = serializeSafetensors({ x: Tensor.f32([2], [1, -2]) });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(JSON.parse(header)).toEqual({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
    expect(Array.from(bytes.subarray(8 + n))).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  });

  it('reads tensors lazily, one at a time', () => {
    const path = join(dir, 'lazy.safetensors');
    writeSafetensors(path, { a: Tensor.f32([2], [1, 2]), b: Tensor.f64([1], [3]) });
    const f = SafetensorsFile.open(path);
    expect(f.names()).toEqual(['a', 'b']);
    expect(Array.from(f.tensor('b').data as Float64Array)).toEqual([3]);
    expect(() => f.tensor('nope')).toThrow(/no tensor named "nope"/);
    f.close();
    expect(() => f.tensor('a')).toThrow(/closed/);
  });
});

describe('safetensors rejects corrupt files with a clear error naming the file', () => {
  const good = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  it('file shorter than 8 bytes', () => expectCorrupt(new Uint8Array(5), /at least 8/));
  it('truncated data', () => expectCorrupt(rawFile(good, 4), /beyond the 4 data bytes|truncated/));
  it('header length beyond the file', () => expectCorrupt(rawFile(good, 8, 1000n), /runs past the end/));
  it('absurd header length', () => expectCorrupt(rawFile(good, 8, 2n ** 62n), /exceeds the .* limit/));
  it('header not JSON (not a safetensors file)', () => {
    const bytes = rawFile(good, 8);
    bytes[8] = 0x7b + 1; // corrupt the opening brace
    expectCorrupt(bytes, /not valid JSON/);
  });
  it('header not UTF-8', () => {
    const bytes = rawFile(good, 8);
    bytes[9] = 0xff;
    expectCorrupt(bytes, /UTF-8/);
  });
  it('offsets out of range', () =>
    expectCorrupt(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 8), /beyond the 8 data bytes/));
  it('overlapping offsets', () =>
    expectCorrupt(
      rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8),
      /overlap/,
    ));
  it('a gap between tensors', () =>
    expectCorrupt(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /gap of 4 bytes/));
  it('trailing bytes', () => expectCorrupt(rawFile(good, 12), /cover 8 of the 12/));
  it('unknown dtype', () =>
    expectCorrupt(rawFile({ a: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, 8), /unsupported dtype "Q4"/));
  it('shape and byte count disagree', () =>
    expectCorrupt(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /8 bytes for F32 \[3\], which needs 12/));
  it('negative or fractional shape', () =>
    expectCorrupt(rawFile({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8), /not a list of non-negative integers/));
  it('element count overflow', () =>
    expectCorrupt(rawFile({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, 8), /more than 2\^53/));
  it('bad data_offsets', () =>
    expectCorrupt(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8), /data_offsets/));
  it('metadata with non-string values', () =>
    expectCorrupt(rawFile({ __metadata__: { n: 3 }, ...good }, 8), /__metadata__\.n is not a string/));
  it('a missing file', () => {
    expect(() => SafetensorsFile.open(join(dir, 'missing.safetensors'))).toThrow(/cannot open/);
  });
});
