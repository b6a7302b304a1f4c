import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { InferencePool, InferenceScheduler, inputSize, openRegistry, requireModel, type ModelManifest } from '../../analytics/inference';
import { checkModel } from '../../analytics/inference/registry';
import { discoverAssetsDir } from '../../core/config';
import { createLogger } from '../../core/logger';

/**
 * One scheduler shared by pools of different models, with the real YOLOX-nano (heavy) and the
 * light person detector (several times cheaper) in real worker threads, every camera kept
 * saturated by closed loops. What a box with a default detector and some quiet cameras on
 * the light one does all day.
 */
const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
const registry = openRegistry({ assetsDir: assets });
const unready = ['yolox-nano', 'light-person'].flatMap((n) => {
  const m = registry.get(n);
  const s = m ? checkModel(m, registry.modelsDir) : null;
  return s?.state === 'ready' ? [] : [s?.message ?? `model ${n} has no manifest`];
});
const why = unready.length > 0 ? ` [skipped: ${unready.join('; ')}]` : '';
const log = createLogger('silent');

const pools: InferencePool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function pool(name: string, scheduler: InferenceScheduler | undefined): Promise<InferencePool> {
  const { manifest, path } = requireModel(registry, name);
  const p = await InferencePool.start({
    manifest,
    modelPath: path,
    workers: 2,
    intraOpThreads: 1,
    // Two loops per camera: room for both, so no frame is superseded and demand never pauses.
    perCameraQueue: 2,
    maxFrameAgeMs: 60_000,
    ...(scheduler ? { scheduler } : {}),
    log,
  });
  pools.push(p);
  return p;
}

/** A mid-grey frame at the model's own input size (what the content is does not matter to scheduling). */
const grey = (m: ModelManifest): { width: number; height: number; bytes: Uint8Array } => {
  const { width, height } = inputSize(m);
  return { width, height, bytes: new Uint8Array(width * height * 3).fill(128) };
};

/** Frames each camera got answered over `ms`, every camera kept saturated by two closed loops. */
async function saturate(cameras: Array<{ id: string; pool: InferencePool }>, ms: number): Promise<Map<string, number>> {
  const served = new Map(cameras.map((c) => [c.id, 0]));
  const end = performance.now() + ms;
  const loop = async (id: string, p: InferencePool): Promise<void> => {
    const f = grey(p.manifest);
    while (performance.now() < end) {
      const r = await p.submit({ cameraId: id, width: f.width, height: f.height, data: f.bytes.slice().buffer, ts: Date.now() });
      if (r.status !== 'ok') throw new Error(`frame not ok: ${JSON.stringify(r)}`);
      served.set(id, (served.get(id) ?? 0) + 1);
    }
  };
  await Promise.all(cameras.flatMap((c) => [loop(c.id, c.pool), loop(c.id, c.pool)]));
  return served;
}

describe.skipIf(why !== '')(`one inference scheduler across model pools${why}`, () => {
  it('serves two saturating cameras on two different models about equally, on no more workers than the budget', async () => {
    // A budget of one worker: the two cameras compete for it. (With a budget of two, each
    // would have a worker of its own and the light one would simply run faster, taking
    // nothing from the other.)
    const scheduler = new InferenceScheduler(1);
    const heavy = await pool('yolox-nano', scheduler);
    const light = await pool('light-person', scheduler);
    const served = await saturate(
      [
        { id: 'heavy-cam', pool: heavy },
        { id: 'light-cam', pool: light },
      ],
      4000,
    );
    const h = served.get('heavy-cam') ?? 0;
    const l = served.get('light-cam') ?? 0;
    expect(h).toBeGreaterThan(10);
    expect(l / h).toBeGreaterThan(0.75);
    expect(l / h).toBeLessThan(1.34);
    // Four workers exist (two per model); the box computes on one at a time.
    expect(scheduler.stats()).toMatchObject({ budget: 1, peakActive: 1, active: 0, pools: 2 });
  }, 60_000);

  it('without the shared scheduler the same two cameras are served very unequally (why it exists)', async () => {
    const heavy = await pool('yolox-nano', undefined);
    const light = await pool('light-person', undefined);
    const served = await saturate(
      [
        { id: 'heavy-cam', pool: heavy },
        { id: 'light-cam', pool: light },
      ],
      4000,
    );
    // Each pool keeps its own two workers busy: four threads on the box, and the camera on the
    // cheap model takes several times the frames.
    expect((served.get('light-cam') ?? 0) / (served.get('heavy-cam') ?? 1)).toBeGreaterThan(1.5);
  }, 60_000);

  it('does not starve a camera on the cheap model behind many on the heavy one', async () => {
    const scheduler = new InferenceScheduler(2);
    const heavy = await pool('yolox-nano', scheduler);
    const light = await pool('light-person', scheduler);
    const cams = [...Array.from({ length: 6 }, (_, i) => ({ id: `heavy-${i}`, pool: heavy })), { id: 'quiet-light', pool: light }];
    const served = await saturate(cams, 5000);
    const heavyCounts = [...served].filter(([k]) => k.startsWith('heavy-')).map(([, v]) => v);
    const meanHeavy = heavyCounts.reduce((a, b) => a + b, 0) / heavyCounts.length;
    const l = served.get('quiet-light') ?? 0;
    expect(meanHeavy).toBeGreaterThan(3);
    // Its turn comes once per round like every other camera's.
    expect(l / meanHeavy).toBeGreaterThan(0.7);
    expect(l / meanHeavy).toBeLessThan(1.5);
    // The heavy cameras share fairly among themselves too.
    expect(Math.min(...heavyCounts) / Math.max(...heavyCounts)).toBeGreaterThan(0.6);
    expect(scheduler.stats().peakActive).toBeLessThanOrEqual(2);
  }, 60_000);
});
