/**
 * Whole-model parity of the native runners (bindings/models) against the TS reference models, on any
 * native backend — the check the GPU script runs for `cuda` (bench/gpu/model-parity.mjs) and the tests
 * run for `cpu`:
 *   DiT  (random mid-size config: patch 2, sincos PE, 3 blocks, C 64, 4 cross heads, a padded prompt,
 *        10×14 latent, CFG-like batch 2), both block modes;
 *   DC-AE decoder (random mid-size config: 4 stages 16/32/64/64, pixel-shuffle up blocks, LiteMLA with
 *        3×3 and 5×5 aggregation, SiLU head), whole image.
 * Rules: f32 ‖out − ref‖/‖ref‖ ≤ 1e-4 and max|Δ|/max|ref| ≤ 1e-4 against the reference model (f64
 * accumulation); bf16 ≤ 2× the error of the same runner on the reference backend in bf16 (every op's
 * output rounded to bf16 = the plain bf16 model), no NaN/Inf ever.
 */
import { parseDcaeConfig, type DcaeConfig } from '../../reference/dcae/config.js';
import { AutoencoderDC } from '../../reference/dcae/autoencoder.js';
import { decoderParamShapes } from '../../reference/dcae/param-shapes.js';
import { errorStats } from '../../reference/core/compare.js';
import { randn } from '../../reference/core/random.js';
import { Tensor } from '../../reference/core/tensor.js';
import { DIFFUSERS_DEFAULTS, type SanaTransformerConfig } from '../../reference/dit/config.js';
import { SanaTransformer2DModel, type DitInputs } from '../../reference/dit/model.js';
import { sanaTransformerWeightShapes } from '../../reference/dit/weights.js';
import { NativeDcaeDecoder } from '../../bindings/models/dcae-runner.js';
import { denoiseOnBackend } from '../../bindings/models/dit-denoise.js';
import { NativeSanaTransformer, type DitBlockMode, type DitCondition } from '../../bindings/models/dit-runner.js';
import { sanaFlowDpmSolver } from '../../reference/schedulers/flow-dpm-solver.js';
import type { FlowScheduler } from '../../reference/schedulers/from-config.js';
import { cfgCombineBatch, modelTimestep } from '../../reference/schedulers/guidance.js';
import { judgeBf16, judgeF32, type Verdict } from './rules.js';
import type { ParityBackend } from './run.js';

/** A random mid-size DiT: patch 2, sincos PE, 3 blocks, C 64 (2 heads of 32), 4 cross heads of 16. */
export const DIT_MID: SanaTransformerConfig = {
  ...DIFFUSERS_DEFAULTS,
  inChannels: 12,
  outChannels: 12,
  numAttentionHeads: 2,
  attentionHeadDim: 32,
  numLayers: 3,
  numCrossAttentionHeads: 4,
  crossAttentionHeadDim: 16,
  crossAttentionDim: 64,
  captionChannels: 40,
  mlpRatio: 2.5,
  sampleSize: 8,
  patchSize: 2,
  interpolationScale: 1.0,
};

/**
 * Seeded normal parameters for `shapes`, one seed per key in order: std 1/√fan-in for matrices and
 * convolutions, `vectorStd` for vectors; `adjust` moves a parameter to its usual range (norm weights ≈ 1).
 */
function seededParams(shapes: Iterable<readonly [string, readonly number[]]>, seed: number, vectorStd: number, adjust: (key: string, values: Float32Array) => void): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  let s = seed;
  for (const [k, shape] of shapes) {
    const fanIn = shape.length >= 2 ? shape.slice(1).reduce((a, b) => a * b, 1) : 0;
    const t = randn([...shape], s++, fanIn > 0 ? 1 / Math.sqrt(fanIn) : vectorStd);
    adjust(k, t.toFloat32());
    m.set(k, t);
  }
  return m;
}

/** Seeded random DIT_MID weights (1/√fan-in; modulation tables and the caption norm near their usual values). */
export function ditMidWeights(seed: number): Map<string, Tensor> {
  return seededParams(sanaTransformerWeightShapes(DIT_MID), seed, 0.3, (k, a) => {
    if (/scale_shift_table|caption_norm/.test(k)) a.forEach((v, i) => (a[i] = 0.3 * v + (k.includes('norm') ? 1 : 0)));
  });
}

