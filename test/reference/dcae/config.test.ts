import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../reference/core/config.js';
import { goldenPath } from '../../../reference/core/golden.js';
import { DC_AE_F32C32_SANA_1_0, dcaePreset, loadDcaeConfig, parseDcaeConfig, spatialCompressionRatio } from '../../../reference/dcae/config.js';
import { GOLDEN } from './golden-helpers.js';

describe('DC-AE config', () => {
  it('the f32c32 SANA 1.0 preset has the published dimensions', () => {
    const c = dcaePreset('dc-ae-f32c32-sana-1.0');
    expect(c.encoder.stages.map((s) => s.channels)).toEqual([128, 256, 512, 512, 1024, 1024]);
    expect(c.decoder.stages.map((s) => s.channels)).toEqual([128, 256, 512, 512, 1024, 1024]);
    expect(c.encoder.stages.map((s) => s.layers)).toEqual([2, 2, 2, 3, 3, 3]);
    expect(c.decoder.stages.map((s) => s.layers)).toEqual([3, 3, 3, 3, 3, 3]);
    expect(c.encoder.stages.map((s) => s.blockType)).toEqual(['ResBlock', 'ResBlock', 'ResBlock', 'EfficientViTBlock', 'EfficientViTBlock', 'EfficientViTBlock']);
    expect(c.decoder.stages.map((s) => s.qkvMultiscales)).toEqual([[], [], [], [5], [5], [5]]);
    expect(c.decoder.stages.every((s) => s.act === 'silu')).toBe(true);
    expect([c.latentChannels, c.attentionHeadDim, c.scalingFactor, spatialCompressionRatio(c)]).toEqual([32, 32, 0.41407, 32]);
    expect([c.encoder.downsampleBlockType, c.decoder.upsampleBlockType, c.decoder.convAct]).toEqual(['conv', 'interpolate', 'relu']);
    expect([c.encoder.outShortcut, c.decoder.inShortcut]).toEqual([true, true]);
    expect(() => dcaePreset('f64')).toThrow(/unknown preset "f64"/);
  });

  it.skipIf(!GOLDEN)('reads the golden config', () => {
    const c = loadDcaeConfig(goldenPath('dcae_public.config.json'));
    expect(c.encoder.stages.map((s) => [s.blockType, s.channels, s.layers])).toEqual([
      ['ResBlock', 8, 1], ['ResBlock', 16, 2], ['EfficientViTBlock', 32, 1], ['EfficientViTBlock', 32, 2],
    ]);
    expect(c.decoder.stages.map((s) => s.layers)).toEqual([2, 1, 2, 1]);
    expect([c.latentChannels, c.attentionHeadDim, spatialCompressionRatio(c)]).toEqual([8, 16, 8]);
  });

  it('fills diffusers defaults for keys older configs omit (e.g. decoder_conv_act_fn, shortcuts)', () => {
    const raw: Record<string, unknown> = { ...DC_AE_F32C32_SANA_1_0 };
    for (const k of ['decoder_conv_act_fn', 'encoder_out_shortcut', 'decoder_in_shortcut']) delete raw[k];
    const c = parseDcaeConfig(raw);
    expect([c.decoder.convAct, c.encoder.outShortcut, c.decoder.inShortcut]).toEqual(['relu', true, true]);
  });

  it('rejects bad configs with a ConfigError naming the field', () => {
    const bad = (patch: Record<string, unknown>, msg: RegExp): void => {
      const f = (): unknown => parseDcaeConfig({ ...DC_AE_F32C32_SANA_1_0, ...patch }, 'test.json');
      expect(f).toThrow(ConfigError);
      expect(f).toThrow(msg);
    };
    bad({ _class_name: 'AutoencoderKL' }, /_class_name is "AutoencoderKL"/);
    bad({ latent_channels: 0 }, /"latent_channels" must be a positive integer/);
    bad({ encoder_layers_per_block: [2, 2, 2] }, /"encoder_layers_per_block" has 3 entries/);
    bad({ decoder_layers_per_block: [0, 3, 3, 3, 3, 3] }, /0 layers are not supported/);
    bad({ encoder_block_types: 'AttnBlock' }, /unsupported value "AttnBlock"/);
    bad({ decoder_norm_types: 'batch_norm' }, /"decoder_norm_types": unsupported value "batch_norm"/);
    bad({ decoder_act_fns: ['silu', 'silu'] }, /"decoder_act_fns" must be a string or a list of 6 strings/);
    bad({ upsample_block_type: 'bilinear' }, /"upsample_block_type": unsupported value "bilinear"/);
    bad({ encoder_qkv_multiscales: [[], [], [], [4], [5], [5]] }, /odd kernel sizes/);
    bad({ latent_channels: 48 }, /1024 channels do not average into 48 latent channels/);
    bad({ encoder_block_out_channels: [128, 256, 512, 512, 1024, 3000] }, /4·1024 channels do not average into 3000/);
    bad({ scaling_factor: 'x' }, /"scaling_factor" must be a finite non-zero number/);
  });
});
