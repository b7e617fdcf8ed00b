import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../reference/core/golden.js';

const bin = join(projectRoot(), 'dist', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('sana-lab CLI (built dist/ binary)', () => {
  it('info --json lists version, machine and backends', () => {
    const r = run('info', '--json');
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as {
      version: string;
      machine: { cpuModel: string; threads: number };
      backends: { name: string; compiled: boolean; available: boolean; reason?: string }[];
    };
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.machine.threads).toBeGreaterThan(0);
    const names = info.backends.map((b) => b.name);
    expect(names).toEqual(['reference', 'cpu', 'cuda']);
    const cuda = info.backends[2]!;
    expect(typeof cuda.compiled).toBe('boolean');
    if (!cuda.available) expect(cuda.reason).toMatch(/\S/);
  });

  it('info --model prints the parameter count from the preset shapes', () => {
    const r = run('info', '--model', '0.6b', '--json');
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as { model: string; parameters: number; groups: Record<string, number> };
    expect(m.model).toBe('sana-0.6b');
    // Sana-0.6B: 28 blocks of 15.5·C² + 66·C (C = 1152) plus embedders and heads ≈ 0.59 B.
    expect(m.groups.transformer_blocks).toBe(28 * (15.5 * 1152 ** 2 + 66 * 1152));
    expect(m.parameters).toBeGreaterThan(0.58e9);
    expect(m.parameters).toBeLessThan(0.6e9);
    const bad = run('info', '--model', '3b');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown DiT preset "3b"/);
  });

  it('--help works on every subcommand', () => {
    const top = run('--help');
    expect(top.status).toBe(0);
    const names = [...top.stdout.matchAll(/^ {2}(\S+) {2,}/gm)].map((m) => m[1]!);
    expect(names).toContain('info');
    for (const n of names) {
      const r = run(n, '--help');
      expect(r.status, n).toBe(0);
      expect(r.stdout, n).toMatch(/usage: sana-lab/);
    }
  });

  it('errors print one clear line and exit non-zero', () => {
    const unknown = run('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    const badOpt = run('info', '--bogus');
    expect(badOpt.status).toBe(2);
    expect(badOpt.stderr).toMatch(/unknown option --bogus/);
  });
});

describe('package entry point', () => {
  it("import('sana-kernel-lab') works with plain node (no TS loader)", () => {
    const script =
      "const m = await import('sana-kernel-lab'); " +
      "const t = m.Tensor.f32([2], [1, 2]); " +
      "const bytes = m.serializeSafetensors({ t }); " +
      "console.log(JSON.stringify({ n: m.parseSafetensors(bytes).tensors.get('t').numel, backends: m.listBackends().length }));";
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: projectRoot(), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ n: 2, backends: 3 });
  });
});
