/** The cross-attention test cases and their inputs, shared by the kernel parity test and the precomputed-K/V test. */
import { MASK_BIAS } from '../../reference/ops/cross-attention.js';
import { Input, input } from './parity.js';

/** A (B, 1, L) additive bias: the last `dropped[b]` keys of sample b masked with −10000. */
export function maskBias(B: number, L: number, dropped: number[]): Input {
  const m = new Float32Array(B * L);
  for (let b = 0; b < B; b++) for (let l = L - dropped[b]!; l < L; l++) m[b * L + l] = MASK_BIAS;
  return new Input(m, [B, 1, L]);
}

export interface CrossAttentionCase {
  name: string;
  B: number;
  N: number;
  L: number;
  C: number;
  Cy: number;
  heads: number;
  /** Keys masked at the end of each sample's caption, or null for no mask. */
  dropped: number[] | null;
  residual: boolean;
}

export const CROSS_ATTENTION_CASES: readonly CrossAttentionCase[] = [
  { name: 'B=2, N=35, L=7 (masked 2 and 0 keys), C=64, Cy=48, 4 heads of 16, residual', B: 2, N: 35, L: 7, C: 64, Cy: 48, heads: 4, dropped: [2, 0], residual: true },
  { name: 'Sana-0.6B heads: C=1152, 16 heads of 72, L=20 (13 masked), N=12', B: 1, N: 12, L: 20, C: 1152, Cy: 1152, heads: 16, dropped: [13], residual: false },
  { name: 'no mask, one head, N=70 (two query blocks), L=5', B: 1, N: 70, L: 5, C: 40, Cy: 40, heads: 1, dropped: null, residual: false },
];

/** Fresh random inputs of a case (weights with std 1/√fan-in), from consecutive seeds starting at `seed`. */
export function crossAttentionInputs(c: CrossAttentionCase, seed: number) {
  const x = input([c.B, c.N, c.C], seed++);
  const y = input([c.B, c.L, c.Cy], seed++);
  const wq = input([c.C, c.C], seed++, 1 / Math.sqrt(c.C));
  const wk = input([c.C, c.Cy], seed++, 1 / Math.sqrt(c.Cy));
  const wv = input([c.C, c.Cy], seed++, 1 / Math.sqrt(c.Cy));
  const wo = input([c.C, c.C], seed++, 1 / Math.sqrt(c.C));
  const [bq, bk, bv, bo] = [0, 1, 2, 3].map(() => input([c.C], seed++, 0.3)) as [Input, Input, Input, Input];
  const mask = c.dropped ? maskBias(c.B, c.L, c.dropped) : null;
  const res = c.residual ? input([c.B, c.N, c.C], seed++) : null;
  const all = [x, y, wq, wk, wv, wo, bq, bk, bv, bo, mask, res];
  return { x, y, wq, wk, wv, wo, bq, bk, bv, bo, mask, res, dispose: () => all.forEach((i) => i?.dispose()) };
}
