import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../common/errors';
import { inputSize, type ModelManifestInput } from './manifest';
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
