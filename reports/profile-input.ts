/**
 * The whole-model profiles the report reads:
 *   - one `sana-lab profile --json FILE` report: `format: "sana-lab-profile/1"` (older files have only
 *     `command: "profile"`, e.g. the committed reports/profile-cpu-*.json);
 *   - bench/gpu/models.sh's merged file `{ schema: "sana-lab-profiles/1", profiles: [...] }`, each entry
 *     one profile report plus its step `name`.
 * Only the fields the report shows are checked; a missing or mistyped one is a TypeError naming the
 * file, the entry and the field. On the cuda backend a profile also has `queued` (the queued step and
 * its host overhead) and `machine.device`; on cpu `queued` is null (absent in older files).
 */

export const PROFILE_FORMAT = 'sana-lab-profile/1';
export const PROFILES_SCHEMA = 'sana-lab-profiles/1';

/** One row of a per-op breakdown (bindings/models/profile-run.ts BreakdownEntry). */
export interface ProfileBreakdownEntry {
  name: string;
  kind: string;
  /** Calls per step (per image for the decode). */
  calls: number;
  ms: number;
  share: number;
  extrapolated: boolean;
}

/** cuda only: the step with ops queued and one synchronize, and its host overhead. */
export interface ProfileQueued {
  step_ms: number;
  synced_step_ms: number;
  gpu_busy_ms: number;
  host_overhead_ms: number;
  share: number;
}

/** `sana-lab profile`'s roofline floor: the least time on the ceilings measured in the same run (bench/image-floor.ts). */
export interface ProfileRoofline {
  ceilings: { device: string; peakFlops: number; bandwidth: number };
  step_floor_ms: number;
  step_pct: number;
  caption_floor_ms: number;
  decode_floor_ms: number | null;
  decode_pct: number | null;
  image_floor_ms: number;
  image_pct: number;
}

export interface ProfileReport {
  /** The entry's name in a merged file (bench/gpu/models.sh step name). */
  name?: string;
  format?: string;
  command: 'profile';
  model: string;
  weights?: string;
  backend: string;
  dtype: string;
  blockMode: string;
  machine: { cpu?: string; threads?: number; device?: string; loadAverage1m?: number; gemmKernel?: string };
  width: number;
  height: number;
  batch: number;
  steps: number;
  cfg: number;
  blocks: { run: number; depth: number; extrapolated: boolean };
  step_ms: number;
  caption_ms: number;
  image_ms: number;
  images_per_s: number;
  breakdown: ProfileBreakdownEntry[];
  queued: ProfileQueued | null;
  host_overhead: { share: number; per_step_ms: number };
  decode: { ms: number; tiled: boolean; tiles: number; breakdown: ProfileBreakdownEntry[] } | null;
  memory: { peak_bytes: number; process_max_rss_bytes?: number };
  /** Kernel versions chosen for the run (`--op-versions`; absent or {} = every op at its default). */
  opVersions?: Record<string, number>;
  /** The roofline floor (profiles since it was added; absent in older files, a reason when not computed). */
  roofline?: ProfileRoofline | { reason: string } | null;
  timestamp?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(where: string, field: string, msg: string, value?: unknown): never {
  const got = value === undefined ? 'it is missing' : `got ${JSON.stringify(value)?.slice(0, 60)}`;
  throw new TypeError(`report: ${where}: "${field}" ${msg} (${got})`);
}

function num(o: Obj, key: string, where: string, path = key, min = 0): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) fail(where, path, `must be a finite number ≥ ${min}`, v);
  return v;
}

function str(o: Obj, key: string, where: string, path = key): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') fail(where, path, 'must be a non-empty string', v);
  return v;
}

function obj(o: Obj, key: string, where: string, path = key): Obj {
  const v = o[key];
  if (!isObj(v)) fail(where, path, 'must be an object', v);
  return v;
}

function bool(o: Obj, key: string, where: string, path = key): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') fail(where, path, 'must be true or false', v);
  return v;
}

function breakdown(v: unknown, where: string, path: string): ProfileBreakdownEntry[] {
  if (!Array.isArray(v)) fail(where, path, 'must be an array', v);
  return v.map((e: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObj(e)) fail(where, at, 'must be an object', e);
    for (const k of ['calls', 'ms', 'share']) num(e, k, where, `${at}.${k}`);
    str(e, 'name', where, `${at}.name`);
    str(e, 'kind', where, `${at}.kind`);
    bool(e, 'extrapolated', where, `${at}.extrapolated`);
    return e as unknown as ProfileBreakdownEntry;
  });
}

