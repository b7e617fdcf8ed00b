/**
 * The pointwise activations DC-AE uses (diffusers `get_activation`): every stage's ResBlock act is
 * SiLU, the decoder's last act before conv_out is ReLU, GLUMBConv gates with SiLU.
 *   relu(x)  = max(x, 0)
 *   relu6(x) = min(max(x, 0), 6)
 *   silu(x)  = x · σ(x) = x / (1 + e^(−x))        (1 exp, 1 div per element)
 * ReLU and SiLU are the generic ops of reference/ops/activations.ts; ReLU6 is DC-AE's own.
 */
import type { Tensor } from '../core/tensor.js';
import { mapElements, relu, silu } from '../ops/activations.js';

export type ActivationName = 'silu' | 'relu' | 'relu6';

export const ACTIVATION_NAMES: readonly ActivationName[] = ['silu', 'relu', 'relu6'];

export function relu6(x: Tensor): Tensor {
  return mapElements(x, (v) => (v > 0 ? (v < 6 ? v : 6) : 0));
}

/** The activation a diffusers config names ("swish" is diffusers' alias of SiLU). */
export function activationByName(name: string): (x: Tensor) => Tensor {
  switch (name) {
    case 'silu':
    case 'swish':
      return silu;
    case 'relu':
      return relu;
    case 'relu6':
      return relu6;
    default:
      throw new RangeError(`DC-AE: unsupported activation "${name}" (supported: ${ACTIVATION_NAMES.join(', ')}, swish)`);
  }
}
