import type { Feature, LineString, Point } from 'geojson';
import type { GeoJSONSourceDiff } from 'maplibre-gl';
import type { Alert, AlertAcked, Camera, CameraMount, Incident, LiveVehicle } from '../../../contract';
import { ALERT_KIND_LABEL } from '../../../contract';
import type { DiffableSource } from './vehicleLayer';

/**
 * What the map draws over the fleet: cameras where they are mounted, open alerts where they
 * happen (riding on their vehicle when the camera is on one), and the recent trail of every
 * vehicle that carries an open alert. Pure functions of the stores' contents, so the map
 * recomputes them on every fleet diff and sends MapLibre only the features that changed.
 */

type Value = string | number | boolean | null;
export type PointFeature = Feature<Point, Record<string, Value>> & { id: string };
export type TrailFeature = Feature<LineString, Record<string, Value>> & { id: string };

export type Severity = 'critical' | 'high' | 'medium';

/**
 * A person on the tracks and a fight are the most urgent; a person down, someone in the
 * operator's protected area, a bag left alone and a surging crowd next; crowding, loitering
 * and rider texts last.
 */
const SEVERITY_OF: Record<Alert['kind'], Severity> = {
  intrusion: 'critical',
  fight: 'critical',
  'person-down': 'high',
  barrier: 'high',
  'unattended-object': 'high',
  'crowd-surge': 'high',
  crowding: 'medium',
  loitering: 'medium',
  'rider-report': 'medium',
};
export function severityOf(a: Pick<Alert, 'kind'>): Severity {
  return SEVERITY_OF[a.kind];
}
const SEVERITY_RANK: Record<Severity, number> = { critical: 3, high: 2, medium: 1 };

/** The fleet id of the vehicle a camera rides on, or null for a fixed camera. */
export function mountVehicleId(mount: CameraMount): string | null {
  if (mount.kind === 'bus' || mount.kind === 'operator_cab')
    return mount.vehicleId.includes(':') ? mount.vehicleId : `bus:${mount.vehicleId}`;
  if (mount.kind === 'railcar') return `train:${mount.railcarId}`;
  return null;
}

export interface Position {
  lon: number;
  lat: number;
  vehicleId: string | null;
  stale: boolean;
}

export interface OverlayInput {
  cameras: ReadonlyMap<string, Camera>;
  alerts: readonly Alert[];
  incidents: readonly Incident[];
  acks: ReadonlyMap<string, readonly AlertAcked[]>;
  vehicles: ReadonlyMap<string, LiveVehicle>;
  /** 'L' station positions by station id (the core's stations layer). */
  stations: ReadonlyMap<string, [number, number]>;
  trails: ReadonlyMap<string, ReadonlyArray<[number, number]>>;
  selectedIncidentId: string | null;
  selectedAlertId: string | null;
  now: number;
  /** Markers placed by other means (a rider's text placed by what it says), drawn with the alerts. */
  extraAlerts?: readonly PointFeature[];
}

/** Where a camera is now: on its vehicle's live position, at its station, or at its registered point. */
export function cameraPosition(
  c: Camera,
  vehicles: ReadonlyMap<string, LiveVehicle>,
  stations: ReadonlyMap<string, [number, number]>,
): Position | null {
  const vid = mountVehicleId(c.mount);
  if (vid) {
    const v = vehicles.get(vid);
    if (v) return { lon: v.lon, lat: v.lat, vehicleId: v.id, stale: v.stale };
    return null; // a vehicle camera is never drawn at a stale registered point
  }
  if (c.mount.kind === 'station') {
    const st = stations.get(c.mount.stationId);
    if (st) return { lon: st[0], lat: st[1], vehicleId: null, stale: false };
  }
  return c.location ? { lon: c.location.lon, lat: c.location.lat, vehicleId: null, stale: false } : null;
}

/**
 * Where an alert is now. An alert from a vehicle camera moves with the vehicle (its live
 * position, not where it was raised); otherwise the camera's place, else where the core
 * placed it when it was raised.
 */
export function alertPosition(
  a: Alert,
  camera: Camera | undefined,
  vehicles: ReadonlyMap<string, LiveVehicle>,
  stations: ReadonlyMap<string, [number, number]>,
): Position | null {
  const vid = a.scope.placement?.vehicleId ?? (camera ? mountVehicleId(camera.mount) : null);
  if (vid) {
    const v = vehicles.get(vid);
    if (v) return { lon: v.lon, lat: v.lat, vehicleId: v.id, stale: v.stale };
  }
  const fixed = camera ? cameraPosition(camera, vehicles, stations) : null;
  if (fixed) return fixed;
  const p = a.scope.placement;
  return p ? { lon: p.lon, lat: p.lat, vehicleId: p.vehicleId, stale: true } : null;
}

/**
 * Open alerts: still active, or part of an incident nobody has closed. A cleared alert of
 * a closed (or unknown) incident is history: it stays in the queue but leaves the map.
 */
