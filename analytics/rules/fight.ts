import type { Zone } from '../../contract/zones';
import type { Box, Track } from '../tracking/tracker';
import type { Rule, RuleEvent, RuleFrame } from './types';

/**
 * Thresholds of the default fight heuristic, chosen on the shared footage (docs/analytics.md
 * has the measurements): people walking past each other stay well under them, shoving and
 * swinging (box centres jumping by a fifth of a body height between frames, the pixels in
 * their union box churning) go well over.
 */
export const FIGHT_DEFAULTS = {
  /** Centre acceleration, in body heights per s². */
  accel: 7,
  /** Mean absolute grey-level change per pixel (0-255) in the pair's union box. */
  energy: 25,
  /** Two people are "close" when their centres are within this many body heights. */
  closeH: 0.9,
  frames: 6,
  cooldownS: 30,
  clearAfterMs: 3000,
};

export interface PairMotion {
  a: number;
  b: number;
  accel: number;
  energy: number;
  abrupt: boolean;
}

/** Acceleration of a track's centre over its last three sightings, in body heights per s². */
export function trackAccel(tr: Track): number {
  const h = tr.history;
  if (h.length < 3) return 0;
  const p0 = h[h.length - 3]!;
  const p1 = h[h.length - 2]!;
  const p2 = h[h.length - 1]!;
  const dt1 = (p1.t - p0.t) / 1000;
  const dt2 = (p2.t - p1.t) / 1000;
  if (dt1 <= 0 || dt2 <= 0) return 0;
  const v1x = (p1.cx - p0.cx) / dt1;
  const v1y = (p1.cy - p0.cy) / dt1;
  const v2x = (p2.cx - p1.cx) / dt2;
  const v2y = (p2.cy - p1.cy) / dt2;
  const height = Math.max(1, (p0.h + p1.h + p2.h) / 3);
  return Math.hypot(v2x - v1x, v2y - v1y) / ((dt1 + dt2) / 2) / height;
}

/** Mean absolute grey difference per pixel inside a box (0-255); 0 without two frames. */
export function diffEnergy(grey: Uint8Array | null, prev: Uint8Array | null, width: number, height: number, box: Box): number {
  if (!grey || !prev || grey.length !== prev.length || grey.length !== width * height) return 0;
  const x1 = Math.max(0, Math.floor(box[0]));
  const y1 = Math.max(0, Math.floor(box[1]));
  const x2 = Math.min(width, Math.ceil(box[2]));
  const y2 = Math.min(height, Math.ceil(box[3]));
  if (x2 <= x1 || y2 <= y1) return 0;
  let sum = 0;
  for (let y = y1; y < y2; y++) {
    const row = y * width;
    for (let x = x1; x < x2; x++) sum += Math.abs(grey[row + x]! - prev[row + x]!);
  }
  return sum / ((x2 - x1) * (y2 - y1));
}

const unionBox = (a: Box, b: Box): Box => [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];

/** Pairs of visible tracks close together in the zone, with this frame's motion figures. */
export function pairMotions(f: RuleFrame, zone: Zone): PairMotion[] {
  const ids = new Set(f.inZone.get(zone.id) ?? []);
  const people = f.tracks.filter((t) => t.visible && ids.has(t.id));
  const out: PairMotion[] = [];
  for (let i = 0; i < people.length; i++) {
    for (let j = i + 1; j < people.length; j++) {
      const a = people[i]!;
      const b = people[j]!;
      const ha = a.box[3] - a.box[1];
      const hb = b.box[3] - b.box[1];
      const dist = Math.hypot((a.box[0] + a.box[2] - b.box[0] - b.box[2]) / 2, (a.box[1] + a.box[3] - b.box[1] - b.box[3]) / 2);
      if (dist > FIGHT_DEFAULTS.closeH * Math.max(ha, hb)) continue;
      const accel = Math.max(trackAccel(a), trackAccel(b));
      const energy = diffEnergy(f.grey, f.prevGrey, f.width, f.height, unionBox(a.box, b.box));
      out.push({
        a: Math.min(a.id, b.id),
        b: Math.max(a.id, b.id),
        accel,
        energy,
        abrupt: accel >= FIGHT_DEFAULTS.accel && energy >= FIGHT_DEFAULTS.energy,
      });
    }
  }
  return out;
}

