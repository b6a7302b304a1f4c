import type { Zone } from '../../contract/zones';
import type { Rule, RuleEvent, RuleFrame } from './types';

export const SURGE_DEFAULTS = {
  surgeRise: 6,
  surgeWindowS: 15,
  /** The level now is the lowest count of the last 2 s: a count must hold to be a level, one frame's extra detections are not. */
  holdMs: 2000,
  /** Counts of the first seconds are left out: every person is new when the rule starts. */
  warmUpMs: 3000,
  /** Clears once the rise over the window has stayed under half the raising rise for this long. */
  clearAfterMs: 10_000,
  cooldownS: 60,
};

/**
 * Crowd surge: the zone's occupancy (tracked people in it) rising by `surgeRise` people or more
 * within `surgeWindowS` (default 6 in 15 s, 24 a minute) raises, before the zone is full:
 * a crowd pouring onto a platform or a stair is the warning, not the crowd itself (that is the
 * crowding rule). The rise is the held level now (lowest count of the last 2 s) minus the
 * lowest count in the window, so a detector's flicker neither makes nor hides a rise.
 */
export class SurgeRule implements Rule {
  readonly kind = 'crowd-surge' as const;
  private readonly counts: Array<{ t: number; n: number }> = [];
  private startedAt: number | null = null;
  private active = false;
  private calmSince: number | null = null;
  private cooldownUntil = -Infinity;
  private peakRise = 0;
  private readonly rise: number;
  private readonly windowMs: number;
  private readonly cooldownMs: number;

  constructor(private readonly zone: Zone) {
    this.rise = zone.rules?.surgeRise ?? SURGE_DEFAULTS.surgeRise;
    this.windowMs = (zone.rules?.surgeWindowS ?? SURGE_DEFAULTS.surgeWindowS) * 1000;
    this.cooldownMs = (zone.rules?.cooldownS ?? SURGE_DEFAULTS.cooldownS) * 1000;
  }

  evaluate(f: RuleFrame): RuleEvent[] {
    const key = `surge:${this.zone.id}`;
    const ids = [...(f.inZone.get(this.zone.id) ?? [])];
    this.startedAt ??= f.t;
    if (f.t - this.startedAt < SURGE_DEFAULTS.warmUpMs) return [];
    this.counts.push({ t: f.t, n: ids.length });
    while (this.counts.length && this.counts[0]!.t < f.t - this.windowMs) this.counts.shift();
    let level = Infinity;
    let low = Infinity;
    for (const c of this.counts) {
      low = Math.min(low, c.n);
      if (c.t >= f.t - SURGE_DEFAULTS.holdMs) level = Math.min(level, c.n);
    }
    const rise = level - low;
    const detail = (): RuleEvent['detail'] => ({
      people: ids.length,
      rise: this.peakRise,
      windowS: this.windowMs / 1000,
      perMinute: Math.round((this.peakRise / this.windowMs) * 60_000),
      threshold: this.rise,
    });
    if (!this.active) {
      if (rise < this.rise || f.t < this.cooldownUntil) return [];
      this.active = true;
      this.calmSince = null;
      this.peakRise = rise;
      return [
        {
          type: 'raise',
          key,
          kind: 'crowd-surge',
          zone: this.zone,
          t: f.t,
          score: Math.min(1, rise / this.rise / 2),
          trackIds: ids,
          detail: detail(),
        },
      ];
    }
    this.peakRise = Math.max(this.peakRise, rise);
    if (rise >= this.rise / 2) {
      this.calmSince = null;
      return [];
    }
    this.calmSince ??= f.t;
    if (f.t - this.calmSince < SURGE_DEFAULTS.clearAfterMs) return [];
    this.active = false;
    this.cooldownUntil = f.t + this.cooldownMs;
    const ev: RuleEvent = {
      type: 'clear',
      key,
      kind: 'crowd-surge',
      zone: this.zone,
      t: f.t,
      score: Math.min(1, this.peakRise / this.rise / 2),
      trackIds: ids,
      detail: detail(),
    };
    this.peakRise = 0;
    return [ev];
  }
}
