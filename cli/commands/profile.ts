/**
 * `sana-lab profile`: whole-image timing of the native runners — a DiT step (CFG batch of 2), the
 * per-op breakdown, images/s for `--steps` steps (+ the DC-AE decode with --decode), host dispatch
 * overhead and peak memory — with random weights of the real dimensions unless --model-dir is given.
 * The measurement itself lives in bindings/models/profile-run.ts.
 */
import { writeFileSync } from 'node:fs';
import { existingPath, intOption, outputFile, parseArgs } from '../args.js';
import { backendOption } from '../backend-option.js';
import { UsageError, type Command } from '../command.js';
import { tileOption } from '../tile-option.js';
import { stateDictSource } from '../../bindings/models/weights.js';
import { componentFiles, readComponentWeights } from '../../bindings/models/model-dir.js';
import { compareWithReference, fullParameterCount, machineInfo, profileDecode, profileDit, type BreakdownEntry, type DecodeProfile, type ReferenceComparison } from '../../bindings/models/profile-run.js';
import { formatKernels } from '../../bindings/models/kernel-timeline.js';
import { loadAddon } from '../../bindings/addon.js';
import type { DitBlockMode } from '../../bindings/models/dit-runner.js';
import { getBackend, withOpVersions } from '../../bindings/ops.js';
import { OP_NAMES } from '../../bindings/backend.js';
import { dcaePreset, loadDcaeConfig, type DcaeConfig } from '../../reference/dcae/config.js';
import { formatBytes } from '../../reference/dcae/decode-plan.js';
import { checkDcaeWeights } from '../../reference/dcae/weights.js';
import { decoderParamShapes } from '../../reference/dcae/param-shapes.js';
import { loadSanaTransformerConfig, type SanaTransformerConfig } from '../../reference/dit/config.js';
import { ditPreset } from '../../reference/dit/presets.js';
import { checkWeightKeys } from '../../reference/dit/weights.js';
import { PROFILE_FORMAT } from '../../reports/profile-input.js';
import { fmtGBs, fmtNum, fmtOpVersions } from '../../reports/format.js';
import { measureDeviceCeilings } from '../../bench/device-ceilings.js';
import { imageFloor } from '../../bench/image-floor.js';

const CMD = 'profile';

