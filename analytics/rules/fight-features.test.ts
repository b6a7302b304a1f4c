import { describe, expect, it } from 'vitest';
import type { Zone } from '../../contract/zones';
import { parseFightModel, roc, groupedFolds, rng, scoreWindow, smoothedScore, trainTrees } from './fight-classifier';
import { ClipFightRule, defaultFightModel } from './fight-clip';
import {
  BLOCK,
  clipFeatures,
  downsample,
  FEATURE_H,
  FEATURE_NAMES,
  FEATURE_W,
  flowAccel,
  pairStats,
  reversals,
  windowFeatures,
} from './fight-features';

/** A textured small frame (pseudo-random, seeded) with an optional bright textured square at (x, y). */
function frame(seed: number, square?: { x: number; y: number; size: number }): Uint8Array {
  const f = new Uint8Array(FEATURE_W * FEATURE_H).fill(90);
  if (square) {
    let s = seed * 9301 + 49297;
    for (let y = 0; y < square.size; y++) {
      for (let x = 0; x < square.size; x++) {
        s = (s * 9301 + 49297) % 233280;
        const px = square.x + x;
        const py = square.y + y;
        if (px >= 0 && px < FEATURE_W && py >= 0 && py < FEATURE_H) f[py * FEATURE_W + px] = 150 + ((x * 37 + y * 91) % 100);
      }
    }
  }
  return f;
}

describe('downsample', () => {
  it('area-averages a region to the feature size', () => {
    const w = 160;
    const h = 120;
    const g = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) g[y * w + x] = x < w / 2 ? 0 : 200;
    const s = downsample(g, w, h);
    expect(s.length).toBe(FEATURE_W * FEATURE_H);
    expect(s[0]).toBe(0);
    expect(s[FEATURE_W - 1]).toBe(200);
    // The right half of the region only: everything 200.
    expect(downsample(g, w, h, [80, 0, 160, 120]).every((v) => v === 200)).toBe(true);
  });

  it('names the wrong size', () => {
    expect(() => downsample(new Uint8Array(10), 4, 4)).toThrow(/10 bytes, expected 4x4/);
  });
});

describe('pairStats (frame difference and block-matching flow)', () => {
  it('finds no motion between identical frames', () => {
    const a = frame(1, { x: 20, y: 20, size: 16 });
    const s = pairStats(a, a);
    expect(s).toMatchObject({ diff: 0, active: 0, moving: 0, mag: 0, coherence: 0, entropy: 0 });
  });

  it('recovers a known displacement of a textured square, all one way', () => {
    const a = frame(1, { x: 24, y: 16, size: 24 });
    const b = frame(1, { x: 27, y: 14, size: 24 });
    const s = pairStats(a, b);
    expect(s.diff).toBeGreaterThan(0);
    expect(s.moving).toBeGreaterThan(0);
    // Blocks that moved report (+3, -2), the square's motion.
    const found = new Set<string>();
    for (let i = 0; i < s.vx.length; i++) if (s.vx[i] || s.vy[i]) found.add(`${s.vx[i]},${s.vy[i]}`);
    expect([...found]).toContain('3,-2');
    expect(s.coherence).toBeGreaterThan(0.6);
    expect(s.magMoving).toBeGreaterThan(2);
  });

  it('sees opposite motions as incoherent, with a spread of directions', () => {
    const a = frame(1, { x: 8, y: 16, size: 16 });
    const b = frame(1, { x: 12, y: 16, size: 16 });
    const a2 = frame(2, { x: 56, y: 16, size: 16 });
    const b2 = frame(2, { x: 52, y: 16, size: 16 });
    const merge = (p: Uint8Array, q: Uint8Array): Uint8Array => p.map((v, i) => (v === 90 ? q[i]! : v));
    const s = pairStats(merge(a, a2), merge(b, b2));
    expect(s.coherence).toBeLessThan(0.3);
    expect(s.entropy).toBeGreaterThan(0.2);
  });

  it('counts a change of light as change, not motion', () => {
    const a = new Uint8Array(FEATURE_W * FEATURE_H).fill(80);
    const b = new Uint8Array(FEATURE_W * FEATURE_H).fill(140);
    const s = pairStats(a, b);
    expect(s.active).toBe(1);
    expect(s.moving).toBe(0);
  });
});