/** Batch 2 (like CFG), a 10×14 latent, two timesteps, L = 7 text tokens with the second prompt 4 long. */
export function ditMidInputs(seed: number): DitInputs {
  const B = 2, L = 7;
  const mask = new Float32Array(B * L).fill(1);
  for (let l = 4; l < L; l++) mask[L + l] = 0;
  return {
    hiddenStates: randn([B, DIT_MID.inChannels, 10, 14], seed),
    timestep: Tensor.f32([B], [937.5, 41.25]),
    encoderHiddenStates: randn([B, L, DIT_MID.captionChannels], seed + 1),
    encoderAttentionMask: new Tensor([B, L], 'f32', mask),
  };
}

/** A random mid-size DC-AE decoder: 4 stages (16, 32, 64, 64), pixel-shuffle up blocks, SiLU head, no decoder-in shortcut. */
export const DCAE_MID: DcaeConfig = parseDcaeConfig(
  {
    in_channels: 3,
    latent_channels: 16,
    attention_head_dim: 16,
    encoder_block_types: ['ResBlock', 'ResBlock', 'EfficientViTBlock', 'EfficientViTBlock'],
    decoder_block_types: ['ResBlock', 'ResBlock', 'EfficientViTBlock', 'EfficientViTBlock'],
    encoder_block_out_channels: [16, 32, 64, 64],
    decoder_block_out_channels: [16, 32, 64, 64],
    encoder_layers_per_block: [1, 1, 1, 1],
    decoder_layers_per_block: [1, 2, 1, 2],
    encoder_qkv_multiscales: [[], [], [5], [5]],
    decoder_qkv_multiscales: [[], [], [3], [5]],
    upsample_block_type: 'pixel_shuffle',
    decoder_conv_act_fn: 'silu',
    decoder_in_shortcut: false,
    scaling_factor: 0.5,
  },
  'mid',
);

/** Seeded random DCAE_MID decoder parameters (1/√fan-in; norm weights around 1). */
export function dcaeMidParams(seed: number): Map<string, Tensor> {
  return seededParams(decoderParamShapes(DCAE_MID), seed, 0.2, (k, a) => {
    if (k.endsWith('norm.weight') || k.endsWith('norm_out.weight')) a.forEach((v, i) => (a[i] = 1 + v));
  });
}

export interface ModelParityRecord {
  model: 'dit' | 'dcae-decoder';
  /** What ran: the block mode (DiT) or 'whole' (decoder). */
  variant: string;
  backend: ParityBackend;
  dtype: 'f32' | 'bf16';
  shape: readonly number[];
  verdict: Verdict;
}

/** The f32 rule of a whole model (the golden README's 1e-4, on the L2 and the max-abs error). */
export const MODEL_F32_RULE = { rel: 1e-4, maxRel: 1e-4 } as const;
export const MODEL_BF16_RULE = { factor: 2, minPlainRel: 1e-4 } as const;

/** f32 verdict of a whole-model output against the reference model's. */
export function judgeModelF32(out: Tensor, reference: Tensor): Verdict {
  return judgeF32(out.toFloat32(), reference.toFloat32(), MODEL_F32_RULE, out.shape);
}

/** bf16 verdict: ≤ 2× the plain bf16 model's error against the same reference. */
export function judgeModelBf16(out: Tensor, plain: Tensor, reference: Tensor): Verdict {
  return judgeBf16(out.toFloat32(), plain.toFloat32(), reference.toFloat32(), MODEL_BF16_RULE, out.shape);
}

/**
 * Runs both models on `backend` in f32 and bf16 (the DiT in both block modes) and judges every output.
 * `onRecord` sees each record as it is made (progress on long device runs).
 */
