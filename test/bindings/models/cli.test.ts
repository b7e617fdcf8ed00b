/** `run dit` / `run dcae-decode` with --backend cpu, and `profile` (cli/commands/profile.ts). */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BackendUnavailableError } from '../../../cli/backend-option.js';
import { UsageError } from '../../../cli/command.js';
import { backendStatus } from '../../../bindings/backends.js';
import { runDcaeDecode } from '../../../cli/commands/run-dcae.js';
import { runDit } from '../../../cli/commands/run-dit.js';
import { parseOpVersions, profileCommand, runProfile } from '../../../cli/commands/profile.js';
import { measureDeviceCeilings } from '../../../bench/device-ceilings.js';
import { imageFloor } from '../../../bench/image-floor.js';
import { errorStats, formatStats } from '../../../reference/core/compare.js';
import { goldenAvailable, goldenPath } from '../../../reference/core/golden.js';
import { readSafetensors, writeSafetensors } from '../../../reference/core/safetensors.js';

const cudaAvailable = backendStatus('cuda').available;
import type { Tensor } from '../../../reference/core/tensor.js';

const dir = mkdtempSync(join(tmpdir(), 'sana-models-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function quiet<T>(f: () => Promise<T>): Promise<{ value: T; out: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    return { value: await f(), out: lines.join('\n') };
  } finally {
    log.mockRestore();
  }
}

function rel(label: string, a: Tensor, e: Tensor): number {
  const s = errorStats(a.toFloat32(), e.toFloat32());
  console.log(`[models cli] ${label}: ${formatStats(s)}`);
  return s.nonFinite > 0 ? Infinity : s.maxRel;
}

describe.skipIf(!goldenAvailable())('run dit / run dcae-decode --backend cpu on the golden files', () => {
  const dit = (f: string) => goldenPath(`sana_transformer_public.${f}`);

  it('run dit --backend cpu (f32 ≤ 1e-4 of diffusers; bf16 ≤ 5e-2), metadata, option errors', async () => {
    const base = ['--config', dit('config.json'), '--weights', dit('weights.safetensors'), '--inputs', dit('io.safetensors')];
    const golden = readSafetensors(dit('io.safetensors')).tensors.get('output')!;
    const out32 = join(dir, 'dit32.safetensors');
    const r = await quiet(() => runDit([...base, '--out', out32, '--backend', 'cpu']));
    expect(r.value).toBe(0);
    expect(r.out).toMatch(/run dit: cpu backend \(f32, dit-block\)/);
    const w32 = readSafetensors(out32);
    expect(w32.metadata).toMatchObject({ backend: 'cpu', dtype: 'f32', block_mode: 'dit-block' });
    expect(rel('run dit cpu f32', w32.tensors.get('output')!, golden)).toBeLessThanOrEqual(1e-4);
    const out16 = join(dir, 'dit16.safetensors');
    await quiet(() => runDit([...base, '--out', out16, '--backend', 'cpu', '--dtype', 'bf16', '--block-mode', 'ops']));
    expect(rel('run dit cpu bf16 ops', readSafetensors(out16).tensors.get('output')!, golden)).toBeLessThanOrEqual(5e-2);
    await expect(runDit([...base, '--out', out32, '--backend', 'cpu', '--accumulate', 'f32'])).rejects.toThrow(/--accumulate applies to the reference backend only/);
    await expect(runDit([...base, '--out', out32, '--dtype', 'bf16'])).rejects.toThrow(/--dtype applies to native backends only/);
    await expect(runDit([...base, '--out', out32, '--backend', 'cpu', '--dtype', 'f16'])).rejects.toThrow(UsageError);
    await expect(runDit([...base, '--out', out32, '--backend', 'cpu', '--block-mode', 'fused'])).rejects.toThrow(/--block-mode must be dit-block or ops/);
  });

  it('run dcae-decode --backend cpu, whole and tiled, ≤ 1e-4 of the reference backend', async () => {
    const cfg = goldenPath('dcae_public.config.json');
    const wts = goldenPath('dcae_public.weights.safetensors');
    const io = readSafetensors(goldenPath('dcae_public.io.safetensors')).tensors;
    const inputs = join(dir, 'latent.safetensors');
    writeSafetensors(inputs, new Map([['latent', io.get('decode_input')!]]));
    const base = ['--config', cfg, '--weights', wts, '--inputs', inputs];
    const cpuOut = join(dir, 'cpu.safetensors');
    const r = await quiet(() => runDcaeDecode([...base, '--out', cpuOut, '--backend', 'cpu']));
    expect(r.out).toMatch(/\[cpu, f32\]/);
    const got = readSafetensors(cpuOut);
    expect(got.metadata).toMatchObject({ backend: 'cpu', dtype: 'f32' });
    expect(rel('dcae-decode cpu', got.tensors.get('sample')!, io.get('decode_output')!)).toBeLessThanOrEqual(1e-4);
    const tiledCpu = join(dir, 'tiled-cpu.safetensors');
    const tiledRef = join(dir, 'tiled-ref.safetensors');
    await quiet(() => runDcaeDecode([...base, '--out', tiledCpu, '--backend', 'cpu', '--tile', '16', '--tile-stride', '8', '--scaled']));
    await quiet(() => runDcaeDecode([...base, '--out', tiledRef, '--tile', '16', '--tile-stride', '8', '--scaled']));
    expect(rel('dcae-decode cpu tiled --scaled vs reference', readSafetensors(tiledCpu).tensors.get('sample')!, readSafetensors(tiledRef).tensors.get('sample')!)).toBeLessThanOrEqual(1e-4);
    await expect(runDcaeDecode([...base, '--out', cpuOut, '--dtype', 'bf16'])).rejects.toThrow(/--dtype applies to native backends only/);
    await expect(runDcaeDecode([...base, '--out', cpuOut, '--backend', 'tpu'])).rejects.toThrow('run dcae-decode: --backend tpu is not one of reference, cpu, cuda');
    // No GPU here: cuda is refused before any work, with the reason (on a GPU machine it would run).
    if (!cudaAvailable) await expect(runDcaeDecode([...base, '--out', cpuOut, '--backend', 'cuda'])).rejects.toThrow(/^the cuda backend is not available here: ./);
  });
});

