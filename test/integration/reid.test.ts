import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry } from '../../analytics/inference';
import { Embedder, REID_MODEL } from '../../analytics/inference/reid';
import { VideoSource } from '../../analytics/pipeline/source';
import { cosine, REID_DEFAULTS, Tracker, type Box } from '../../analytics/tracking/tracker';
import { discoverAssetsDir } from '../../core/config';
import { createLogger } from '../../core/logger';

// The real re-identification model on real crops: one-by-one-person-detection.mp4, where each
// visit is a different person (eval/labels/one-by-one-identities.json) standing in the same
// spot, boxes as the detector found them there. (On vtest.avi's people, 60-80 px tall, the
// model does not tell people apart: docs/analytics.md has those figures.)
const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
const registry = openRegistry({ assetsDir: assets });
const status = registry.status(REID_MODEL);
const ready = status?.state === 'ready';
const why = status?.state === 'unavailable' ? ` [skipped: ${status.message}]` : '';
const VIDEO = assets ? join(assets, 'media', 'one-by-one-person-detection.mp4') : '';

// The analysed frame (the video source fits 768x432 into 416x416, as `sentinel analyze` does): crops come from it.
const W = 416;
const H = 232;
const px = (b: readonly number[]): Box => [b[0]! * W, b[1]! * H, b[2]! * W, b[3]! * H];
/** Boxes (normalised) of the first visitor at 10 s and 16 s, the second at 30 s, the third at 60 s. */
const SHOTS: Record<string, { t: number; box: Box }> = {
  first10: { t: 10_000, box: px([0.496, 0.037, 0.672, 0.948]) },
  first16: { t: 16_000, box: px([0.499, 0.031, 0.677, 0.94]) },
  second30: { t: 30_000, box: px([0.497, 0.006, 0.709, 0.868]) },
  third60: { t: 60_000, box: px([0.533, 0, 0.731, 0.925]) },
};

describe.skipIf(!ready)(`re-identification of one-by-one's visitors${why}`, () => {
  let embedder: Embedder;
  const look: Record<string, Float32Array> = {};

  beforeAll(async () => {
    embedder = await Embedder.open(registry, createLogger('silent'));
    const src = await VideoSource.open(VIDEO, { fps: 5, maxSeconds: 60.5 });
    for await (const f of src.frames()) {
      expect([f.width, f.height]).toEqual([W, H]);
      for (const [name, shot] of Object.entries(SHOTS))
        if (Math.abs(f.t - shot.t) < 1)
          look[name] = (await embedder.embed('test', new Uint8Array(f.data), f.width, f.height, [shot.box]))[0]!;
    }
  }, 180_000);
  afterAll(async () => {
    await embedder?.close();
  });

  it('embeds the same visitor six seconds apart closer than the next visitors, above the default threshold', () => {
    expect(look.first10).toHaveLength(256);
    expect(cosine(look.first10!, look.first10!)).toBeCloseTo(1, 4);
    const same = cosine(look.first10!, look.first16!);
    expect(same).toBeGreaterThanOrEqual(REID_DEFAULTS.minSimilarity);
    expect(cosine(look.first10!, look.second30!)).toBeLessThan(REID_DEFAULTS.minSimilarity);
    expect(cosine(look.first10!, look.third60!)).toBeLessThan(REID_DEFAULTS.minSimilarity);
    expect(embedder.stats()).toMatchObject({ embeds: 4, failed: 0 });
    expect(embedder.stats().msPerEmbed).toBeGreaterThan(0);
  });

  /** The first visitor stands for 2 s (10 s look), is hidden 3 s (someone in front), then someone stands there with `back`. */
  function reappear(back: Float32Array): { before: number; after: number | undefined } {
    const tr = new Tracker({ reid: { enabled: true } });
    const frame = { width: W, height: H };
    const box = SHOTS.first10!.box;
    let t = 0;
    let before = 0;
    for (let i = 0; i < 10; i++, t += 200) {
      const dets = [{ box, score: 0.9 }];
      const asked = tr.embedRequests(t, dets);
      for (const r of tr.update(
        t,
        dets.map((d, di) => ({ ...d, embedding: asked.includes(di) ? look.first10! : null })),
        frame,
      ))
        before = r.id;
    }
    for (const end = t + 3000; t < end; t += 200) tr.update(t, [], frame);
    // Lost past maxLostMs (2 s): only appearance can give the track back now.
    expect(tr.lostTracks().map((x) => x.id)).toEqual([before]);
    const dets = [{ box: SHOTS.first16!.box, score: 0.9 }];
    expect(tr.embedRequests(t, dets)).toEqual([0]);
    tr.update(t, [{ ...dets[0]!, embedding: back }], frame);
    const out = tr.update(t + 200, dets, frame);
    return { before, after: out[0]?.id };
  }

  it('gives the track back to the first visitor after 3 s hidden', () => {
    const r = reappear(look.first16!);
    expect(r.after).toBe(r.before);
  });

  it('gives it to nobody else: the second visitor, standing in the same place, gets a new id', () => {
    const r = reappear(look.second30!);
    expect(r.after).toBeDefined();
    expect(r.after).not.toBe(r.before);
  });
});
