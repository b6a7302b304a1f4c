import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/node/logger';
import { openVerifiedModel } from './open';
import { InferencePool } from './pool';
import { openRegistry, sha256File } from './registry';
import { solidFrame, TINY_MODEL_DIR, TINY_MODEL_PATH, tinyManifest } from './testing';

// Hot swap, on the project's tiny detector in real worker threads: a replacement is proven
// (task, a fresh sha256, sessions, a test inference) before anyone uses it, and the pool it
// replaces finishes every frame it was given.
const log = createLogger('silent');
const settings = { workers: 1, intraOpThreads: 1, maxFrameAgeMs: 5000 };
const dirs: string[] = [];

/** A models directory + manifest directory holding the tiny detector (optionally altered). */
function setup(edit?: (manifest: Record<string, unknown>) => void, weights?: Buffer): { manifestDir: string; modelsDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'sentinel-swap-'));
  dirs.push(root);
  const manifest = JSON.parse(JSON.stringify(tinyManifest())) as Record<string, unknown>;
  edit?.(manifest);
  writeFileSync(join(root, 'tiny-detector.json'), JSON.stringify(manifest));
  if (weights) writeFileSync(join(root, 'tiny_detector.onnx'), weights);
  else copyFileSync(TINY_MODEL_PATH, join(root, 'tiny_detector.onnx'));
  return { manifestDir: root, modelsDir: root };
}
const registry = (d: { manifestDir: string; modelsDir: string }) => openRegistry({ ...d, assetsDir: null });

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('verified model opening', () => {
  it('opens the tiny detector after a test inference', async () => {
    const r = await openVerifiedModel(registry(setup()), 'tiny-detector', 'detect', settings, log);
    expect(r.state).toBe('ready');
    if (r.state === 'ready') await r.pool.close();
  });

  it('refuses a model of the wrong task for the slot, naming both', async () => {
    const r = await openVerifiedModel(registry(setup()), 'tiny-detector', 'classify-clip', settings, log);
    expect(r.state).toBe('unavailable');
    if (r.state === 'unavailable')
      expect(r.status.message).toBe('model tiny-detector is a detect model; this slot needs task classify-clip');
  });

  it('refuses weights that do not match the manifest, hashing afresh (not from the cache)', async () => {
    const d = setup();
    const path = join(d.modelsDir, 'tiny_detector.onnx');
    expect(sha256File(path)).toBe(tinyManifest().sha256); // now cached
    const bytes = readFileSync(path);
    bytes[bytes.length - 1]! ^= 0xff;
    // Same size; force the same mtime so only a fresh hash can tell.
    const st = statSync(path);
    writeFileSync(path, bytes);
    utimesSync(path, st.atime, st.mtime);
    const r = await openVerifiedModel(registry(d), 'tiny-detector', 'detect', settings, log);
    expect(r.state).toBe('unavailable');
    if (r.state === 'unavailable') {
      expect(r.status.reason).toBe('hash_mismatch');
      expect(r.status.message).toContain(`expected ${tinyManifest().sha256}`);
    }
  });

  it('refuses a model whose sessions do not open (manifest shape against the file), leaving no worker', async () => {
    const d = setup((m) => {
      (m.input as { shape: number[] }).shape = [1, 3, 64, 64];
    });
    const r = await openVerifiedModel(registry(d), 'tiny-detector', 'detect', settings, log);
    expect(r.state).toBe('unavailable');
    if (r.state === 'unavailable') expect(r.status.message).toMatch(/tiny-detector unavailable: .*shape/);
  });

  it('refuses an unknown model, listing the known ones', async () => {
    const r = await openVerifiedModel(registry(setup()), 'yolo-huge', 'detect', settings, log);
    expect(r.state === 'unavailable' && r.status.message).toBe('unknown model "yolo-huge"; available: tiny-detector');
  });
});

describe('draining a replaced pool', () => {
  it('answers every frame it was given before its workers stop', async () => {
    const pool = await InferencePool.start({
      manifest: tinyManifest(),
      modelPath: join(TINY_MODEL_DIR, 'tiny_detector.onnx'),
      workers: 1,
      intraOpThreads: 1,
      perCameraQueue: 1,
      log,
    });
    // One frame per camera waiting (the queue keeps one per camera) plus those in the worker.
    const results = Array.from({ length: 6 }, (_, i) =>
      pool.submit({ cameraId: `cam-${i}`, width: 128, height: 64, data: solidFrame(128, 64, [0, 0, 0]), ts: i }),
    );
    expect(pool.inFlight()).toBe(6);
    await pool.drain();
    const all = await Promise.all(results);
    expect(all.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(pool.state).toEqual({ state: 'closed' });
    expect(pool.inFlight()).toBe(0);
  });
});