export function openAlerts(
  alerts: readonly Alert[],
  incidents: readonly Incident[],
): Array<{ alert: Alert; incident: Incident | undefined }> {
  const byAlert = new Map<string, Incident>();
  for (const i of incidents) for (const id of i.alertIds) byAlert.set(id, i);
  const out: Array<{ alert: Alert; incident: Incident | undefined }> = [];
  for (const a of alerts) {
    const inc = byAlert.get(a.id);
    const incidentOpen = inc !== undefined && inc.state !== 'resolved' && inc.state !== 'false-alarm';
    const incidentClosed = inc !== undefined && !incidentOpen;
    if (incidentClosed) continue;
    if (a.endedAt === null || incidentOpen) out.push({ alert: a, incident: inc });
  }
  return out;
}

export interface Overlay {
  cameras: PointFeature[];
  alerts: PointFeature[];
  trails: TrailFeature[];
  /** Vehicles that carry an open alert (their trails are worth keeping). */
  alertVehicles: Set<string>;
}

/**
 * One map marker per incident (or per camera for alerts not yet in an incident): its newest
 * alert's place, the highest severity among its alerts, the count, and the age of the newest
 * (markers fade as they age). Several alerts of one breach on one bus are one marker.
 */
export function buildOverlay(input: OverlayInput): Overlay {
  const cameras: PointFeature[] = [];
  for (const c of input.cameras.values()) {
    const pos = cameraPosition(c, input.vehicles, input.stations);
    if (!pos) continue;
    cameras.push({
      type: 'Feature',
      id: `camera:${c.id}`,
      geometry: { type: 'Point', coordinates: [pos.lon, pos.lat] },
      properties: {
        id: `camera:${c.id}`,
        cameraId: c.id,
        name: c.name,
        mount: c.mount.kind,
        state: c.health.state,
        vehicleId: pos.vehicleId,
        stale: pos.stale,
      },
    });
  }

  const groups = new Map<string, Array<{ alert: Alert; incident: Incident | undefined }>>();
  for (const o of openAlerts(input.alerts, input.incidents)) {
    const key = o.incident ? `incident:${o.incident.id}` : `camera:${o.alert.cameraId}`;
    const g = groups.get(key);
    if (g) g.push(o);
    else groups.set(key, [o]);
  }
  const alerts: PointFeature[] = [];
  const alertVehicles = new Set<string>();
  for (const [key, group] of groups) {
    // The store keeps alerts newest first, so group[0] is the newest.
    const newest = group[0]!;
    const pos = alertPosition(newest.alert, input.cameras.get(newest.alert.cameraId), input.vehicles, input.stations);
    if (!pos) continue;
    if (pos.vehicleId) alertVehicles.add(pos.vehicleId);
    const severity = group.map((g) => severityOf(g.alert)).reduce((a, b) => (SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a));
    const acknowledged = newest.incident
      ? newest.incident.state !== 'new'
      : group.every((g) => (input.acks.get(g.alert.id)?.length ?? 0) > 0);
    const ageS = Math.max(0, Math.round((input.now - Date.parse(newest.alert.startedAt)) / 1000));
    const selected =
      (newest.incident !== undefined && newest.incident.id === input.selectedIncidentId) ||
      group.some((g) => g.alert.id === input.selectedAlertId);
    alerts.push({
      type: 'Feature',
      id: key,
      geometry: { type: 'Point', coordinates: [pos.lon, pos.lat] },
      properties: {
        id: key,
        alertId: newest.alert.id,
        incidentId: newest.incident?.id ?? null,
        cameraId: newest.alert.cameraId,
        vehicleId: pos.vehicleId,
        kind: newest.alert.kind,
        severity,
        count: group.length,
        // Minutes, bucketed so markers do not churn every second: 0-1, 1-5, 5-15, older.
        age: ageS < 60 ? 0 : ageS < 300 ? 1 : ageS < 900 ? 2 : 3,
        active: group.some((g) => g.alert.endedAt === null),
        acknowledged,
        selected,
        stale: pos.stale,
      },
    });
  }

  // Extra markers (rider texts) only where their incident has no marker of its own yet.
  const drawn = new Set(alerts.map((f) => f.properties.incidentId));
  for (const f of input.extraAlerts ?? []) if (f.properties.incidentId === null || !drawn.has(f.properties.incidentId)) alerts.push(f);

  const trails: TrailFeature[] = [];
  for (const vid of alertVehicles) {
    const t = input.trails.get(vid);
    if (!t || t.length < 2) continue;
    trails.push({
      type: 'Feature',
      id: `trail:${vid}`,
      geometry: { type: 'LineString', coordinates: t.map((p) => [...p]) },
      properties: { id: `trail:${vid}`, vehicleId: vid },
    });
  }
  return { cameras, alerts, trails, alertVehicles };
}

const TRAIL_POINTS = 40;
const TRAIL_MS = 5 * 60_000;

/**
 * The recent positions of the vehicles that carry cameras (a handful): the fleet keeps only
 * the current one. Kept for five minutes or 40 reports, whichever is shorter.
 */
