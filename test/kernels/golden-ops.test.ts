/**
 * The cpu backend on diffusers' op-level golden vectors (/work/shared/golden/op_*.safetensors): real
 * activations from the public models, compared with diffusers' float64 output (`output_f64`) by the
 * golden README's metric max|a − b| / max|b| ≤ 1e-5, plus ‖a − b‖/‖b‖ ≤ 1e-5; the float32 `output`
 * is reported alongside. Layouts: the DiT Mix-FFN and all DC-AE files are NCHW; the native ops take
 * tokens / NHWC, so inputs and outputs are transposed here.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { crossAttention, linearAttentionBlock, liteMla, mixFfn, rmsNorm2d } from '../../bindings/ops.js';
import type { BackendTensor } from '../../bindings/tensor.js';
import { errorStats, formatStats } from '../../reference/core/compare.js';
import { goldenAvailable, goldenPath } from '../../reference/core/golden.js';
import { readSafetensors } from '../../reference/core/safetensors.js';
import { Tensor } from '../../reference/core/tensor.js';
import { nchwToTokens, tokensToNchw } from '../../reference/ops/layout.js';
import { cpu, poisoned } from './parity.js';

const lines: string[] = [];
afterAll(() => {
  if (lines.length) console.log(`[golden op files, cpu backend]\n  ${lines.join('\n  ')}`);
});

function load(file: string) {
  const { tensors, metadata } = readSafetensors(goldenPath(file));
  const get = (k: string): Tensor => {
    const t = tensors.get(k);
    if (!t) throw new Error(`${file}: missing ${k}`);
    return t;
  };
  const dev = (k: string): BackendTensor => {
    const t = get(k);
    return cpu.fromArray(t.toFloat32().slice(), t.shape);
  };
  return { get, dev, metadata };
}

function check(file: string, out: Float32Array, f32: Tensor, f64: Tensor): void {
  const s64 = errorStats(out, f64.toFloat64());
  const s32 = errorStats(out, f32.toFloat32());
  lines.push(`${file}: vs output_f64 ${formatStats(s64)} | vs output (f32) ${formatStats(s32)}`);
  expect(s64.nonFinite).toBe(0);
  expect(s64.maxRel, formatStats(s64)).toBeLessThanOrEqual(1e-5);
  expect(s64.rel, formatStats(s64)).toBeLessThanOrEqual(1e-5);
}

/** NCHW tensor → NHWC values (= tokens). */
function toNhwc(t: Tensor): { data: Float32Array; shape: number[] } {
  const [B, C, H, W] = t.shape as [number, number, number, number];
  return { data: nchwToTokens(t).data as Float32Array, shape: [B, H, W, C] };
}

