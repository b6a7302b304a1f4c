import { describe, expect, it } from 'vitest';
import { ModelManifest, type ModelManifestInput } from './manifest';
import { BadFrameError, preprocess } from './preprocess';

/**
 * A T-frame clip input: T equal BGR pictures stacked top to bottom are laid into the tensor
 * frame by frame, in time order, for both 5-D layouts.
 */
const manifest = (layout: 'NCTHW' | 'NTHWC'): ModelManifest =>
  ModelManifest.parse({
    name: 'clip',
    task: 'classify-clip',
    file: 'clip.onnx',
    sha256: '0'.repeat(64),
    input: {
      name: 'clip',
      shape: layout === 'NCTHW' ? [1, 3, 3, 2, 2] : [1, 3, 2, 2, 3],
      layout,
      colorOrder: 'RGB',
      letterbox: { mode: 'stretch' },
    },
    decoder: { kind: 'clip-scores', output: 'scores' },
    labels: ['fight'],
  } satisfies ModelManifestInput);

/** 3 frames of 2x2 pixels, frame t filled with BGR (t, 10 + t, 20 + t). */
function stacked(): Uint8Array {
  const out = new Uint8Array(3 * 2 * 2 * 3);
  for (let t = 0; t < 3; t++) for (let p = 0; p < 4; p++) out.set([t, 10 + t, 20 + t], (t * 4 + p) * 3);
  return out;
}

describe('T-frame clip input', () => {
  it('NCTHW: channel-major, then time (R of frame 0..2, then G, then B)', () => {
    const out = new Float32Array(3 * 3 * 4);
    preprocess(manifest('NCTHW'), stacked(), 2, 6, out);
    const firstOfEachPlane = [...Array(9).keys()].map((i) => out[i * 4]);
    expect(firstOfEachPlane).toEqual([20, 21, 22, 10, 11, 12, 0, 1, 2]);
  });

  it('NTHWC: time-major, each frame an RGB picture', () => {
    const out = new Float32Array(3 * 4 * 3);
    preprocess(manifest('NTHWC'), stacked(), 2, 6, out);
    expect([...out.subarray(0, 3)]).toEqual([20, 10, 0]);
    expect([...out.subarray(12, 15)]).toEqual([21, 11, 1]);
    expect([...out.subarray(24, 27)]).toEqual([22, 12, 2]);
  });

  it('a picture whose height is not T equal frames is a bad frame, named', () => {
    const out = new Float32Array(36);
    expect(() => preprocess(manifest('NCTHW'), new Uint8Array(2 * 5 * 3), 2, 5, out)).toThrow(BadFrameError);
    expect(() => preprocess(manifest('NCTHW'), new Uint8Array(2 * 5 * 3), 2, 5, out)).toThrow(/height 5 is not a multiple of 3/);
  });
});
