import type { LiveVehicle, Placement } from '../../contract';
import type { GeoData } from './geodata';

/**
 * Where a camera is mounted, as far as placing its alerts goes: on a station (platform,
 * mezzanine) or on a vehicle (a bus, a railcar). The cameras feature maps its richer mount
 * record to this; alerts call `placeMount` to get a point that moves with the bus.
 */
export type MountRef =
  { kind: 'station'; stationId: string } | { kind: 'vehicle'; vehicleId: string } | { kind: 'point'; lat: number; lon: number };

export interface VehicleLookup {
  get(id: string): LiveVehicle | undefined;
}

/** District, community area and nearest station of a point. */
export function placePoint(geo: GeoData, lat: number, lon: number, extra: { vehicleId?: string; stale?: boolean } = {}): Placement {
  const { district, communityArea } = geo.locate(lat, lon);
  const near = geo.nearestStation(lat, lon);
  return {
    lat,
    lon,
    district,
    communityArea,
    nearestStation: near ? { id: near.station.id, name: near.station.name, distanceM: Math.round(near.distanceM) } : null,
    vehicleId: extra.vehicleId ?? null,
    stale: extra.stale ?? false,
  };
}

/**
 * Places an alert from a camera with this mount: at the station, or at the vehicle's live
 * position (stale when its feed is down). Null when the station or vehicle is unknown, so
 * the caller can fall back to the camera's registered location and say why.
 */
export function placeMount(geo: GeoData, vehicles: VehicleLookup, mount: MountRef): Placement | null {
  switch (mount.kind) {
    case 'station': {
      const s = geo.stationById.get(mount.stationId);
      return s ? placePoint(geo, s.lat, s.lon) : null;
    }
    case 'vehicle': {
      const v = vehicles.get(mount.vehicleId);
      return v ? placePoint(geo, v.lat, v.lon, { vehicleId: v.id, stale: v.stale }) : null;
    }
    case 'point':
      return placePoint(geo, mount.lat, mount.lon);
  }
}
