import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goldenPath } from '../../../reference/core/golden.js';
import { SafetensorsFile, writeSafetensors } from '../../../reference/core/safetensors.js';
import { Tensor } from '../../../reference/core/tensor.js';
import { AutoencoderDC } from '../../../reference/dcae/autoencoder.js';
import { dcaePreset, loadDcaeConfig } from '../../../reference/dcae/config.js';
import { dcaeParamCount, dcaeParamShapes } from '../../../reference/dcae/param-shapes.js';
import { DcaeWeightsError, loadDcaeWeights } from '../../../reference/dcae/weights.js';
import { GOLDEN, goldenTensors } from './golden-helpers.js';

describe('DC-AE parameter shapes and counts', () => {
  it.skipIf(!GOLDEN)('expected keys and shapes are exactly the golden checkpoint\'s (142 tensors, 198,419 parameters, same order)', () => {
    const expected = dcaeParamShapes(loadDcaeConfig(goldenPath('dcae_public.config.json')));
    const f = SafetensorsFile.open(goldenPath('dcae_public.weights.safetensors'));
    try {
      const header = f.header.entries.map((e) => [e.name, [...e.shape]]);
      expect(header.length).toBe(142);
      expect([...expected.entries()]).toEqual(header);
    } finally {
      f.close();
    }
    const count = dcaeParamCount(loadDcaeConfig(goldenPath('dcae_public.config.json')));
    expect(count.total).toBe(198_419);
    expect(count.tensors).toBe(142);
  });

  it('counts the real dc-ae-f32c32-sana-1.0 from shapes: 312,250,275 (encoder 153,027,104 + decoder 159,223,171)', () => {
    // Independent closed forms per block (d = 32 so the inner width equals C; one 5×5 scale):
    //   ResBlock(C)   = 9C² + C (conv1) + 9C² (conv2) + 2C (norm)
    //   EViT(C)       = 3C² (q,k,v) + 75C + 96C (5×5 dw, grouped 1×1 of 32) + 2C² + 2C (to_out, norm)
    //                 + 8C² + 8C (inverted) + 72C + 8C (depthwise) + 4C² (point) + 2C (norm)
    //   conv3×3(a→b)  = 9ab + b
    const res = (C: number): number => 18 * C * C + 3 * C;
    const evit = (C: number): number => 17 * C * C + (75 + 96 + 2 + 8 + 72 + 8 + 2) * C;
    const conv = (a: number, b: number): number => 9 * a * b + b;
    const ch = [128, 256, 512, 512, 1024, 1024];
    const block = (i: number): number => (i < 3 ? res(ch[i]!) : evit(ch[i]!));
    let enc = conv(3, 128) + conv(1024, 32);
    [2, 2, 2, 3, 3, 3].forEach((n, i) => {
      enc += n * block(i) + (i < 5 ? conv(ch[i]!, ch[i + 1]!) : 0);
    });
    let dec = conv(32, 1024) + 2 * 128 + conv(128, 3);
    ch.forEach((_, i) => {
      dec += 3 * block(i) + (i < 5 ? conv(ch[i + 1]!, ch[i]!) : 0);
    });
    const count = dcaeParamCount(dcaePreset('dc-ae-f32c32-sana-1.0'));
    expect(count.encoder).toBe(enc);
    expect(count.decoder).toBe(dec);
    expect(count.total).toBe(312_250_275);
    // The project's architecture note computed ≈153.0M + ≈159.2M ≈ 312M by hand.
    expect(Math.round(count.encoder / 1e5) / 10).toBe(153.0);
    expect(Math.round(count.decoder / 1e5) / 10).toBe(159.2);
  });
});

describe.skipIf(!GOLDEN)('bad weights give one error listing every problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcae-weights-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const config = GOLDEN ? loadDcaeConfig(goldenPath('dcae_public.config.json')) : null!;

  function broken(): Map<string, Tensor> {
    const w = goldenTensors('dcae_public.weights.safetensors');
    w.delete('encoder.down_blocks.2.0.attn.to_k.weight');
    w.delete('decoder.norm_out.bias');
    w.set('decoder.extra.weight', Tensor.f32([2], [1, 2]));
    w.set('encoder.conv_in.weight', new Tensor([8, 3, 5, 5], 'f32'));
    w.set('decoder.conv_out.bias', new Tensor([3], 'i64'));
    return w;
  }

  it('in memory', () => {
    let err: unknown;
    try {
      new AutoencoderDC(config, broken(), { source: 'broken' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DcaeWeightsError);
    const e = err as DcaeWeightsError;
    expect(e.missing).toEqual(['encoder.down_blocks.2.0.attn.to_k.weight', 'decoder.norm_out.bias']);
    expect(e.unexpected).toEqual(['decoder.extra.weight']);
    expect(e.misShaped).toEqual(['encoder.conv_in.weight [8, 3, 5, 5] (want [8, 3, 3, 3])']);
    expect(e.wrongDtype).toEqual(['decoder.conv_out.bias (i64)']);
    expect(e.message).toMatch(/^DC-AE weights broken do not match the config: 2 missing: .*; 1 unexpected: decoder\.extra\.weight; 1 mis-shaped: .*; 1 not floating point: decoder\.conv_out\.bias \(i64\)$/);
  });

  it('from a file, checked from the header before any tensor is read', () => {
    const path = join(dir, 'broken.safetensors');
    writeSafetensors(path, broken());
    expect(() => loadDcaeWeights(path, config)).toThrow(DcaeWeightsError);
    expect(() => AutoencoderDC.fromFiles(goldenPath('dcae_public.config.json'), path)).toThrow(/2 missing: encoder\.down_blocks\.2\.0\.attn\.to_k\.weight, decoder\.norm_out\.bias/);
  });

  it('a decoder-only model checks and loads only the decoder half and refuses to encode', () => {
    const m = AutoencoderDC.fromFiles(goldenPath('dcae_public.config.json'), goldenPath('dcae_public.weights.safetensors'), { part: 'decoder' });
    expect(() => m.encode(new Tensor([1, 3, 8, 8], 'f32'))).toThrow(/holds only the decoder weights/);
    const w = goldenTensors('dcae_public.weights.safetensors');
    expect(() => new AutoencoderDC(config, w, { part: 'decoder' })).toThrow(/unexpected: encoder\.conv_in\.weight/);
  });
});
