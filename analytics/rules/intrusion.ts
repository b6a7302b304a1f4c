import type { Zone } from '../../contract/zones';
import type { Rule, RuleEvent, RuleFrame } from './types';

export const INTRUSION_DEFAULTS = { dwellMs: 0, clearAfterMs: 2000, cooldownS: 10 };

/**
 * Track intrusion: a tracked person in a `trackbed` zone raises at once (the tracker already
 * needs two frames to confirm a person, which keeps one-frame false detections out; a sighting
 * inside is needed, a track coasting through an occlusion does not enter), one alert
 * for the zone that later intruders join. It clears once nobody has been inside for 2 s, and a
 * short cooldown (10 s) keeps one person stepping down and up from raising twice; someone
 * back on the tracks after that is a new alert, since every minute there matters.
 */
export class IntrusionRule implements Rule {
  readonly kind = 'intrusion' as const;
  private readonly entered = new Map<number, number>();
  private active = false;
  private lastInside = -Infinity;
  private cooldownUntil = -Infinity;
  private alerted = new Set<number>();
  private peak = 0;
  private readonly dwellMs: number;
  private readonly cooldownMs: number;

  constructor(private readonly zone: Zone) {
    this.dwellMs = zone.rules?.dwellMs ?? INTRUSION_DEFAULTS.dwellMs;
    this.cooldownMs = (zone.rules?.cooldownS ?? INTRUSION_DEFAULTS.cooldownS) * 1000;
  }

  evaluate(f: RuleFrame): RuleEvent[] {
    const key = `intrusion:${this.zone.id}`;
    const inside = new Set(f.inZone.get(this.zone.id) ?? []);
    // Entering takes a sighting inside: a track coasting on its prediction (a person hidden for
    // a moment) can drift over the platform edge without anyone having stepped down.
    const visible = new Set(f.tracks.filter((tr) => tr.visible).map((tr) => tr.id));
    for (const id of [...this.entered.keys()]) if (!inside.has(id)) this.entered.delete(id);
    for (const id of inside) if (!this.entered.has(id) && visible.has(id)) this.entered.set(id, f.t);
    if (inside.size > 0) this.lastInside = f.t;
    const intruders = [...this.entered].filter(([, since]) => f.t - since >= this.dwellMs).map(([id]) => id);
    const detail = (): RuleEvent['detail'] => ({ people: inside.size, peak: this.peak, dwellMs: this.dwellMs });
    if (!this.active) {
      if (intruders.length === 0 || f.t < this.cooldownUntil) return [];
      this.active = true;
      this.alerted = new Set(intruders);
      this.peak = inside.size;
      return [{ type: 'raise', key, kind: 'intrusion', zone: this.zone, t: f.t, score: 1, trackIds: intruders, detail: detail() }];
    }
    for (const id of intruders) this.alerted.add(id);
    this.peak = Math.max(this.peak, inside.size);
    if (inside.size > 0 || f.t - this.lastInside < INTRUSION_DEFAULTS.clearAfterMs) return [];
    this.active = false;
    this.cooldownUntil = f.t + this.cooldownMs;
    return [{ type: 'clear', key, kind: 'intrusion', zone: this.zone, t: f.t, score: 1, trackIds: [...this.alerted], detail: detail() }];
  }
}
