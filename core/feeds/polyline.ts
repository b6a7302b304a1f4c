import { bearingDeg, distanceM } from '../geo/pip';

/** A line with cumulative distances, so a vehicle at distance d along it is found by bisection. */
export class Polyline {
  readonly cum: Float64Array;
  readonly length: number;

  constructor(readonly coords: ReadonlyArray<readonly [number, number]>) {
    this.cum = new Float64Array(coords.length);
    for (let i = 1; i < coords.length; i++) {
      const a = coords[i - 1]!;
      const b = coords[i]!;
      this.cum[i] = (this.cum[i - 1] as number) + distanceM(a[1], a[0], b[1], b[0]);
    }
    this.length = this.cum[coords.length - 1] ?? 0;
  }

  /** Position and heading at distance d (clamped), heading in the direction of travel. */
  at(d: number, forward = true): { lon: number; lat: number; heading: number } {
    const dist = Math.min(Math.max(d, 0), this.length);
    let lo = 0;
    let hi = this.coords.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((this.cum[mid] as number) <= dist) lo = mid;
      else hi = mid;
    }
    const a = this.coords[lo]!;
    const b = this.coords[hi] ?? a;
    const seg = (this.cum[hi] as number) - (this.cum[lo] as number);
    const f = seg > 0 ? (dist - (this.cum[lo] as number)) / seg : 0;
    const lon = a[0] + (b[0] - a[0]) * f;
    const lat = a[1] + (b[1] - a[1]) * f;
    const h = bearingDeg(a[1], a[0], b[1], b[0]);
    return { lon, lat, heading: forward ? h : (h + 180) % 360 };
  }
}
