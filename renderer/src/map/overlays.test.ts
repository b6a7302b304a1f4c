import { describe, expect, it } from 'vitest';
import type { Alert, Camera, Incident, LiveVehicle } from '../../../contract';
import { liveHealth, testCamera } from '../testing/camera';
import { buildOverlay, KeyedLayer, openAlerts, TrailTracker, vehicleContextFor, type OverlayInput } from './overlays';

const health = liveHealth;
const camera = (id: string, mount: Camera['mount'], location: Camera['location'] = null): Camera =>
  testCamera(id, { mount, location, url: 'rtsp://x/y' });
const bus = (id: string, lon: number, lat: number): LiveVehicle =>
  ({
    id,
    mode: 'bus',
    route: '9',
    lon,
    lat,
    heading: 0,
    stale: false,
    delayed: false,
    destination: 'N',
    nextStop: null,
    timestamp: '2026-01-01T10:00:00Z',
    district: '1',
    communityArea: 'Loop',
  }) as LiveVehicle;
const alert = (
  id: string,
  cameraId: string,
  kind: Alert['kind'],
  startedAt: string,
  endedAt: string | null = null,
  vehicleId: string | null = null,
): Alert => ({
  id,
  kind,
  cameraId,
  cameraName: cameraId,
  zoneId: 'zone-1',
  zoneName: 'Zone',
  score: 1,
  startedAt,
  endedAt,
  snapshotUrl: null,
  trackIds: [],
  detail: {},
  scope: {
    placement: vehicleId ? { lat: 41, lon: -87, district: '1', communityArea: null, nearestStation: null, vehicleId, stale: false } : null,
    district: null,
    lines: [],
    routes: [],
  },
});
const incident = (id: string, alertIds: string[], state: Incident['state'] = 'new'): Incident => ({
  id,
  title: id,
  kind: 'barrier',
  state,
  cameraId: 'cab',
  cameraName: 'cab',
  zoneId: null,
  vehicleId: null,
  stationId: null,
  scope: { placement: null, district: null, lines: [], routes: [] },
  assignee: null,
  alertIds,
  links: [],
  createdAt: '2026-01-01T10:00:00Z',
  updatedAt: '2026-01-01T10:00:00Z',
  acknowledgedAt: null,
  dispatchedAt: null,
  resolvedAt: null,
  timeToAcknowledgeS: null,
  events: [],
});

const base = (over: Partial<OverlayInput>): OverlayInput => ({
  cameras: new Map(),
  alerts: [],
  incidents: [],
  acks: new Map(),
  vehicles: new Map(),
  stations: new Map(),
  trails: new Map(),
  selectedIncidentId: null,
  selectedAlertId: null,
  now: Date.parse('2026-01-01T10:00:30Z'),
  ...over,
});

