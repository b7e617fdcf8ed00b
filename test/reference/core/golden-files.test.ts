import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { goldenAvailable, goldenDir, goldenPath, loadConfig, readSafetensors } from '../../../reference/core/index.js';

const available = goldenAvailable();
if (!available) console.warn(`[golden] ${goldenDir()} is absent: golden-file tests are skipped`);

describe.skipIf(!available)('every file under ../shared/golden reads', () => {
  const files = available ? readdirSync(goldenDir()) : [];

  it('has safetensors and config files', () => {
    expect(files.filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThanOrEqual(10);
    expect(files.filter((f) => f.endsWith('.config.json')).length).toBeGreaterThanOrEqual(4);
  });

  for (const f of files.filter((x) => x.endsWith('.safetensors'))) {
    it(`reads ${f}`, () => {
      const { tensors, metadata } = readSafetensors(goldenPath(f));
      expect(tensors.size).toBeGreaterThan(0);
      expect(typeof metadata).toBe('object');
      for (const [name, t] of tensors) {
        expect(t.numel, name).toBe(t.shape.reduce((a, b) => a * b, 1));
        if (t.dtype === 'f32' || t.dtype === 'f64') {
          const v = t.toFloat64();
          expect(v.every((x) => Number.isFinite(x)), `${f}:${name} finite`).toBe(true);
        }
      }
    });
  }

  for (const f of files.filter((x) => x.endsWith('.config.json'))) {
    it(`parses ${f}`, () => {
      const c = loadConfig(goldenPath(f));
      expect(typeof c._class_name).toBe('string');
    });
  }

  it('keeps -Infinity from the DPM scheduler config', () => {
    const c = loadConfig(goldenPath('scheduler_flow_dpm_public.config.json'));
    expect(c.lambda_min_clipped).toBe(-Infinity);
  });
});
