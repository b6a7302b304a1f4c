import { describe, expect, it } from 'vitest';
import { discoverAssetsDir } from '../config';
import { loadGeoData } from '../geo/geodata';
import { alertScope } from './scope';

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
});
