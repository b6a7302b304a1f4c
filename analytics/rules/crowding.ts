import type { Zone } from '../../contract/zones';
import type { Rule, RuleEvent, RuleFrame } from './types';

export const CROWDING_DEFAULTS = { holdS: 10, clearRatio: 0.8, cooldownS: 60 };

/**
 * Crowding with hysteresis: raises when the zone holds `capacity` people or more for
 * `holdS` seconds, clears when it holds fewer than `clearRatio * capacity` for `holdS`
 * seconds. Between the two thresholds nothing changes, so a count wobbling around the
 * capacity does not flap. After a clear the zone stays quiet for `cooldownS`.
 */
export class CrowdingRule implements Rule {
  readonly kind = 'crowding' as const;
  private aboveSince: number | null = null;
  private belowSince: number | null = null;
  private active = false;
  private cooldownUntil = -Infinity;
  private peak = 0;
  private readonly capacity: number;
  private readonly holdMs: number;
  private readonly clearBelow: number;
  private readonly cooldownMs: number;

  constructor(private readonly zone: Zone) {
    this.capacity = zone.capacity ?? 1;
    this.holdMs = (zone.rules?.holdS ?? CROWDING_DEFAULTS.holdS) * 1000;
    this.clearBelow = (zone.rules?.clearRatio ?? CROWDING_DEFAULTS.clearRatio) * this.capacity;
    this.cooldownMs = (zone.rules?.cooldownS ?? CROWDING_DEFAULTS.cooldownS) * 1000;
  }

  evaluate(f: RuleFrame): RuleEvent[] {
    const ids = [...(f.inZone.get(this.zone.id) ?? [])];
    const n = ids.length;
    const key = `crowding:${this.zone.id}`;
    const detail = (): RuleEvent['detail'] => ({ people: n, capacity: this.capacity, peak: this.peak, holdS: this.holdMs / 1000 });
    if (!this.active) {
      if (n >= this.capacity) {
        this.aboveSince ??= f.t;
        if (f.t - this.aboveSince >= this.holdMs && f.t >= this.cooldownUntil) {
          this.active = true;
          this.peak = n;
          this.belowSince = null;
          return [
            {
              type: 'raise',
              key,
              kind: 'crowding',
              zone: this.zone,
              t: f.t,
              score: Math.min(1, n / this.capacity),
              trackIds: ids,
              detail: detail(),
            },
          ];
        }
      } else {
        this.aboveSince = null;
      }
      return [];
    }
    this.peak = Math.max(this.peak, n);
    if (n < this.clearBelow) {
      this.belowSince ??= f.t;
      if (f.t - this.belowSince >= this.holdMs) {
        this.active = false;
        this.aboveSince = null;
        this.cooldownUntil = f.t + this.cooldownMs;
        const ev: RuleEvent = {
          type: 'clear',
          key,
          kind: 'crowding',
          zone: this.zone,
          t: f.t,
          score: Math.min(1, this.peak / this.capacity),
          trackIds: ids,
          detail: detail(),
        };
        this.peak = 0;
        return [ev];
      }
    } else {
      this.belowSince = null;
    }
    return [];
  }
}
