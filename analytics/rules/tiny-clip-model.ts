import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelManifest } from '../inference/manifest';
import { attrInt, attrInts, FLOAT, model, msg, node, str, tensor, valueInfo } from '../inference/onnx-writer';

/**
 * A tiny clip classifier generated for tests of the fight model slot (no fight model with a
 * usable licence exists): input `clip` [1,3,32,32] BGR, output `scores` [1,2] for the labels
 * ["fight", "calm"], where the fight logit is 0.1 x (mean red - mean green) - 5. So a crop
 * that is mostly red "is a fight" (score ~1), a grey one is not (~0.007). The ONNX protobuf
 * is written directly, as tools/gen-tiny-onnx.ts does for the tiny detector.
 */
export function buildTinyClipClassifier(): Uint8Array {
  // Rows: pooled channels B, G, R; columns: fight, calm.
  const w = new Float32Array([0, 0, -0.1, 0.1, 0.1, -0.1]);
  const b = new Float32Array([-5, 5]);
  const graph = [
    node('GlobalAveragePool', ['clip'], ['pooled'], 'pool'),
    node('Flatten', ['pooled'], ['flat'], 'flatten', [attrInt('axis', 1)]),
    node('MatMul', ['flat', 'W'], ['mm'], 'matmul'),
    node('Add', ['mm', 'B'], ['scores'], 'add'),
    str(2, 'sentinel-tiny-clip'),
    msg(5, tensor('W', [3, 2], FLOAT, new Uint8Array(w.buffer))),
    msg(5, tensor('B', [2], FLOAT, new Uint8Array(b.buffer))),
    valueInfo(11, 'clip', [1, 3, 32, 32]),
    valueInfo(12, 'scores', [1, 2]),
  ];
  return model('sentinel-tests', graph);
}

/** Writes the model into `dir` and returns its manifest and path. */
export function writeTinyClipClassifier(dir: string): { manifest: ModelManifest; path: string } {
  const onnx = buildTinyClipClassifier();
  const path = join(dir, 'tiny_clip.onnx');
  writeFileSync(path, onnx);
  const manifest = ModelManifest.parse({
    name: 'tiny-fight',
    description: 'Generated for tests: a mostly red crop is a "fight".',
    task: 'classify-clip',
    file: 'tiny_clip.onnx',
    sha256: createHash('sha256').update(onnx).digest('hex'),
    input: { name: 'clip', shape: [1, 3, 32, 32], layout: 'NCHW', colorOrder: 'BGR', letterbox: { mode: 'stretch' } },
    decoder: { kind: 'clip-scores', output: 'scores', activation: 'sigmoid' },
    labels: ['fight', 'calm'],
  });
  return { manifest, path };
}

/** Frames per input of the tiny T-frame clip classifier. */
export const TINY_CLIP_FRAMES = 4;

/**
 * A tiny T-frame clip classifier for tests of the T-frame slot: input `clip` [1,3,T,32,32]
 * (NCTHW, BGR, T = TINY_CLIP_FRAMES), output `scores` [1,2] for ["fight", "calm"], where the
 * fight logit is 0.1 x (mean red of the last frame - mean red of the first) - 5. So a crop
 * that turns red during the clip "is a fight" (score ~1); one that stays red, or stays grey,
 * is not (~0.007): only a model that sees the frames in time order can tell them apart, which
 * is what the test proves of the slot.
 */
export function buildTinyTemporalClipClassifier(): Uint8Array {
  const T = TINY_CLIP_FRAMES;
  // Rows: pooled (channel, frame) pairs in NCTHW order, c * T + t; columns: fight, calm.
  const w = new Float32Array(3 * T * 2);
  const red = 2;
  w[(red * T + T - 1) * 2] = 0.1;
  w[(red * T + T - 1) * 2 + 1] = -0.1;
  w[red * T * 2] = -0.1;
  w[red * T * 2 + 1] = 0.1;
  const b = new Float32Array([-5, 5]);
  const graph = [
    node('ReduceMean', ['clip'], ['pooled'], 'pool', [attrInts('axes', [3, 4]), attrInt('keepdims', 0)]),
    node('Flatten', ['pooled'], ['flat'], 'flatten', [attrInt('axis', 1)]),
    node('MatMul', ['flat', 'W'], ['mm'], 'matmul'),
    node('Add', ['mm', 'B'], ['scores'], 'add'),
    str(2, 'sentinel-tiny-temporal-clip'),
    msg(5, tensor('W', [3 * T, 2], FLOAT, new Uint8Array(w.buffer))),
    msg(5, tensor('B', [2], FLOAT, new Uint8Array(b.buffer))),
    valueInfo(11, 'clip', [1, 3, T, 32, 32]),
    valueInfo(12, 'scores', [1, 2]),
  ];
  return model('sentinel-tests', graph);
}

/** Writes the T-frame model into `dir` and returns its manifest and path. */
export function writeTinyTemporalClipClassifier(dir: string): { manifest: ModelManifest; path: string } {
  const onnx = buildTinyTemporalClipClassifier();
  const path = join(dir, 'tiny_temporal_clip.onnx');
  writeFileSync(path, onnx);
  const manifest = ModelManifest.parse({
    name: 'tiny-temporal-fight',
    description: 'Generated for tests: a crop that turns red during the clip is a "fight".',
    task: 'classify-clip',
    file: 'tiny_temporal_clip.onnx',
    sha256: createHash('sha256').update(onnx).digest('hex'),
    input: {
      name: 'clip',
      shape: [1, 3, TINY_CLIP_FRAMES, 32, 32],
      layout: 'NCTHW',
      colorOrder: 'BGR',
      letterbox: { mode: 'stretch' },
    },
    decoder: { kind: 'clip-scores', output: 'scores', activation: 'sigmoid' },
    labels: ['fight', 'calm'],
  });
  return { manifest, path };
}
