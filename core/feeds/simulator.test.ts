import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RAIL_LINES, Vehicle } from '../../contract';
import { discoverAssetsDir } from '../config';
import { GeoData } from '../geo/geodata';
import { distanceM } from '../geo/pip';
import { FleetSimulator } from './simulator';

const assetsDir = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
const assets = assetsDir !== null && existsSync(join(assetsDir, 'chicago', 'geo'));

describe.skipIf(!assets)('FleetSimulator on real CTA geometry (skipped: assets chicago/geo absent)', () => {
  const geo = assets ? new GeoData(assetsDir as string) : (null as unknown as GeoData);
  const t0 = Date.parse('2024-05-01T14:00:00Z');

  it('runs a peak fleet: 1,500 buses and 100+ trains on every line, all valid vehicles', () => {
    const sim = new FleetSimulator(geo, { buses: 1500, trains: 100, speed: 1, reportIntervalMs: 10_000, groups: 10 }, t0);
    expect(sim.size.buses).toBe(1500);
    expect(sim.size.trains).toBeGreaterThanOrEqual(100);
    const all = sim.all(t0);
    expect(new Set(all.map((v) => v.id)).size).toBe(all.length);
    for (const v of all) expect(Vehicle.safeParse(v).success).toBe(true);
    const lines = new Set(all.filter((v) => v.mode === 'train').map((v) => v.route));
    expect([...lines].sort()).toEqual([...RAIL_LINES].sort());
    // Everything is in the Chicago area.
    for (const v of all) {
      expect(v.lat).toBeGreaterThan(41.6);
      expect(v.lat).toBeLessThan(42.1);
      expect(v.lon).toBeGreaterThan(-88);
      expect(v.lon).toBeLessThan(-87.5);
    }
    // Most buses are inside a community area (a few routes run into the suburbs).
    const inCity = all.filter((v) => v.mode === 'bus' && geo.locate(v.lat, v.lon).communityArea !== null).length;
    expect(inCity / 1500).toBeGreaterThan(0.8);
  });

  it('reports in groups spread over the interval and moves vehicles at their speed, without jumps', () => {
    const sim = new FleetSimulator(geo, { buses: 300, trains: 40, speed: 1, reportIntervalMs: 10_000, groups: 10 }, t0);
    const before = new Map(sim.all(t0).map((v) => [v.id, v]));
    const seen = new Map<string, Vehicle>();
    let t = t0;
    for (let g = 0; g < 10; g++) {
      t += sim.groupIntervalMs;
      const batch = sim.nextReports(t);
      expect(batch.length).toBeGreaterThan(25);
      expect(batch.length).toBeLessThan(40);
      for (const v of batch) seen.set(v.id, v);
    }
    expect(seen.size).toBe(before.size);
    let moved = 0;
    for (const [id, v] of seen) {
      const d = distanceM(before.get(id)!.lat, before.get(id)!.lon, v.lat, v.lon);
      // At most 16 m/s for up to 10 s (a chord is never longer than the path).
      expect(d).toBeLessThan(165);
      if (d > 5) moved += 1;
    }
    expect(moved / seen.size).toBeGreaterThan(0.9);
  });

  it('is accelerated by the speed factor and is reproducible from its seed', () => {
    const a = new FleetSimulator(geo, { buses: 50, trains: 10, speed: 20, reportIntervalMs: 10_000, groups: 1, seed: 7 }, t0);
    const b = new FleetSimulator(geo, { buses: 50, trains: 10, speed: 20, reportIntervalMs: 10_000, groups: 1, seed: 7 }, t0);
    const start = new Map(a.all(t0).map((v) => [v.id, v]));
    const ra = a.nextReports(t0 + 10_000);
    expect(ra).toEqual(b.nextReports(t0 + 10_000));
    const far = ra.filter((v) => v.mode === 'train' && distanceM(start.get(v.id)!.lat, start.get(v.id)!.lon, v.lat, v.lon) > 500).length;
    expect(far).toBeGreaterThan(5); // 200 s of running at 10-16 m/s
  });
});
