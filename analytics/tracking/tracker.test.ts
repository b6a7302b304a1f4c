import { describe, expect, it } from 'vitest';
import { Tracker, type Box } from './tracker';

const box = (cx: number, cy: number, w = 40, h = 100): Box => [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];

describe('Tracker', () => {
  it('keeps one id for a walking person and confirms it after two frames', () => {
    const tr = new Tracker();
    expect(tr.update(0, [{ box: box(100, 200), score: 0.9 }])).toHaveLength(0); // tentative
    const seen = new Set<number>();
    for (let i = 1; i < 20; i++) for (const t of tr.update(i * 200, [{ box: box(100 + i * 8, 200), score: 0.9 }])) seen.add(t.id);
    expect([...seen]).toEqual([1]);
  });

  it('keeps the id through a short occlusion by coasting on the predicted motion', () => {
    const tr = new Tracker();
    for (let i = 0; i < 6; i++) tr.update(i * 200, [{ box: box(100 + i * 10, 200), score: 0.9 }]);
    // Hidden for 1 s (5 frames at 5 fps) while still walking right at 50 px/s.
    for (let i = 6; i < 11; i++) tr.update(i * 200, []);
    expect(tr.active(2000).map((t) => t.id)).toEqual([1]);
    const back = tr.update(11 * 200, [{ box: box(100 + 11 * 10, 200), score: 0.9 }]);
    expect(back.map((t) => t.id)).toEqual([1]);
  });

  it('drops a track unseen for longer than maxLostMs, and a one-frame false positive never becomes a track', () => {
    const tr = new Tracker({ maxLostMs: 1000 });
    tr.update(0, [{ box: box(100, 200), score: 0.9 }]);
    tr.update(200, [
      { box: box(100, 200), score: 0.9 },
      { box: box(300, 200), score: 0.9 },
    ]);
    tr.update(400, [{ box: box(100, 200), score: 0.9 }]);
    expect(tr.all().map((t) => t.id)).toEqual([1]);
    for (let t = 600; t <= 1800; t += 200) tr.update(t, []);
    expect(tr.all()).toHaveLength(0);
  });

  it('extends a track with a low-score detection (ByteTrack second stage) but starts none from one', () => {
    const tr = new Tracker();
    tr.update(0, [{ box: box(100, 200), score: 0.9 }]);
    tr.update(200, [{ box: box(104, 200), score: 0.9 }]);
    const r = tr.update(400, [
      { box: box(108, 200), score: 0.3 },
      { box: box(400, 200), score: 0.3 },
    ]);
    expect(r.map((t) => t.id)).toEqual([1]);
    expect(tr.all()).toHaveLength(1);
  });

  it('two people passing each other keep their own ids', () => {
    const tr = new Tracker();
    const ids = { a: new Set<number>(), b: new Set<number>() };
    for (let i = 0; i < 20; i++) {
      // A walks right along y=200, B walks left along y=320: their boxes overlap mid-way.
      const out = tr.update(i * 200, [
        { box: box(100 + i * 15, 200), score: 0.9 },
        { box: box(385 - i * 15, 320), score: 0.9 },
      ]);
      for (const t of out) ((t.box[1] + t.box[3]) / 2 < 260 ? ids.a : ids.b).add(t.id);
    }
    expect(ids.a.size).toBe(1);
    expect(ids.b.size).toBe(1);
    expect([...ids.a][0]).not.toBe([...ids.b][0]);
  });
});

/** A unit vector along axis `k` of 8, tilted by `noise` towards axis 7: a synthetic "look". */
const look = (k: number, noise = 0): Float32Array => {
  const v = new Float32Array(8);
  v[k] = 1;
  v[7] = noise;
  const n = Math.hypot(1, noise);
  return v.map((x) => x / n);
};

