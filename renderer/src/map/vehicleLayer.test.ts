import type { GeoJSONSourceDiff } from 'maplibre-gl';
import { describe, expect, it } from 'vitest';
import type { LiveVehicle } from '../../../contract';
import { NO_FILTER, VehicleLayer, matches } from './vehicleLayer';

// MapLibre's GeoJSONSource needs WebGL and a worker; the e2e test drives the real one. Here a
// recorder stands in for it to check which diffs the layer sends.
function recorder() {
  const calls: GeoJSONSourceDiff[] = [];
  return { calls, source: { updateData: (d: GeoJSONSourceDiff) => void calls.push(structuredClone(d)) } };
}

const v = (id: string, extra: Partial<LiveVehicle> = {}): LiveVehicle => ({
  id,
  mode: id.startsWith('train') ? 'train' : 'bus',
  route: id.startsWith('train') ? 'Red' : '22',
  lat: 41.9,
  lon: -87.6,
  heading: 90,
  destination: 'Howard',
  timestamp: '2024-01-01T00:00:00Z',
  delayed: false,
  feed: 'demo',
  stale: false,
  district: '19',
  communityArea: 'Lake View',
  ...extra,
});

describe('VehicleLayer', () => {
  it('adds new vehicles, updates known ones in place and removes departed ones, per source', async () => {
    const bus = recorder();
    const train = recorder();
    const layer = new VehicleLayer({ bus: bus.source, train: train.source });
    await layer.reset([v('bus:1'), v('train:9')]);
    expect(bus.calls[0]).toMatchObject({
      removeAll: true,
      add: [{ id: 'bus:1', geometry: { coordinates: [-87.6, 41.9] }, properties: { route: '22', heading: 90 } }],
    });
    expect(train.calls[0]?.add?.[0]?.properties).toMatchObject({ label: 'Red', route: 'Red' });

    await layer.apply({ upsert: [v('bus:1', { lat: 41.95, stale: true }), v('bus:2')], remove: ['train:9'] });
    const d = bus.calls[1]!;
    expect(d.add?.map((f) => f.id)).toEqual(['bus:2']);
    expect(d.update).toEqual([
      {
        id: 'bus:1',
        newGeometry: { type: 'Point', coordinates: [-87.6, 41.95] },
        addOrUpdateProperties: expect.arrayContaining([{ key: 'stale', value: true }]),
      },
    ]);
    expect(train.calls[1]).toEqual({ add: [], update: [], remove: ['train:9'] });
    expect(layer.shownCount).toBe(2);
  });

  it('sends nothing to a source with nothing to change', async () => {
    const bus = recorder();
    const train = recorder();
    const layer = new VehicleLayer({ bus: bus.source, train: train.source });
    await layer.apply({ upsert: [v('bus:1')], remove: [] });
    expect(bus.calls).toHaveLength(1);
    expect(train.calls).toHaveLength(0);
  });

  it('filters by removing hidden vehicles and re-adding them when the filter is lifted', async () => {
    const bus = recorder();
    const train = recorder();
    const layer = new VehicleLayer({ bus: bus.source, train: train.source });
    const all = new Map(
      [v('bus:1'), v('bus:2', { route: '9', district: '1' }), v('train:9'), v('train:8', { route: 'Blue' })].map((x) => [x.id, x]),
    );
    await layer.reset(all.values());
    await layer.setFilter({ ...NO_FILTER, lines: new Set(['Red']), district: '19' }, all);
    expect(bus.calls.at(-1)).toEqual({ add: [], update: [], remove: ['bus:2'] });
    expect(train.calls.at(-1)).toEqual({ add: [], update: [], remove: ['train:8'] });
    // An update for a hidden vehicle stays off the map.
    const callsBefore = bus.calls.length;
    await layer.apply({ upsert: [v('bus:2', { route: '9', district: '1', lat: 41.8 })], remove: [] });
    expect(bus.calls.length).toBe(callsBefore);
    await layer.setFilter(NO_FILTER, all);
    expect(bus.calls.at(-1)?.add?.map((f) => f.id)).toEqual(['bus:2']);
    expect(train.calls.at(-1)?.add?.map((f) => f.id)).toEqual(['train:8']);
  });

  it('matches by mode, line, route and district', () => {
    expect(matches(v('bus:1'), { ...NO_FILTER, showBuses: false })).toBe(false);
    expect(matches(v('bus:1'), { ...NO_FILTER, lines: new Set(['Blue']) })).toBe(true); // a line filter leaves buses
    expect(matches(v('bus:1'), { ...NO_FILTER, routes: new Set(['9']) })).toBe(false);
    expect(matches(v('train:1'), { ...NO_FILTER, routes: new Set(['9']) })).toBe(true);
    expect(matches(v('train:1'), { ...NO_FILTER, district: '1' })).toBe(false);
  });
});
