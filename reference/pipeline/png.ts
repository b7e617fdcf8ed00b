/** PNG encoding of 8-bit RGB images through pngjs (a maintained pure-JS encoder). */
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

/** Encode (H·W·3) interleaved RGB bytes as an 8-bit RGB PNG. */
export function encodePng(pixels: Uint8Array, width: number, height: number): Buffer {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`encodePng: invalid size ${width}×${height}`);
  }
  if (pixels.length !== width * height * 3) {
    throw new RangeError(`encodePng: ${pixels.length} bytes for a ${width}×${height} RGB image (want ${width * height * 3})`);
  }
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 });
  png.data = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 });
}

/** Encode and write a PNG file. */
export function writePng(path: string, pixels: Uint8Array, width: number, height: number): void {
  writeFileSync(path, encodePng(pixels, width, height));
}
