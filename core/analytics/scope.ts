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