export const PROFILE_USAGE = `usage: sana-lab profile --model 0.6b|1.6b --res N [--width W --height H] [--steps 20] [--cfg 4.5] [--decode]
                      [--backend cpu|cuda] [--dtype f32|bf16] [--model-dir DIR] [--blocks K] [--block-mode ops|dit-block]
                      [--text-len 300] [--warmup 1] [--repeat 3] [--tile SIZE] [--threads T] [--compare-reference]
                      [--op-versions OP=N,…] [--cuda-graph] [--no-roofline] [--json FILE]

Times whole images on a native backend: one DiT step on the CFG batch (uncond + cond), its per-op
breakdown, --steps steps + the caption projection (+ the DC-AE decode with --decode) as images/s,
the host dispatch overhead per step and the peak memory. The steps are those of the sampling loop as
\`generate\` runs it: on the backend (Flow-DPM-Solver++, guidance and the update in the sampler-update
op; nothing read back per step). On cuda the queued step and the decode are also listed kernel by
kernel (an event after every launch: which kernel inside each op takes the time). Without --model-dir
the weights are random with the model's real dimensions (timings do not depend on the values).

  --model M          0.6b (Sana-0.6B: 28 blocks, C 1152) or 1.6b (Sana-1.6B: 20 blocks, C 2240)
  --res N            square image side in pixels (multiple of 32); or --width W --height H
  --steps S          sampling steps per image (default 20); --cfg G guidance scale (default 4.5; 1 = no CFG, batch 1)
  --decode           also decode one image with the DC-AE f32c32 (batch 1); --tile SIZE tiles it
                     like diffusers enable_tiling (stride 7/8 of the tile)
  --backend B        cpu (default) or cuda (the GPU: the step is also timed with queued dispatch —
                     ops queued, one synchronize per step — and its host overhead estimated)
  --dtype D          f32 (default) or bf16 storage of weights and activations
  --model-dir DIR    a diffusers folder (transformer/, vae/) instead of random weights; the run is labelled
                     with the directory's model: --model must name the preset whose dimensions its
                     transformer config has (else a usage error), and a config of neither preset's
                     dimensions is labelled "custom" from the config (no roofline floor)
  --blocks K         run only K of the model's blocks and extrapolate the step to the full depth
                     (labelled "extrapolated" in the output); default: every block
  --block-mode M     ops (default: each block op timed on its own) or dit-block (one op per block)
  --text-len L       text tokens (default 300, SANA's max_sequence_length)
  --warmup W / --repeat R   untimed / timed denoising iterations (defaults 1 / 3; the step is the median)
  --threads T        CPU threads of the cpu backend (default: SANA_LAB_THREADS or all hardware threads)
  --compare-reference  also time the TS reference forward on the same K-block model (slow: minutes at 512²)
  --op-versions L    kernel versions for the whole run, e.g. dcae-resblock=4,dcae-head=3 or gemm=3
                     (every call of that op that does not choose its own; default: each op's default)
  --cuda-graph       cuda: the queued steps replay each step's device ops (DiT step + sampler-update) as
                     one CUDA graph (captured once per image, after one eager step) instead of launching
                     every kernel from the host; the breakdown's per-op runs stay eager, and the image
                     estimate counts each image's eager and capture steps. Compare the queued step and
                     its host enqueue time with and without this flag to see what the launches cost
  --no-roofline      skip the roofline floor: by default the device's ceilings are measured (cuda: copy
                     bandwidth + a bf16 gemm; cpu: a streaming copy + the native gemm, a few seconds) and
                     the step, caption, decode and image are compared with the least time they could take
                     (every op at its own roofline, bench/image-floor.ts) on the preset's dimensions
  --json FILE        write the report as JSON`;

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 3 : 1)} ms`;
}

function table(entries: BreakdownEntry[], unit: string): string[] {
  const w = Math.max(12, ...entries.map((e) => e.name.length));
  const lines = [`  ${'op'.padEnd(w)}  ${'calls'.padStart(7)}  ${`ms/${unit}`.padStart(11)}  share`];
  for (const e of entries) {
    lines.push(`  ${e.name.padEnd(w)}  ${e.calls.toFixed(e.calls % 1 ? 1 : 0).padStart(7)}  ${e.ms.toFixed(2).padStart(11)}  ${(100 * e.share).toFixed(1).padStart(5)}%${e.extrapolated ? '  (extrapolated)' : ''}`);
  }
  return lines;
}

export async function runProfile(argv: string[]): Promise<number> {
  const { values, flags, positionals } = parseArgs(CMD, argv, {
    model: { type: 'string' }, res: { type: 'string' }, width: { type: 'string' }, height: { type: 'string' },
    steps: { type: 'string' }, cfg: { type: 'string' }, decode: { type: 'flag' }, backend: { type: 'string' },
    dtype: { type: 'string' }, 'model-dir': { type: 'string' }, blocks: { type: 'string' }, 'block-mode': { type: 'string' },
    'text-len': { type: 'string' }, warmup: { type: 'string' }, repeat: { type: 'string' }, tile: { type: 'string' },
    threads: { type: 'string' }, 'compare-reference': { type: 'flag' }, 'no-roofline': { type: 'flag' }, 'op-versions': { type: 'string' },
    'cuda-graph': { type: 'flag' },
    json: { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`${CMD}: unexpected argument "${positionals[0]}"`);
  const modelKey = values.get('model');
  if (modelKey !== '0.6b' && modelKey !== '1.6b') throw new UsageError(`${CMD}: --model must be 0.6b or 1.6b, got ${modelKey === undefined ? 'nothing' : `"${modelKey}"`}`);
  const res = values.has('res') ? intOption(CMD, 'res', values.get('res'), 0) : undefined;
  const width = values.has('width') ? intOption(CMD, 'width', values.get('width'), 0) : res;
  const height = values.has('height') ? intOption(CMD, 'height', values.get('height'), 0) : res;
  if (width === undefined || height === undefined) throw new UsageError(`${CMD}: give --res N or both --width and --height`);
  if (width % 32 !== 0 || height % 32 !== 0) throw new UsageError(`${CMD}: the image ${width}×${height} must be a multiple of 32 (the DC-AE's compression)`);
  const steps = intOption(CMD, 'steps', values.get('steps'), 20);
  const cfg = values.has('cfg') ? Number(values.get('cfg')) : 4.5;
  if (!(cfg >= 1) || !Number.isFinite(cfg)) throw new UsageError(`${CMD}: --cfg must be a number >= 1, got "${values.get('cfg')}"`);
  const backend = backendOption(CMD, values.get('backend'), ['cpu', 'cuda'], 'cpu');
  const dtype = values.get('dtype') ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'bf16') throw new UsageError(`${CMD}: --dtype must be f32 or bf16, got "${dtype}"`);
  const blockMode = (values.get('block-mode') ?? 'ops') as DitBlockMode;
  if (blockMode !== 'ops' && blockMode !== 'dit-block') throw new UsageError(`${CMD}: --block-mode must be ops or dit-block, got "${blockMode}"`);
  const textTokens = intOption(CMD, 'text-len', values.get('text-len'), 300);
  const warmup = intOption(CMD, 'warmup', values.get('warmup'), 1, 0);
  const repeat = intOption(CMD, 'repeat', values.get('repeat'), 3);
  if (values.has('tile') && !flags.has('decode')) throw new UsageError(`${CMD}: --tile needs --decode`);
  const tile = values.has('tile') ? tileOption(CMD, values, 32) : undefined;
  if (values.has('threads') && backend !== 'cpu') throw new UsageError(`${CMD}: --threads applies to the cpu backend`);
  if (values.has('threads')) (getBackend('cpu') as unknown as { setThreads(n: number): void }).setThreads(intOption(CMD, 'threads', values.get('threads'), 1));
  const cudaGraph = flags.has('cuda-graph');
  if (cudaGraph && backend !== 'cuda') throw new UsageError(`${CMD}: --cuda-graph needs --backend cuda`);
  const modelDir = values.has('model-dir') ? existingPath(CMD, 'model-dir', values.get('model-dir')!) : undefined;
  const opVersions = values.has('op-versions') ? checkOpVersions(backend, parseOpVersions(values.get('op-versions')!)) : {};
  if (values.has('json')) outputFile(CMD, 'json', values.get('json')!);
  const versioned = <T>(fn: () => T): T => withOpVersions(opVersions, fn);

  // The DiT: config (preset or model dir), K blocks, weights (random or the checkpoint's first K blocks).
  let full: SanaTransformerConfig;
  let dit: { source?: ReturnType<typeof stateDictSource> } = {};
  const preset = ditPreset(modelKey);
  if (modelDir !== undefined) {
    const files = componentFiles(modelDir, 'transformer');
    full = loadSanaTransformerConfig(files.config);
  } else full = preset.config;
  const depth = full.numLayers;
  // With --model-dir the run is the directory's model: label it so (a disagreeing --model is refused).
  let modelName = preset.name;
  if (modelDir !== undefined) {
    const match = (['0.6b', '1.6b'] as const).find((k) => presetDims(ditPreset(k).config) === presetDims(full));
    if (match !== undefined && match !== modelKey) throw new UsageError(`${CMD}: --model ${modelKey} disagrees with ${modelDir}, whose transformer has Sana-${match}'s dimensions (give --model ${match})`);
    if (match === undefined) modelName = `custom (${full.numLayers} blocks, C ${full.numAttentionHeads * full.attentionHeadDim})`;
  }
  const K = values.has('blocks') ? intOption(CMD, 'blocks', values.get('blocks'), depth) : depth;
  if (K > depth) throw new UsageError(`${CMD}: --blocks ${K} exceeds the model's ${depth} blocks`);
  const config: SanaTransformerConfig = { ...full, numLayers: K };
  if (modelDir !== undefined) {
    const files = componentFiles(modelDir, 'transformer');
    const keep = (k: string) => { const m = /^transformer_blocks\.(\d+)\./.exec(k); return m === null || Number(m[1]) < K; };
    const w = readComponentWeights(files, keep);
    checkWeightKeys(config, [...w].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype })), files.weights.join(', '));
    dit = { source: stateDictSource(w) };
  }

  const machine = machineInfo(backend);
  const label = `${modelName}${modelDir ? ` (${modelDir})` : ' (random weights)'}`;
  const where = machine.device ? `${machine.device}; host ${machine.cpu}` : `${machine.cpu}, ${machine.threads} threads, gemm ${machine.gemmKernel}`;
  console.log(`profile: ${label}, ${width}×${height}, ${dtype}, ${backend} — ${where}, load ${machine.loadAverage1m.toFixed(2)}`);
  console.log(`  DiT: ${K === depth ? `all ${depth}` : `${K} of ${depth}`} blocks, block mode ${blockMode}, CFG ${cfg > 1 ? 'batch 2' : 'off (batch 1)'}, ${textTokens} text tokens; warmup ${warmup}, timed ${repeat}`);
  if (Object.keys(opVersions).length > 0) console.log(`  kernel versions: ${fmtOpVersions(opVersions)} (the other ops at their defaults)`);
  if (cudaGraph) console.log('  queued steps: replayed as one CUDA graph per step (--cuda-graph)');
  const splitK = backend === 'cuda' ? process.env.SANA_LAB_GEMM_SPLIT_K ?? null : null;
  if (splitK !== null) console.log(`  wgmma gemm split-K: SANA_LAB_GEMM_SPLIT_K=${splitK}`);
  const gemmTiles = backend === 'cuda' ? process.env.SANA_LAB_GEMM_TILES ?? null : null;
  if (gemmTiles !== null) console.log(`  wgmma gemm tile widths: SANA_LAB_GEMM_TILES=${gemmTiles}`);
  const gemmCluster = backend === 'cuda' ? process.env.SANA_LAB_GEMM_CLUSTER ?? null : null;
  if (gemmCluster !== null) console.log(`  wgmma gemm clusters: SANA_LAB_GEMM_CLUSTER=${gemmCluster} (2: pairs of blocks sharing the weight tile by TMA multicast)`);
  // What the backend made of those variables (an invalid value is ignored with a warning): the modes this run used.
  const gemmModes = backend === 'cuda' ? loadAddon().runtime.gemmWgmmaModes() : null;
  if (gemmModes) {
    const split = gemmModes.splitK < 0 ? 'the plan\'s' : gemmModes.splitK === 0 ? 'off' : `${gemmModes.splitK} forced`;
    console.log(`  gemm v3 (wgmma) modes in effect: tile widths ${gemmModes.tiles.join(', ')}; split-K ${split}; ${gemmModes.cluster > 1 ? `clusters of ${gemmModes.cluster} (TMA multicast)` : 'no clusters'}`);
  }
  const pdlAsked = backend === 'cuda' ? loadAddon().runtime.pdlMode() : null;
  if (pdlAsked && pdlAsked.mode === 1) {
    console.log(`  programmatic dependent launch (SANA_LAB_PDL=1): ${pdlAsked.active ? 'on (each kernel may launch while the one ahead finishes, and waits for it first)' : 'asked for, but off on this device (needs sm_90 or newer)'}`);
  }
  const cudaDefaults = backend === 'cuda' ? loadAddon().runtime.cudaDefaultOverrides() || null : null;
  if (cudaDefaults !== null) console.log(`  default versions overridden: SANA_LAB_CUDA_DEFAULTS=${cudaDefaults} (every call of those ops at version 0, composites included)`);
  const d = versioned(() => profileDit({ config, ...dit, depth, backend, dtype, blockMode, width, height, textTokens, cfg, warmup, repeat, cudaGraph }));
  const x = d.extrapolated ? ' (extrapolated)' : '';
  console.log(`  step: ${fmtMs(d.stepMs)}${x}; measured with ${K} blocks ${fmtMs(d.stepMsMeasured)} (samples ${d.stepSamplesMs.map((s) => s.toFixed(1)).join(', ')} ms); caption + text K/V (once per image) ${fmtMs(d.captionMs)}`);
  console.log(`  breakdown per step${x}:`);
  for (const l of table(d.breakdown, 'step')) console.log(l);
  const h = d.host;
  console.log(`  host overhead per step${x}: ${fmtMs(h.totalMs)} = ${(100 * h.share).toFixed(2)}% of the step (host work ${fmtMs(h.hostWorkMs)}, JS glue ${fmtMs(h.jsGlueMs)}, ${h.opCallsPerStep.toFixed(0)} op calls × ${h.perCallUs.toFixed(1)} µs calibrated)`);
  console.log(`  step wall − native op time${x}: ${fmtMs(h.wallMinusOpsMs)} = ${((100 * h.wallMinusOpsMs) / (d.queued?.syncedStepMs ?? d.stepMs)).toFixed(2)}% of the step (host work + glue; the op times include their dispatch)`);
  const q = d.queued;
  if (q !== null) {
    console.log(`  queued dispatch (one synchronize per step)${x}: step ${fmtMs(q.stepMs)} vs ${fmtMs(q.syncedStepMs)} with a synchronize after every op (samples ${q.samplesMs.map((v) => v.toFixed(2)).join(', ')} ms)`);
    console.log(`  host overhead of the queued step${x}: ${fmtMs(q.hostOverheadMs)} = ${(100 * q.share).toFixed(2)}% (step − device busy ≈ ${fmtMs(q.gpuBusyMs)}: synchronized op times − calls × ${h.perCallUs.toFixed(1)} µs round trip; an estimate)`);
    const how = q.dispatch === 'replay' ? 'one CUDA graph launch' : 'every kernel launched from the host';
    const dv = q.device;
    const top = dv.ops.slice(0, 4).map((e) => `${e.name} ${fmtMs(e.ms)}`).join(', ');
    console.log(`  device timeline of the queued step (CUDA events around each op call, ${K} blocks, eager): ops busy ${fmtMs(dv.busyMs)} of a ${fmtMs(dv.spanMs)} span, idle between op calls ${fmtMs(dv.idleMs)} (${((100 * dv.idleMs) / Math.max(dv.spanMs, 1e-9)).toFixed(1)}%); step wall ${fmtMs(dv.stepMs)}; ${top}`);
    console.log(`  host enqueue of the queued step (measured, ${K} blocks, ${how}): ${fmtMs(q.enqueueMs)} of ${fmtMs(q.measuredMs)} = ${(100 * q.enqueueShare).toFixed(1)}%${q.enqueueShare > 0.8 && !machine.device?.startsWith('sana-emu') ? ' — the host sets the pace' : ''}`);
    const kt = q.kernels;
    console.log(`  kernels of the queued step (an event after each launch, ${K} blocks, eager; launch-to-launch device time): ${fmtMs(kt.totalMs)} in ${kt.launchesPerStep.toFixed(0)} launches`);
    for (const l of formatKernels(kt)) console.log(l);
  }

  let decode: DecodeProfile | null = null;
  if (flags.has('decode')) {
    let dcae: DcaeConfig;
    let source: ReturnType<typeof stateDictSource> | undefined;
    if (modelDir !== undefined) {
      const files = componentFiles(modelDir, 'vae');
      dcae = loadDcaeConfig(files.config);
      const w = readComponentWeights(files, (k) => k.startsWith('decoder.'));
      checkDcaeWeights(decoderParamShapes(dcae), w, files.weights.join(', '));
      source = stateDictSource(w);
    } else dcae = dcaePreset('dc-ae-f32c32-sana-1.0');
    const dcaeConfig = dcae;
    // progress on stderr: a decode is seconds on a GPU at 4096² and minutes on a CPU
    console.error(`[profile] decoding one ${width}×${height} image on ${backend}${tile ? ` in tiles of ${tile.tileHeight}/${tile.strideHeight}` : ''}…`);
    const onTile = (i: number, n: number) => console.error(`[profile] decode tile ${i}/${n}`);
    decode = versioned(() => profileDecode({ config: dcaeConfig, source, backend, dtype, width, height, tiling: tile, onTile }));
    console.log(`  decode (batch 1${decode.tiled ? `, ${decode.tiles} tiles of ${tile!.tileHeight}/${tile!.strideHeight}` : ''}): ${fmtMs(decode.ms)} (single run${decode.warmup > 0 ? ` after ${decode.warmup} untimed` : ''})`);
    for (const l of table(decode.breakdown.slice(0, 12), 'image')) console.log(l);
    if (decode.kernels) {
      console.log(`  kernels of the decode (one more, untimed decode with an event after each launch): ${fmtMs(decode.kernels.totalMs)} in ${decode.kernels.launchesPerStep.toFixed(0)} launches`);
      for (const l of formatKernels(decode.kernels)) console.log(l);
    }
  }

  // How many of this run's kernel launches (the steps' and the decode's; a CUDA graph's at its capture, not at
  // each replay) were programmatic dependents: 0 unless SANA_LAB_PDL=1 on an sm_90 GPU.
  const pdlNow = pdlAsked ? loadAddon().runtime.pdlMode()! : null;
  const pdl = pdlAsked && pdlNow ? { ...pdlNow, launches: pdlNow.launches - pdlAsked.launches } : null;
  if (pdl && pdlAsked!.mode === 1) console.log(`  programmatic dependent launches in this run: ${pdl.launches}${pdl.mode === 1 ? '' : ' (PDL went off: see the warning above)'}`);

  // With CUDA graphs each image's first two steps run eagerly and by capture, the rest replay.
  const setup = d.queued?.graphSetup ?? null;
  const setupSteps = setup === null ? 0 : Math.min(steps, 2);
  const setupMs = setup === null ? 0 : [setup.eagerMs, setup.captureMs].slice(0, setupSteps).reduce((a, b) => a + b, 0);
  const imageMs = setupMs + (steps - setupSteps) * d.stepMs + d.captionMs + (decode?.ms ?? 0);
  const imagesPerS = 1000 / imageMs;
  const rss = process.resourceUsage().maxRSS * 1024;
  const ditMem = d.memory;
  const peakBytes = Math.max(ditMem.extrapolatedWeightsBytes + ditMem.activationBytes + ditMem.scratchBytes + ditMem.conditionBytes, decode ? decode.memory.totalBytes : 0);
  const stepsText = setup === null ? `${steps} steps × ${fmtMs(d.stepMs)}` : `${setupSteps} graph setup steps (eager ${fmtMs(setup.eagerMs)}, capture ${fmtMs(setup.captureMs)}) + ${steps - setupSteps} replays × ${fmtMs(d.stepMs)}`;
  console.log(`  image: ${stepsText} + caption${decode ? ' + decode' : ''} = ${fmtMs(imageMs)} → ${imagesPerS.toFixed(4)} images/s${x}`);
  console.log(`  memory: DiT weights ${formatBytes(ditMem.extrapolatedWeightsBytes)}${d.extrapolated ? ` at full depth (${formatBytes(ditMem.weightsBytes)} loaded)` : ''}, activations ${formatBytes(ditMem.activationBytes)}, op scratch ≤ ${formatBytes(ditMem.scratchBytes)} (estimate)${decode ? `; decoder total ${formatBytes(decode.memory.totalBytes)} (activations ${formatBytes(decode.memory.activationBytes)}, scratch ≤ ${formatBytes(decode.memory.scratchBytes)})` : ''}; process max RSS ${formatBytes(rss)}`);

  if (!flags.has('no-roofline')) console.error(`[profile] measuring the ${backend} ceilings for the roofline floor (--no-roofline skips this)…`);
  const roofline = flags.has('no-roofline') ? null : await rooflineOf({ modelKey, modelDir, full, preset: preset.config, backend, dtype, width, height, cfg, steps, textTokens, decode, stepMs: d.stepMs, captionMs: d.captionMs, imageMs });
  if (roofline !== null) {
    if ('reason' in roofline) console.log(`  roofline floor: not computed — ${roofline.reason}`);
    else {
      const f = roofline;
      console.log(`  roofline floor (${f.ceilings.device}: peak ${fmtNum(f.ceilings.peakFlops / 1e12)} TFLOP/s, ${fmtGBs(f.ceilings.bandwidth)}, measured now; every op at its own roofline):`);
      console.log(`    step ≥ ${fmtMs(f.step_floor_ms)} → measured ${fmtMs(d.stepMs)}${x} = ${f.step_pct.toFixed(1)}% of the floor (${(100 * f.step_compute_share).toFixed(0)}% of the floor in compute-bound ops)`);
      console.log(`    caption ≥ ${fmtMs(f.caption_floor_ms)} → ${f.caption_pct.toFixed(1)}%${f.decode_floor_ms !== null ? `; decode ≥ ${fmtMs(f.decode_floor_ms)} → ${f.decode_pct!.toFixed(1)}%` : ''}; image ≥ ${fmtMs(f.image_floor_ms)} → ${f.image_pct.toFixed(1)}%`);
    }
  }

  let comparison: ReferenceComparison | null = null;
  if (flags.has('compare-reference')) {
    console.log(`  comparing with the TS reference on the ${K}-block model (one reference forward)…`);
    comparison = compareWithReference({ config, backend, dtype, blockMode, width, height, textTokens, cfg, repeat });
    console.log(`  TS reference forward ${fmtMs(comparison.referenceMs)} vs native (caption + step) ${fmtMs(comparison.nativeMs)}: ${comparison.speedup.toFixed(1)}× (${comparison.blocks} blocks)`);
  }

  if (values.has('json')) {
    const report = {
      format: PROFILE_FORMAT,
      command: 'profile',
      model: modelName,
      weights: modelDir ?? 'random',
      parameters: fullParameterCount(config, depth),
      backend,
      dtype,
      blockMode,
      opVersions,
      cudaGraph,
      gemmSplitK: splitK,
      gemmTiles,
      gemmCluster,
      gemmModes,
      pdl,
      cudaDefaults,
      machine,
      width,
      height,
      latentShape: d.latentShape,
      batch: d.batch,
      textTokens,
      steps,
      cfg,
      blocks: { run: K, depth, extrapolated: d.extrapolated },
      step_ms: d.stepMs,
      step_ms_measured: d.stepMsMeasured,
      step_ms_measured_min: d.stepMsMin,
      step_samples_ms: d.stepSamplesMs,
      caption_ms: d.captionMs,
      breakdown: d.breakdown,
      queued: q && {
        step_ms: q.stepMs, step_ms_measured: q.measuredMs, samples_ms: q.samplesMs, synced_step_ms: q.syncedStepMs, gpu_busy_ms: q.gpuBusyMs,
        host_overhead_ms: q.hostOverheadMs, share: q.share, enqueue_ms: q.enqueueMs, enqueue_share: q.enqueueShare, dispatch: q.dispatch,
        device: { busy_ms: q.device.busyMs, span_ms: q.device.spanMs, idle_ms: q.device.idleMs, step_ms: q.device.stepMs, ops: q.device.ops, blocks: K },
        kernels: { total_ms: q.kernels.totalMs, launches: q.kernels.launchesPerStep, truncated: q.kernels.truncated, blocks: K, list: q.kernels.kernels },
        graph_setup: q.graphSetup && { eager_ms: q.graphSetup.eagerMs, capture_ms: q.graphSetup.captureMs },
      },
      host_overhead: { per_step_ms: h.totalMs, share: h.share, wall_minus_ops_ms: h.wallMinusOpsMs, host_work_ms: h.hostWorkMs, js_glue_ms: h.jsGlueMs, op_calls_per_step: h.opCallsPerStep, per_call_us: h.perCallUs, dispatch_ms: h.dispatchMs },
      decode: decode && {
        ms: decode.ms, tiled: decode.tiled, tiles: decode.tiles, tile: tile ?? null, breakdown: decode.breakdown, memory: decode.memory, plan: decode.plan,
        kernels: decode.kernels && { total_ms: decode.kernels.totalMs, launches: decode.kernels.launchesPerStep, truncated: decode.kernels.truncated, list: decode.kernels.kernels },
      },
      image_ms: imageMs,
      images_per_s: imagesPerS,
      memory: { dit: ditMem, decoder: decode?.memory ?? null, peak_bytes: peakBytes, process_max_rss_bytes: rss },
      reference_comparison: comparison,
      roofline,
      notes: [
        'step_ms: one DiT evaluation on the CFG batch; the caption projection and every block\'s cross-attention text keys/values are computed once per image (caption_ms).',
        backend === 'cuda'
          ? 'cuda: per-op times are host wall times around op calls that synchronize after their kernels (kernel + launch + round trip); step_ms is the queued step (ops queued, one synchronize), synced_step_ms the per-op-synchronized one.'
          : 'Per-op times are host wall times around synchronous cpu op calls (kernel + dispatch).',
        ...(d.extrapolated ? [`Extrapolated: ${K} of ${depth} blocks were run; block ops are scaled by ${depth}/${K}.`] : []),
        'host_overhead: host work (the timestep features and the scheduler coefficients written to the backend; the sampling loop, CFG and the Flow-DPM-Solver++ update run on the backend) + JS glue between calls + op calls × a calibrated per-call cost; wall_minus_ops_ms: the step wall time minus the summed op-call wall times (measured).',
      ],
      timestamp: new Date().toISOString(),
    };
    writeFileSync(values.get('json')!, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`  → ${values.get('json')}`);
  }
  return 0;
}