describe('Tracker re-identification', () => {
  const reid = { enabled: true, minSimilarity: 0.9, maxLostMs: 6000 };

  /** A walks right, is seen with look `before`, disappears behind a pillar for `hiddenMs`, reappears with look `after`. */
  function occlusion(
    after: Float32Array,
    opts: { hiddenMs: number; enabled?: boolean },
  ): { before: number[]; after: number[]; tracker: Tracker } {
    const tr = new Tracker({ reid: { ...reid, enabled: opts.enabled ?? true } });
    const before = new Set<number>();
    const after2 = new Set<number>();
    let t = 0;
    for (let i = 0; i < 10; i++, t += 200) {
      const dets = [{ box: box(100 + i * 10, 200), score: 0.9 }];
      const asked = tr.embedRequests(t, dets);
      for (const r of tr.update(
        t,
        dets.map((d, di) => ({ ...d, embedding: asked.includes(di) ? look(0, 0.1) : null })),
      ))
        before.add(r.id);
    }
    const hiddenEnd = t + opts.hiddenMs;
    for (; t < hiddenEnd; t += 200) tr.update(t, []);
    // Back on the far side of the pillar, where constant velocity no longer puts the coasting box.
    for (let i = 0; i < 5; i++, t += 200) {
      const dets = [{ box: box(330 + i * 10, 200), score: 0.9 }];
      const asked = tr.embedRequests(t, dets);
      for (const r of tr.update(
        t,
        dets.map((d, di) => ({ ...d, embedding: asked.includes(di) ? after : null })),
      ))
        after2.add(r.id);
    }
    return { before: [...before], after: [...after2], tracker: tr };
  }

  it('gives a track lost behind an occluder for 3 s back to the person who reappears looking the same', () => {
    const r = occlusion(look(0, 0.3), { hiddenMs: 3000 });
    expect(r.before).toEqual([1]);
    expect(r.after).toEqual([1]);
  });

  it('counts the re-association once, where it happens: not again while the person stays in view', () => {
    const r = occlusion(look(0, 0.3), { hiddenMs: 3000 });
    expect(r.after).toEqual([1]);
    // Five frames back in view after the occlusion: one re-association, then ordinary IoU matches.
    expect(r.tracker.reidStats.reassociated).toBe(1);
    expect(r.tracker.all().find((x) => x.id === 1)?.reidentified).toBe(1);
    expect(r.tracker.reidStats.requested).toBeGreaterThan(0);
    expect(r.tracker.reidStats.refused).toBe(0);
  });

  it('starts a new track when the person who appears there looks different, and counts the refusal, not a re-association', () => {
    const r = occlusion(look(1, 0.1), { hiddenMs: 3000 });
    expect(r.before).toEqual([1]);
    expect(r.after).toHaveLength(1);
    expect(r.after[0]).not.toBe(1);
    expect(r.tracker.reidStats.reassociated).toBe(0);
    expect(r.tracker.reidStats.refused).toBeGreaterThan(0);
  });

  it('without re-ID the same occlusion costs the person their id', () => {
    const r = occlusion(look(0, 0.3), { hiddenMs: 3000, enabled: false });
    expect(r.after[0]).not.toBe(1);
    expect(r.tracker.reidStats).toEqual({ requested: 0, reassociated: 0, refused: 0 });
  });

  it('forgets a lost track after reid.maxLostMs, and never re-associates someone implausibly far away', () => {
    expect(occlusion(look(0, 0.3), { hiddenMs: 7000 }).after[0]).not.toBe(1);
    const tr = new Tracker({ reid });
    for (let i = 0; i < 6; i++) {
      const d = [{ box: box(100, 200), score: 0.9 }];
      tr.update(
        i * 200,
        d.map((x, di) => ({ ...x, embedding: tr.embedRequests(i * 200, d).includes(di) ? look(0) : null })),
      );
    }
    for (let t = 1200; t < 2400; t += 200) tr.update(t, []);
    // The same look, 600 px away after 1.2 s: a person 100 px tall does not walk that far.
    const out = tr.update(2400, [{ box: box(700, 200), score: 0.9, embedding: look(0) }]);
    expect(tr.all().find((x) => x.id === 1)?.visible).toBe(false);
    expect(out).toHaveLength(0);
    expect(tr.reidStats.reassociated).toBe(0);
  });

  it('asks for embeddings of unclaimed and stale boxes only, at most maxPerFrame, and none with re-ID off', () => {
    expect(new Tracker().embedRequests(0, [{ box: box(100, 200), score: 0.9 }])).toEqual([]);
    const tr = new Tracker({ reid: { ...reid, maxPerFrame: 2, refreshMs: 1000 } });
    const dets = [100, 200, 300].map((x) => ({ box: box(x, 200), score: 0.9 }));
    expect(tr.embedRequests(0, dets)).toEqual([0, 1]); // three new people, two embeddings this frame
    tr.update(
      0,
      dets.map((d, di) => ({ ...d, embedding: di < 2 ? look(di) : null })),
    );
    tr.update(200, dets);
    // Tracks 1 and 2 were embedded at t=0; 3 never: only its box is stale at t=400.
    expect(tr.embedRequests(400, dets)).toEqual([2]);
    // A low-score box is never embedded (the crop is too unsure to remember).
    expect(tr.embedRequests(600, [{ box: box(600, 200), score: 0.3 }])).toEqual([]);
  });
});
