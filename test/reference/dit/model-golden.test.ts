/** SanaTransformer2DModel against diffusers: every recorded intermediate and the output of both public cases. */
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../../reference/core/tensor.js';
import { SanaTransformer2DModel } from '../../../reference/dit/model.js';
import { CASES, caseFiles, GOLDEN, goldenInputs, goldenNames, maxRelError, MODEL_TOL, readGolden } from './golden-helpers.js';

describe.skipIf(!GOLDEN)('SanaTransformer2DModel vs diffusers golden files', () => {
  for (const c of CASES) {
    describe(c, () => {
      const files = caseFiles(c);

      it(`every intermediate and the output: max|a−e|/max|e| <= ${MODEL_TOL} (f64 accumulation)`, () => {
        const model = SanaTransformer2DModel.fromFiles(files.config, files.weights);
        const g = readGolden(files.io);
        const got = new Map<string, Tensor>();
        const out = model.forward(goldenInputs(g), { onIntermediate: (n, t) => got.set(n, t) });
        const recorded = goldenNames(files.io).filter((n) => n.startsWith('intermediate.')).map((n) => n.slice('intermediate.'.length));
        expect(recorded.length).toBeGreaterThanOrEqual(15);
        for (const name of recorded) {
          const t = got.get(name);
          expect(t, `intermediate ${name} was not produced`).toBeDefined();
          expect(maxRelError(`${c} ${name}`, t!, g(`intermediate.${name}`)), name).toBeLessThanOrEqual(MODEL_TOL);
        }
        expect(maxRelError(`${c} output`, out, g('output'))).toBeLessThanOrEqual(MODEL_TOL);
        expect(maxRelError(`${c} output vs output_f64`, out, g('output_f64'))).toBeLessThanOrEqual(MODEL_TOL);
      });

      it(`output with f32 accumulation and with the NVlabs eps 1e-8: <= ${MODEL_TOL}`, () => {
        const model = SanaTransformer2DModel.fromFiles(files.config, files.weights);
        const g = readGolden(files.io);
        const f32 = model.forward(goldenInputs(g), { accumulate: 'f32' });
        expect(maxRelError(`${c} output (f32 acc)`, f32, g('output'))).toBeLessThanOrEqual(MODEL_TOL);
        // eps 1e-8 instead of 1e-15: invisible here (smallest non-zero denominator in these files is 0.219).
        const nv = model.forward(goldenInputs(g), { linearAttentionEps: 1e-8 });
        expect(maxRelError(`${c} output (eps 1e-8)`, nv, g('output'))).toBeLessThanOrEqual(MODEL_TOL);
      });
    });
  }
});