describe('magnitude and direction histograms', () => {
  const at = (x: number, y = 16): Uint8Array => frame(1, { x, y, size: 24 });

  it('put a 1 px move in the slow bin and a 4 px move in the very fast one', () => {
    const slow = pairStats(at(20), at(21));
    expect(slow.magSlow).toBeGreaterThan(0);
    expect(slow.magFast + slow.magVeryFast).toBe(0);
    const fast = pairStats(at(20), at(24));
    expect(fast.magVeryFast).toBeGreaterThan(0);
    expect(fast.magSlow).toBe(0);
    expect(fast.magSlow + fast.magFast + fast.magVeryFast).toBeCloseTo(fast.moving, 6);
  });

  it('put rightward motion in the 0-degree bin and leftward in the 180-degree one, summing to 1', () => {
    const right = pairStats(at(20), at(23)).dirHist;
    const left = pairStats(at(23), at(20)).dirHist;
    expect(right.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(right[4]).toBeGreaterThan(0.6); // bins start at -180 degrees: bin 4 is 0..45
    expect(left[0]).toBeGreaterThan(0.6);
    expect(pairStats(at(20), at(20)).dirHist.every((v) => v === 0)).toBe(true);
  });

  it('dirChangeMean and diffStd: near 0 for steady motion, high when the motion reverses every pair', () => {
    const steady = clipFeatures([at(14), at(17), at(20), at(23), at(26), at(29)]);
    const shaking = clipFeatures([at(20), at(23), at(20), at(23), at(20), at(23)]);
    const f = (v: number[], n: (typeof FEATURE_NAMES)[number]): number => v[FEATURE_NAMES.indexOf(n)]!;
    expect(f(steady, 'dirChangeMean')).toBeLessThan(0.3);
    expect(f(shaking, 'dirChangeMean')).toBeGreaterThan(1.2);
    const still = clipFeatures(Array.from({ length: 6 }, () => at(20)));
    expect(f(still, 'diffStd')).toBe(0);
    const burst = clipFeatures([at(20), at(20), at(20), at(26), at(26), at(26)]);
    expect(f(burst, 'diffStd')).toBeGreaterThan(0);
  });
});

describe('flow acceleration and reversals', () => {
  it('are low for steady motion and high for a square going back and forth', () => {
    const at = (x: number): Uint8Array => frame(1, { x, y: 16, size: 24 });
    const steady = [pairStats(at(20), at(23)), pairStats(at(23), at(26))];
    const shake = [pairStats(at(20), at(23)), pairStats(at(23), at(20))];
    expect(flowAccel(steady[0]!, steady[1]!).mean).toBeLessThanOrEqual(1.5);
    expect(reversals(steady[0]!, steady[1]!)).toBe(0);
    expect(flowAccel(shake[0]!, shake[1]!).mean).toBeGreaterThan(3);
    expect(reversals(shake[0]!, shake[1]!)).toBeGreaterThan(0.5);
  });
});

describe('windowFeatures', () => {
  it('gives one value per name, and more motion for shaking than for still', () => {
    const still = Array.from({ length: 6 }, () => frame(1, { x: 20, y: 16, size: 24 }));
    const shake = Array.from({ length: 6 }, (_, i) => frame(1, { x: 20 + (i % 2) * 4, y: 16 + ((i % 2) * BLOCK) / 4, size: 24 }));
    const fs = clipFeatures(still);
    const fm = clipFeatures(shake);
    expect(fs).toHaveLength(FEATURE_NAMES.length);
    const at = (f: number[], n: (typeof FEATURE_NAMES)[number]): number => f[FEATURE_NAMES.indexOf(n)]!;
    expect(at(fs, 'magMean')).toBe(0);
    expect(at(fm, 'magMean')).toBeGreaterThan(0);
    expect(at(fm, 'reversalMean')).toBeGreaterThan(0.5);
    expect(at(fm, 'blockFlickerMean')).toBe(0); // the same displacement every pair: the block changes stay equal
    expect(() => windowFeatures([])).toThrow(/at least 2/);
  });
});

describe('classifier helpers', () => {
  it('smoothedScore: the k-th highest of the best span of n windows', () => {
    expect(smoothedScore([0.9, 0.1, 0.9, 0.1], 2, 2)).toBeCloseTo(0.1);
    expect(smoothedScore([0.9, 0.1, 0.9, 0.1], 2, 3)).toBeCloseTo(0.9);
    expect(smoothedScore([0.2, 0.8, 0.7, 0.9, 0.1], 3, 5)).toBeCloseTo(0.7);
    expect(smoothedScore([0.9, 0.9], 3, 5)).toBe(0); // fewer windows than k: never a fight
  });

  it('depth-2 boosted trees learn an interaction a single split cannot (fight = a lot of motion AND incoherent)', () => {
    const X: number[][] = [];
    const y: number[] = [];
    const r = rng(3);
    for (let i = 0; i < 400; i++) {
      const motion = r();
      const coherence = r();
      X.push([motion, coherence, r()]);
      y.push(motion > 0.5 && coherence < 0.5 ? 1 : 0);
    }
    const base = { version: 1 as const, features: ['motion', 'coherence', 'noise'], frames: 6, fps: 5 };
    const m = trainTrees(X, y, base, { rounds: 60, learningRate: 0.3, seed: 1 });
    const acc = X.filter((x, i) => (scoreWindow(m, x) >= 0.5 ? 1 : 0) === y[i]).length / X.length;
    expect(acc).toBeGreaterThan(0.95);
    expect(m.trees.length).toBe(60);
    expect(scoreWindow(m, [0.9, 0.1, 0.5])).toBeGreaterThan(0.8);
    expect(scoreWindow(m, [0.9, 0.9, 0.5])).toBeLessThan(0.2);
  });

  it('roc: a perfect ranking has area 1, a reversed one 0', () => {
    expect(roc([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0]).auc).toBe(1);
    expect(roc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]).auc).toBe(0);
  });

  it('groupedFolds never splits a group and is seeded', () => {
    const groups = ['a', 'a', 'b', 'c', 'c', 'c', 'd', 'e', 'e'];
    const f = groupedFolds(groups, 3, 1);
    for (const g of new Set(groups)) expect(new Set(f.filter((_, i) => groups[i] === g)).size).toBe(1);
    expect(groupedFolds(groups, 3, 1)).toEqual(f);
  });

  it('the shipped weights parse, and a weights file for other features is refused by name', () => {
    const m = defaultFightModel();
    expect(m.features).toEqual([...FEATURE_NAMES]);
    expect(scoreWindow(m, new Array(FEATURE_NAMES.length).fill(0))).toBeLessThan(m.threshold);
    expect(() => parseFightModel({ ...m, features: ['x'] }, 'w.json')).toThrow(/w.json: features \[x\]/);
    expect(() => parseFightModel({ ...m, threshold: 2 }, 'w.json')).toThrow(/w.json: threshold/);
  });
});