// Every output is passed in NaN-poisoned (not allocated by the op), so an element never written fails.
describe.skipIf(!goldenAvailable())('golden op vectors through the cpu backend', () => {
  it('op_dit_linear_attention (attn1: heads 2 × 16, eps 1e-15) via linear-attention-block', async () => {
    const g = load('op_dit_linear_attention.safetensors');
    const x = g.dev('input.hidden_states');
    const out = await linearAttentionBlock(
      x,
      { wq: g.dev('params.to_q.weight'), wk: g.dev('params.to_k.weight'), wv: g.dev('params.to_v.weight'), wo: g.dev('params.to_out.0.weight'), bo: g.dev('params.to_out.0.bias') },
      { headDim: 16, eps: 1e-15, out: poisoned(x.shape, 'f32') },
    );
    check('op_dit_linear_attention', out.toFloat32(), g.get('output'), g.get('output_f64'));
  });

  it('op_dit_cross_attention (attn2: heads 2 × 16, (B,1,L) mask bias) via cross-attention', async () => {
    const g = load('op_dit_cross_attention.safetensors');
    const x = g.dev('input.hidden_states');
    const out = await crossAttention(
      x,
      g.dev('input.encoder_hidden_states'),
      {
        wq: g.dev('params.to_q.weight'),
        bq: g.dev('params.to_q.bias'),
        wk: g.dev('params.to_k.weight'),
        bk: g.dev('params.to_k.bias'),
        wv: g.dev('params.to_v.weight'),
        bv: g.dev('params.to_v.bias'),
        wo: g.dev('params.to_out.0.weight'),
        bo: g.dev('params.to_out.0.bias'),
      },
      { heads: 2, maskBias: g.dev('input.attention_mask_bias'), out: poisoned(x.shape, 'f32') },
    );
    check('op_dit_cross_attention', out.toFloat32(), g.get('output'), g.get('output_f64'));
  });

  it('op_dit_glumbconv (ff: hidden 80, 8×8 grid, NCHW in the file) via mix-ffn', async () => {
    const g = load('op_dit_glumbconv.safetensors');
    const x = toNhwc(g.get('input'));
    const [B, H, W, C] = x.shape as [number, number, number, number];
    const out = await mixFfn(
      cpu.fromArray(x.data, [B, H * W, C]),
      { wInv: g.dev('params.conv_inverted.weight'), bInv: g.dev('params.conv_inverted.bias'), wDw: g.dev('params.conv_depth.weight'), bDw: g.dev('params.conv_depth.bias'), wPoint: g.dev('params.conv_point.weight') },
      { height: H, width: W, out: poisoned([B, H * W, C], 'f32') },
    );
    const nchw = tokensToNchw(new Tensor([B, H * W, C], 'f32', out.toFloat32()), H, W);
    check('op_dit_glumbconv', nchw.data as Float32Array, g.get('output'), g.get('output_f64'));
  });

  it('op_dcae_rmsnorm2d (weight + bias, eps 1e-5) via rmsnorm2d on NHWC', async () => {
    const g = load('op_dcae_rmsnorm2d.safetensors');
    const x = toNhwc(g.get('input'));
    const out = await rmsNorm2d(cpu.fromArray(x.data, x.shape), { weight: g.dev('params.weight'), bias: g.dev('params.bias'), eps: 1e-5, out: poisoned(x.shape, 'f32') });
    const [B, H, W, C] = x.shape as [number, number, number, number];
    const nchw = tokensToNchw(new Tensor([B, H * W, C], 'f32', out.toFloat32()), H, W);
    check('op_dcae_rmsnorm2d', nchw.data as Float32Array, g.get('output'), g.get('output_f64'));
  });

  it('op_dcae_glumbconv (expand 4, RMSNorm2d, residual) via mix-ffn + rmsnorm2d with the residual fused', async () => {
    const g = load('op_dcae_glumbconv.safetensors');
    const x = toNhwc(g.get('input'));
    const [B, H, W, C] = x.shape as [number, number, number, number];
    const xt = cpu.fromArray(x.data, [B, H * W, C]);
    const ff = await mixFfn(
      xt,
      { wInv: g.dev('params.conv_inverted.weight'), bInv: g.dev('params.conv_inverted.bias'), wDw: g.dev('params.conv_depth.weight'), bDw: g.dev('params.conv_depth.bias'), wPoint: g.dev('params.conv_point.weight') },
      { height: H, width: W, out: poisoned([B, H * W, C], 'f32') },
    );
    const out = await rmsNorm2d(cpu.fromArray(ff.toFloat32(), x.shape), {
      weight: g.dev('params.norm.weight'),
      bias: g.dev('params.norm.bias'),
      eps: 1e-5,
      residual: cpu.fromArray(x.data, x.shape),
      out: poisoned(x.shape, 'f32'),
    });
    const nchw = tokensToNchw(new Tensor([B, H * W, C], 'f32', out.toFloat32()), H, W);
    check('op_dcae_glumbconv', nchw.data as Float32Array, g.get('output'), g.get('output_f64'));
  });

  for (const [file, branch] of [
    ['op_dcae_litemla_linear', 'linear (8×8 map, H·W = 64 > 16)'],
    ['op_dcae_litemla_quadratic', 'quadratic (4×4 map, H·W = 16 ≤ 16)'],
  ] as const) {
    it(`${file} (LiteMLA, head dim 16, 5×5 aggregation, RMSNorm2d, residual): the ${branch} branch via lite-mla`, async () => {
      const g = load(`${file}.safetensors`);
      const x = toNhwc(g.get('input'));
      const out = await liteMla(
        cpu.fromArray(x.data, x.shape),
        {
          wq: g.dev('params.to_q.weight'),
          wk: g.dev('params.to_k.weight'),
          wv: g.dev('params.to_v.weight'),
          wDw: g.dev('params.to_qkv_multiscale.0.proj_in.weight'),
          wGroup: g.dev('params.to_qkv_multiscale.0.proj_out.weight'),
          wOut: g.dev('params.to_out.weight'),
          normWeight: g.dev('params.norm_out.weight'),
          normBias: g.dev('params.norm_out.bias'),
        },
        { headDim: 16, eps: 1e-15, out: poisoned(x.shape, 'f32') },
      );
      const [B, H, W, C] = x.shape as [number, number, number, number];
      const nchw = tokensToNchw(new Tensor([B, H * W, C], 'f32', out.toFloat32()), H, W);
      check(file, nchw.data as Float32Array, g.get('output'), g.get('output_f64'));
    });
  }
});
