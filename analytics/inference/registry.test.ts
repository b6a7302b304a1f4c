import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModel, openRegistry, requireModel, resolveModelsDir } from './registry';
import { TINY_MODEL_DIR, TINY_MODEL_PATH, tinyManifest } from './testing';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'sentinel-models-'));
}

describe('model registry', () => {
  it('verifies present weights by sha256', () => {
    const st = checkModel(tinyManifest(), TINY_MODEL_DIR);
    expect(st).toMatchObject({ name: 'tiny-detector', state: 'ready', path: TINY_MODEL_PATH });
  });

  it('a missing file is "unavailable" naming the path and the expected hash, never a throw', () => {
    const dir = tmp();
    const m = tinyManifest();
    const st = checkModel(m, dir);
    expect(st.state).toBe('unavailable');
    if (st.state !== 'unavailable') return;
    expect(st.reason).toBe('missing_file');
    expect(st.message).toContain(join(dir, m.file));
    expect(st.message).toContain(m.sha256);
  });

  it('a file with other bytes is a hash mismatch naming both hashes', () => {
    const dir = tmp();
    const m = tinyManifest();
    const bytes = readFileSync(TINY_MODEL_PATH);
    writeFileSync(join(dir, m.file), bytes.subarray(0, bytes.length - 100));
    const st = checkModel(m, dir);
    expect(st).toMatchObject({ state: 'unavailable', reason: 'hash_mismatch' });
    if (st.state !== 'unavailable') return;
    expect(st.message).toMatch(new RegExp(`has sha256 [0-9a-f]{64}, expected ${m.sha256}`));
  });

  it('no models directory at all is unavailable too', () => {
    expect(checkModel(tinyManifest(), null)).toMatchObject({ state: 'unavailable', reason: 'no_models_dir' });
  });

  it('prefers a configured models directory over the assets pack', () => {
    expect(resolveModelsDir({ modelsDir: '/opt/models', assetsDir: '/a' })).toBe('/opt/models');
    expect(resolveModelsDir({ assetsDir: '/a' })).toBe('/a/models');
    expect(resolveModelsDir({ assetsDir: null })).toBeNull();
  });

  it('requireModel names unknown models and unavailable weights', () => {
    const dir = tmp();
    copyFileSync(join(TINY_MODEL_DIR, 'tiny-detector.json'), join(dir, 'tiny-detector.json'));
    const reg = openRegistry({ manifestDir: dir, modelsDir: dir, assetsDir: null });
    expect(() => requireModel(reg, 'nope')).toThrow('unknown model "nope"; available: tiny-detector');
    expect(() => requireModel(reg, 'tiny-detector')).toThrow(/tiny_detector\.onnx is missing \(expected sha256 [0-9a-f]{64}\)/);
    copyFileSync(TINY_MODEL_PATH, join(dir, 'tiny_detector.onnx'));
    expect(requireModel(reg, 'tiny-detector').path).toBe(join(dir, 'tiny_detector.onnx'));
    expect(reg.list().map((s) => s.state)).toEqual(['ready']);
  });
});

describe('openModel', () => {
  it('never throws: a missing file, an unknown name or a model that will not load is "unavailable" with a message', async () => {
    const { openModel } = await import('./open');
    const { createLogger } = await import('../../common/node/logger');
    const log = createLogger('silent');
    const settings = { workers: 1, intraOpThreads: 1, maxFrameAgeMs: 1000 };
    const dir = tmp();
    copyFileSync(join(TINY_MODEL_DIR, 'tiny-detector.json'), join(dir, 'tiny-detector.json'));
    const reg = openRegistry({ manifestDir: dir, modelsDir: dir, assetsDir: null });

    const missing = await openModel(reg, 'tiny-detector', settings, log);
    expect(missing).toMatchObject({ state: 'unavailable', status: { reason: 'missing_file' } });
    expect(await openModel(reg, 'nope', settings, log)).toMatchObject({
      state: 'unavailable',
      status: { message: 'unknown model "nope"; available: tiny-detector' },
    });

    // right hash, wrong input size in the manifest: the sessions refuse it
    const m = JSON.parse(readFileSync(join(dir, 'tiny-detector.json'), 'utf8')) as { input: { shape: number[] } };
    m.input.shape = [1, 3, 64, 64];
    writeFileSync(join(dir, 'tiny-detector.json'), JSON.stringify(m));
    copyFileSync(TINY_MODEL_PATH, join(dir, 'tiny_detector.onnx'));
    const wrong = await openModel(openRegistry({ manifestDir: dir, modelsDir: dir, assetsDir: null }), 'tiny-detector', settings, log);
    expect(wrong).toMatchObject({ state: 'unavailable', status: { reason: 'invalid_model' } });
    if (wrong.state === 'unavailable')
      expect(wrong.status.message).toMatch(
        /model tiny-detector unavailable: .*has shape \[1,3,32,32\] but manifest tiny-detector says \[1,3,64,64\]/,
      );

    writeFileSync(join(dir, 'tiny-detector.json'), readFileSync(join(TINY_MODEL_DIR, 'tiny-detector.json')));
    const good = await openModel(openRegistry({ manifestDir: dir, modelsDir: dir, assetsDir: null }), 'tiny-detector', settings, log);
    expect(good.state).toBe('ready');
    if (good.state === 'ready') await good.pool.close();
  });
});
