/** cli/commands/run-dcae.ts on the golden files (kept here with the DC-AE tests it exercises). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DCAE_DECODE_USAGE, DCAE_ENCODE_USAGE, runDcaeDecode, runDcaeEncode } from '../../../cli/commands/run-dcae.js';
import { UsageError } from '../../../cli/command.js';
import { goldenPath } from '../../../reference/core/golden.js';
import { readSafetensors, writeSafetensors } from '../../../reference/core/safetensors.js';
import { GOLDEN, expectClose, goldenTensors } from './golden-helpers.js';

describe.skipIf(!GOLDEN)('sana-lab run dcae-encode / dcae-decode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcae-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());
  const model = ['--config', goldenPath('dcae_public.config.json'), '--weights', goldenPath('dcae_public.weights.safetensors')];
  const io = GOLDEN ? goldenTensors('dcae_public.io.safetensors') : new Map();
  const inputs = goldenPath('dcae_public.io.safetensors');

  function run(f: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; out: string }> {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    return f(argv).then((code) => ({ code, out: lines.join('\n') }));
  }

  it('encodes sample → latent', async () => {
    const out = join(dir, 'latent.safetensors');
    const r = await run(runDcaeEncode, [...model, '--inputs', inputs, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/sample \[2, 3, 32, 32\] → latent \[2, 8, 4, 4\]/);
    const { tensors, metadata } = readSafetensors(out);
    expectClose(tensors.get('latent')!, io.get('latent'), 'cli latent');
    expect(metadata.backend).toBe('reference');
  });

  it('encodes with --scaled and decodes it back with --scaled', async () => {
    const z = join(dir, 'zs.safetensors');
    expect((await run(runDcaeEncode, [...model, '--inputs', inputs, '--out', z, '--scaled', '--output', 'z'])).code).toBe(0);
    const scaled = readSafetensors(z).tensors.get('z')!;
    const raw = io.get('latent');
    expect((scaled.data[0] as number) / (raw.data[0] as number)).toBeCloseTo(0.41407, 5);
    const x = join(dir, 'xs.safetensors');
    expect((await run(runDcaeDecode, [...model, '--inputs', z, '--input', 'z', '--out', x, '--scaled'])).code).toBe(0);
    expectClose(readSafetensors(x).tensors.get('sample')!, io.get('reconstruction'), 'cli scaled round trip', 1e-5);
  });

  it('decodes latent → sample, and decode_input → decode_output with tiling flags that cover the image', async () => {
    const out = join(dir, 'rec.safetensors');
    expect((await run(runDcaeDecode, [...model, '--inputs', inputs, '--out', out, '--backend', 'reference'])).code).toBe(0);
    expectClose(readSafetensors(out).tensors.get('sample')!, io.get('reconstruction'), 'cli reconstruction');
    const out2 = join(dir, 'dec.safetensors');
    const r = await run(runDcaeDecode, [...model, '--inputs', inputs, '--input', 'decode_input', '--output', 'image', '--out', out2, '--tile', '32']);
    expect(r.code).toBe(0);
    expectClose(readSafetensors(out2).tensors.get('image')!, io.get('decode_output'), 'cli decode_output');
  });

  it('decodes with overlapping tiles', async () => {
    const out = join(dir, 'tiled.safetensors');
    const r = await run(runDcaeDecode, [...model, '--inputs', inputs, '--out', out, '--tile', '16', '--tile-stride', '8']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/tiled 16\/8/);
    expect([...readSafetensors(out).tensors.get('sample')!.shape]).toEqual([2, 3, 32, 32]);
  });

  it('--plan from a preset and a size, and from a latent file without reading its data', async () => {
    const r = await run(runDcaeDecode, ['--plan', '--preset', 'dc-ae-f32c32-sana-1.0', '--height', '4096', '--width', '4096', '--tile', '1024', '--tile-stride', '896']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/tiles: 5 rows × 5 cols = 25/);
    expect(r.out).toMatch(/activation peak\s+1\.75 GiB/);
    const p = await run(runDcaeDecode, ['--plan', '--config', goldenPath('dcae_public.config.json'), '--inputs', inputs]);
    expect(p.out).toMatch(/image 32×32 px \(H×W, batch 2\), latent \[2, 8, 4, 4\]/);
    expect(p.out).toMatch(/tiling: none/);
  });

  it('reports usage errors clearly', async () => {
    await expect(runDcaeEncode([...model, '--inputs', inputs])).rejects.toThrow(/missing --out/);
    await expect(runDcaeEncode([...model, '--inputs', inputs, '--out', 'x', '--backend', 'cuda'])).rejects.toThrow(/--backend cuda is not available for the DC-AE \(available: reference\)/);
    await expect(runDcaeDecode([...model, '--inputs', inputs, '--out', join(dir, 'n.safetensors'), '--input', 'nope'])).rejects.toThrow(/has no tensor "nope" \(it has: .*decode_input/);
    await expect(runDcaeDecode([...model, '--inputs', inputs, '--out', 'x', '--tile', '20'])).rejects.toThrow(UsageError);
    await expect(runDcaeDecode(['--plan', '--preset', 'dc-ae-f32c32-sana-1.0', '--height', '4096'])).rejects.toThrow(/needs both --height and --width/);
    await expect(runDcaeDecode(['--plan', '--height', '64', '--width', '64'])).rejects.toThrow(/exactly one of --config or --preset/);
    await expect(runDcaeDecode([...model, '--inputs', inputs, '--out', 'x', '--height', '64'])).rejects.toThrow(/--height is only used with --plan/);
    expect(DCAE_ENCODE_USAGE).toMatch(/^usage: sana-lab run dcae-encode/);
    expect(DCAE_DECODE_USAGE).toMatch(/--tile SIZE/);
  });

  it('a checkpoint with wrong keys fails with the loader\'s one error', async () => {
    const w = goldenTensors('dcae_public.weights.safetensors');
    w.delete('decoder.conv_out.bias');
    const bad = join(dir, 'bad.safetensors');
    writeSafetensors(bad, w);
    await expect(runDcaeDecode(['--config', goldenPath('dcae_public.config.json'), '--weights', bad, '--inputs', inputs, '--out', 'x'])).rejects.toThrow(/1 missing: decoder\.conv_out\.bias/);
  });
});
