import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/node/logger';
import { InferencePool } from './pool';
import { InferenceScheduler } from './scheduler';
import { solidFrame, TINY_MODEL_PATH, tinyManifest } from './testing';

// Two pools of the project's tiny detector (real worker threads and sessions) under one
// scheduler: the budget holds box-wide, cameras take turns across the pools, and a token held
// by a pool that closes or loses a worker comes back. (The same with the real, unequal
// models: test/integration/inference-fairness.test.ts.)
const log = createLogger('silent');
const pools: InferencePool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function pool(scheduler: InferenceScheduler, workers: number): Promise<InferencePool> {
  const p = await InferencePool.start({
    manifest: tinyManifest(),
    modelPath: TINY_MODEL_PATH,
    workers,
    intraOpThreads: 1,
    perCameraQueue: 2,
    maxFrameAgeMs: 60_000,
    scheduler,
    log,
  });
  pools.push(p);
  return p;
}

const frame = (cameraId: string) => ({ cameraId, width: 64, height: 32, data: solidFrame(64, 32, [0, 0, 0]), ts: 0 });

describe('inference scheduler across pools', () => {
  it('rejects a budget that is not a whole number >= 1', () => {
    expect(() => new InferenceScheduler(0)).toThrow('inference scheduler budget must be a whole number >= 1, got 0');
  });

  it('keeps to the box-wide budget and serves cameras of two pools in turn', async () => {
    const scheduler = new InferenceScheduler(1);
    const a = await pool(scheduler, 1);
    const b = await pool(scheduler, 1);
    const served = { a: 0, b: 0 };
    const end = performance.now() + 1500;
    const loop = async (p: InferencePool, cam: 'a' | 'b'): Promise<void> => {
      while (performance.now() < end) {
        const r = await p.submit(frame(cam));
        expect(r.status).toBe('ok');
        served[cam]++;
      }
    };
    await Promise.all([loop(a, 'a'), loop(a, 'a'), loop(b, 'b'), loop(b, 'b')]);
    expect(served.a).toBeGreaterThan(20);
    expect(served.b / served.a).toBeGreaterThan(0.8);
    expect(served.b / served.a).toBeLessThan(1.25);
    expect(scheduler.stats()).toEqual({ budget: 1, active: 0, peakActive: 1, pools: 2 });
  }, 60_000); // starting worker threads on a loaded 2-core machine takes seconds

  it('gets the token back from a pool closed with frames in work, and from a killed worker', async () => {
    const scheduler = new InferenceScheduler(1);
    const a = await pool(scheduler, 1);
    const b = await pool(scheduler, 1);
    const inWork = a.submit(frame('a'));
    await a.close();
    expect((await inWork).status).toMatch(/ok|dropped/);
    expect((await b.submit(frame('b'))).status).toBe('ok');

    const c = await pool(scheduler, 1);
    const held = c.submit(frame('c'));
    expect(await c.killWorker(0)).toBe(true);
    expect((await held).status).toMatch(/ok|failed/);
    expect((await b.submit(frame('b'))).status).toBe('ok');
    expect(scheduler.stats()).toMatchObject({ active: 0, pools: 2 });
  }, 60_000);
});
