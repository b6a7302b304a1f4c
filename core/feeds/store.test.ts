import { describe, expect, it } from 'vitest';
import type { Vehicle } from '../../contract';
import { VehicleStore } from './store';

function bus(id: string, lat: number, ts: string, extra: Partial<Vehicle> = {}): Vehicle {
  return {
    id: `bus:${id}`,
    mode: 'bus',
    route: '22',
    lat,
    lon: -87.63,
    heading: 0,
    destination: 'Howard',
    timestamp: ts,
    delayed: false,
    ...extra,
  };
}

function setup() {
  let now = 1_000_000;
  const store = new VehicleStore({
    staleAfterMs: 120_000,
    dropAfterMs: 300_000,
    now: () => now,
    locate: (lat) => ({ district: lat > 41.9 ? '19' : '1', communityArea: lat > 41.9 ? 'Lake View' : 'Loop' }),
  });
  return { store, advance: (ms: number) => (now += ms) };
}

describe('VehicleStore', () => {
  it('emits only new and changed vehicles, with district and community area', () => {
    const { store } = setup();
    const d1 = store.ingest('bt', [bus('1', 41.88, '2024-01-01T12:00:00Z'), bus('2', 41.95, '2024-01-01T12:00:00Z')]);
    expect(d1?.upsert.map((v) => [v.id, v.district, v.communityArea, v.feed, v.stale])).toEqual([
      ['bus:1', '1', 'Loop', 'bt', false],
      ['bus:2', '19', 'Lake View', 'bt', false],
    ]);
    expect(d1?.seq).toBe(1);
    // Same reports again: nothing to send.
    expect(store.ingest('bt', [bus('1', 41.88, '2024-01-01T12:00:00Z'), bus('2', 41.95, '2024-01-01T12:00:00Z')])).toBeNull();
    const d2 = store.ingest('bt', [bus('1', 41.91, '2024-01-01T12:00:30Z'), bus('2', 41.95, '2024-01-01T12:00:00Z')]);
    expect(d2?.upsert.map((v) => [v.id, v.lat, v.district])).toEqual([['bus:1', 41.91, '19']]);
    expect(d2?.seq).toBe(2);
    expect(store.size).toBe(2);
  });

  it('ignores an older report that arrives after a newer one', () => {
    const { store } = setup();
    store.ingest('bt', [bus('1', 41.88, '2024-01-01T12:00:30Z')]);
    expect(store.ingest('bt', [bus('1', 41.8, '2024-01-01T12:00:00Z')])).toBeNull();
    expect(store.get('bus:1')?.lat).toBe(41.88);
  });

  it('marks a silent vehicle stale, then drops it after N minutes', () => {
    const { store, advance } = setup();
    store.ingest('bt', [bus('1', 41.88, '2024-01-01T12:00:00Z'), bus('2', 41.88, '2024-01-01T12:00:00Z')]);
    advance(60_000);
    store.ingest('bt', [bus('2', 41.881, '2024-01-01T12:01:00Z')]);
    advance(61_000);
    // bus 1 silent 121 s; a repeated, unchanged record does not count as a report.
    const repeated = store.ingest('bt', [bus('1', 41.88, '2024-01-01T12:00:00Z')]);
    expect(repeated?.upsert.map((v) => [v.id, v.stale])).toEqual([['bus:1', true]]);
    expect(store.sweep()).toBeNull(); // already stale; bus 2 reported 61 s ago
    advance(60_000);
    const s = store.sweep();
    expect(s?.upsert.map((v) => [v.id, v.stale])).toEqual([['bus:2', true]]);
    expect(s?.remove).toEqual([]);
    advance(120_000);
    const d = store.sweep();
    expect(d?.remove).toEqual(['bus:1']);
    expect(store.get('bus:1')).toBeUndefined();
    // bus 2 reported at +60 s, so at +301 s it is stale but still here.
    expect(store.get('bus:2')?.stale).toBe(true);
  });

  it('keeps a down feed’s vehicles, marked stale, and refreshes them when it recovers', () => {
    const { store, advance } = setup();
    store.ingest('bt', [bus('1', 41.88, '2024-01-01T12:00:00Z')]);
    store.ingest('tt', [{ ...bus('9', 41.88, '2024-01-01T12:00:00Z'), id: 'train:9', mode: 'train', route: 'Red' }]);
    const down = store.setFeedDown('bt', true);
    expect(down?.upsert.map((v) => [v.id, v.stale])).toEqual([['bus:1', true]]);
    expect(store.setFeedDown('bt', true)).toBeNull();
    advance(600_000);
    const swept = store.sweep();
    expect(swept?.remove).toEqual(['train:9']); // its feed was up but silent
    expect(store.get('bus:1')?.stale).toBe(true); // kept: last known position during the outage
    store.setFeedDown('bt', false);
    const back = store.ingest('bt', [bus('1', 41.89, '2024-01-01T12:10:00Z')]);
    expect(back?.upsert.map((v) => [v.id, v.stale, v.lat])).toEqual([['bus:1', false, 41.89]]);
  });
});
