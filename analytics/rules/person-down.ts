import type { Zone } from '../../contract/zones';
import { ios, type Box, type Track } from '../tracking/tracker';
import type { Rule, RuleEvent, RuleFrame } from './types';

export const PERSON_DOWN_DEFAULTS = {
  downS: 5,
  /** Height over width at or above which a box is a person standing (people stand ~2.5-3). */
  uprightRatio: 1.3,
  /** Width over height at or above which a box is a person lying. */
  lyingRatio: 1.2,
  /** A fall is lying within this long of last standing; lying with no standing before is not. */
  fallWindowMs: 3000,
  /** Lying "still": the box centre stays within this share of the box width. */
  stillFraction: 0.3,
  /** Boxes this close to the frame edge (share of the frame) are cut off, their shape says nothing. */
  edgeMargin: 0.01,
  cooldownS: 60,
};

interface Body {
  /** Last time and box the person was seen standing. */
  uprightAt: number | null;
  uprightBox: Box | null;
  /** Set once a fall was seen (lying soon after standing), cleared when standing again. */
  fallen: boolean;
  /** Since when lying still, and where. */
  stillSince: number | null;
  stillBox: Box | null;
  lastSeen: number;
}

/**
 * Person down: a tracked person in the zone whose box turns from upright (taller than wide)
 * to lying (wider than tall) within 3 s and then stays still for `downS` raises; the alert
 * clears when they stand up again or are gone for 2 s. Someone who was never seen standing
 * (a person already lying when the camera started, or seated people whose boxes are square)
 * does not raise: the rule looks for the fall, not for a shape.
 *
 * A fall can change the box so much in one frame that the tracker starts a new track for the
 * lying person; a new lying track that overlaps where a person was last seen standing within
 * the fall window takes over that person's standing time.
 */
export class PersonDownRule implements Rule {
  readonly kind = 'person-down' as const;
  private readonly bodies = new Map<number, Body>();
  private active = false;
  private down = new Set<number>();
  private cooldownUntil = -Infinity;
  private readonly downMs: number;
  private readonly cooldownMs: number;

  constructor(private readonly zone: Zone) {
    this.downMs = (zone.rules?.downS ?? PERSON_DOWN_DEFAULTS.downS) * 1000;
    this.cooldownMs = (zone.rules?.cooldownS ?? PERSON_DOWN_DEFAULTS.cooldownS) * 1000;
  }

  evaluate(f: RuleFrame): RuleEvent[] {
    const D = PERSON_DOWN_DEFAULTS;
    const key = `person-down:${this.zone.id}`;
    const inZone = new Set(f.inZone.get(this.zone.id) ?? []);
    const cut = (b: Box): boolean =>
      b[0] <= D.edgeMargin * f.width ||
      b[1] <= D.edgeMargin * f.height ||
      b[2] >= (1 - D.edgeMargin) * f.width ||
      b[3] >= (1 - D.edgeMargin) * f.height;
    const stillDown: number[] = [];
    for (const tr of f.tracks as Track[]) {
      if (!tr.visible || !inZone.has(tr.id) || cut(tr.box)) continue;
      const w = tr.box[2] - tr.box[0];
      const h = tr.box[3] - tr.box[1];
      if (w <= 0 || h <= 0) continue;
      let body = this.bodies.get(tr.id);
      if (!body) {
        body = { uprightAt: null, uprightBox: null, fallen: false, stillSince: null, stillBox: null, lastSeen: f.t };
        this.bodies.set(tr.id, body);
      }
      body.lastSeen = f.t;
      if (h / w >= D.uprightRatio) {
        body.uprightAt = f.t;
        body.uprightBox = [...tr.box];
        body.fallen = false;
        body.stillSince = null;
        body.stillBox = null;
        continue;
      }
      if (w / h < D.lyingRatio) continue; // in between (crouching, sitting, mid-fall): no change
      if (!body.fallen) {
        const standing = body.uprightAt !== null ? body : this.standingNear(tr.id, tr.box, f.t);
        if (!standing || standing.uprightAt === null || f.t - standing.uprightAt > D.fallWindowMs) continue;
        body.fallen = true;
        body.stillSince = f.t;
        body.stillBox = [...tr.box];
      }
      const sb = body.stillBox!;
      const moved = Math.hypot((tr.box[0] + tr.box[2] - sb[0] - sb[2]) / 2, (tr.box[1] + tr.box[3] - sb[1] - sb[3]) / 2);
      if (moved > D.stillFraction * (sb[2] - sb[0])) {
        body.stillSince = f.t;
        body.stillBox = [...tr.box];
      }
      if (f.t - body.stillSince! >= this.downMs) stillDown.push(tr.id);
    }
    for (const [id, b] of this.bodies) if (f.t - b.lastSeen > 2000 + D.fallWindowMs) this.bodies.delete(id);

    const detail = (): RuleEvent['detail'] => ({ people: this.down.size, thresholdS: this.downMs / 1000 });
    if (!this.active) {
      if (stillDown.length === 0 || f.t < this.cooldownUntil) return [];
      this.active = true;
      this.down = new Set(stillDown);
      return [{ type: 'raise', key, kind: 'person-down', zone: this.zone, t: f.t, score: 1, trackIds: stillDown, detail: detail() }];
    }
    for (const id of stillDown) this.down.add(id);
    // Still down: a person who fell and has neither stood up nor been gone for 2 s.
    const remaining = [...this.down].filter((id) => {
      const b = this.bodies.get(id);
      return b !== undefined && b.fallen && f.t - b.lastSeen <= 2000;
    });
    if (remaining.length > 0) return [];
    this.active = false;
    this.cooldownUntil = f.t + this.cooldownMs;
    return [{ type: 'clear', key, kind: 'person-down', zone: this.zone, t: f.t, score: 1, trackIds: [...this.down], detail: detail() }];
  }

  /** A person last seen standing, no longer seen, whose standing box the lying box overlaps. */
  private standingNear(id: number, box: Box, t: number): Body | null {
    let best: Body | null = null;
    for (const [other, b] of this.bodies) {
      if (other === id || b.uprightBox === null || b.uprightAt === null || b.lastSeen >= t) continue;
      if (t - b.uprightAt > PERSON_DOWN_DEFAULTS.fallWindowMs) continue;
      if (ios(box, b.uprightBox) >= 0.3 && (!best || b.uprightAt > best.uprightAt!)) best = b;
    }
    return best;
  }
}