describe('sana-lab profile', () => {
  it('0.6b, 1 of 28 blocks at 64² with 8 text tokens: report fields, extrapolation label, JSON file', async () => {
    const json = join(dir, 'profile.json');
    const r = await quiet(() => runProfile(['--model', '0.6b', '--res', '64', '--blocks', '1', '--text-len', '8', '--warmup', '0', '--repeat', '2', '--steps', '4', '--json', json]));
    expect(r.value).toBe(0);
    expect(r.out).toMatch(/step: .* \(extrapolated\)/);
    expect(r.out).toMatch(/block\.mix-ffn .*\(extrapolated\)/);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as Record<string, any>;
    expect(rep).toMatchObject({ command: 'profile', model: 'sana-0.6b', dtype: 'f32', batch: 2, steps: 4, blocks: { run: 1, depth: 28, extrapolated: true } });
    expect(rep.latentShape).toEqual([2, 32, 2, 2]);
    expect(rep.step_ms).toBeGreaterThan(rep.step_ms_measured);
    expect(rep.images_per_s).toBeCloseTo(1000 / (4 * rep.step_ms + rep.caption_ms), 6);
    const names = (rep.breakdown as { name: string; calls: number }[]).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['block.linear-attention-block', 'block.cross-attention', 'block.mix-ffn', 'block.layernorm-modulate', 'adaln.gemm', 'final.gemm']));
    expect((rep.breakdown as { name: string; calls: number }[]).find((e) => e.name === 'block.mix-ffn')!.calls).toBe(28);
    expect(rep.host_overhead.op_calls_per_step).toBeGreaterThan(28 * 11);
    // measured host overhead: step wall − summed op times (positive, a small part of the step)
    const opMs = (rep.breakdown as { kind: string; ms: number }[]).filter((e) => e.kind === 'op').reduce((s, e) => s + e.ms, 0);
    expect(rep.host_overhead.wall_minus_ops_ms).toBeCloseTo(rep.step_ms - opMs, 6);
    expect(rep.host_overhead.wall_minus_ops_ms).toBeGreaterThan(0);
    expect(rep.host_overhead.wall_minus_ops_ms).toBeLessThan(rep.step_ms);
    expect(r.out).toMatch(/step wall − native op time \(extrapolated\): .* of the step/);
    // the text keys/values are part of the once-per-image caption work, not of the step
    expect(names).not.toContain('caption.text-kv');
    expect(r.out).toMatch(/caption \+ text K\/V \(once per image\)/);
    expect(rep.memory.peak_bytes).toBeGreaterThan(0.6e9 * 4 * 0.9);
    expect(rep.machine.threads).toBeGreaterThanOrEqual(1);
    expect(typeof rep.machine.cpu).toBe('string');
    // The roofline floor on the CPU ceilings measured in the same run, for exactly this image (8 text tokens).
    const f = rep.roofline;
    expect(f.ceilings.device).toMatch(/^cpu: /);
    const floor = imageFloor({ model: '0.6b', resolution: { width: 64, height: 64 }, batch: 2, steps: 4, decode: false, dtype: 'f32', textTokens: 8 }, f.ceilings);
    expect(f.step_floor_ms).toBeCloseTo(floor.step.floorMs, 9);
    expect(f.image_floor_ms).toBeCloseTo(floor.imageMs, 9);
    expect(f.step_pct).toBeCloseTo((100 * f.step_floor_ms) / rep.step_ms, 6);
    expect(f.image_pct).toBeCloseTo((100 * f.image_floor_ms) / rep.image_ms, 6);
    expect(f.decode_floor_ms).toBeNull();
    expect(r.out).toMatch(/roofline floor \(cpu: .*\n    step ≥ .* of the floor/);
  });

  it('--op-versions runs the model with chosen kernel versions, records them, and refuses what the backend lacks', async () => {
    const json = join(dir, 'profile-ov.json');
    const base = ['--model', '0.6b', '--res', '64', '--blocks', '1', '--text-len', '8', '--warmup', '0', '--repeat', '1', '--steps', '1', '--no-roofline'];
    const r = await quiet(() => runProfile([...base, '--op-versions', 'gemm=1,linear-attention-block=1', '--json', json]));
    expect(r.value).toBe(0);
    expect(r.out).toMatch(/kernel versions: gemm v1, linear-attention-block v1 \(the other ops at their defaults\)/);
    expect(JSON.parse(readFileSync(json, 'utf8')).opVersions).toEqual({ gemm: 1, 'linear-attention-block': 1 });
    await expect(runProfile([...base, '--op-versions', 'gemm=7'])).rejects.toThrow(/gemm: no version 7 on the cpu backend/);
    await expect(runProfile([...base, '--op-versions', 'gemm:3'])).rejects.toThrow(/--op-versions wants OP=N entries .* got "gemm:3"/);
    await expect(runProfile([...base, '--op-versions', 'gemm=1,gemm=1'])).rejects.toThrow(/names gemm twice/);
    expect(parseOpVersions('dcae-resblock=4, dcae-head=3')).toEqual({ 'dcae-resblock': 4, 'dcae-head': 3 });
  });

  it('--no-roofline skips the ceilings; a cuda profile in f32 says why it has no floor', async () => {
    const json = join(dir, 'profile-nr.json');
    const r = await quiet(() => runProfile(['--model', '0.6b', '--res', '64', '--blocks', '1', '--text-len', '8', '--warmup', '0', '--repeat', '1', '--steps', '1', '--no-roofline', '--json', json]));
    expect(r.value).toBe(0);
    expect(r.out).not.toMatch(/roofline floor/);
    expect(JSON.parse(readFileSync(json, 'utf8')).roofline).toBeNull();
    // Without a GPU the cuda backend's reason; with one, f32 is refused (its ceilings are a bf16 gemm's).
    expect(await measureDeviceCeilings('cuda', 'f32')).toEqual({ reason: expect.stringMatching(cudaAvailable ? /measured for bf16/ : /^cuda unavailable: /) });
  });

  it('usage errors', async () => {
    await expect(runProfile(['--res', '256'])).rejects.toThrow(/--model must be 0\.6b or 1\.6b/);
    await expect(runProfile(['--model', '0.6b', '--res', '250'])).rejects.toThrow(/multiple of 32/);
    await expect(runProfile(['--model', '0.6b', '--res', '256', '--backend', 'reference'])).rejects.toThrow('profile: --backend reference is not one of cpu, cuda');
    if (!cudaAvailable) await expect(runProfile(['--model', '0.6b', '--res', '256', '--backend', 'cuda'])).rejects.toThrow(BackendUnavailableError);
    await expect(runProfile(['--model', '0.6b', '--res', '256', '--backend', 'cpu', '--threads', '1', '--blocks', '40'])).rejects.toThrow(/exceeds/);
    await expect(runProfile(['--model', '0.6b', '--res', '256', '--blocks', '40'])).rejects.toThrow(/exceeds the model's 28 blocks/);
    await expect(runProfile(['--model', '0.6b', '--res', '256', '--tile', '512'])).rejects.toThrow(/--tile needs --decode/);
    await expect(runProfile(['--model', '0.6b', '--res', '256', '--cuda-graph'])).rejects.toThrow('profile: --cuda-graph needs --backend cuda');
    expect(profileCommand.name).toBe('profile');
  });
});
