/**
 * Pointwise activations (torch semantics), applied element by element to a float tensor.
 * Each is evaluated in float64 and rounded once to float32 storage.
 *
 *   ReLU(x)      = max(x, 0)
 *   SiLU(x)      = x · σ(x) = x / (1 + e^(−x))                                   (a.k.a. swish)
 *   GELU_tanh(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))   (torch GELU(approximate="tanh"))
 *
 * FLOPs: a handful per element (not counted by the lab's MAC tables).
 */
import { Tensor } from '../core/tensor.js';

export function reluScalar(x: number): number {
  return x < 0 ? 0 : x; // NaN propagates, as torch.relu
}

export function siluScalar(x: number): number {
  return x / (1 + Math.exp(-x));
}

const GELU_K = Math.sqrt(2 / Math.PI);

export function geluTanhScalar(x: number): number {
  return 0.5 * x * (1 + Math.tanh(GELU_K * (x + 0.044715 * x * x * x)));
}

/** Apply a scalar function to every element; returns a new float32 tensor of the same shape. */
export function mapElements(x: Tensor, f: (v: number) => number): Tensor {
  const xs = x.toFloat32();
  const out = new Float32Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = f(xs[i]!);
  return new Tensor(x.shape, 'f32', out);
}

/** ReLU(x) = max(x, 0). */
export function relu(x: Tensor): Tensor {
  return mapElements(x, reluScalar);
}

/** SiLU(x) = x · sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return mapElements(x, siluScalar);
}

/** GELU with the tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function geluTanh(x: Tensor): Tensor {
  return mapElements(x, geluTanhScalar);
}