/** "dcae-resblock=4,dcae-head=3" → { 'dcae-resblock': 4, 'dcae-head': 3 }; a malformed entry is a usage error. */
export function parseOpVersions(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([a-z0-9-]+)=(\d+)$/.exec(item);
    if (m === null) throw new UsageError(`${CMD}: --op-versions wants OP=N entries separated by commas (e.g. dcae-resblock=4,dcae-head=3), got "${item}"`);
    if (m[1]! in out) throw new UsageError(`${CMD}: --op-versions names ${m[1]} twice`);
    out[m[1]!] = Number(m[2]);
  }
  if (Object.keys(out).length === 0) throw new UsageError(`${CMD}: --op-versions is empty`);
  return out;
}

/** The dimensions that make a DiT one preset or another, as one comparable string (the roofline floor counts these). */
function presetDims(c: SanaTransformerConfig): string {
  return JSON.stringify([c.numLayers, c.numAttentionHeads, c.attentionHeadDim, c.numCrossAttentionHeads, c.crossAttentionHeadDim, c.captionChannels, c.mlpRatio, c.inChannels, c.outChannels, c.patchSize]);
}

/**
 * --op-versions checked against the backend before any work: an op the backend does not know, or a
 * version it lacks, is a usage error naming what it has (the op API would refuse it only once the
 * model is built and the first call of that op starts).
 */
