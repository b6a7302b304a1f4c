import { join } from 'node:path';
import { ROOT_DIR } from '../../common/node/paths';
import { readManifestFile } from './registry';
import { ModelManifest, type ModelManifestInput } from './manifest';

/** The project-generated tiny detector (tools/gen-tiny-onnx.ts), for tests and benchmarks. */
export const TINY_MODEL_DIR = join(ROOT_DIR, 'models', 'tiny');
export const TINY_MODEL_PATH = join(TINY_MODEL_DIR, 'tiny_detector.onnx');

export function tinyManifest(): ModelManifest {
  return readManifestFile(join(TINY_MODEL_DIR, 'tiny-detector.json'));
}

/** A BGR24 frame filled with one colour, with an optional filled rectangle of another. */
export function solidFrame(
  width: number,
  height: number,
  bg: [number, number, number],
  rect?: { x: number; y: number; w: number; h: number; bgr: [number, number, number] },
): ArrayBuffer {
  const buf = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = rect && x >= rect.x && x < rect.x + rect.w && y >= rect.y && y < rect.y + rect.h;
      const c = inside ? rect.bgr : bg;
      const o = (y * width + x) * 3;
      buf[o] = c[0];
      buf[o + 1] = c[1];
      buf[o + 2] = c[2];
    }
  }
  return buf.buffer;
}

/** A detector manifest for unit tests (YOLOX decoder, 32x32 NCHW BGR), with any field overridden. */
export function testManifest(
  over: Omit<Partial<ModelManifestInput>, 'input'> & { input?: Partial<ModelManifestInput['input']> } = {},
): ModelManifest {
  const { input, ...rest } = over;
  return ModelManifest.parse({
    name: 'm',
    task: 'detect',
    file: 'm.onnx',
    sha256: '0'.repeat(64),
    input: {
      name: 'images',
      shape: [1, 3, 32, 32],
      layout: 'NCHW',
      colorOrder: 'BGR',
      letterbox: { mode: 'top-left', pad: 114 },
      ...input,
    },
    decoder: { kind: 'yolox', output: 'output' },
    labels: ['a', 'b'],
    ...rest,
  });
}
