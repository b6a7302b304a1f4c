import type { Zone } from '../../contract/zones';
import type { Rule, RuleEvent, RuleFrame } from './types';

export const BARRIER_DEFAULTS = { dwellMs: 1500, cooldownS: 30, clearAfterMs: 2000, movingKmh: 3 };

/**
 * Operator-barrier breach: a tracked person inside the operator zone (outside its excluded
 * sub-zones, i.e. not the operator in their seat) for `dwellMs` raises one alert for the
 * zone, not one per frame or per person; the alert clears once nobody has been inside for
 * `clearAfterMs`, and the zone then stays quiet for `cooldownS`. With `onlyWhileMoving`,
 * a breach counts only while the vehicle is known to move (speed above 3 km/h); an unknown
 * speed does not suppress it, since missing a breach is worse than a spurious alert.
 */
export class BarrierRule implements Rule {
  readonly kind = 'barrier' as const;
  /** When each track (id) entered, while it stays inside. */
  private readonly entered = new Map<number, number>();
  private active = false;
  private lastInside = -Infinity;
  private cooldownUntil = -Infinity;
  private alerted = new Set<number>();
  private maxDwell = 0;
  private readonly dwellMs: number;
  private readonly cooldownMs: number;

  constructor(private readonly zone: Zone) {
    this.dwellMs = zone.rules?.dwellMs ?? BARRIER_DEFAULTS.dwellMs;
    this.cooldownMs = (zone.rules?.cooldownS ?? BARRIER_DEFAULTS.cooldownS) * 1000;
  }

  evaluate(f: RuleFrame): RuleEvent[] {
    const key = `barrier:${this.zone.id}`;
    const inside = new Set(f.inZone.get(this.zone.id) ?? []);
    for (const id of [...this.entered.keys()]) if (!inside.has(id)) this.entered.delete(id);
    for (const id of inside) if (!this.entered.has(id)) this.entered.set(id, f.t);
    if (inside.size > 0) this.lastInside = f.t;

    const gated = this.zone.rules?.onlyWhileMoving === true && f.speedKmh !== null && f.speedKmh < BARRIER_DEFAULTS.movingKmh;
    const breaching = [...this.entered].filter(([, since]) => f.t - since >= this.dwellMs).map(([id]) => id);
    const dwell = Math.max(0, ...[...this.entered.values()].map((since) => f.t - since));
    const detail = (): RuleEvent['detail'] => ({
      dwellMs: Math.round(this.maxDwell),
      thresholdMs: this.dwellMs,
      people: inside.size,
      speedKmh: f.speedKmh,
    });

    if (!this.active) {
      if (breaching.length > 0 && !gated && f.t >= this.cooldownUntil) {
        this.active = true;
        this.alerted = new Set(breaching);
        this.maxDwell = dwell;
        return [
          {
            type: 'raise',
            key,
            kind: 'barrier',
            zone: this.zone,
            t: f.t,
            score: Math.min(1, dwell / Math.max(1, this.dwellMs)),
            trackIds: breaching,
            detail: detail(),
          },
        ];
      }
      return [];
    }
    for (const id of breaching) this.alerted.add(id);
    this.maxDwell = Math.max(this.maxDwell, dwell);
    if (inside.size === 0 && f.t - this.lastInside >= BARRIER_DEFAULTS.clearAfterMs) {
      this.active = false;
      this.cooldownUntil = f.t + this.cooldownMs;
      const ev: RuleEvent = {
        type: 'clear',
        key,
        kind: 'barrier',
        zone: this.zone,
        t: f.t,
        score: Math.min(1, this.maxDwell / Math.max(1, this.dwellMs)),
        trackIds: [...this.alerted],
        detail: detail(),
      };
      this.maxDwell = 0;
      return [ev];
    }
    return [];
  }
}
