import { describe, expect, it } from 'vitest';
import { decodeDetections, decodeEmbedding, decodeNanodet, decodeYolox, toSource } from './decode';
import { iou, nms } from './nms';
import { BadFrameError, preprocess } from './preprocess';
import { ModelManifest } from './manifest';
import { solidFrame, testManifest } from './testing';

const manifest = testManifest;

describe('preprocess', () => {
  it('top-left letterbox: scales by the limiting side and pads right/bottom', () => {
    const m = manifest();
    const out = new Float32Array(3 * 32 * 32);
    const t = preprocess(m, new Uint8Array(solidFrame(128, 64, [10, 20, 30])), 128, 64, out);
    expect(t).toMatchObject({ scaleX: 0.25, scaleY: 0.25, padX: 0, padY: 0 });
    // image rows 0-15, pad rows 16-31, planes in B, G, R order
    expect(out[0]).toBeCloseTo(10);
    expect(out[1024]).toBeCloseTo(20);
    expect(out[2048]).toBeCloseTo(30);
    expect(out[15 * 32 + 31]).toBeCloseTo(10);
    expect(out[16 * 32]).toBe(114);
  });

  it('centre letterbox pads evenly; RGB order and mean/std are applied per channel', () => {
    const m = manifest({
      input: { letterbox: { mode: 'center', pad: 0 }, colorOrder: 'RGB', normalize: { mean: [1, 2, 3], std: [2, 2, 2] } },
    });
    const out = new Float32Array(3 * 32 * 32);
    const t = preprocess(m, new Uint8Array(solidFrame(128, 64, [10, 20, 30])), 128, 64, out);
    expect(t).toMatchObject({ padX: 0, padY: 8 });
    expect(out[0]).toBeCloseTo((0 - 1) / 2); // padding, channel R
    const p = 8 * 32; // first image row
    expect(out[p]).toBeCloseTo((30 - 1) / 2); // R first
    expect(out[1024 + p]).toBeCloseTo((20 - 2) / 2);
    expect(out[2048 + p]).toBeCloseTo((10 - 3) / 2);
  });

  it('NHWC stretch fills the whole input, interleaved', () => {
    const m = ModelManifest.parse({
      name: 'e',
      task: 'embed',
      file: 'e.onnx',
      sha256: '0'.repeat(64),
      input: { name: 'x', shape: [1, 8, 4, 3], layout: 'NHWC', colorOrder: 'BGR', letterbox: { mode: 'stretch' } },
      decoder: { kind: 'embedding', output: 'y' },
    });
    const out = new Float32Array(8 * 4 * 3);
    const t = preprocess(m, new Uint8Array(solidFrame(40, 40, [1, 2, 3])), 40, 40, out);
    expect(t).toMatchObject({ scaleX: 0.1, scaleY: 0.2 });
    expect(Array.from(out.slice(-3))).toEqual([1, 2, 3]);
  });

  it('rejects a zero-size frame and a buffer that does not match the size', () => {
    const out = new Float32Array(3 * 32 * 32);
    expect(() => preprocess(manifest(), new Uint8Array(0), 0, 0, out)).toThrow(BadFrameError);
    expect(() => preprocess(manifest(), new Uint8Array(0), 0, 0, out)).toThrow('frame size 0x0 is not a positive whole number of pixels');
    expect(() => preprocess(manifest(), new Uint8Array(100), 10, 10, out)).toThrow('frame data is 100 bytes but 10x10 BGR24 needs 300');
  });
});

