import type { Zone } from '../../contract/zones';
import { iou, type Box } from '../tracking/tracker';
import { boxInZone } from '../zones';
import type { Rule, RuleEvent, RuleFrame, RuleObject } from './types';

/** The COCO classes the detectors already find that a person leaves behind. */
export const UNATTENDED_LABELS: readonly string[] = ['backpack', 'handbag', 'suitcase'];

export const UNATTENDED_DEFAULTS = {
  unattendedS: 30,
  reachHeights: 1.5,
  /** Bag detections below this score are ignored (small objects score low and flicker). */
  minScore: 0.3,
  /** A bag not detected for this long is gone (picked up, or never there). */
  forgetAfterMs: 5000,
  /** A bag whose centre moves more than this share of its size is being carried: its clock restarts. */
  moveFraction: 0.5,
  /** An alerted bag someone stays beside this long has been collected: the alert clears. */
  attendedClearMs: 3000,
  cooldownS: 60,
};

interface Bag {
  id: number;
  label: string;
  score: number;
  box: Box;
  /** Where it came to rest, and since when. */
  restBox: Box;
  restSince: number;
  lastSeen: number;
  /** Since when nobody has been within reach (null while someone is). */
  aloneSince: number | null;
  /** Since when someone has been within reach (null while nobody is). */
  attendedSince: number | null;
  /** The last person seen within reach: most likely whoever left it. */
  lastNear: number | null;
  alerted: boolean;
}

const cx = (b: Box): number => (b[0] + b[2]) / 2;
const cy = (b: Box): number => (b[1] + b[3]) / 2;

/** Distance from a point to a box (0 inside it). */
function distToBox(x: number, y: number, b: Box): number {
  const dx = Math.max(b[0] - x, 0, x - b[2]);
  const dy = Math.max(b[1] - y, 0, y - b[3]);
  return Math.hypot(dx, dy);
}

/**
 * Unattended object: a backpack, handbag or suitcase in the zone that stays where it is with
 * nobody within reach (`reachHeights` times that person's box height, so reach scales with
 * distance from the camera) for `unattendedS` raises one alert per bag, naming the last
 * person seen beside it. Moving more than half its size restarts its clock (it is being
 * carried). The alert clears when the bag is gone for 5 s or someone stays beside it for 3 s
 * (collected); then the zone is quiet for `cooldownS`.
 *
 * Bags are matched from frame to frame by overlap here rather than through the person
 * tracker: the tracker's motion model is for walking people, a bag at rest needs none.
 */
export class UnattendedObjectRule implements Rule {
  readonly kind = 'unattended-object' as const;
  private readonly bags: Bag[] = [];
  private nextId = 1;
  private cooldownUntil = -Infinity;
  private readonly aloneMs: number;
  private readonly reach: number;
  private readonly cooldownMs: number;

  constructor(private readonly zone: Zone) {
    this.aloneMs = (zone.rules?.unattendedS ?? UNATTENDED_DEFAULTS.unattendedS) * 1000;
    this.reach = zone.rules?.reachHeights ?? UNATTENDED_DEFAULTS.reachHeights;
    this.cooldownMs = (zone.rules?.cooldownS ?? UNATTENDED_DEFAULTS.cooldownS) * 1000;
  }

  evaluate(f: RuleFrame): RuleEvent[] {
    const events: RuleEvent[] = [];
    const seen = f.objects.filter(
      (o: RuleObject) =>
        UNATTENDED_LABELS.includes(o.label) && o.score >= UNATTENDED_DEFAULTS.minScore && boxInZone(this.zone, o.box, f.width, f.height),
    );
    // Greedy matching by overlap, best pairs first.
    const pairs: Array<{ b: number; o: number; v: number }> = [];
    this.bags.forEach((bag, b) =>
      seen.forEach((o, k) => {
        const v = iou(bag.box, o.box as Box);
        if (v >= 0.3) pairs.push({ b, o: k, v });
      }),
    );
    pairs.sort((x, y) => y.v - x.v);
    const usedBag = new Set<number>();
    const usedObj = new Set<number>();
    for (const p of pairs) {
      if (usedBag.has(p.b) || usedObj.has(p.o)) continue;
      usedBag.add(p.b);
      usedObj.add(p.o);
      const bag = this.bags[p.b]!;
      const o = seen[p.o]!;
      bag.box = [...o.box];
      bag.score = o.score;
      bag.lastSeen = f.t;
      const size = Math.max(bag.restBox[2] - bag.restBox[0], bag.restBox[3] - bag.restBox[1]);
      if (Math.hypot(cx(bag.box) - cx(bag.restBox), cy(bag.box) - cy(bag.restBox)) > UNATTENDED_DEFAULTS.moveFraction * size) {
        bag.restBox = [...o.box];
        bag.restSince = f.t;
        if (bag.aloneSince !== null) bag.aloneSince = f.t;
      }
    }
    seen.forEach((o, k) => {
      if (usedObj.has(k)) return;
      const box: Box = [...o.box];
      this.bags.push({
        id: this.nextId++,
        label: o.label,
        score: o.score,
        box,
        restBox: box,
        restSince: f.t,
        lastSeen: f.t,
        aloneSince: null,
        attendedSince: null,
        lastNear: null,
        alerted: false,
      });
    });

    for (let i = this.bags.length - 1; i >= 0; i--) {
      const bag = this.bags[i]!;
      const key = `unattended:${this.zone.id}:${bag.id}`;
      const near = f.tracks.filter((tr) => distToBox(cx(bag.box), cy(bag.box), tr.box) <= this.reach * (tr.box[3] - tr.box[1]));
      if (near.length > 0) {
        bag.lastNear = near[0]!.id;
        bag.aloneSince = null;
        bag.attendedSince ??= f.t;
      } else {
        bag.attendedSince = null;
        bag.aloneSince ??= Math.max(f.t, bag.restSince);
      }
      const gone = f.t - bag.lastSeen >= UNATTENDED_DEFAULTS.forgetAfterMs;
      const collected = bag.attendedSince !== null && f.t - bag.attendedSince >= UNATTENDED_DEFAULTS.attendedClearMs;
      const detail = (): RuleEvent['detail'] => ({
        object: bag.label,
        aloneS: bag.aloneSince === null ? 0 : Math.round((f.t - bag.aloneSince) / 1000),
        thresholdS: this.aloneMs / 1000,
        lastNearTrack: bag.lastNear,
      });
      if (bag.alerted && (gone || collected)) {
        events.push({
          type: 'clear',
          key,
          kind: 'unattended-object',
          zone: this.zone,
          t: f.t,
          score: bag.score,
          trackIds: bag.lastNear === null ? [] : [bag.lastNear],
          detail: { ...detail(), endedBy: gone ? 'gone' : 'collected' },
        });
        bag.alerted = false;
        this.cooldownUntil = f.t + this.cooldownMs;
      }
      if (gone) {
        this.bags.splice(i, 1);
        continue;
      }
      if (
        !bag.alerted &&
        bag.aloneSince !== null &&
        f.t - bag.aloneSince >= this.aloneMs &&
        f.t >= this.cooldownUntil &&
        bag.lastSeen === f.t
      ) {
        bag.alerted = true;
        events.push({
          type: 'raise',
          key,
          kind: 'unattended-object',
          zone: this.zone,
          t: f.t,
          score: bag.score,
          trackIds: bag.lastNear === null ? [] : [bag.lastNear],
          detail: detail(),
        });
      }
    }
    return events;
  }
}
