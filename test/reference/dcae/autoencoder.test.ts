import { describe, expect, it } from 'vitest';
import { formatStats } from '../../../reference/core/compare.js';
import { goldenPath } from '../../../reference/core/golden.js';
import { randn } from '../../../reference/core/random.js';
import type { Tensor } from '../../../reference/core/tensor.js';
import { AutoencoderDC } from '../../../reference/dcae/autoencoder.js';
import { loadDcaeConfig, parseDcaeConfig } from '../../../reference/dcae/config.js';
import { dcaeParamShapes } from '../../../reference/dcae/param-shapes.js';
import { GOLDEN, expectClose, goldenTensors } from './golden-helpers.js';

describe.skipIf(!GOLDEN)('AutoencoderDC against diffusers (dcae_public)', () => {
  const model = GOLDEN ? AutoencoderDC.fromFiles(goldenPath('dcae_public.config.json'), goldenPath('dcae_public.weights.safetensors')) : null!;
  const io = GOLDEN ? goldenTensors('dcae_public.io.safetensors') : new Map<string, Tensor>();
  const ref = (name: string): Tensor => io.get(name)!;

  // One encode and one decode of the golden latent, recording every intermediate.
  const recorded = new Map<string, Tensor>();
  const record = (name: string, t: Tensor): void => void recorded.set(name, t);
  const latent = GOLDEN ? model.encode(ref('sample'), { record }) : null!;
  const reconstruction = GOLDEN ? model.decode(ref('latent'), { record }) : null!;

  it('encode(sample) = latent', () => {
    const s = expectClose(latent, ref('latent'), 'latent');
    console.log(`[dcae] latent ${formatStats(s)} (vs f64: ${formatStats(expectClose(latent, ref('latent_f64'), 'latent vs f64'))})`);
  });

  it('decode(latent) = reconstruction', () => {
    const s = expectClose(reconstruction, ref('reconstruction'), 'reconstruction');
    console.log(`[dcae] reconstruction ${formatStats(s)}`);
    expectClose(reconstruction, ref('reconstruction_f64_from_f32_latent'), 'reconstruction vs f64 decode of the f32 latent');
  });

  it('decode(decode_input) = decode_output', () => {
    const out = model.decode(ref('decode_input'));
    const s = expectClose(out, ref('decode_output'), 'decode_output');
    console.log(`[dcae] decode_output ${formatStats(s)}`);
    expectClose(out, ref('decode_output_f64'), 'decode_output vs f64');
  });

  it('matches every recorded intermediate', () => {
    const names = [...io.keys()].filter((k) => k.startsWith('intermediate.')).map((k) => k.slice('intermediate.'.length));
    expect(names.length).toBe(13);
    for (const name of names) {
      const out = recorded.get(name);
      expect(out, `recorded ${name}`).toBeDefined();
      const s = expectClose(out!, ref(`intermediate.${name}`), name);
      console.log(`[dcae] ${name.padEnd(26)} ${formatStats(s)}`);
    }
  });

  it('scales latents by scaling_factor both ways', () => {
    expect(model.scalingFactor).toBe(0.41407);
    const scaled = model.scaleLatent(ref('latent'));
    const back = model.unscaleLatent(scaled);
    const z = ref('latent').toFloat32();
    for (let i = 0; i < z.length; i++) {
      expect(scaled.data[i]).toBe(Math.fround(z[i]! * Math.fround(0.41407)));
      expect(Math.abs((back.data[i] as number) - z[i]!)).toBeLessThanOrEqual(Math.abs(z[i]!) * 2 ** -22);
    }
  });

  it('rejects images that are not multiples of f and latents with the wrong channels', () => {
    const cfg = loadDcaeConfig(goldenPath('dcae_public.config.json'));
    expect(model.spatialCompressionRatio).toBe(8);
    expect(cfg.latentChannels).toBe(8);
    expect(() => model.encode(randn([1, 3, 20, 32], 7))).toThrow(/multiples of 8, got \[1, 3, 20, 32\]/);
    expect(() => model.encode(randn([1, 4, 32, 32], 7))).toThrow(/want \(B, 3, H, W\)/);
    expect(() => model.decode(ref('sample'))).toThrow(/want \(B, 8, h, w\)/);
  });
});

describe('AutoencoderDC variants without golden vectors (pixel_unshuffle / pixel_shuffle blocks)', () => {
  it('builds from shapes, encodes and decodes with the right shapes and finite values', () => {
    const config = parseDcaeConfig({
      latent_channels: 4, attention_head_dim: 8,
      encoder_block_types: ['ResBlock', 'EfficientViTBlock', 'EfficientViTBlock'],
      decoder_block_types: ['ResBlock', 'EfficientViTBlock', 'EfficientViTBlock'],
      encoder_block_out_channels: [8, 16, 32], decoder_block_out_channels: [8, 16, 32],
      encoder_layers_per_block: [1, 1, 1], decoder_layers_per_block: [1, 2, 1],
      encoder_qkv_multiscales: [[], [3], [3, 5]], decoder_qkv_multiscales: [[], [5], [3]],
      downsample_block_type: 'pixel_unshuffle', upsample_block_type: 'pixel_shuffle', decoder_act_fns: ['silu', 'relu6', 'silu'],
    });
    const shapes = dcaeParamShapes(config);
    expect(shapes.get('encoder.down_blocks.0.1.conv.weight')).toEqual([4, 8, 3, 3]); // 16/4 before the unshuffle
    expect(shapes.get('decoder.up_blocks.0.0.conv.weight')).toEqual([32, 16, 3, 3]); // 4·8 before the shuffle
    expect(shapes.get('encoder.down_blocks.2.0.attn.to_out.weight')).toEqual([32, 96]); // 3 branches of 32
    const params = new Map([...shapes].map(([k, s], i) => {
      const fanIn = s.length > 1 ? s.slice(1).reduce((a, b) => a * b, 1) : 1;
      return [k, randn(s, 500 + i, s.length > 1 ? 1 / Math.sqrt(fanIn) : 0.2)];
    }));
    const model = new AutoencoderDC(config, params);
    const z = model.encode(randn([2, 3, 16, 16], 1));
    expect([...z.shape]).toEqual([2, 4, 4, 4]);
    const x = model.decode(z);
    expect([...x.shape]).toEqual([2, 3, 16, 16]);
    expect((x.data as Float32Array).every((v) => Number.isFinite(v))).toBe(true);
  });
});
