/**
 * Property tests (fast-check, fixed seed, bounded runs): hostile safetensors bytes either parse into
 * tensors consistent with the header or throw a SafetensorsError — never another exception, a hang or
 * a tensor whose storage disagrees with its shape.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSafetensors, SafetensorsError, serializeSafetensors } from '../../../reference/core/safetensors.js';
import { Tensor } from '../../../reference/core/tensor.js';

const valid = serializeSafetensors(
  {
    a: Tensor.f32([2, 3], [1, 2, 3, 4, 5, 6]),
    b: new Tensor([3], 'bf16', new Uint16Array([1, 2, 3])),
    c: new Tensor([2], 'i64', new BigInt64Array([7n, -8n])),
  },
  { k: 'v' },
);

function parsesOrRejectsCleanly(bytes: Uint8Array): void {
  try {
    const { tensors } = parseSafetensors(bytes);
    for (const t of tensors.values()) expect(t.data.length).toBe(t.shape.reduce((x, y) => x * y, 1));
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
  }
}

describe('safetensors fuzz', () => {
  it('byte flips anywhere in a valid file', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (flips) => {
        const b = valid.slice();
        for (const [i, v] of flips) b[i] = v;
        parsesOrRejectsCleanly(b);
      }),
      { seed: 20261128, numRuns: 2000 },
    );
  });

  it('truncation at every length', () => {
    for (let n = 0; n < valid.length; n++) {
      expect(() => parseSafetensors(valid.subarray(0, n))).toThrow(SafetensorsError);
    }
  });

  it('arbitrary JSON-ish headers', () => {
    const entry = fc.record({
      dtype: fc.constantFrom('F32', 'BF16', 'F16', 'F64', 'I64', 'I32', 'U8', 'Q4', 7, null),
      shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 2 ** 33 }), { maxLength: 4 }), fc.constant('x')),
      data_offsets: fc.oneof(fc.tuple(fc.integer({ min: -1, max: 64 }), fc.integer({ min: -1, max: 64 })), fc.constant([0]), fc.constant(null)),
    });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), entry, { maxKeys: 4 }), fc.nat(64), (header, dataBytes) => {
        const json = new TextEncoder().encode(JSON.stringify(header));
        const b = new Uint8Array(8 + json.length + dataBytes);
        new DataView(b.buffer).setBigUint64(0, BigInt(json.length), true);
        b.set(json, 8);
        parsesOrRejectsCleanly(b);
      }),
      { seed: 1128, numRuns: 2000 },
    );
  });
});
