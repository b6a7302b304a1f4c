import { describe, expect, it } from 'vitest';
import type { ModelManifest } from './manifest';
import { testManifest } from './testing';
import { preprocess } from './preprocess';

// The path the ingest's frames take (already scaled by ffmpeg to fit the model: copy with
// colour order and normalisation, no interpolation), against a per-pixel reference, and the
// reused tensor's padding, which is written only when the frame layout changes.
function manifest(layout: 'NCHW' | 'NHWC', mode: 'top-left' | 'center'): ModelManifest {
  return testManifest({
    input: {
      shape: layout === 'NCHW' ? [1, 3, 16, 16] : [1, 16, 16, 3],
      layout,
      colorOrder: 'RGB',
      normalize: { mean: [10, 20, 30], std: [2, 4, 8] },
      letterbox: { mode, pad: 100 },
    },
    labels: ['a'],
  });
}

/** BGR24 noise, deterministic. */
function noise(w: number, h: number, seed: number): Uint8Array {
  const b = new Uint8Array(w * h * 3);
  let x = seed;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x & 255;
  }
  return b;
}

/** What the tensor must hold: value at (channel c, row y, column x), straight from the definition. */
function expected(src: Uint8Array, w: number, h: number, padX: number, padY: number): (c: number, y: number, x: number) => number {
  const mean = [10, 20, 30];
  const std = [2, 4, 8];
  return (c, y, x) => {
    const sx = x - padX;
    const sy = y - padY;
    // RGB tensor from BGR bytes: channel 0 reads byte 2.
    const v = sx >= 0 && sy >= 0 && sx < w && sy < h ? (src[(sy * w + sx) * 3 + (2 - c)] as number) : 100;
    return (v - (mean[c] as number)) / (std[c] as number);
  };
}

function check(out: Float32Array, layout: 'NCHW' | 'NHWC', want: (c: number, y: number, x: number) => number): void {
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 16; x++) {
        const i = layout === 'NCHW' ? c * 256 + y * 16 + x : (y * 16 + x) * 3 + c;
        const v = out[i] as number;
        if (Math.abs(v - want(c, y, x)) > 1e-5) throw new Error(`${layout} c${c} y${y} x${x}: got ${v}, want ${want(c, y, x)}`);
      }
}

describe('preprocess of frames already at the fitted size', () => {
  for (const layout of ['NCHW', 'NHWC'] as const) {
    it(`${layout}: colour order and normalisation per channel, padding where the image is not`, () => {
      const m = manifest(layout, 'center');
      const src = noise(16, 12, 1);
      const out = new Float32Array(16 * 16 * 3);
      const t = preprocess(m, src, 16, 12, out);
      expect(t).toMatchObject({ scaleX: 1, scaleY: 1, padX: 0, padY: 2 });
      check(out, layout, expected(src, 16, 12, 0, 2));
    });
  }

  it('a reused tensor keeps its padding across frames of one layout and is re-padded when the layout changes', () => {
    const m = manifest('NCHW', 'top-left');
    const out = new Float32Array(16 * 16 * 3);
    const a = noise(16, 12, 2);
    preprocess(m, a, 16, 12, out);
    const b = noise(16, 12, 3);
    preprocess(m, b, 16, 12, out);
    check(out, 'NCHW', expected(b, 16, 12, 0, 0));
    // A narrower frame: columns 12-15 were image, now they are padding.
    const c = noise(12, 16, 4);
    preprocess(m, c, 12, 16, out);
    check(out, 'NCHW', expected(c, 12, 16, 0, 0));
    // And back: rows 12-15 are padding again, not left-over pixels.
    const d = noise(16, 12, 5);
    preprocess(m, d, 16, 12, out);
    check(out, 'NCHW', expected(d, 16, 12, 0, 0));
  });
});
