import type { Zone } from '../../contract/zones';
import type { Rule, RuleEvent, RuleFrame } from './types';

export const LOITERING_DEFAULTS = { loiterS: 300, clearAfterMs: 5000, cooldownS: 120 };

/**
 * Loitering: one tracked person staying in the zone longer than `loiterS` (default 5 minutes)
 * raises one alert for the zone; others who stay that long join its `trackIds`. It clears once
 * none of them has been inside for 5 s, then the zone is quiet for `cooldownS`.
 *
 * Dwell is per track, so it is only as long as the tracker keeps the person's id: an occlusion
 * of more than 2 s starts a new track and a new dwell (a person walking behind a pillar for
 * longer restarts the clock; the rule errs towards saying nothing).
 */
export class LoiteringRule implements Rule {
  readonly kind = 'loitering' as const;
  private readonly entered = new Map<number, number>();
  private active = false;
  private loiterers = new Set<number>();
  private lastLoiterer = -Infinity;
  private cooldownUntil = -Infinity;
  private maxDwell = 0;
  private readonly loiterMs: number;
  private readonly cooldownMs: number;

  constructor(private readonly zone: Zone) {
    this.loiterMs = (zone.rules?.loiterS ?? LOITERING_DEFAULTS.loiterS) * 1000;
    this.cooldownMs = (zone.rules?.cooldownS ?? LOITERING_DEFAULTS.cooldownS) * 1000;
  }

  evaluate(f: RuleFrame): RuleEvent[] {
    const key = `loitering:${this.zone.id}`;
    const inside = new Set(f.inZone.get(this.zone.id) ?? []);
    for (const id of [...this.entered.keys()]) if (!inside.has(id)) this.entered.delete(id);
    for (const id of inside) if (!this.entered.has(id)) this.entered.set(id, f.t);
    const over = [...this.entered].filter(([, since]) => f.t - since >= this.loiterMs);
    const dwell = Math.max(0, ...over.map(([, since]) => f.t - since));
    const detail = (): RuleEvent['detail'] => ({
      dwellS: Math.round(this.maxDwell / 1000),
      thresholdS: this.loiterMs / 1000,
      people: this.loiterers.size,
    });
    if (over.length > 0) this.lastLoiterer = f.t;
    if (!this.active) {
      if (over.length === 0 || f.t < this.cooldownUntil) return [];
      this.active = true;
      this.loiterers = new Set(over.map(([id]) => id));
      this.maxDwell = dwell;
      return [
        { type: 'raise', key, kind: 'loitering', zone: this.zone, t: f.t, score: 1, trackIds: [...this.loiterers], detail: detail() },
      ];
    }
    for (const [id] of over) this.loiterers.add(id);
    this.maxDwell = Math.max(this.maxDwell, dwell);
    if (over.length > 0 || f.t - this.lastLoiterer < LOITERING_DEFAULTS.clearAfterMs) return [];
    this.active = false;
    this.cooldownUntil = f.t + this.cooldownMs;
    const ev: RuleEvent = {
      type: 'clear',
      key,
      kind: 'loitering',
      zone: this.zone,
      t: f.t,
      score: 1,
      trackIds: [...this.loiterers],
      detail: detail(),
    };
    this.maxDwell = 0;
    return [ev];
  }
}
