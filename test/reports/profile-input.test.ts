import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInput, type ProfileInput } from '../../reports/inputs.js';
import { PROFILE_FORMAT, PROFILES_SCHEMA, profileKind, validateProfile, validateProfiles } from '../../reports/profile-input.js';
import { COMMITTED_PROFILES, cudaProfile, cudaProfiles, OLDER_PROFILES } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'sana-report-profile-input-'));

function write(name: string, json: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(json));
  return p;
}

function loadProfiles(path: string): ProfileInput {
  const i = loadInput(path);
  if (i.kind !== 'profile') throw new Error(`expected a profile input, got ${i.kind}`);
  return i;
}

describe('loading whole-model profiles', () => {
  it('reads the committed reports/profile-cpu-*.json (format "sana-lab-profile/1", cpu: queued null)', () => {
    for (const path of COMMITTED_PROFILES) {
      const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      expect(raw.format, path).toBe(PROFILE_FORMAT);
      const p = loadProfiles(path).profiles[0]!;
      expect(p).toMatchObject({ backend: 'cpu', model: 'sana-0.6b', queued: null });
      expect(p.step_ms).toBe(raw.step_ms);
    }
  });

  it('reads older files (command "profile", no format): cpu, queued null', () => {
    for (const path of OLDER_PROFILES) {
      const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
      expect(raw.format, path).toBeUndefined();
      expect('queued' in raw, path).toBe(false);
      const i = loadProfiles(path);
      expect(i.name).toBe(path.split('/').at(-1));
      expect(i.profiles).toHaveLength(1);
      const p = i.profiles[0]!;
      expect(p).toMatchObject({ command: 'profile', backend: 'cpu', model: 'sana-0.6b', queued: null, blocks: { run: 2, depth: 28, extrapolated: true } });
      expect(p.step_ms).toBe(raw.step_ms);
      expect(p.decode!.breakdown.length).toBeGreaterThan(0);
    }
  });

  it('reads a current file (format "sana-lab-profile/1") with the cuda backend’s queued step and device', () => {
    const i = loadProfiles(write('cuda.json', cudaProfile(1024, 5, { decodeMs: 20 })));
    expect(i.profiles[0]!.format).toBe(PROFILE_FORMAT);
    expect(i.profiles[0]!.queued).toMatchObject({ step_ms: 5, synced_step_ms: 6.25, share: 0.03 });
    expect(i.profiles[0]!.machine.device).toMatch(/H100/);
  });

  it('reads bench/gpu/models.sh’s merged file: every entry with its name', () => {
    const i = loadProfiles(write('profiles.json', cudaProfiles()));
    expect(i.profiles.map((p) => [p.name, p.width, p.decode === null])).toEqual([
      ['p-0.6b-1024', 1024, false],
      ['p-0.6b-2048', 2048, true],
      ['p-0.6b-4096', 4096, false],
    ]);
    expect(loadProfiles(write('empty.json', { schema: PROFILES_SCHEMA, profiles: [] })).profiles).toEqual([]);
  });

  it('tells the shapes apart', () => {
    expect(profileKind({ command: 'profile' })).toBe('profile');
    expect(profileKind({ format: PROFILE_FORMAT })).toBe('profile');
    expect(profileKind({ schema: PROFILES_SCHEMA })).toBe('profiles');
    expect(profileKind({ format: 'sana-lab-profile/2', command: 'profile' })).toBeNull();
    expect(profileKind({ command: 'bench' })).toBeNull();
    expect(profileKind([])).toBeNull();
  });
});

describe('bad profile files fail with the file and the field', () => {
  const good = () => cudaProfile(512, 3);

  it('an unknown format is not read as a profile', () => {
    const p = write('future.json', { ...good(), format: 'sana-lab-profile/2' });
    expect(() => loadInput(p)).toThrow(/future\.json has format "sana-lab-profile\/2"; expected .*"sana-lab-profile\/1" \(sana-lab profile\) or schema "sana-lab-profiles\/1"/);
  });

  it('a missing or mistyped field', () => {
    const { step_ms: _, ...noStep } = good();
    expect(() => loadInput(write('nostep.json', noStep))).toThrow(/nostep\.json: "step_ms" must be a finite number ≥ 0 \(it is missing\)/);
    expect(() => loadInput(write('neg.json', { ...good(), images_per_s: -1 }))).toThrow(/neg\.json: "images_per_s" must be a finite number ≥ 0 \(got -1\)/);
    expect(() => loadInput(write('w.json', { ...good(), width: 'big' }))).toThrow(/w\.json: "width" must be a finite number ≥ 1 \(got "big"\)/);
    expect(() => loadInput(write('blk.json', { ...good(), blocks: { run: 1, depth: 28 } }))).toThrow(/blk\.json: "blocks\.extrapolated" must be true or false/);
    expect(() => loadInput(write('mem.json', { ...good(), memory: {} }))).toThrow(/mem\.json: "memory\.peak_bytes" must be a finite number/);
  });

  it('a broken breakdown entry, queued step or decode', () => {
    const bd = good();
    (bd.breakdown as Record<string, unknown>[])[1] = { name: 'adaln.gemm', kind: 'op', calls: 1, ms: null, share: 0, extrapolated: false };
    expect(() => loadInput(write('bd.json', bd))).toThrow(/bd\.json: "breakdown\[1\]\.ms" must be a finite number ≥ 0 \(got null\)/);
    expect(() => loadInput(write('q.json', { ...good(), queued: { step_ms: 1 } }))).toThrow(/q\.json: "queued\.synced_step_ms" must be a finite number/);
    expect(() => loadInput(write('d.json', { ...good(), decode: { ms: 3, breakdown: 'x' } }))).toThrow(/d\.json: "decode\.breakdown" must be an array/);
  });

  it('a broken entry of a merged file names the entry', () => {
    const merged = cudaProfiles();
    (merged.profiles[1]! as { queued: Record<string, unknown> }).queued.share = 'high';
    expect(() => loadInput(write('merged.json', merged))).toThrow(/merged\.json profiles\[1\] \("p-0\.6b-2048"\): "queued\.share" must be a finite number ≥ 0 \(got "high"\)/);
    const { name: _, ...nameless } = cudaProfiles().profiles[0]!;
    expect(() => validateProfiles({ schema: PROFILES_SCHEMA, profiles: [nameless] }, 'm.json')).toThrow(/m\.json profiles\[0\]: "name" must be a non-empty string/);
    expect(() => validateProfiles({ schema: PROFILES_SCHEMA, profiles: {} }, 'm.json')).toThrow(/m\.json: "profiles" must be an array/);
    expect(() => validateProfiles({ schema: 'x', profiles: [] }, 'm.json')).toThrow(/m\.json: "schema" must be "sana-lab-profiles\/1"/);
  });

  it('the wrong command or not an object', () => {
    expect(() => validateProfile({ ...good(), command: 'bench' }, 'c.json')).toThrow(/c\.json: "command" must be "profile"/);
    expect(() => validateProfile([], 'a.json')).toThrow(/a\.json: not a JSON object/);
  });
});