describe('decoders', () => {
  it('YOLOX: grid decode across strides, score = obj x class, mapped back to source pixels', () => {
    const m = manifest();
    const rows = 16 + 4 + 1;
    const data = new Float32Array(rows * 7);
    // stride-16 point (gx=1, gy=0) is row 16 + 1
    const r = 17 * 7;
    data.set([0.5, 0.5, Math.log(0.5), Math.log(1), 0.9, 0.1, 0.8], r);
    // a low-objectness point elsewhere is ignored
    data.set([0.5, 0.5, 0, 0, 0.3, 1, 1], 0);
    const c = decodeYolox(m, { output: { data, dims: [1, rows, 7] } }, 0.5);
    expect(c).toHaveLength(1);
    expect(c[0]?.classId).toBe(1);
    expect(c[0]?.score).toBeCloseTo(0.72);
    // centre (24, 8), 8 x 16
    [20, 0, 28, 16].forEach((v, i) => expect(c[0]?.box[i]).toBeCloseTo(v, 5));
    const dets = decodeDetections(
      m,
      { output: { data, dims: [1, rows, 7] } },
      { scaleX: 0.25, scaleY: 0.25, padX: 0, padY: 0, srcWidth: 128, srcHeight: 64 },
      { scoreThreshold: 0.5, nmsIou: 0.45, maxDetections: 10 },
    );
    expect(dets).toEqual([{ label: 'b', classId: 1, score: 0.72, box: [80, 0, 112, 64] }]);
  });

  it('YOLOX: an output whose shape does not fit the manifest is a clear error', () => {
    expect(() => decodeYolox(manifest(), { output: { data: new Float32Array(20 * 7), dims: [1, 20, 7] } }, 0.5)).toThrow(
      'output "output" is [1,20,7] but the manifest implies [1,21,7]',
    );
    expect(() => decodeYolox(manifest(), {}, 0.5)).toThrow('model output "output" named in the manifest is missing');
  });

  it('NanoDet: distance distribution (softmax expectation x stride) from the cell centre', () => {
    const m = manifest({ decoder: { kind: 'nanodet', strides: [8, 16, 32] }, labels: ['a'] });
    const outputs: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const s of [8, 16, 32]) {
      const n = Math.ceil(32 / s) ** 2;
      outputs[`cls_pred_stride_${s}`] = { data: new Float32Array(n), dims: [1, n, 1] };
      // all logits equal: a uniform distribution over 0..7, expectation 3.5
      outputs[`dis_pred_stride_${s}`] = { data: new Float32Array(n * 32), dims: [1, n, 32] };
    }
    const cls16 = outputs.cls_pred_stride_16;
    if (cls16) cls16.data[3] = 0.8; // stride 16, point (gx=1, gy=1): centre (24, 24)
    const reg16 = outputs.dis_pred_stride_16;
    if (reg16) reg16.data[3 * 32 + 2] = 50; // left side: bin 2 certain -> 2 * 16 = 32
    const c = decodeNanodet(m, outputs, 0.5);
    expect(c).toHaveLength(1);
    expect(c[0]?.score).toBeCloseTo(0.8);
    const [x1, y1, x2, y2] = c[0]?.box ?? [];
    expect(x1).toBeCloseTo(24 - 32);
    expect(y1).toBeCloseTo(24 - 56);
    expect(x2).toBeCloseTo(24 + 56);
    expect(y2).toBeCloseTo(24 + 56);
  });

  it('toSource undoes padding and scale and clips to the frame', () => {
    const t = { scaleX: 0.5, scaleY: 0.5, padX: 4, padY: 10, srcWidth: 100, srcHeight: 50 };
    expect(toSource([4, 10, 24, 20], t)).toEqual([0, 0, 40, 20]);
    expect(toSource([-50, -50, 200, 200], t)).toEqual([0, 0, 100, 50]);
    expect(toSource([300, 300, 310, 310], t)).toBeNull();
  });

  it('embedding is L2-normalised', () => {
    const m = ModelManifest.parse({
      name: 'e',
      task: 'embed',
      file: 'e.onnx',
      sha256: '0'.repeat(64),
      input: { name: 'x', shape: [1, 8, 4, 3], layout: 'NHWC', colorOrder: 'BGR', letterbox: { mode: 'stretch' } },
      decoder: { kind: 'embedding', output: 'y' },
    });
    expect(decodeEmbedding(m, { y: { data: new Float32Array([3, 4]), dims: [1, 2] } })).toEqual([0.6, 0.8]);
  });
});

describe('nms', () => {
  it('keeps the best of overlapping boxes of one class, and boxes of other classes', () => {
    const kept = nms(
      [
        { box: [0, 0, 10, 10], score: 0.6, classId: 0 },
        { box: [1, 1, 11, 11], score: 0.9, classId: 0 },
        { box: [1, 1, 11, 11], score: 0.7, classId: 1 },
        { box: [50, 50, 60, 60], score: 0.5, classId: 0 },
      ],
      0.45,
      10,
    );
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.7, 0.5]);
    expect(
      nms(
        [
          { box: [0, 0, 1, 1], score: 1, classId: 0 },
          { box: [5, 5, 6, 6], score: 0.5, classId: 0 },
        ],
        0.45,
        1,
      ),
    ).toHaveLength(1);
  });

  it('iou of identical boxes is 1, of disjoint boxes 0', () => {
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(1 / 3);
  });
});
