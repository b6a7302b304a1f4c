import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelManifest } from '../inference/manifest';

/**
 * A tiny clip classifier generated for tests of the fight model slot (no fight model with a
 * usable licence exists): input `clip` [1,3,32,32] BGR, output `scores` [1,2] for the labels
 * ["fight", "calm"], where the fight logit is 0.1 x (mean red - mean green) - 5. So a crop
 * that is mostly red "is a fight" (score ~1), a grey one is not (~0.007). The ONNX protobuf
 * is written directly, as tools/gen-tiny-onnx.ts does for the tiny detector.
 */
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
}
const key = (field: number, wire: number): number[] => varint((field << 3) | wire);
const int = (field: number, v: number): number[] => [...key(field, 0), ...varint(v)];
const bytes = (field: number, b: Uint8Array | number[]): number[] => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string): number[] => bytes(field, [...new TextEncoder().encode(s)]);
const msg = (field: number, parts: number[][]): number[] => bytes(field, parts.flat());
const FLOAT = 1;
const tensor = (name: string, dims: number[], raw: Float32Array): number[][] => [...dims.map((d) => int(1, d)), int(2, FLOAT), str(8, name), bytes(9, new Uint8Array(raw.buffer))];
const valueInfo = (field: number, name: string, shape: number[]): number[] => msg(field, [str(1, name), msg(2, [msg(1, [int(1, FLOAT), msg(2, shape.map((d) => msg(1, [int(1, d)])))])])]);
const node = (op: string, inputs: string[], outputs: string[], name: string, attrs: number[][] = []): number[] => msg(1, [...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), str(3, name), str(4, op), ...attrs]);

export function buildTinyClipClassifier(): Uint8Array {
  // Rows: pooled channels B, G, R; columns: fight, calm.
  const w = new Float32Array([0, 0, -0.1, 0.1, 0.1, -0.1]);
  const b = new Float32Array([-5, 5]);
  const graph = [
    node('GlobalAveragePool', ['clip'], ['pooled'], 'pool'),
    node('Flatten', ['pooled'], ['flat'], 'flatten', [msg(5, [str(1, 'axis'), int(20, 2), int(3, 1)])]),
    node('MatMul', ['flat', 'W'], ['mm'], 'matmul'),
    node('Add', ['mm', 'B'], ['scores'], 'add'),
    str(2, 'sentinel-tiny-clip'),
    msg(5, tensor('W', [3, 2], w)),
    msg(5, tensor('B', [2], b)),
    valueInfo(11, 'clip', [1, 3, 32, 32]),
    valueInfo(12, 'scores', [1, 2]),
  ];
  return new Uint8Array([int(1, 8), str(2, 'sentinel-tests'), str(3, '1'), msg(7, graph), msg(8, [str(1, ''), int(2, 13)])].flat());
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
