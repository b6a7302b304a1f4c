import { describe, expect, it } from 'vitest';
import { MotionGate } from './gate';
import { mergeBoxes, MotionDetector } from './motion';

const W = 320;
const H = 180;

/** A grey textured background with a dark rectangle (a "person") at x..x+w, y..y+h. */
function frame(person: { x: number; y: number; w: number; h: number } | null, noise = 0, seed = 1): Uint8Array {
  const f = new Uint8Array(W * H * 3);
  let s = seed;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const n = noise ? (s % (2 * noise + 1)) - noise : 0;
      let v = 120 + ((x >> 4) % 2) * 30 + n;
      if (person && x >= person.x && x < person.x + person.w && y >= person.y && y < person.y + person.h) v = 20;
      const i = (y * W + x) * 3;
      f[i] = f[i + 1] = f[i + 2] = Math.max(0, Math.min(255, v));
    }
  }
  return f;
}

describe('MotionDetector', () => {
  it('finds no motion in a still frame with sensor noise, and a box where something moved', () => {
    const m = new MotionDetector();
    expect(m.detect(frame(null, 6, 1), W, H).reset).toBe(true);
    for (let i = 2; i < 8; i++) expect(m.detect(frame(null, 6, i), W, H).moving).toBe(false);
    const r = m.detect(frame({ x: 100, y: 40, w: 20, h: 60 }, 6, 9), W, H);
    expect(r.moving).toBe(true);
    expect(r.boxes).toHaveLength(1);
    const [x1, y1, x2, y2] = r.boxes[0]!;
    // The grid is 4 px: the box is the person's within one cell.
    expect(x1).toBeGreaterThanOrEqual(96);
    expect(x2).toBeLessThanOrEqual(124);
    expect(y1).toBeGreaterThanOrEqual(36);
    expect(y2).toBeLessThanOrEqual(104);
  });

  it('ignores changes inside a motion mask', () => {
    const m = new MotionDetector({
      masks: [
        [
          [0.25, 0.1],
          [0.45, 0.1],
          [0.45, 0.7],
          [0.25, 0.7],
        ],
      ],
    });
    m.detect(frame(null), W, H);
    expect(m.detect(frame({ x: 100, y: 40, w: 20, h: 60 }), W, H).moving).toBe(false);
    expect(m.detect(frame({ x: 200, y: 40, w: 20, h: 60 }), W, H).moving).toBe(true);
  });

  it('takes new masks from the next frame (a technician drew one), and the same masks again keep the background', () => {
    const mask: [number, number][] = [
      [0.25, 0.1],
      [0.45, 0.1],
      [0.45, 0.7],
      [0.25, 0.7],
    ];
    const m = new MotionDetector();
    m.detect(frame(null), W, H);
    expect(m.detect(frame({ x: 100, y: 40, w: 20, h: 60 }), W, H).moving).toBe(true);
    m.setMasks([mask]);
    // The grid is laid out again and the background restarts on the next frame.
    expect(m.detect(frame(null), W, H).reset).toBe(true);
    expect(m.detect(frame({ x: 100, y: 40, w: 20, h: 60 }), W, H).moving).toBe(false);
    expect(m.detect(frame({ x: 200, y: 40, w: 20, h: 60 }), W, H).moving).toBe(true);
    m.setMasks([mask.map((p) => [...p] as [number, number])]);
    expect(m.detect(frame(null), W, H).reset).toBe(false);
    m.setMasks([]);
    m.detect(frame(null), W, H);
    expect(m.detect(frame({ x: 100, y: 40, w: 20, h: 60 }), W, H).moving).toBe(true);
  });

  it('treats a change of most of the picture as lighting: the background restarts', () => {
    const m = new MotionDetector();
    m.detect(frame(null), W, H);
    const dark = new Uint8Array(W * H * 3).fill(10);
    const r = m.detect(dark, W, H);
    expect(r.reset).toBe(true);
    expect(m.detect(dark, W, H).moving).toBe(false);
  });

  it('refuses a buffer smaller than the frame it claims to be', () => {
    expect(() => new MotionDetector().detect(new Uint8Array(10), W, H)).toThrow(/smaller than 320x180/);
  });

  it('merges touching boxes', () => {
    expect(
      mergeBoxes([
        [0, 0, 10, 10],
        [12, 0, 20, 10],
        [100, 100, 110, 110],
      ]),
    ).toEqual([
      [0, 0, 20, 10],
      [100, 100, 110, 110],
    ]);
  });
});

describe('MotionGate', () => {
  it('runs the detector on the first frame, on motion, for the hold after it, and on the keep-alive only', () => {
    const g = new MotionGate({ keepAliveMs: 5000, holdMs: 1000 });
    const still = frame(null);
    const runs: string[] = [];
    // 20 s of a still scene at 5 fps: first frame + keep-alives at 5, 10, 15 s.
    for (let t = 0; t < 20_000; t += 200) {
      const d = g.decide(t, still, W, H);
      if (d.run) runs.push(`${d.reason}@${t}`);
    }
    expect(runs).toEqual(['first@0', 'keepalive@5000', 'keepalive@10000', 'keepalive@15000']);
    // Someone walks through for 1 s: every frame detected, then the 1 s hold, then idle again.
    runs.length = 0;
    for (let t = 20_000, x = 20; t < 25_000; t += 200, x += 30) {
      const d = g.decide(t, t < 21_000 ? frame({ x, y: 40, w: 20, h: 60 }) : still, W, H);
      if (d.run) runs.push(d.reason);
    }
    expect(runs.filter((r) => r === 'motion').length).toBeGreaterThanOrEqual(5);
    expect(runs.filter((r) => r === 'hold').length).toBeGreaterThanOrEqual(3);
    expect(g.stats.framesSeen).toBe(125);
    expect(g.stats.detectorRuns + g.stats.skipped).toBe(125);
    expect(g.stats.detectorRuns).toBeLessThan(30);
  });

  it('runs on every frame when off', () => {
    const g = new MotionGate({ enabled: false });
    const still = frame(null);
    for (let t = 0; t < 2000; t += 200) expect(g.decide(t, still, W, H)).toMatchObject({ run: true, reason: 'off' });
    expect(g.stats).toMatchObject({ framesSeen: 10, detectorRuns: 10, skipped: 0 });
  });
});
