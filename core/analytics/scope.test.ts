import { describe, expect, it } from 'vitest';
import { discoverAssetsDir } from '../config';
import { loadGeoData } from '../geo/geodata';
import type { LiveVehicle } from '../../contract';
import { alertScope, vehicleSpeed } from './scope';

const assets = process.env.SENTINEL_ASSETS || discoverAssetsDir();
const loaded = loadGeoData(assets);
const geo = loaded.geo;

describe('alert scope', () => {
  it('is empty without map data (only the all-alerts room receives it)', () => {
    expect(alertScope({ kind: 'station', stationId: '40380' }, null, null, null)).toEqual({
      placement: null,
      district: null,
      lines: [],
      routes: [],
    });
  });

  it.skipIf(!geo)(
    `a station camera gets its station's district and 'L' lines${geo ? '' : ' [skipped: assets pack with chicago/geo absent]'}`,
    () => {
      // Clark/Lake, in the Loop (CPD district 1); "Pexp" (Purple express) is not a line code alerts are scoped by.
      const s = alertScope({ kind: 'station', stationId: '40380' }, null, geo, null);
      expect(s.district).toBe('1');
      expect([...s.lines].sort()).toEqual(['Blue', 'Brn', 'G', 'Org', 'Pink']);
      expect(s.placement?.nearestStation?.id).toBe('40380');
    },
  );

  it.skipIf(!geo)(
    `a railcar camera gets its line; an unknown bus falls back to the camera's location${geo ? '' : ' [skipped: assets pack absent]'}`,
    () => {
      expect(alertScope({ kind: 'railcar', railcarId: '5001', line: 'Red' }, null, geo, null).lines).toEqual(['Red']);
      const bus = alertScope({ kind: 'bus', vehicleId: '1234' }, { lat: 41.8781, lon: -87.6298 }, geo, null);
      expect(bus.routes).toEqual([]);
      expect(bus.district).toBe('1');
    },
  );

  it("takes a bus camera's speed from its fresh feed position; stale or missing is unknown, a fixed camera has none", () => {
    const bus = (speedKmh: number | undefined, stale = false): LiveVehicle =>
      ({ id: 'bus:1234', stale, ...(speedKmh === undefined ? {} : { speedKmh }) }) as LiveVehicle;
    const feeds = (v: LiveVehicle | undefined) => ({ get: (id: string) => (id === 'bus:1234' ? v : undefined) });
    expect(vehicleSpeed({ kind: 'operator_cab', vehicleId: '1234' }, feeds(bus(32)))).toBe(32);
    expect(vehicleSpeed({ kind: 'bus', vehicleId: '1234' }, feeds(bus(0)))).toBe(0);
    expect(vehicleSpeed({ kind: 'bus', vehicleId: '1234' }, feeds(bus(32, true)))).toBeNull();
    expect(vehicleSpeed({ kind: 'bus', vehicleId: '1234' }, feeds(bus(undefined)))).toBeNull();
    expect(vehicleSpeed({ kind: 'bus', vehicleId: '1234' }, feeds(undefined))).toBeNull();
    expect(vehicleSpeed({ kind: 'bus', vehicleId: '1234' }, null)).toBeNull();
    expect(vehicleSpeed({ kind: 'station', stationId: '40380' }, feeds(bus(32)))).toBeUndefined();
  });
});
