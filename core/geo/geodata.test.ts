import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LiveVehicle } from '../../contract';
import { discoverAssetsDir } from '../config';
import { GeoData, loadGeoData } from './geodata';
import { placeMount } from './place';
import { bearingDeg, distanceM, makeRegion, RegionIndex } from './pip';

const assetsDir = process.env.SENTINEL_ASSETS ?? discoverAssetsDir();
const assets = assetsDir !== null && existsSync(join(assetsDir, 'chicago', 'geo'));

describe('point in polygon', () => {
  it('honours holes and multipolygons', () => {
    const square = (x: number, y: number, s: number): Array<[number, number]> => [
      [x, y],
      [x + s, y],
      [x + s, y + s],
      [x, y + s],
      [x, y],
    ];
    const idx = new RegionIndex([
      makeRegion('donut', [[square(0, 0, 10), square(4, 4, 2)]]),
      makeRegion('islands', [[square(20, 0, 1)], [square(30, 0, 1)]]),
    ]);
    expect(idx.find(1, 1)).toBe('donut');
    expect(idx.find(5, 5)).toBeNull();
    expect(idx.find(30.5, 0.5)).toBe('islands');
    expect(idx.find(25, 0.5)).toBeNull();
  });
  it('measures distance and bearing', () => {
    expect(distanceM(41.88, -87.63, 41.89, -87.63)).toBeCloseTo(1112, -1);
    expect(bearingDeg(41.88, -87.63, 41.89, -87.63)).toBeCloseTo(0, 3);
    expect(bearingDeg(41.88, -87.63, 41.88, -87.64)).toBeCloseTo(270, 0);
  });
});

describe.skipIf(!assets)('Chicago geography from the assets (skipped: assets chicago/geo absent)', () => {
  const geo = assets ? new GeoData(assetsDir as string) : (null as unknown as GeoData);

  it('places known points in their police district and community area', () => {
    // Daley Plaza in the Loop: CPD 1st district.
    expect(geo.locate(41.8842, -87.6304)).toEqual({ district: '1', communityArea: 'Loop' });
    // Wrigley Field: Lake View, 19th district.
    expect(geo.locate(41.9484, -87.6553)).toEqual({ district: '19', communityArea: 'Lake View' });
    // Out in the lake: nothing.
    expect(geo.locate(41.9, -87.4)).toEqual({ district: null, communityArea: null });
  });

  it('finds stations by Train Tracker map id and by proximity', () => {
    expect(geo.stations.length).toBe(143);
    expect(geo.stationById.get('40960')?.name).toBe('Pulaski');
    const near = geo.nearestStation(41.9484, -87.6553);
    expect(near?.station.name).toBe('Addison');
    expect(near?.distanceM).toBeLessThan(300);
  });

  it('places a station mount at the station and a bus mount at the live bus', () => {
    const station = placeMount(geo, { get: () => undefined }, { kind: 'station', stationId: '40960' });
    expect(station).toMatchObject({
      lat: 41.799756,
      lon: -87.724493,
      district: '8',
      vehicleId: null,
      nearestStation: { id: '40960', name: 'Pulaski', distanceM: 0 },
    });
    const bus: LiveVehicle = {
      id: 'bus:6438',
      mode: 'bus',
      route: '22',
      lat: 41.9484,
      lon: -87.6553,
      heading: 0,
      destination: 'Howard',
      timestamp: new Date().toISOString(),
      delayed: false,
      feed: 'sim',
      stale: true,
      district: '19',
      communityArea: 'Lake View',
    };
    const lookup = { get: (id: string) => (id === bus.id ? bus : undefined) };
    expect(placeMount(geo, lookup, { kind: 'vehicle', vehicleId: 'bus:6438' })).toMatchObject({
      district: '19',
      communityArea: 'Lake View',
      vehicleId: 'bus:6438',
      stale: true,
    });
    expect(placeMount(geo, lookup, { kind: 'vehicle', vehicleId: 'bus:1' })).toBeNull();
    expect(placeMount(geo, lookup, { kind: 'station', stationId: '99999' })).toBeNull();
  });

  it('serves compact layers with the properties the map styles use', () => {
    const rail = JSON.parse(geo.layer('rail-lines')) as { features: Array<{ properties: { color: string; legend: string } }> };
    expect(rail.features.find((f) => f.properties.legend === 'RD')?.properties.color).toBe('#c60c30');
    const areas = JSON.parse(geo.layer('community-areas')) as { features: unknown[] };
    expect(areas.features).toHaveLength(77);
    expect(geo.layer('community-areas').length).toBeLessThan(2_380_433);
  });

  it('reports missing geography instead of throwing', () => {
    const r = loadGeoData('/nonexistent-assets');
    expect(r.geo).toBeNull();
    expect('reason' in r && r.reason).toMatch(/community_areas\.geojson is missing/);
  });
});