function queued(v: unknown, where: string): ProfileQueued | null {
  if (v === undefined || v === null) return null;
  if (!isObj(v)) fail(where, 'queued', 'must be an object or null', v);
  for (const k of ['step_ms', 'synced_step_ms', 'gpu_busy_ms', 'host_overhead_ms', 'share']) num(v, k, where, `queued.${k}`);
  return v as unknown as ProfileQueued;
}

function decode(v: unknown, where: string): ProfileReport['decode'] {
  if (v === undefined || v === null) return null;
  if (!isObj(v)) fail(where, 'decode', 'must be an object or null', v);
  num(v, 'ms', where, 'decode.ms');
  if (typeof v.tiles !== 'number') v.tiles = 1;
  if (typeof v.tiled !== 'boolean') v.tiled = false;
  breakdown(v.breakdown, where, 'decode.breakdown');
  return v as unknown as ProfileReport['decode'];
}

function roofline(v: unknown, where: string): ProfileReport['roofline'] {
  if (v === undefined || v === null) return null;
  if (!isObj(v)) fail(where, 'roofline', 'must be an object or null', v);
  if (typeof v.reason === 'string') return { reason: v.reason };
  for (const k of ['step_floor_ms', 'step_pct', 'caption_floor_ms', 'image_floor_ms', 'image_pct']) num(v, k, where, `roofline.${k}`);
  const c = obj(v, 'ceilings', where, 'roofline.ceilings');
  str(c, 'device', where, 'roofline.ceilings.device');
  for (const k of ['peakFlops', 'bandwidth']) num(c, k, where, `roofline.ceilings.${k}`);
  return v as unknown as ProfileRoofline;
}

/**
 * Check one profile report (`where` names the file and, in a merged file, the entry). Accepts the
 * current format and older files without one; another format is an error.
 */
export function validateProfile(json: unknown, where: string): ProfileReport {
  if (!isObj(json)) throw new TypeError(`report: ${where}: not a JSON object`);
  const j = json;
  if (j.format !== undefined && j.format !== PROFILE_FORMAT) fail(where, 'format', `must be "${PROFILE_FORMAT}" (or absent in older files)`, j.format);
  if (j.command !== 'profile') fail(where, 'command', 'must be "profile"', j.command);
  for (const k of ['model', 'backend', 'dtype', 'blockMode']) str(j, k, where);
  for (const k of ['width', 'height', 'batch', 'steps']) num(j, k, where, k, 1);
  num(j, 'cfg', where);
  obj(j, 'machine', where);
  const blocks = obj(j, 'blocks', where);
  num(blocks, 'run', where, 'blocks.run', 1);
  num(blocks, 'depth', where, 'blocks.depth', 1);
  bool(blocks, 'extrapolated', where, 'blocks.extrapolated');
  for (const k of ['step_ms', 'caption_ms', 'image_ms', 'images_per_s']) num(j, k, where);
  breakdown(j.breakdown, where, 'breakdown');
  j.queued = queued(j.queued, where);
  const host = obj(j, 'host_overhead', where);
  num(host, 'share', where, 'host_overhead.share');
  num(host, 'per_step_ms', where, 'host_overhead.per_step_ms');
  j.decode = decode(j.decode, where);
  num(obj(j, 'memory', where), 'peak_bytes', where, 'memory.peak_bytes');
  j.roofline = roofline(j.roofline, where);
  if (j.opVersions !== undefined) {
    const v = obj(j, 'opVersions', where);
    for (const k of Object.keys(v)) num(v, k, where, `opVersions.${k}`);
  }
  return j as unknown as ProfileReport;
}

/** Check bench/gpu/models.sh's merged file: every entry a profile report with a `name`. */
export function validateProfiles(json: unknown, where: string): ProfileReport[] {
  if (!isObj(json)) throw new TypeError(`report: ${where}: not a JSON object`);
  if (json.schema !== PROFILES_SCHEMA) fail(where, 'schema', `must be "${PROFILES_SCHEMA}"`, json.schema);
  if (!Array.isArray(json.profiles)) fail(where, 'profiles', 'must be an array', json.profiles);
  return json.profiles.map((p: unknown, i) => {
    const at = `${where} profiles[${i}]`;
    if (!isObj(p)) throw new TypeError(`report: ${at}: not a JSON object`);
    str(p, 'name', at);
    return validateProfile(p, `${at} ("${String(p.name)}")`);
  });
}

/** Which profile shape a parsed JSON file has, if any (a single report or the merged file). */
export function profileKind(json: unknown): 'profile' | 'profiles' | null {
  if (!isObj(json)) return null;
  if (json.schema === PROFILES_SCHEMA) return 'profiles';
  if (json.format === PROFILE_FORMAT || (json.format === undefined && json.command === 'profile')) return 'profile';
  return null;
}
