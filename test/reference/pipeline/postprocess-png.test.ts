import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { Tensor } from '../../../reference/core/tensor.js';
import { randu } from '../../../reference/core/random.js';
import { denormalize, encodePng, imageToRgb8, roundHalfEven, StepProgressBar } from '../../../reference/pipeline/index.js';

describe('image post-processing (diffusers denormalize + NumPy round)', () => {
  it('rounds half to even like numpy.round', () => {
    expect([0.5, 1.5, 2.5, 127.5, 128.5, 254.5, 3.2, 3.7, 0].map(roundHalfEven)).toEqual([0, 2, 2, 128, 128, 254, 3, 4, 0]);
  });

  it('maps [-1, 1] to 0…255 with clamping, channel planes to interleaved RGB', () => {
    // (1, 3, 1, 4): per channel the values −2 (clamped), −1, 0, 1; each channel offset slightly.
    const vals = [-2, -1, 0, 1, -2, -1, 0.5, 1, -2, -1, -0.5, 3];
    const { pixels, width, height } = imageToRgb8(Tensor.f32([1, 3, 1, 4], vals));
    expect([width, height]).toEqual([4, 1]);
    // pixel p = (R, G, B) = channel values at p: 0 → 0.5 → 127.5 → 128 (half to even); 0.5 → 0.75·255 = 191.25 → 191
    expect(Array.from(pixels)).toEqual([0, 0, 0, 0, 0, 0, 128, 191, 64, 255, 255, 255]);
  });

  it('matches denormalize → ·255 → round on random values, and rejects NaN', () => {
    const x = randu([1, 3, 5, 7], 11, -1.3, 1.3);
    const { pixels } = imageToRgb8(x);
    const d = denormalize(x).data as Float32Array;
    for (let c = 0; c < 3; c++) for (let p = 0; p < 35; p++) expect(pixels[p * 3 + c]).toBe(roundHalfEven(Math.fround(d[c * 35 + p]! * 255)));
    const bad = Tensor.f32([1, 3, 1, 1], [0, Number.NaN, 0]);
    expect(() => imageToRgb8(bad)).toThrow(/1 non-finite/);
    expect(() => imageToRgb8(Tensor.f32([1, 4, 1, 1], [0, 0, 0, 0]))).toThrow(/\(B, 3, H, W\)/);
  });
});

describe('PNG encoding (pngjs)', () => {
  it('round-trips an RGB image through PNG.sync.read', () => {
    const w = 5;
    const h = 3;
    const px = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
    const png = PNG.sync.read(encodePng(px, w, h));
    expect([png.width, png.height]).toEqual([w, h]);
    for (let i = 0; i < w * h; i++) {
      expect(Array.from(png.data.subarray(i * 4, i * 4 + 4))).toEqual([px[i * 3], px[i * 3 + 1], px[i * 3 + 2], 255]);
    }
    expect(() => encodePng(px, w, h + 1)).toThrow(/45 bytes for a 5×4 RGB image/);
  });
});

describe('StepProgressBar', () => {
  it('prints one line per step off a terminal, with rate and ETA from the mean step time', () => {
    const out: string[] = [];
    let t = 0;
    const bar = new StepProgressBar(4, { write: (s: string) => out.push(s), isTTY: false }, 'denoise', () => t, 8);
    t = 2000;
    bar.tick('t=999');
    t = 4000;
    bar.tick();
    expect(out[0]).toBe('denoise [##......] 1/4 2.0s/step elapsed 2.0s ETA 6.0s  t=999\n');
    expect(out[1]).toBe('denoise [####....] 2/4 2.0s/step elapsed 4.0s ETA 4.0s\n');
  });

  it('counts only the measured step times when given (time before the first step is not a step)', () => {
    const out: string[] = [];
    let t = 0;
    const bar = new StepProgressBar(3, { write: (s: string) => out.push(s), isTTY: false }, 'denoise', () => t, 3);
    t = 5000; // e.g. text encoding before the loop
    bar.tick('', 1000);
    expect(out[0]).toBe('denoise [#..] 1/3 1.0s/step elapsed 1.0s ETA 2.0s\n');
  });

  it('redraws one line on a terminal and ends it after the last step', () => {
    const out: string[] = [];
    let t = 0;
    const bar = new StepProgressBar(2, { write: (s: string) => out.push(s), isTTY: true }, 'denoise', () => t, 4);
    t = 100;
    bar.tick();
    t = 200;
    bar.tick();
    expect(out[0]!.startsWith('\rdenoise [##..] 1/2')).toBe(true);
    expect(out[1]!.endsWith('\n')).toBe(true);
    expect(out[0]!.endsWith('\n')).toBe(false);
  });
});
