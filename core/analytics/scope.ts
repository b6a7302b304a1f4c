import { RAIL_LINES, type AlertScope, type CameraMount, type GeoPoint, type Placement } from '../../contract';
import type { FeedsService } from '../feeds/service';
import type { GeoData } from '../geo/geodata';
import { placeMount, placePoint } from '../geo/place';

const RAIL = new Set<string>(RAIL_LINES);

/**
 * Where an alert from a camera happened, in the terms liaisons are scoped by: the station's
 * district and lines, or the bus's live position and route (a bus camera's alert follows the
 * bus), falling back to the camera's registered location. Empty when nothing is known, which
 * only the "all alerts" room receives.
 */
export function alertScope(mount: CameraMount, location: GeoPoint | null, geo: GeoData | null, feeds: FeedsService | null): AlertScope {
  const scope: AlertScope = { placement: null, district: null, lines: [], routes: [] };
  if (!geo) return scope;
  let placement: Placement | null = null;
  switch (mount.kind) {
    case 'station': {
      placement = placeMount(geo, { get: () => undefined }, { kind: 'station', stationId: mount.stationId });
      const st = geo.stationById.get(mount.stationId);
      if (st) scope.lines = st.lines.filter((l) => RAIL.has(l));
      break;
    }
    case 'bus':
    case 'operator_cab': {
      const v = feeds?.get(`bus:${mount.vehicleId}`) ?? feeds?.get(mount.vehicleId);
      if (v && feeds) {
        placement = placeMount(geo, feeds, { kind: 'vehicle', vehicleId: v.id });
        if (v.route) scope.routes = [v.route];
      }
      break;
    }
    case 'railcar': {
      if (mount.line && RAIL.has(mount.line)) scope.lines = [mount.line];
      break;
    }
    case 'other':
      break;
  }
  if (!placement && location) placement = placePoint(geo, location.lat, location.lon);
  scope.placement = placement;
  scope.district = placement?.district ?? null;
  return scope;
}

/**
 * The speed of the vehicle a camera rides on: km/h when its feed reported one with a fresh
 * position, null when unknown (no feed, a stale position, a feed without speeds), undefined
 * for a camera that is not on a vehicle. A stale speed is unknown, not "stopped": the rules
 * treat unknown as "could be moving".
 */
export function vehicleSpeed(mount: CameraMount, feeds: Pick<FeedsService, 'get'> | null): number | null | undefined {
  if (mount.kind === 'bus' || mount.kind === 'operator_cab') {
    const v = feeds?.get(`bus:${mount.vehicleId}`) ?? feeds?.get(mount.vehicleId);
    return v && !v.stale && v.speedKmh !== undefined ? v.speedKmh : null;
  }
  if (mount.kind === 'railcar') {
    const v = feeds?.get(`train:${mount.railcarId}`);
    return v && !v.stale && v.speedKmh !== undefined ? v.speedKmh : null;
  }
  return undefined;
}
