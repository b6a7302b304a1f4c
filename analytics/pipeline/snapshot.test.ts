import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderSnapshot } from './snapshot';

const W = 160;
const H = 120;

/** Mean absolute difference between horizontal neighbours (fine detail) of the luma in a rectangle. */
async function detail(jpeg: Buffer, x1: number, y1: number, x2: number, y2: number): Promise<number> {
  const { data } = await sharp(jpeg).greyscale().raw().toBuffer({ resolveWithObject: true });
  let sum = 0;
  let n = 0;
  for (let y = y1; y < y2; y++)
    for (let x = x1; x < x2 - 1; x++) {
      sum += Math.abs(data[y * W + x]! - data[y * W + x + 1]!);
      n++;
    }
  return sum / n;
}

describe('renderSnapshot', () => {
  it('pixelates the privacy masks in the JPEG and leaves the rest of the frame', async () => {
    const bgr = new Uint8Array(W * H * 3);
    // Stripes one pixel wide: the most detail a picture can have.
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) bgr.fill(x % 2 ? 230 : 20, (y * W + x) * 3, (y * W + x) * 3 + 3);
    const mask = [
      [0, 0],
      [0.5, 0],
      [0.5, 0.5],
      [0, 0.5],
    ] as [number, number][];
    const masked = await renderSnapshot(bgr, W, H, [], [], null, [mask]);
    const plain = await renderSnapshot(bgr, W, H, [], [], null);
    // Inside the mask (away from its edge, where JPEG blocks mix in the stripes) the detail is gone.
    expect(await detail(plain, 8, 8, 72, 52)).toBeGreaterThan(100);
    expect(await detail(masked, 8, 8, 72, 52)).toBeLessThan(10);
    // Outside it, the stripes are as they were.
    expect(await detail(masked, 88, 68, 152, 112)).toBeGreaterThan(100);
  });
});
