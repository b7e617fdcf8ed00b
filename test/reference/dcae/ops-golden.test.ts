/** The op-level golden vectors (op_dcae_*): each DC-AE module on the activation it saw in diffusers. */
import { describe, expect, it } from 'vitest';
import { formatStats } from '../../../reference/core/compare.js';
import { goldenPath } from '../../../reference/core/golden.js';
import { SafetensorsFile } from '../../../reference/core/safetensors.js';
import { glumbConv } from '../../../reference/dcae/glumbconv.js';
import { liteMla, usesLinearAttention } from '../../../reference/dcae/lite-mla.js';
import { ParamScope } from '../../../reference/dcae/params.js';
import { rmsNorm2d } from '../../../reference/dcae/rms-norm-2d.js';
import { GOLDEN, expectClose, goldenTensors } from './golden-helpers.js';

function info(file: string): Record<string, unknown> {
  const f = SafetensorsFile.open(goldenPath(file));
  try {
    return JSON.parse(f.metadata.info ?? '{}') as Record<string, unknown>;
  } finally {
    f.close();
  }
}

describe.skipIf(!GOLDEN)('DC-AE ops against diffusers (op_dcae_*)', () => {
  it('rmsNorm2d (op_dcae_rmsnorm2d)', () => {
    const t = goldenTensors('op_dcae_rmsnorm2d.safetensors');
    const out = rmsNorm2d(t.get('input')!, t.get('params.weight')!, t.get('params.bias')!);
    console.log(`[dcae op] rmsnorm2d ${formatStats(expectClose(out, t.get('output')!, 'rmsnorm2d'))}`);
    expectClose(out, t.get('output_f64')!, 'rmsnorm2d vs f64');
  });

  it('glumbConv with RMSNorm and residual (op_dcae_glumbconv)', () => {
    const t = goldenTensors('op_dcae_glumbconv.safetensors');
    const out = glumbConv(t.get('input')!, new ParamScope(t, 'params.'));
    console.log(`[dcae op] glumbconv ${formatStats(expectClose(out, t.get('output')!, 'glumbconv'))}`);
    expectClose(out, t.get('output_f64')!, 'glumbconv vs f64');
  });

  for (const [file, branch] of [['op_dcae_litemla_linear.safetensors', 'linear'], ['op_dcae_litemla_quadratic.safetensors', 'quadratic']] as const) {
    it(`liteMla, ${branch} branch (${file})`, () => {
      const t = goldenTensors(file);
      const meta = info(file);
      expect(meta.branch).toBe(branch);
      const x = t.get('input')!;
      const headDim = meta.head_dim as number;
      expect(usesLinearAttention(x.shape[2]!, x.shape[3]!, headDim)).toBe(branch === 'linear');
      const out = liteMla(x, new ParamScope(t, 'params.'), { headDim, kernelSizes: meta.kernel_sizes as number[], eps: meta.eps as number });
      console.log(`[dcae op] litemla ${branch} ${formatStats(expectClose(out, t.get('output')!, `litemla ${branch}`))}`);
      expectClose(out, t.get('output_f64')!, `litemla ${branch} vs f64`);
    });
  }

  it('float32 accumulation stays within tolerance too', () => {
    const t = goldenTensors('op_dcae_litemla_linear.safetensors');
    const out = liteMla(t.get('input')!, new ParamScope(t, 'params.'), { headDim: 16, kernelSizes: [5], accumulate: 'f32' });
    expectClose(out, t.get('output')!, 'litemla linear, f32 accumulation');
  });
});