describe('map overlay', () => {
  const cab = camera('cab', { kind: 'operator_cab', vehicleId: '1234' });
  const platform = camera('platform', { kind: 'station', stationId: '40380' }, { lat: 1, lon: 2 });

  it('puts a station camera at its station and a bus camera on the bus, wherever the bus is now', () => {
    const input = base({
      cameras: new Map([
        ['cab', cab],
        ['platform', platform],
      ]),
      vehicles: new Map([['bus:1234', bus('bus:1234', -87.6, 41.9)]]),
      stations: new Map([['40380', [-87.63, 41.885] as [number, number]]]),
    });
    const o = buildOverlay(input);
    expect(Object.fromEntries(o.cameras.map((f) => [f.properties.cameraId, f.geometry.coordinates]))).toEqual({
      cab: [-87.6, 41.9],
      platform: [-87.63, 41.885],
    });
    // The bus moved: its camera moves with it.
    const moved = buildOverlay({ ...input, vehicles: new Map([['bus:1234', bus('bus:1234', -87.61, 41.91)]]) });
    expect(moved.cameras.find((f) => f.properties.cameraId === 'cab')?.geometry.coordinates).toEqual([-87.61, 41.91]);
  });

  it('draws one marker per incident on the vehicle’s live position, with the highest severity, the selection and the trail', () => {
    const alerts = [
      alert('a2', 'cab', 'fight', '2026-01-01T10:00:20Z', null, 'bus:1234'),
      alert('a1', 'cab', 'barrier', '2026-01-01T10:00:00Z', '2026-01-01T10:00:10Z', 'bus:1234'),
    ];
    const trails = new TrailTracker();
    const vehicles = new Map([['bus:1234', bus('bus:1234', -87.6, 41.9)]]);
    trails.record(vehicles, ['bus:1234'], 0);
    vehicles.set('bus:1234', bus('bus:1234', -87.601, 41.901));
    trails.record(vehicles, ['bus:1234'], 1000);
    const o = buildOverlay(
      base({
        cameras: new Map([['cab', cab]]),
        alerts,
        incidents: [incident('i1', ['a1', 'a2'])],
        vehicles,
        trails: trails.trails,
        selectedIncidentId: 'i1',
      }),
    );
    expect(o.alerts).toHaveLength(1);
    expect(o.alerts[0]!.geometry.coordinates).toEqual([-87.601, 41.901]);
    expect(o.alerts[0]!.properties).toMatchObject({
      alertId: 'a2',
      incidentId: 'i1',
      severity: 'critical',
      count: 2,
      selected: true,
      active: true,
      vehicleId: 'bus:1234',
      age: 0,
    });
    expect(o.trails[0]!.geometry.coordinates).toEqual([
      [-87.6, 41.9],
      [-87.601, 41.901],
    ]);
  });

  it('leaves a cleared alert of a closed incident off the map, keeps a cleared one of an open incident', () => {
    const a = [alert('a1', 'cab', 'barrier', '2026-01-01T10:00:00Z', '2026-01-01T10:00:10Z')];
    expect(openAlerts(a, [incident('i1', ['a1'], 'resolved')])).toHaveLength(0);
    expect(openAlerts(a, [incident('i1', ['a1'], 'acknowledged')])).toHaveLength(1);
    expect(openAlerts(a, [])).toHaveLength(0);
  });

  it('lists a vehicle’s cameras and open alerts, or says unknown while the link or the camera is down', () => {
    const alerts = [alert('a1', 'cab', 'barrier', '2026-01-01T10:00:00Z')];
    const input = { cameras: new Map([['cab', cab]]), alerts, incidents: [], linkUp: true, alertsLoaded: true, alertsProblem: null };
    const ctx = vehicleContextFor('bus:1234', input);
    expect(ctx.cameras.map((c) => c.id)).toEqual(['cab']);
    expect(ctx.alerts.map((x) => x.id)).toEqual(['a1']);
    expect(ctx.unknown).toBeNull();
    expect(vehicleContextFor('bus:1000', input)).toEqual({ cameras: [], alerts: [], unknown: null });
    expect(vehicleContextFor('bus:1234', { ...input, linkUp: false }).unknown).toMatch(/link to the Sentinel core is down/);
    const offline = new Map([['cab', { ...cab, health: { ...health, state: 'offline' as const } }]]);
    expect(vehicleContextFor('bus:1234', { ...input, cameras: offline }).unknown).toMatch(/camera feed down \(offline\)/);
  });

  it('sends a source only the features that were added, changed or removed', () => {
    const diffs: unknown[] = [];
    const layer = new KeyedLayer({ updateData: (d) => diffs.push(d) });
    const f = (id: string, x: number) => ({
      type: 'Feature' as const,
      id,
      geometry: { type: 'Point' as const, coordinates: [x, 0] },
      properties: { id },
    });
    void layer.set([f('a', 1), f('b', 2)]);
    void layer.set([f('a', 1), f('b', 3)]);
    void layer.set([f('a', 1), f('b', 3)]);
    void layer.set([f('b', 3)]);
    expect(diffs).toEqual([
      { add: [f('a', 1), f('b', 2)], remove: [] },
      { add: [f('b', 3)], remove: [] },
      { add: [], remove: ['a'] },
    ]);
  });
});
