/** Config parsing, strict weight-key checks, presets and parameter counts. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../reference/core/config.js';
import { randn } from '../../../reference/core/random.js';
import { readSafetensors, writeSafetensors } from '../../../reference/core/safetensors.js';
import { loadSanaTransformerConfig, parseSanaTransformerConfig } from '../../../reference/dit/config.js';
import { SanaTransformer2DModel } from '../../../reference/dit/model.js';
import { DIT_PRESETS, ditPreset, presetParameterCount } from '../../../reference/dit/presets.js';
import { countParameters, loadSanaTransformerWeights, parameterGroups, sanaTransformerWeightShapes, WeightKeyError } from '../../../reference/dit/weights.js';
import { caseFiles, GOLDEN } from './golden-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sana-dit-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!GOLDEN)('weights of the public golden model', () => {
  const files = caseFiles('sana_transformer_public');

  it('the expected key set is exactly the golden state_dict (54 tensors, 54088 parameters)', () => {
    const cfg = loadSanaTransformerConfig(files.config);
    const want = sanaTransformerWeightShapes(cfg);
    const have = readSafetensors(files.weights).tensors;
    expect([...want.keys()].sort()).toEqual([...have.keys()].sort());
    for (const [k, s] of want) expect(have.get(k)!.shape, k).toEqual(s);
    expect(want.size).toBe(54);
    expect(countParameters(cfg)).toBe(54088);
  });

  it('missing, unexpected and mis-shaped keys are all listed in ONE error (from a file and in memory)', () => {
    const cfg = loadSanaTransformerConfig(files.config);
    const w = readSafetensors(files.weights).tensors;
    w.delete('caption_norm.weight');
    w.delete('transformer_blocks.1.ff.conv_point.weight');
    w.set('transformer_blocks.2.attn1.to_q.weight', randn([32, 32], 1));
    w.set('pos_embed', randn([1, 64, 32], 2));
    w.set('proj_out.weight', randn([8, 31], 3));
    const bad = join(dir, 'bad.safetensors');
    writeSafetensors(bad, w);
    for (const attempt of [() => loadSanaTransformerWeights(cfg, bad), () => new SanaTransformer2DModel(cfg, w)]) {
      let err: unknown;
      try {
        attempt();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WeightKeyError);
      const e = err as WeightKeyError;
      expect(e.missing.sort()).toEqual(['caption_norm.weight', 'transformer_blocks.1.ff.conv_point.weight']);
      expect(e.unexpected.sort()).toEqual(['pos_embed', 'transformer_blocks.2.attn1.to_q.weight']);
      expect(e.misshaped).toEqual([{ key: 'proj_out.weight', expected: [8, 32], actual: [8, 31] }]);
      expect(e.message).toMatch(/2 missing: .*caption_norm\.weight.* \| 2 unexpected: .*pos_embed.* \| 1 mis-shaped: proj_out\.weight is \[8, 31\], expected \[8, 32\]/);
    }
  });

  it('accepts half-precision checkpoints (converted to float32)', () => {
    const cfg = loadSanaTransformerConfig(files.config);
    const w = new Map([...readSafetensors(files.weights).tensors].map(([k, t]) => [k, t.to('bf16')]));
    const p = join(dir, 'bf16.safetensors');
    writeSafetensors(p, w);
    const loaded = loadSanaTransformerWeights(cfg, p);
    expect(loaded.get('proj_out.weight')!.dtype).toBe('f32');
  });
});

describe('config', () => {
  const base = { num_attention_heads: 2, attention_head_dim: 16, cross_attention_dim: 32, num_cross_attention_heads: 2, cross_attention_head_dim: 16, num_layers: 1 };

  it('fills diffusers defaults and maps out_channels null to in_channels', () => {
    const cfg = parseSanaTransformerConfig({ ...base, in_channels: 4, out_channels: null });
    expect(cfg.outChannels).toBe(4);
    expect(cfg.captionChannels).toBe(2304);
    expect(cfg.interpolationScale).toBeNull();
    expect(cfg.normEps).toBe(1e-6);
  });

  it('rejects unsupported options and inconsistent dimensions with a ConfigError', () => {
    expect(() => parseSanaTransformerConfig({ ...base, qk_norm: 'rms_norm_across_heads' })).toThrow(/qk_norm = "rms_norm_across_heads"/);
    expect(() => parseSanaTransformerConfig({ ...base, guidance_embeds: true })).toThrow(ConfigError);
    expect(() => parseSanaTransformerConfig({ ...base, cross_attention_dim: null })).toThrow(/cross_attention_dim = null/);
    expect(() => parseSanaTransformerConfig({ ...base, cross_attention_dim: 48 })).toThrow(/must equal the inner dim 32/);
    expect(() => parseSanaTransformerConfig({ ...base, _class_name: 'AutoencoderDC' })).toThrow(/expected "SanaTransformer2DModel"/);
    expect(() => parseSanaTransformerConfig({ ...base, patch_size: '1' })).toThrow(/"patch_size" must be an integer/);
  });

  it('reads a config.json from disk', () => {
    const p = join(dir, 'config.json');
    writeFileSync(p, JSON.stringify({ _class_name: 'SanaTransformer2DModel', ...base, interpolation_scale: 2.0 }));
    expect(loadSanaTransformerConfig(p).interpolationScale).toBe(2);
  });
});

describe('presets (no weights allocated)', () => {
  it('Sana-0.6B is 28 × 1152 with 591,747,872 parameters; Sana-1.6B is 20 × 2240 with 1,604,462,752', () => {
    const s06 = ditPreset('0.6b').config;
    expect([s06.numLayers, s06.numAttentionHeads * s06.attentionHeadDim, s06.numCrossAttentionHeads, s06.crossAttentionHeadDim]).toEqual([28, 1152, 16, 72]);
    const s16 = ditPreset('1.6B').config;
    expect([s16.numLayers, s16.numAttentionHeads * s16.attentionHeadDim, s16.numCrossAttentionHeads, s16.crossAttentionHeadDim]).toEqual([20, 2240, 20, 112]);
    // Published sizes: "0.6B" / "1.6B" (secondary sources: 590M and 1604M).
    expect(presetParameterCount('sana-0.6b')).toBe(591_747_872);
    expect(presetParameterCount('sana-1.6b')).toBe(1_604_462_752);
    // Per block 15.5·C² + 66·C (see notes/sana-architecture.md §2).
    const C = 1152;
    const perBlock = sanaTransformerWeightShapes(s06).get('transformer_blocks.0.attn1.to_q.weight')!;
    expect(perBlock).toEqual([C, C]);
    expect(parameterGroups(s06).get('transformer_blocks')).toBe(28 * (15.5 * C * C + 66 * C));
  });

  it('every preset is a valid config; the 2K / 4K presets use the sincos PE', () => {
    for (const p of DIT_PRESETS) expect(countParameters(p.config)).toBeGreaterThan(5e8);
    expect(ditPreset('sana-1.6b-2k').config.interpolationScale).toBe(1);
    expect(ditPreset('sana-1.6b-4k').config.interpolationScale).toBe(2);
    expect(ditPreset('sana-1.6b-4k').config.sampleSize).toBe(128);
    expect(() => ditPreset('3b')).toThrow(/unknown DiT preset "3b"/);
  });
});
