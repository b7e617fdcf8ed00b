/**
 * Linear layer y = x · Wᵀ + b over the last dimension (torch.nn.Linear; also every 1×1 conv on a
 * token-major tensor).  x: (…, K), W: (N, K), b: (N) → y: (…, N).
 * FLOPs 2·M·N·K with M = numel(x)/K. Accumulates in float64 (`accumulate: 'f64'`) or float32.
 */
import { shapeStr, Tensor } from '../core/tensor.js';

export interface AccumulateOption {
  /** Accumulator precision; 'f64' (default) makes the reference a float64-accumulated spec. */
  accumulate?: 'f32' | 'f64';
}

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: AccumulateOption = {}): Tensor {
  const K = x.shape[x.shape.length - 1]!;
  if (weight.ndim !== 2 || weight.shape[1] !== K) {
    throw new RangeError(`linear: weight ${shapeStr(weight.shape)} does not match input ${shapeStr(x.shape)} (want [N, ${K}])`);
  }
  const N = weight.shape[0]!;
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== N)) {
    throw new RangeError(`linear: bias ${shapeStr(bias.shape)} does not match weight ${shapeStr(weight.shape)}`);
  }
  const xs = x.toFloat32();
  const ws = weight.toFloat32();
  const bs = bias?.toFloat32() ?? null;
  const M = K === 0 ? 0 : xs.length / K;
  const out = new Float32Array(M * N);
  const f32 = opts.accumulate === 'f32';
  for (let m = 0; m < M; m++) {
    const xo = m * K;
    for (let n = 0; n < N; n++) {
      const wo = n * K;
      let acc = bs ? bs[n]! : 0;
      if (f32) {
        for (let k = 0; k < K; k++) acc = Math.fround(acc + Math.fround(xs[xo + k]! * ws[wo + k]!));
      } else {
        for (let k = 0; k < K; k++) acc += xs[xo + k]! * ws[wo + k]!;
      }
      out[m * N + n] = acc;
    }
  }
  return new Tensor([...x.shape.slice(0, -1), N], 'f32', out);
}
