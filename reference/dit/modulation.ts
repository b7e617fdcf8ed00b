/**
 * adaLN-single modulation arithmetic shared by the blocks and the final layer.
 *
 *   chunks:   M = table[None] + t.reshape(B, k, C)        (a block: table 6×C, t = t₀ (B, 6C))
 *             M = table[None] + t[:, None]                (the final layer: table 2×C, t = t̂ (B, C) added to both rows)
 *   modulate: y = x·(1 + scale_b) + shift_b               (x (B, N, C); scale/shift rows of M for sample b)
 *   gated:    x + gate_b · branch                         (the residual update of attn1 and the Mix-FFN)
 *
 * Evaluated in float64, stored as float32.
 */
import { shapeStr, Tensor } from '../core/tensor.js';

/** table (k, C) + t (B, k·C) → (B, k, C): row j of sample b is chunk j (shift, scale, gate, …). */
export function modulationChunks(table: Tensor, t: Tensor): Tensor {
  if (table.ndim !== 2) throw new RangeError(`modulationChunks: table must be (k, C), got ${shapeStr(table.shape)}`);
  const [k, C] = table.shape as [number, number];
  if (t.ndim !== 2 || t.shape[1] !== k * C) {
    throw new RangeError(`modulationChunks: t ${shapeStr(t.shape)} does not fit table ${shapeStr(table.shape)} (want (B, ${k * C}))`);
  }
  const B = t.shape[0]!;
  const ts = t.toFloat32();
  const tab = table.toFloat32();
  const out = new Float32Array(B * k * C);
  for (let b = 0; b < B; b++) for (let i = 0; i < k * C; i++) out[b * k * C + i] = tab[i]! + ts[b * k * C + i]!;
  return new Tensor([B, k, C], 'f32', out);
}

/** table (k, C) + t (B, C) broadcast over the k rows → (B, k, C) (the final layer's shift and scale). */
export function broadcastChunks(table: Tensor, t: Tensor): Tensor {
  if (table.ndim !== 2) throw new RangeError(`broadcastChunks: table must be (k, C), got ${shapeStr(table.shape)}`);
  const [k, C] = table.shape as [number, number];
  if (t.ndim !== 2 || t.shape[1] !== C) {
    throw new RangeError(`broadcastChunks: t ${shapeStr(t.shape)} does not fit table ${shapeStr(table.shape)} (want (B, ${C}))`);
  }
  const B = t.shape[0]!;
  const ts = t.toFloat32();
  const tab = table.toFloat32();
  const out = new Float32Array(B * k * C);
  for (let b = 0; b < B; b++) for (let j = 0; j < k; j++) for (let c = 0; c < C; c++) out[(b * k + j) * C + c] = tab[j * C + c]! + ts[b * C + c]!;
  return new Tensor([B, k, C], 'f32', out);
}

/** Row offset of chunk j of sample b in a (B, k, C) chunk tensor. */
function chunkRow(chunks: Tensor, b: number, j: number): number {
  const [, k, C] = chunks.shape as [number, number, number];
  return (b * k + j) * C;
}

function check(op: string, x: Tensor, chunks: Tensor, ...js: number[]): void {
  if (x.ndim !== 3 || chunks.ndim !== 3 || x.shape[0] !== chunks.shape[0] || x.shape[2] !== chunks.shape[2]) {
    throw new RangeError(`${op}: x ${shapeStr(x.shape)} does not fit modulation ${shapeStr(chunks.shape)} (want (B, N, C) and (B, k, C))`);
  }
  for (const j of js) if (!(j >= 0 && j < chunks.shape[1]!)) throw new RangeError(`${op}: chunk ${j} out of range for ${shapeStr(chunks.shape)}`);
}

/** y = x·(1 + scale) + shift, with shift = chunk `shiftIdx`, scale = chunk `scaleIdx` of each sample. */
export function modulate(x: Tensor, chunks: Tensor, shiftIdx: number, scaleIdx: number): Tensor {
  check('modulate', x, chunks, shiftIdx, scaleIdx);
  const [B, N, C] = x.shape as [number, number, number];
  const xs = x.toFloat32();
  const ms = chunks.toFloat32();
  const out = new Float32Array(xs.length);
  for (let b = 0; b < B; b++) {
    const sh = chunkRow(chunks, b, shiftIdx);
    const sc = chunkRow(chunks, b, scaleIdx);
    for (let n = 0; n < N; n++) {
      const o = (b * N + n) * C;
      for (let c = 0; c < C; c++) out[o + c] = xs[o + c]! * (1 + ms[sc + c]!) + ms[sh + c]!;
    }
  }
  return new Tensor(x.shape, 'f32', out);
}

/** x + gate·branch with gate = chunk `gateIdx` of each sample (gateIdx null: plain x + branch). */
export function gatedResidual(x: Tensor, branch: Tensor, chunks: Tensor | null, gateIdx: number | null): Tensor {
  if (x.ndim !== 3 || branch.ndim !== 3 || x.shape.some((d, i) => d !== branch.shape[i])) {
    throw new RangeError(`gatedResidual: x ${shapeStr(x.shape)} and branch ${shapeStr(branch.shape)} differ`);
  }
  const [B, N, C] = x.shape as [number, number, number];
  const xs = x.toFloat32();
  const bs = branch.toFloat32();
  const out = new Float32Array(xs.length);
  if (chunks === null || gateIdx === null) {
    for (let i = 0; i < xs.length; i++) out[i] = xs[i]! + bs[i]!;
    return new Tensor(x.shape, 'f32', out);
  }
  check('gatedResidual', x, chunks, gateIdx);
  const ms = chunks.toFloat32();
  for (let b = 0; b < B; b++) {
    const g = chunkRow(chunks, b, gateIdx);
    for (let n = 0; n < N; n++) {
      const o = (b * N + n) * C;
      for (let c = 0; c < C; c++) out[o + c] = xs[o + c]! + ms[g + c]! * bs[o + c]!;
    }
  }
  return new Tensor(x.shape, 'f32', out);
}