export function modelParity(backend: ParityBackend, onRecord?: (r: ModelParityRecord) => void): ModelParityRecord[] {
  const records: ModelParityRecord[] = [];
  const push = (r: ModelParityRecord) => {
    records.push(r);
    onRecord?.(r);
  };

  // DiT
  const weights = ditMidWeights(900);
  const inputs = ditMidInputs(950);
  const reference = new SanaTransformer2DModel(DIT_MID, weights).forward(inputs);
  const plainDit = withModel(NativeSanaTransformer.fromStateDict(DIT_MID, weights, { backend: 'reference', dtype: 'bf16', blockMode: 'ops' }), (m) => m.forward(inputs));
  const modes: DitBlockMode[] = ['dit-block', 'ops'];
  for (const blockMode of modes) {
    for (const dtype of ['f32', 'bf16'] as const) {
      const out = withModel(NativeSanaTransformer.fromStateDict(DIT_MID, weights, { backend, dtype, blockMode }), (m) => m.forward(inputs));
      const verdict = dtype === 'f32' ? judgeModelF32(out, reference) : judgeModelBf16(out, plainDit, reference);
      push({ model: 'dit', variant: blockMode, backend, dtype, shape: out.shape, verdict });
    }
  }

  // cuda: the step replayed as a CUDA graph must give the eager step's output bit for bit, for new inputs
  // written into the captured buffers (steps 1 eager, 2 captured + launched, 3 and 4 replayed).
  if (backend === 'cuda') for (const r of graphReplayParity(weights, inputs)) push(r);
  // The denoising loop on the backend (sampler-update) against the host loop around the same model;
  // on cuda also with the whole iteration (DiT step + update) replayed as a CUDA graph.
  for (const r of denoiseLoopParity(backend, weights, inputs)) push(r);

  // DC-AE decoder
  const params = dcaeMidParams(700);
  const z = randn([1, 16, 3, 5], 777);
  const decoded = new AutoencoderDC(DCAE_MID, params, { part: 'decoder' }).decode(z);
  const plainDec = withModel(NativeDcaeDecoder.fromStateDict(DCAE_MID, params, { backend: 'reference', dtype: 'bf16' }), (m) => m.decode(z));
  for (const dtype of ['f32', 'bf16'] as const) {
    const out = withModel(NativeDcaeDecoder.fromStateDict(DCAE_MID, params, { backend, dtype }), (m) => m.decode(z));
    const verdict = dtype === 'f32' ? judgeModelF32(out, decoded) : judgeModelBf16(out, plainDec, decoded);
    push({ model: 'dcae-decoder', variant: 'whole', backend, dtype, shape: out.shape, verdict });
  }
  return records;
}

/** Exact agreement (every element bitwise equal, NaN never) of a graph-replayed step with the eager one. */
export function judgeIdentical(out: Tensor, eager: Tensor): Verdict {
  const a = out.toFloat32();
  const b = eager.toFloat32();
  const stats = errorStats(a, b);
  let differ = 0;
  for (let i = 0; i < a.length; i++) if (!(a[i] === b[i])) differ++;
  const pass = a.length === b.length && differ === 0 && stats.nonFinite === 0;
  return { pass, stats, tolerance: 'identical to the eager step (same kernels, same order)', reason: pass ? '' : `${differ} of ${a.length} elements differ${stats.nonFinite ? `, ${stats.nonFinite} non-finite` : ''}` };
}

/**
 * A DiT with cudaGraph on against one without, step after step on fresh latents and timesteps: step 1
 * runs eagerly, step 2 is captured, steps 3–4 replay the graph. One record per step (variant names the mode).
 */
export function graphReplayParity(weights: Map<string, Tensor>, inputs: DitInputs): ModelParityRecord[] {
  const records: ModelParityRecord[] = [];
  const opts = { backend: 'cuda' as const, dtype: 'bf16' as const, blockMode: 'dit-block' as const };
  const eager = NativeSanaTransformer.fromStateDict(DIT_MID, weights, opts);
  const graphed = NativeSanaTransformer.fromStateDict(DIT_MID, weights, { ...opts, cudaGraph: true });
  try {
    const condE = eager.encodeCondition(inputs.encoderHiddenStates, inputs.encoderAttentionMask ?? null);
    const condG = graphed.encodeCondition(inputs.encoderHiddenStates, inputs.encoderAttentionMask ?? null);
    try {
      const modes = ['eager', 'capture', 'replay', 'replay'];
      for (let s = 0; s < modes.length; s++) {
        const latent = randn(inputs.hiddenStates.shape, 4000 + s);
        const t = [900 - 170 * s, 35 + 60 * s];
        const want = eager.step(latent, t, condE);
        const got = graphed.step(latent, t, condG);
        const ran = graphed.lastStep?.mode ?? 'none';
        const verdict = judgeIdentical(got, want);
        if (ran !== modes[s]) Object.assign(verdict, { pass: false, reason: `step ${s + 1} ran '${ran}', expected '${modes[s]}'` });
        records.push({ model: 'dit', variant: `cuda-graph step ${s + 1} (${ran})`, backend: 'cuda', dtype: 'bf16', shape: got.shape, verdict });
      }
    } finally {
      condE.dispose();
      condG.dispose();
    }
  } finally {
    eager.dispose();
    graphed.dispose();
  }
  return records;
}

