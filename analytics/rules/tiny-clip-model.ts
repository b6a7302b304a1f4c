import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelManifest } from '../inference/manifest';
import { attrInt, attrInts, FLOAT, model, msg, node, str, tensor, valueInfo } from '../inference/onnx-writer';

/**
 * Tiny clip classifiers generated for tests of the fight model slot (no fight model with a
 * usable licence exists). Both are "average the pixels, then one linear layer": input `clip`,
 * output `scores` [1,2] for the labels ["fight", "calm"]. The ONNX protobuf is written
 * directly, as tools/gen-tiny-onnx.ts does for the tiny detector.
 */
interface TinyClipSpec {
  graphName: string;
  inputShape: readonly number[];
  /** Pools `clip` into `pooled`: what the linear layer sees. */
  pool: number[];
  /** Rows: the pooled values in order; columns: fight, calm. */
  weights: Float32Array;
}

function buildTinyClip(spec: TinyClipSpec): Uint8Array {
  const rows = spec.weights.length / 2;
  const b = new Float32Array([-5, 5]);
  const graph = [
    spec.pool,
    node('Flatten', ['pooled'], ['flat'], 'flatten', [attrInt('axis', 1)]),
    node('MatMul', ['flat', 'W'], ['mm'], 'matmul'),
    node('Add', ['mm', 'B'], ['scores'], 'add'),
    str(2, spec.graphName),
    msg(5, tensor('W', [rows, 2], FLOAT, new Uint8Array(spec.weights.buffer))),
    msg(5, tensor('B', [2], FLOAT, new Uint8Array(b.buffer))),
    valueInfo(11, 'clip', [...spec.inputShape]),
    valueInfo(12, 'scores', [1, 2]),
  ];
  return model('sentinel-tests', graph);
}

function writeTinyClip(
  dir: string,
  onnx: Uint8Array,
  meta: { name: string; file: string; description: string; shape: number[]; layout: 'NCHW' | 'NCTHW' },
): { manifest: ModelManifest; path: string } {
  const path = join(dir, meta.file);
  writeFileSync(path, onnx);
  const manifest = ModelManifest.parse({
    name: meta.name,
    description: meta.description,
    task: 'classify-clip',
    file: meta.file,
    sha256: createHash('sha256').update(onnx).digest('hex'),
    input: { name: 'clip', shape: meta.shape, layout: meta.layout, colorOrder: 'BGR', letterbox: { mode: 'stretch' } },
    decoder: { kind: 'clip-scores', output: 'scores', activation: 'sigmoid' },
    labels: ['fight', 'calm'],
  });
  return { manifest, path };
}

/**
 * One frame, `clip` [1,3,32,32] BGR; the fight logit is 0.1 x (mean red - mean green) - 5. So a
 * crop that is mostly red "is a fight" (score ~1), a grey one is not (~0.007).
 */
export function buildTinyClipClassifier(): Uint8Array {
  return buildTinyClip({
    graphName: 'sentinel-tiny-clip',
    inputShape: [1, 3, 32, 32],
    pool: node('GlobalAveragePool', ['clip'], ['pooled'], 'pool'),
    // Rows: pooled channels B, G, R.
    weights: new Float32Array([0, 0, -0.1, 0.1, 0.1, -0.1]),
  });
}

/** Writes the model into `dir` and returns its manifest and path. */
export function writeTinyClipClassifier(dir: string): { manifest: ModelManifest; path: string } {
  return writeTinyClip(dir, buildTinyClipClassifier(), {
    name: 'tiny-fight',
    file: 'tiny_clip.onnx',
    description: 'Generated for tests: a mostly red crop is a "fight".',
    shape: [1, 3, 32, 32],
    layout: 'NCHW',
  });
}

/** Frames per input of the tiny T-frame clip classifier. */
export const TINY_CLIP_FRAMES = 4;

/**
 * T frames, `clip` [1,3,T,32,32] (NCTHW, BGR, T = TINY_CLIP_FRAMES); the fight logit is
 * 0.1 x (mean red of the last frame - mean red of the first) - 5. So a crop that turns red
 * during the clip "is a fight" (score ~1); one that stays red, or stays grey, is not (~0.007):
 * only a model that sees the frames in time order can tell them apart, which is what the test
 * proves of the slot.
 */
export function buildTinyTemporalClipClassifier(): Uint8Array {
  const T = TINY_CLIP_FRAMES;
  // Rows: pooled (channel, frame) pairs in NCTHW order, c * T + t.
  const w = new Float32Array(3 * T * 2);
  const red = 2;
  w[(red * T + T - 1) * 2] = 0.1;
  w[(red * T + T - 1) * 2 + 1] = -0.1;
  w[red * T * 2] = -0.1;
  w[red * T * 2 + 1] = 0.1;
  return buildTinyClip({
    graphName: 'sentinel-tiny-temporal-clip',
    inputShape: [1, 3, T, 32, 32],
    pool: node('ReduceMean', ['clip'], ['pooled'], 'pool', [attrInts('axes', [3, 4]), attrInt('keepdims', 0)]),
    weights: w,
  });
}

/** Writes the T-frame model into `dir` and returns its manifest and path. */
export function writeTinyTemporalClipClassifier(dir: string): { manifest: ModelManifest; path: string } {
  return writeTinyClip(dir, buildTinyTemporalClipClassifier(), {
    name: 'tiny-temporal-fight',
    file: 'tiny_temporal_clip.onnx',
    description: 'Generated for tests: a crop that turns red during the clip is a "fight".',
    shape: [1, 3, TINY_CLIP_FRAMES, 32, 32],
    layout: 'NCTHW',
  });
}