/**
 * The default "possible fight" rule, used when no clip-classifier model is configured: two
 * or more people close together whose box centres accelerate abruptly while the pixels in
 * their union box change hard, for `fightFrames` of the last `fightFrames + 2` analysed
 * frames. It is a motion heuristic, not a classifier: see docs/analytics.md for what it
 * can and cannot catch.
 */
export class FightRule implements Rule {
  readonly kind = 'fight' as const;
  readonly usesPixels = true;
  /** Per pair ("a-b"): recent frames, true when abrupt. */
  private readonly windows = new Map<string, { hits: boolean[]; accel: number[]; energy: number[]; seenAt: number }>();
  private active = false;
  private lastAbrupt = -Infinity;
  private cooldownUntil = -Infinity;
  private peak = 0;
  private trackIds = new Set<number>();
  private readonly frames: number;
  private readonly cooldownMs: number;

  constructor(private readonly zone: Zone) {
    this.frames = zone.rules?.fightFrames ?? FIGHT_DEFAULTS.frames;
    this.cooldownMs = (zone.rules?.cooldownS ?? FIGHT_DEFAULTS.cooldownS) * 1000;
  }

  evaluate(f: RuleFrame): RuleEvent[] {
    const key = `fight:${this.zone.id}`;
    const len = this.frames + 2;
    let best: { score: number; ids: number[]; accel: number; energy: number } | null = null;
    for (const p of pairMotions(f, this.zone)) {
      const k = `${p.a}-${p.b}`;
      let w = this.windows.get(k);
      if (!w) {
        w = { hits: [], accel: [], energy: [], seenAt: f.t };
        this.windows.set(k, w);
      }
      w.seenAt = f.t;
      w.hits.push(p.abrupt);
      w.accel.push(p.accel);
      w.energy.push(p.energy);
      if (w.hits.length > len) {
        w.hits.shift();
        w.accel.shift();
        w.energy.shift();
      }
      const n = w.hits.filter(Boolean).length;
      if (p.abrupt) this.lastAbrupt = f.t;
      if (n >= this.frames) {
        // Score: how far over both thresholds the pair's window is, squashed to 0.5..1.
        const a = w.accel.reduce((s, v) => s + v, 0) / w.accel.length / FIGHT_DEFAULTS.accel;
        const e = w.energy.reduce((s, v) => s + v, 0) / w.energy.length / FIGHT_DEFAULTS.energy;
        const score = Math.min(1, 0.5 + 0.25 * Math.min(a, 2) * 0.5 + 0.25 * Math.min(e, 2) * 0.5);
        if (!best || score > best.score)
          best = { score, ids: [p.a, p.b], accel: a * FIGHT_DEFAULTS.accel, energy: e * FIGHT_DEFAULTS.energy };
      }
    }
    for (const [k, w] of this.windows) if (w.seenAt !== f.t) this.windows.delete(k);

    if (!this.active) {
      if (best && f.t >= this.cooldownUntil) {
        this.active = true;
        this.peak = best.score;
        this.trackIds = new Set(best.ids);
        return [
          {
            type: 'raise',
            key,
            kind: 'fight',
            zone: this.zone,
            t: f.t,
            score: best.score,
            trackIds: best.ids,
            detail: {
              label: 'possible fight',
              accel: round(best.accel),
              energy: round(best.energy),
              frames: this.frames,
              method: 'heuristic',
            },
          },
        ];
      }
      return [];
    }
    if (best) {
      this.peak = Math.max(this.peak, best.score);
      for (const id of best.ids) this.trackIds.add(id);
    }
    if (f.t - this.lastAbrupt >= FIGHT_DEFAULTS.clearAfterMs) {
      this.active = false;
      this.cooldownUntil = f.t + this.cooldownMs;
      return [
        {
          type: 'clear',
          key,
          kind: 'fight',
          zone: this.zone,
          t: f.t,
          score: this.peak,
          trackIds: [...this.trackIds],
          detail: { label: 'possible fight', frames: this.frames, method: 'heuristic' },
        },
      ];
    }
    return [];
  }
}

const round = (v: number): number => Math.round(v * 100) / 100;
