/** `sana-lab run dit` (cli/commands/run-dit.ts) reproduces the golden outputs from the files alone. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runDit, RUN_DIT_USAGE } from '../../../cli/commands/run-dit.js';
import { backendStatus } from '../../../bindings/backends.js';
import { UsageError } from '../../../cli/command.js';
import { readSafetensors, writeSafetensors } from '../../../reference/core/safetensors.js';
import { CASES, caseFiles, GOLDEN, maxRelError, MODEL_TOL, readGolden } from './golden-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sana-run-dit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!GOLDEN)('runDit on the golden files', () => {
  for (const c of CASES) {
    it(`${c}: writes output (F32) within ${MODEL_TOL} of diffusers`, async () => {
      const f = caseFiles(c);
      const out = join(dir, `${c}.out.safetensors`);
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      const code = await runDit(['--config', f.config, '--weights', f.weights, '--inputs', f.io, '--out', out, '--backend', 'reference']);
      log.mockRestore();
      expect(code).toBe(0);
      const written = readSafetensors(out);
      expect([...written.tensors.keys()]).toEqual(['output']);
      expect(written.tensors.get('output')!.dtype).toBe('f32');
      expect(written.metadata.backend).toBe('reference');
      expect(maxRelError(`run dit ${c}`, written.tensors.get('output')!, readGolden(f.io)('output'))).toBeLessThanOrEqual(MODEL_TOL);
    });
  }

  it('--input / --output rename tensors; a missing mask means no mask', async () => {
    const f = caseFiles('sana_transformer_public');
    const g = readGolden(f.io);
    const inputs = join(dir, 'renamed.safetensors');
    writeSafetensors(inputs, new Map([['latents', g('hidden_states')], ['t', g('timestep')], ['text', g('encoder_hidden_states')], ['m', g('encoder_attention_mask')]]));
    const out = join(dir, 'renamed.out.safetensors');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runDit(['--config', f.config, '--weights', f.weights, '--inputs', inputs, '--out', out, '--input', 'latents', '--input', 'timestep=t,encoder_hidden_states=text', '--input', 'encoder_attention_mask=m', '--output', 'velocity']);
    const noMask = join(dir, 'nomask.safetensors');
    writeSafetensors(noMask, new Map([['hidden_states', g('hidden_states')], ['timestep', g('timestep')], ['encoder_hidden_states', g('encoder_hidden_states')]]));
    const out2 = join(dir, 'nomask.out.safetensors');
    await runDit(['--config', f.config, '--weights', f.weights, '--inputs', noMask, '--out', out2, '--accumulate', 'f32', '--eps', 'sana']);
    log.mockRestore();
    const v = readSafetensors(out).tensors.get('velocity')!;
    expect(maxRelError('run dit renamed', v, g('output'))).toBeLessThanOrEqual(MODEL_TOL);
    // Without the mask the two padded tokens are attended to: a different (but finite) answer.
    const o2 = readSafetensors(out2).tensors.get('output')!;
    expect(o2.toFloat32().every(Number.isFinite)).toBe(true);
    expect(maxRelError('run dit without mask (must differ)', o2, g('output'))).toBeGreaterThan(1e-3);
  });

  it('errors: unknown backend, missing option, missing tensor', async () => {
    const f = caseFiles('sana_transformer_public');
    const args = ['--config', f.config, '--weights', f.weights, '--inputs', f.io, '--out', join(dir, 'x.safetensors')];
    await expect(runDit([...args, '--backend', 'tpu'])).rejects.toThrow(UsageError);
    await expect(runDit([...args, '--backend', 'tpu'])).rejects.toThrow('run dit: --backend tpu is not one of reference, cpu, cuda');
    // cuda is a backend of the runner: refused with the reason where there is no GPU.
    if (!backendStatus('cuda').available) await expect(runDit([...args, '--backend', 'cuda'])).rejects.toThrow(/^the cuda backend is not available here: ./);
    await expect(runDit(args.slice(2))).rejects.toThrow(/--config is required/);
    await expect(runDit([...args, '--input', 'nope'])).rejects.toThrow(/has no tensor "nope" \(role hidden_states\)/);
    await expect(runDit([...args, '--input', 'latent=x'])).rejects.toThrow(/unknown role "latent"/);
    expect(RUN_DIT_USAGE).toMatch(/sana-lab run dit --config/);
  });
});
