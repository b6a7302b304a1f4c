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
