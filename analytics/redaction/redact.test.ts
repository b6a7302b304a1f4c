import { describe, expect, it } from 'vitest';
import { blockFor, boxToPixels, pixelate, rasterisePolygons, type PixelRect } from './pixelate';
import { FrameRedactor, type RedactionPlan } from './redact';

const W = 64;
const H = 48;

/** A frame of fine detail: every pixel differs from its neighbours. */
function noisyFrame(seed = 1): Uint8Array {
  const rgb = new Uint8Array(W * H * 3);
  let s = seed;
  for (let i = 0; i < rgb.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    rgb[i] = (s >> 16) & 0xff;
  }
  return rgb;
}

/** Variance of the red channel inside a rectangle. */
function variance(rgb: Uint8Array, r: PixelRect): number {
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let y = r.y1; y < r.y2; y++)
    for (let x = r.x1; x < r.x2; x++) {
      const v = rgb[(y * W + x) * 3]!;
      sum += v;
      sq += v * v;
      n++;
    }
  const m = sum / n;
  return sq / n - m * m;
}

function same(a: Uint8Array, b: Uint8Array, r: PixelRect): boolean {
  for (let y = r.y1; y < r.y2; y++)
    for (let x = r.x1; x < r.x2; x++) for (let c = 0; c < 3; c++) if (a[(y * W + x) * 3 + c] !== b[(y * W + x) * 3 + c]) return false;
  return true;
}

describe('pixelate', () => {
  it('replaces each block by its mean: no detail is left inside, nothing outside changes', () => {
    const before = noisyFrame();
    const rgb = before.slice();
    const rect = { x1: 8, y1: 8, x2: 24, y2: 24 };
    pixelate(rgb, W, H, rect, 16);
    expect(variance(before, rect)).toBeGreaterThan(3000);
    expect(variance(rgb, rect)).toBe(0);
    expect(same(before, rgb, { x1: 24, y1: 0, x2: W, y2: H })).toBe(true);
    expect(same(before, rgb, { x1: 0, y1: 0, x2: W, y2: 8 })).toBe(true);
  });

  it('with a mask, touches only the masked pixels', () => {
    const before = noisyFrame(7);
    const rgb = before.slice();
    const mask = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) mask.fill(1, y * W, y * W + 10);
    pixelate(rgb, W, H, { x1: 0, y1: 0, x2: W, y2: H }, 8, mask);
    expect(same(before, rgb, { x1: 10, y1: 0, x2: W, y2: H })).toBe(true);
    expect(variance(rgb, { x1: 0, y1: 0, x2: 8, y2: 8 })).toBe(0);
  });

  it('sizes blocks from the box so a face spans at most two', () => {
    expect(blockFor({ x1: 0, y1: 0, x2: 60, y2: 150 })).toBe(15);
    expect(blockFor({ x1: 0, y1: 0, x2: 12, y2: 30 })).toBe(8);
  });

  it('grows a box by its margin, more above (the head), and clamps it to the frame', () => {
    expect(boxToPixels([0.25, 0.25, 0.5, 0.75], 100, 100, 0.1)).toEqual({ x1: 22, y1: 17, x2: 53, y2: 80 });
    expect(boxToPixels([0, 0, 1, 1], 100, 100, 0.1)).toEqual({ x1: 0, y1: 0, x2: 100, y2: 100 });
  });
});

describe('rasterisePolygons', () => {
  it('fills a triangle by pixel centres and reports its bounds', () => {
    const r = rasterisePolygons(
      [
        [
          [0, 0],
          [0.5, 0],
          [0, 0.5],
        ],
      ],
      W,
      H,
    );
    expect(r).not.toBeNull();
    const { mask, rect } = r!;
    expect(mask[0]).toBe(1);
    expect(mask[(H - 1) * W + (W - 1)]).toBe(0);
    expect(mask[10 * W + 10]).toBe(1); // (10.5, 10.5) is inside x + y*4/3 < 32
    expect(mask[20 * W + 20]).toBe(0);
    expect(rect.x1).toBe(0);
    expect(rect.y1).toBe(0);
    expect(rect.x2).toBeLessThanOrEqual(32);
    expect(rect.y2).toBeLessThanOrEqual(24);
    let n = 0;
    for (const v of mask) n += v;
    // Area of the triangle: 32 * 24 / 2 = 384 px, give or take the edge pixels.
    expect(n).toBeGreaterThan(340);
    expect(n).toBeLessThan(430);
  });

  it('returns null for polygons outside the frame or degenerate', () => {
    expect(
      rasterisePolygons(
        [
          [
            [2, 2],
            [3, 2],
            [3, 3],
          ],
        ],
        W,
        H,
      ),
    ).toBeNull();
    expect(rasterisePolygons([], W, H)).toBeNull();
  });
});

describe('FrameRedactor', () => {
  const subjectBox = [0.05, 0.1, 0.3, 0.6] as const;
  const otherBox = [0.6, 0.1, 0.9, 0.6] as const;
  const plan = (mode: RedactionPlan['mode'], masks: RedactionPlan['masks'] = []): RedactionPlan => ({
    frames: [
      { t: 1000, tracks: [{ id: 1, box: [...subjectBox], score: 0.9, zones: [] }] },
      { t: 1200, tracks: [{ id: 2, box: [...otherBox], score: 0.8, zones: [] }] },
    ],
    subjects: new Set([1]),
    mode,
    masks,
    margin: 0,
  });
  const px = (b: readonly [number, number, number, number]): PixelRect => boxToPixels(b, W, H, 0);

  it('hides the people who are not subjects, keeps the subjects and the background', () => {
    const before = noisyFrame(3);
    const rgb = before.slice();
    // t = 1100: both stored frames are within the 400 ms window.
    const r = new FrameRedactor(W, H, plan('people')).redact(rgb, 1100);
    expect(r).toEqual({ boxes: 1, found: true });
    expect(variance(rgb, px(otherBox))).toBeLessThan(variance(before, px(otherBox)) * 0.2);
    expect(same(before, rgb, px(subjectBox))).toBe(true);
    expect(same(before, rgb, { x1: 0, y1: 40, x2: W, y2: H })).toBe(true);
  });

  it('outside the window hides nothing and says no detection was found', () => {
    const before = noisyFrame(4);
    const rgb = before.slice();
    expect(new FrameRedactor(W, H, plan('people')).redact(rgb, 5000)).toEqual({ boxes: 0, found: false });
    expect(same(before, rgb, { x1: 0, y1: 0, x2: W, y2: H })).toBe(true);
  });

  it('in all-but-subjects mode, pixelates everything but the subjects', () => {
    const before = noisyFrame(5);
    const rgb = before.slice();
    new FrameRedactor(W, H, plan('all-but-subjects')).redact(rgb, 1000);
    expect(same(before, rgb, px(subjectBox))).toBe(true);
    const background = { x1: 32, y1: 32, x2: 48, y2: 48 };
    expect(variance(rgb, background)).toBe(0);
  });

  it('applies privacy masks over subjects too', () => {
    const before = noisyFrame(6);
    const rgb = before.slice();
    const mask = [
      [0, 0],
      [0.5, 0],
      [0.5, 0.5],
      [0, 0.5],
    ] as const;
    new FrameRedactor(W, H, plan('people', [mask])).redact(rgb, 1000);
    expect(variance(rgb, { x1: 0, y1: 0, x2: 16, y2: 16 })).toBe(0);
  });
});
