/**
 * What the SANA pipeline does around the scheduler at each step (diffusers `SanaPipeline.__call__`):
 *
 *   - the model runs on a batch of 2B: [unconditional (negative prompt) | conditional], same latents;
 *   - its timestep input is `t · timestep_scale` as float32, broadcast to the batch
 *     (Flow-DPM: t is the int64 scheduler timestep ⌊1000·σ⌋; Flow-Euler: the float32 1000·σ);
 *   - classifier-free guidance combines the halves of the float32 prediction:
 *       v = v_u + g·(v_c − v_u)        (3 flops per element)
 *     and the scheduler steps with v.
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import { f32 } from './numeric.js';

/**
 * The model's timestep input: float32(t) · float32(timestepScale), repeated `batch` times
 * (PyTorch casts the int64 / float32 timestep and the Python scale to float32 and multiplies).
 */
export function modelTimestep(timestep: number, batch: number, timestepScale = 1.0): Float32Array {
  if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError(`modelTimestep: batch must be an integer >= 1, got ${batch}`);
  return new Float32Array(batch).fill(f32(f32(timestep) * f32(timestepScale)));
}

/** v = v_u + g·(v_c − v_u) elementwise in float32 (diffusers computes it on float32 tensors). */
export function cfgCombine(uncond: Float32Array, cond: Float32Array, guidanceScale: number): Float32Array {
  if (uncond.length !== cond.length) {
    throw new RangeError(`cfgCombine: unconditional has ${uncond.length} values, conditional ${cond.length}`);
  }
  const g = f32(guidanceScale);
  const out = new Float32Array(uncond.length);
  for (let i = 0; i < out.length; i++) out[i] = f32(uncond[i]! + f32(g * f32(cond[i]! - uncond[i]!)));
  return out;
}

/**
 * CFG on a model prediction of batch 2B ordered [uncond | cond] (diffusers' `noise_pred.chunk(2)`):
 * returns the guided prediction of batch B, as an f32 Tensor.
 */
export function cfgCombineBatch(prediction: Tensor, guidanceScale: number): Tensor {
  const b2 = prediction.shape[0];
  if (prediction.ndim < 1 || b2 === undefined || b2 % 2 !== 0) {
    throw new RangeError(`cfgCombineBatch: want a prediction of batch 2B ([uncond | cond]), got ${shapeStr(prediction.shape)}`);
  }
  const v = prediction.toFloat32(); // diffusers: noise_pred.float()
  const half = v.length / 2;
  const out = cfgCombine(v.subarray(0, half), v.subarray(half), guidanceScale);
  return new Tensor([b2 / 2, ...prediction.shape.slice(1)], 'f32', out);
}
