import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTinyDetector, TINY_DIR, TINY_FILE, tinyManifest } from './gen-tiny-onnx';

describe('tiny ONNX generator', () => {
  it('the committed model and manifest are exactly what the generator builds', () => {
    const built = buildTinyDetector();
    const committed = readFileSync(join(TINY_DIR, TINY_FILE));
    expect(Buffer.from(built).equals(committed)).toBe(true);
    const sha = createHash('sha256').update(built).digest('hex');
    expect(JSON.parse(readFileSync(join(TINY_DIR, 'tiny-detector.json'), 'utf8'))).toEqual(tinyManifest(sha));
  });
});