describe('ClipFightRule', () => {
  const zone: Zone = { id: 'car', kind: 'watch' };
  const W = 160;
  const H = 120;
  const big = (f: Uint8Array): Uint8Array => {
    const g = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) g[y * W + x] = f[Math.floor(y / 2) * FEATURE_W + Math.floor(x / 2)]!;
    return g;
  };
  const feed = (rule: ClipFightRule, frames: Uint8Array[], stepMs = 200) =>
    frames.flatMap((g, i) =>
      rule.evaluate({
        t: i * stepMs,
        width: W,
        height: H,
        tracks: [],
        inZone: new Map([['car', [1]]]),
        grey: big(g),
        prevGrey: null,
        speedKmh: null,
        objects: [],
      }),
    );

  it('raises nothing on a still scene and scores every full window', () => {
    const rule = new ClipFightRule(zone);
    expect(
      feed(
        rule,
        Array.from({ length: 20 }, () => frame(1, { x: 20, y: 16, size: 24 })),
      ),
    ).toEqual([]);
    expect(rule.lastScore).not.toBeNull();
  });

  it('raises once, when alertK of the last alertN windows are high, while the motion goes on', () => {
    // A model whose threshold every window passes: this tests the rule's hysteresis, not the weights.
    const rule = new ClipFightRule(zone, { ...defaultFightModel(), threshold: 0 });
    const ev = feed(
      rule,
      Array.from({ length: 30 }, (_, i) => frame(i, { x: 10 + (i % 3) * 6, y: 10 + (i % 2) * 5, size: 30 })),
    );
    expect(ev.filter((e) => e.type === 'raise')).toHaveLength(1);
    const raise = ev[0]!;
    // Window of T frames full at frame T-1; every window is high, so the k-th high window is at frame T-2+k.
    const m = defaultFightModel();
    expect(raise.t).toBe((m.frames - 2 + m.alertK) * 200);
    expect(raise).toMatchObject({ kind: 'fight', trackIds: [1], detail: { method: 'classifier', label: 'possible fight' } });
  });

  it('samples at the model rate from a faster analysis rate', () => {
    const rule = new ClipFightRule(zone, { ...defaultFightModel(), threshold: 0 });
    const ev = feed(
      rule,
      Array.from({ length: 40 }, (_, i) => frame(i, { x: 10 + (i % 3) * 6, y: 10, size: 30 })),
      100,
    );
    const m = defaultFightModel();
    expect(ev.find((e) => e.type === 'raise')!.t).toBe((m.frames - 2 + m.alertK) * 200);
  });
});