export class TrailTracker {
  private readonly points = new Map<string, Array<{ at: number; lonlat: [number, number] }>>();

  record(vehicles: ReadonlyMap<string, LiveVehicle>, watch: Iterable<string>, now = Date.now()): void {
    for (const id of watch) {
      const v = vehicles.get(id);
      if (!v) continue;
      const list = this.points.get(id) ?? [];
      const last = list.at(-1);
      if (!last || last.lonlat[0] !== v.lon || last.lonlat[1] !== v.lat) list.push({ at: now, lonlat: [v.lon, v.lat] });
      while (list.length > TRAIL_POINTS || (list.length > 0 && now - list[0]!.at > TRAIL_MS)) list.shift();
      this.points.set(id, list);
    }
  }

  get trails(): ReadonlyMap<string, ReadonlyArray<[number, number]>> {
    return new Map([...this.points].map(([id, l]) => [id, l.map((p) => p.lonlat)]));
  }
}

/**
 * Keeps a small GeoJSON source in step with a list of features by id (updateData), sending
 * only what was added, changed or removed, as the fleet layer does for vehicles.
 */
export class KeyedLayer<F extends Feature & { id: string }> {
  private readonly sent = new Map<string, string>();

  constructor(private readonly source: DiffableSource) {}

  /** Resolves when MapLibre's worker has the update (or at once when nothing changed). */
  set(features: readonly F[]): Promise<unknown> {
    const diff: Required<Pick<GeoJSONSourceDiff, 'add' | 'remove'>> & GeoJSONSourceDiff = { add: [], remove: [] };
    const seen = new Set<string>();
    for (const f of features) {
      seen.add(f.id);
      const text = JSON.stringify([f.geometry, f.properties]);
      const before = this.sent.get(f.id);
      if (before === text) continue;
      // A changed feature is replaced whole (an `add` with a known id replaces it): these
      // sources hold dozens of features, not thousands.
      diff.add.push(f);
      this.sent.set(f.id, text);
    }
    for (const id of [...this.sent.keys()]) {
      if (!seen.has(id)) {
        diff.remove.push(id);
        this.sent.delete(id);
      }
    }
    if (diff.add.length === 0 && diff.remove.length === 0) return Promise.resolve();
    return Promise.resolve(this.source.updateData(diff));
  }
}

/** What the map knows about a vehicle's cameras and alerts, for the details panel. */
export interface VehicleContext {
  cameras: Array<{ id: string; name: string; state: string }>;
  /** The open alerts this console knows of for the vehicle (the last known ones while unknown). */
  alerts: Array<{ id: string; title: string; severity: Severity; incidentId: string | null; active: boolean }>;
  /** Set when the console cannot know the vehicle's alerts right now, saying why. */
  unknown: string | null;
}

export const NO_CONTEXT: VehicleContext = { cameras: [], alerts: [], unknown: null };

const KIND_TITLE = ALERT_KIND_LABEL;

export interface ContextInput {
  cameras: ReadonlyMap<string, Camera>;
  alerts: readonly Alert[];
  incidents: readonly Incident[];
  /** The console's link to the core is up (alerts are being pushed). */
  linkUp: boolean;
  alertsLoaded: boolean;
  alertsProblem: string | null;
}

/**
 * The cameras on a vehicle and its open alerts. "Unknown" rather than "none" whenever the
 * console could be missing alerts: the link to the core is down, the alert list did not
 * load, or every camera on the vehicle has stopped sending video.
 */
export function vehicleContextFor(vehicleId: string, input: ContextInput): VehicleContext {
  const cams = [...input.cameras.values()].filter((c) => mountVehicleId(c.mount) === vehicleId);
  const camIds = new Set(cams.map((c) => c.id));
  const alerts = openAlerts(input.alerts, input.incidents)
    .filter((o) => camIds.has(o.alert.cameraId) || o.alert.scope.placement?.vehicleId === vehicleId)
    .map((o) => ({
      id: o.alert.id,
      title: `${KIND_TITLE[o.alert.kind]} · ${o.alert.cameraName}${o.alert.zoneName ? ` · ${o.alert.zoneName}` : ''}`,
      severity: severityOf(o.alert),
      incidentId: o.incident?.id ?? null,
      active: o.alert.endedAt === null,
    }));
  let unknown: string | null = null;
  if (!input.linkUp) unknown = 'the link to the Sentinel core is down';
  else if (!input.alertsLoaded) unknown = 'alerts are still loading';
  else if (input.alertsProblem && input.alerts.length === 0) unknown = `alerts could not be loaded (${input.alertsProblem})`;
  else if (cams.length > 0 && cams.every((c) => c.health.state !== 'live'))
    unknown = `camera feed down (${cams.map((c) => c.health.state).join(', ')})`;
  return { cameras: cams.map((c) => ({ id: c.id, name: c.name, state: c.health.state })), alerts, unknown };
}
