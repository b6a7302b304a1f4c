import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../common/errors';
import { clipFrames, inputSize, ModelManifest, type ModelManifestInput } from './manifest';
import { MANIFEST_DIR, loadManifests, parseManifest } from './registry';

const base = (): ModelManifestInput => JSON.parse(readFileSync(join(MANIFEST_DIR, 'yolox-nano.json'), 'utf8')) as ModelManifestInput;

function parseError(raw: unknown): string {
  try {
    parseManifest(raw, 'models/x.json');
  } catch (err) {
    expect(err).toBeInstanceOf(SentinelError);
    return (err as Error).message;
  }
  throw new Error('manifest was accepted');
}

describe('model manifests', () => {
  it('every shipped manifest is valid and names a distinct model', () => {
    const files = readdirSync(MANIFEST_DIR).filter((f) => f.endsWith('.json'));
    const { manifests, problems } = loadManifests();
    expect(problems).toEqual([]);
    expect(manifests).toHaveLength(files.length);
    expect(manifests.map((m) => m.name).sort()).toEqual(['light-person', 'nanodet-m', 'person-reid-0288', 'yolox-nano']);
  });

  it('reads the input size whatever the layout', () => {
    const { manifests } = loadManifests();
    const reid = manifests.find((m) => m.name === 'person-reid-0288');
    const yolox = manifests.find((m) => m.name === 'yolox-nano');
    expect(reid && inputSize(reid)).toEqual({ width: 128, height: 256 });
    expect(yolox && inputSize(yolox)).toEqual({ width: 416, height: 416 });
  });

  it('takes a T-frame input for a clip classifier only, in NCTHW or NTHWC', () => {
    const clip = {
      ...base(),
      name: 'clip',
      task: 'classify-clip',
      decoder: { kind: 'clip-scores', output: 'scores' },
      labels: ['fight', 'calm'],
    } as ModelManifestInput;
    const ncthw = ModelManifest.parse({ ...clip, input: { ...clip.input, shape: [1, 3, 8, 112, 96], layout: 'NCTHW' } });
    expect([clipFrames(ncthw), inputSize(ncthw)]).toEqual([8, { width: 96, height: 112 }]);
    const nthwc = ModelManifest.parse({ ...clip, input: { ...clip.input, shape: [1, 16, 112, 96, 3], layout: 'NTHWC' } });
    expect([clipFrames(nthwc), inputSize(nthwc)]).toEqual([16, { width: 96, height: 112 }]);
    expect(clipFrames(ModelManifest.parse(base()))).toBe(1);
    expect(parseError({ ...clip, input: { ...clip.input, shape: [1, 3, 8, 112, 96], layout: 'NCHW' } })).toMatch(
      /"input.shape": a NCHW input has 4 dimensions, the shape has 5/,
    );
    expect(parseError({ ...clip, input: { ...clip.input, shape: [1, 8, 112, 96, 4], layout: 'NTHWC' } })).toMatch(
      /3 channels, the shape says 4/,
    );
    expect(parseError({ ...base(), input: { ...base().input, shape: [1, 3, 8, 416, 416], layout: 'NCTHW' } })).toMatch(
      /"input.layout": a NCTHW input \(T frames\) is for task classify-clip, not detect/,
    );
  });

  it('rejects an unknown key, naming its full path and the file', () => {
    const m = base();
    expect(parseError({ ...m, treshold: 0.5 })).toBe('models/x.json: unknown key "treshold"');
    expect(parseError({ ...m, input: { ...m.input, colour: 'BGR' } })).toBe('models/x.json: unknown key "input.colour"');
    expect(parseError({ ...m, decoder: { kind: 'yolox', output: 'output', anchors: 3 } })).toMatch(/unknown key "decoder.anchors"/);
  });

  it('rejects a short hash, a decoder that does not fit the task, and a shape without 3 channels', () => {
    const m = base();
    expect(parseError({ ...m, sha256: '695e750a5d57' })).toMatch(/"sha256": the full lower-case hex sha256/);
    expect(parseError({ ...m, task: 'embed' })).toMatch(/"decoder.kind": decoder "yolox" does not fit task "embed"/);
    expect(parseError({ ...m, input: { ...m.input, shape: [1, 4, 416, 416] } })).toMatch(
      /"input.shape": a NCHW input must have 3 channels, the shape says 4/,
    );
    expect(parseError({ ...m, file: '../yolox_nano.onnx' })).toMatch(/"file"/);
  });

  it('reports a bad manifest in a directory without hiding the good ones', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-manifests-'));
    writeFileSync(join(dir, 'good.json'), JSON.stringify(base()));
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ ...base(), name: 'other', labelz: [] }));
    writeFileSync(join(dir, 'broken.json'), '{ "name": ');
    const { manifests, problems } = loadManifests(dir);
    expect(manifests.map((m) => m.name)).toEqual(['yolox-nano']);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/broken\.json is not valid JSON/),
      `${join(dir, 'typo.json')}: unknown key "labelz"`,
    ]);
  });
});