function checkOpVersions(backend: 'cpu' | 'cuda', versions: Record<string, number>): Record<string, number> {
  const table = new Map<string, number[]>(OP_NAMES.map((op) => [op, []]));
  for (const o of loadAddon().runtime.opVersions(backend)) table.set(o.op, o.versions.map((v) => v.version));
  for (const [op, v] of Object.entries(versions)) {
    const have = table.get(op);
    if (have === undefined) throw new UsageError(`${CMD}: --op-versions: unknown op "${op}" (ops: ${[...table.keys()].join(', ')})`);
    if (v !== 0 && !have.includes(v)) {
      throw new UsageError(`${CMD}: --op-versions: ${op}: no version ${v} on the ${backend} backend (versions: ${have.length ? have.join(', ') : 'none numbered'}; 0 = the default)`);
    }
  }
  return versions;
}

/**
 * The image's roofline floor on ceilings measured now, and how close the measured times come to it
 * (pct = floor / measured × 100). Null-free: a reason when it cannot be computed.
 */
async function rooflineOf(o: {
  modelKey: '0.6b' | '1.6b'; modelDir: string | undefined; full: SanaTransformerConfig; preset: SanaTransformerConfig; backend: 'cpu' | 'cuda';
  dtype: 'f32' | 'bf16'; width: number; height: number; cfg: number; steps: number; textTokens: number; decode: DecodeProfile | null;
  stepMs: number; captionMs: number; imageMs: number;
}) {
  // The floor counts the preset's dimensions; a model directory with other ones would be judged on the wrong model.
  if (o.modelDir !== undefined && presetDims(o.full) !== presetDims(o.preset)) return { reason: `the model in ${o.modelDir} does not have the Sana-${o.modelKey} preset's dimensions the floor counts` };
  const measured = await measureDeviceCeilings(o.backend, o.dtype);
  if ('reason' in measured) return measured;
  const c = measured.ceilings;
  const f = imageFloor(
    { model: o.modelKey, resolution: { width: o.width, height: o.height }, batch: o.cfg > 1 ? 2 : 1, steps: o.steps, decode: o.decode !== null, dtype: o.dtype, textTokens: o.textTokens },
    c,
  );
  const pct = (floor: number, ms: number) => (100 * floor) / ms;
  return {
    ceilings: c,
    step_floor_ms: f.step.floorMs,
    step_pct: pct(f.step.floorMs, o.stepMs),
    step_compute_share: f.step.computeShare,
    step_flops: f.step.flops,
    step_bytes: f.step.bytes,
    caption_floor_ms: f.caption.floorMs,
    caption_pct: pct(f.caption.floorMs, o.captionMs),
    decode_floor_ms: f.decode?.floorMs ?? null,
    decode_pct: f.decode && o.decode ? pct(f.decode.floorMs, o.decode.ms) : null,
    image_floor_ms: f.imageMs,
    image_pct: pct(f.imageMs, o.imageMs),
    note: 'floor: every op of the unit at its own roofline, max(FLOPs / peak, minimal bytes / bandwidth), summed (bench/image-floor.ts); pct = floor / measured × 100',
  };
}

export const profileCommand: Command = {
  name: 'profile',
  summary: 'whole-image timing on a native backend: DiT step breakdown, images/s, host overhead, memory',
  usage: PROFILE_USAGE,
  run: runProfile,
};
