/**
 * 2-D convolution on NCHW tensors (torch.nn.functional.conv2d): zero padding, stride, groups.
 *   x: (B, Cin, H, W), weight: (Cout, Cin/groups, kh, kw), bias: (Cout) → (B, Cout, Ho, Wo)
 *   Ho = floor((H + 2·pad − kh) / stride) + 1.   FLOPs 2·B·Cout·Ho·Wo·(Cin/groups)·kh·kw.
 * Depthwise convs are groups = Cin = Cout. Accumulates in float64 by default.
 */
import { shapeStr, Tensor } from '../core/tensor.js';
import type { AccumulateOption } from './linear.js';

export interface Conv2dOptions extends AccumulateOption {
  stride?: number;
  /** Zero padding on each side (default: kernel_size // 2, i.e. "same" for odd kernels at stride 1). */
  padding?: number;
  groups?: number;
}

export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  if (x.ndim !== 4 || weight.ndim !== 4) {
    throw new RangeError(`conv2d: want x (B,C,H,W) and weight (Cout,Cin/g,kh,kw), got ${shapeStr(x.shape)} and ${shapeStr(weight.shape)}`);
  }
  const [B, Cin, H, W] = x.shape as [number, number, number, number];
  const [Cout, Cg, kh, kw] = weight.shape as [number, number, number, number];
  const groups = opts.groups ?? 1;
  const stride = opts.stride ?? 1;
  const pad = opts.padding ?? Math.floor(kh / 2);
  if (Cin % groups !== 0 || Cout % groups !== 0 || Cg !== Cin / groups) {
    throw new RangeError(`conv2d: weight ${shapeStr(weight.shape)} does not fit input ${shapeStr(x.shape)} with groups=${groups}`);
  }
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== Cout)) {
    throw new RangeError(`conv2d: bias ${shapeStr(bias.shape)} does not match ${Cout} output channels`);
  }
  const Ho = Math.floor((H + 2 * pad - kh) / stride) + 1;
  const Wo = Math.floor((W + 2 * pad - kw) / stride) + 1;
  if (Ho <= 0 || Wo <= 0) throw new RangeError(`conv2d: input ${shapeStr(x.shape)} too small for kernel ${kh}×${kw}`);
  const xs = x.toFloat32();
  const ws = weight.toFloat32();
  const bs = bias?.toFloat32() ?? null;
  const out = new Float32Array(B * Cout * Ho * Wo);
  const coutPerGroup = Cout / groups;
  const f32 = opts.accumulate === 'f32';
  for (let b = 0; b < B; b++) {
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / coutPerGroup);
      for (let oy = 0; oy < Ho; oy++) {
        for (let ox = 0; ox < Wo; ox++) {
          let acc = bs ? bs[co]! : 0;
          for (let ci = 0; ci < Cg; ci++) {
            const xc = (b * Cin + g * Cg + ci) * H;
            const wc = (co * Cg + ci) * kh;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * stride - pad + ky;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * stride - pad + kx;
                if (ix < 0 || ix >= W) continue;
                const p = xs[(xc + iy) * W + ix]! * ws[(wc + ky) * kw + kx]!;
                acc = f32 ? Math.fround(acc + Math.fround(p)) : acc + p;
              }
            }
          }
          out[((b * Cout + co) * Ho + oy) * Wo + ox] = acc;
        }
      }
    }
  }
  return new Tensor([B, Cout, Ho, Wo], 'f32', out);
}
