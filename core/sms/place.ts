import { RAIL_LINES, type AlertScope, type NearbyCamera, type ParsedLocation, type Placement } from '../../contract';
import type { CameraRecord } from '../cameras/repository';
import type { FeedsService } from '../feeds/service';
import type { GeoData } from '../geo/geodata';
import { distanceM } from '../geo/pip';
import { placePoint } from '../geo/place';

const RAIL = new Set<string>(RAIL_LINES);
/** Cameras with a registered location this close to the place are listed after the vehicle's and the station's. */
const NEARBY_M = 400;

export interface ResolvedPlace {
  scope: AlertScope;
  cameras: NearbyCamera[];
  /** What identifies the place for joining an open incident: `bus:1234`, `railcar:5001`, `station:40380`. */
  key: string | null;
  /** For the incident title: "Belmont", "bus 1234 (#9)", "Red Line car 5001". */
  label: string | null;
}

/**
 * From what the text said to where it is: the bus's live position (a moving bus is placed
 * where it is now), else the station; the lines and routes liaisons are scoped by; and the
 * cameras to look at, the vehicle's first, then the station's, then any registered nearby.
 */
export function resolvePlace(
  loc: ParsedLocation,
  geo: GeoData | null,
  feeds: FeedsService | null,
  cameras: readonly CameraRecord[],
): ResolvedPlace {
  const scope: AlertScope = { placement: null, district: null, lines: [], routes: [] };
  const found: NearbyCamera[] = [];
  const add = (c: CameraRecord, why: NearbyCamera['why']): void => {
    if (!found.some((f) => f.id === c.id)) found.push({ id: c.id, name: c.name, why });
  };
  let key: string | null = null;
  let label: string | null = null;
  let placement: Placement | null = null;

  if (loc.busNumber) {
    const v = feeds?.get(`bus:${loc.busNumber}`);
    key = `bus:${loc.busNumber}`;
    label = `bus ${loc.busNumber}${loc.busRoute ? ` (#${loc.busRoute})` : ''}`;
    if (v && geo) placement = placePoint(geo, v.lat, v.lon, { vehicleId: v.id, stale: v.stale });
    const route = v?.route || loc.busRoute;
    if (route) scope.routes = [route];
    for (const c of cameras)
      if ((c.mount.kind === 'bus' || c.mount.kind === 'operator_cab') && [loc.busNumber, key].includes(c.mount.vehicleId))
        add(c, 'vehicle');
  } else if (loc.busRoute) {
    scope.routes = [loc.busRoute];
  }
  if (loc.railcar) {
    key ??= `railcar:${loc.railcar}`;
    label ??= `${loc.line ? `${loc.line} line ` : ''}car ${loc.railcar}`;
    for (const c of cameras) {
      if (c.mount.kind === 'railcar' && c.mount.railcarId === loc.railcar) {
        add(c, 'vehicle');
        if (c.mount.line && RAIL.has(c.mount.line) && !scope.lines.includes(c.mount.line)) scope.lines.push(c.mount.line);
      }
    }
  }
  const station = loc.stationId && geo ? geo.stationById.get(loc.stationId) : undefined;
  if (station && geo) {
    key ??= `station:${station.id}`;
    label = label ? `${label} near ${station.name}` : station.name;
    // A railcar has no live position of its own (Train Tracker reports runs, not cars): the station places it.
    placement ??= placePoint(geo, station.lat, station.lon);
    for (const l of station.lines) if (RAIL.has(l) && (!loc.line || l === loc.line) && !scope.lines.includes(l)) scope.lines.push(l);
    for (const c of cameras) if (c.mount.kind === 'station' && c.mount.stationId === station.id) add(c, 'station');
  }
  if (loc.line && RAIL.has(loc.line) && !scope.lines.includes(loc.line)) scope.lines.push(loc.line);
  if (placement) {
    const p = placement;
    const near = cameras
      .filter((c) => c.location && distanceM(p.lat, p.lon, c.location.lat, c.location.lon) <= NEARBY_M)
      .sort(
        (a, b) => distanceM(p.lat, p.lon, a.location!.lat, a.location!.lon) - distanceM(p.lat, p.lon, b.location!.lat, b.location!.lon),
      );
    for (const c of near) add(c, 'nearby');
  }
  scope.placement = placement;
  scope.district = placement?.district ?? null;
  return { scope, cameras: found, key, label };
}