/**
 * The host loop of SanaPipeline.generate around a native model: repeat the latent for CFG, one step,
 * combine the halves, scheduler.step on the host. The reference for the backend loop (dit-denoise.ts).
 */
export function hostDenoiseLoop(model: NativeSanaTransformer, z0: Tensor, scheduler: FlowScheduler, cfg: boolean, guidance: number, cond: DitCondition): Tensor {
  let z = z0;
  const batch = cfg ? 2 : 1;
  for (const t of [...scheduler.timesteps]) {
    const zs = z.toFloat32();
    const input = cfg ? new Tensor([2, ...z.shape.slice(1)], 'f32', Float32Array.from([...zs, ...zs])) : z;
    let v = model.step(input, new Tensor([batch], 'f32', modelTimestep(t, batch)), cond);
    if (cfg) v = cfgCombineBatch(v, guidance);
    z = scheduler.step(v, t, z);
  }
  return z;
}

/**
 * denoiseOnBackend (5 Flow-DPM-Solver++ steps with CFG, bf16, one 10×14 latent) must give the host
 * loop's final latent bit for bit; on cuda a second record runs it with cudaGraph (steps eager, capture,
 * replay ×3: the whole iteration, DiT step and sampler-update, as one graph).
 */
export function denoiseLoopParity(backend: ParityBackend, weights: Map<string, Tensor>, inputs: DitInputs): ModelParityRecord[] {
  const records: ModelParityRecord[] = [];
  const z0 = randn([1, DIT_MID.inChannels, 10, 14], 4242);
  const steps = 5;
  const opts = { backend, dtype: 'bf16' as const, blockMode: 'dit-block' as const };
  const want = withModel(NativeSanaTransformer.fromStateDict(DIT_MID, weights, opts), (m) => {
    const cond = m.encodeCondition(inputs.encoderHiddenStates, inputs.encoderAttentionMask ?? null);
    try {
      return hostDenoiseLoop(m, z0, sanaFlowDpmSolver(steps), true, 4.5, cond);
    } finally {
      cond.dispose();
    }
  });
  const variants = backend === 'cuda' ? [false, true] : [false];
  for (const cudaGraph of variants) {
    const modes: string[] = [];
    const got = withModel(NativeSanaTransformer.fromStateDict(DIT_MID, weights, { ...opts, cudaGraph }), (m) => {
      const cond = m.encodeCondition(inputs.encoderHiddenStates, inputs.encoderAttentionMask ?? null);
      try {
        return denoiseOnBackend(m, z0, cond, { scheduler: sanaFlowDpmSolver(steps), guidanceScale: 4.5, cfg: true, onStep: (s) => modes.push(s.mode) });
      } finally {
        cond.dispose();
      }
    });
    const verdict = judgeIdentical(got, want);
    const expected = cudaGraph ? ['eager', 'capture', 'replay', 'replay', 'replay'] : new Array(steps).fill('eager');
    if (modes.join() !== expected.join()) Object.assign(verdict, { pass: false, reason: `steps ran ${modes.join(', ')}, expected ${expected.join(', ')}` });
    records.push({ model: 'dit', variant: `denoise loop on the backend${cudaGraph ? ', cuda-graph' : ''} (5 dpm steps, CFG) vs the host loop`, backend, dtype: 'bf16', shape: got.shape, verdict });
  }
  return records;
}

function withModel<M extends { dispose(): void }, R>(model: M, fn: (m: M) => R): R {
  try {
    return fn(model);
  } finally {
    model.dispose();
  }
}
