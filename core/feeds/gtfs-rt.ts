import GtfsRealtimeBindings from 'gtfs-realtime-bindings';
import { vehicleId, type FeedError, type FeedParseResult, type Vehicle, type VehicleMode } from '../../contract';
import { FeedFormatError, readHeading, readSpeedKmh, validLatLon } from './values';

const { transit_realtime } = GtfsRealtimeBindings;

export interface GtfsRtOptions {
  /** Mode for vehicles whose route is not in `routeModes` (default bus). */
  defaultMode?: VehicleMode;
  /** Route id -> mode, e.g. from the agency's static GTFS routes.txt route_type. */
  routeModes?: ReadonlyMap<string, VehicleMode>;
}

/** protobufjs gives uint64 as a number or a Long; POSIX seconds fit a double either way. */
function toSeconds(v: number | { toNumber(): number } | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = typeof v === 'number' ? v : v.toNumber();
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * GTFS-realtime VehiclePositions (protobuf, decoded with MobilityData's
 * gtfs-realtime-bindings) to normalised vehicles, so any agency's feed works. Entities
 * without a position are reported, TripUpdates and Alerts entities are ignored.
 */
export function parseGtfsRt(bytes: Uint8Array, opts: GtfsRtOptions = {}): FeedParseResult {
  let feed: InstanceType<typeof transit_realtime.FeedMessage>;
  try {
    feed = transit_realtime.FeedMessage.decode(bytes);
  } catch (err) {
    throw new FeedFormatError(`not a GTFS-realtime feed (protobuf FeedMessage): ${(err as Error).message}`);
  }
  if (!feed.header.gtfsRealtimeVersion) {
    throw new FeedFormatError('not a GTFS-realtime feed: the header has no gtfs_realtime_version');
  }
  const headerTs = toSeconds(feed.header.timestamp);
  const vehicles: Vehicle[] = [];
  const errors: FeedError[] = [];
  let otherEntities = 0;
  feed.entity.forEach((entity, i) => {
    const vp = entity.vehicle;
    if (!vp) {
      otherEntities += 1;
      return;
    }
    const raw = vp.vehicle?.id || vp.vehicle?.label || entity.id;
    const route = vp.trip?.routeId ?? '';
    const where = `entity[${i}] (${entity.id || 'no id'})`;
    const fail = (message: string): void =>
      void errors.push({ code: 'invalid_vehicle', message: `${where}: ${message}`, ...(route ? { route } : {}) });
    if (!raw) return fail('no vehicle id, label or entity id');
    const pos = vp.position;
    if (!pos) return fail('no position');
    if (!validLatLon(pos.latitude, pos.longitude)) return fail(`position ${pos.latitude},${pos.longitude} is not a valid coordinate`);
    const ts = toSeconds(vp.timestamp) ?? headerTs;
    if (ts === undefined) return fail('no timestamp on the vehicle or the feed header');
    const mode = (route && opts.routeModes?.get(route)) || opts.defaultMode || 'bus';
    const tripId = vp.trip?.tripId || undefined;
    // protobufjs leaves an absent optional field on the prototype (as 0): only an own property
    // was in the message, and a bus at a stop (speed 0) differs from one that does not say.
    const hasSpeed = Object.prototype.hasOwnProperty.call(pos, 'speed');
    const speed = hasSpeed ? readSpeedKmh(pos.speed, 3.6) : {};
    if (speed.problem)
      errors.push({
        code: 'invalid_speed',
        message: `${where}: position.speed is ${speed.problem}; speed left unknown`,
        ...(route ? { route } : {}),
      });
    vehicles.push({
      id: vehicleId(mode, raw),
      mode,
      route,
      lat: pos.latitude,
      lon: pos.longitude,
      heading: pos.bearing === null || pos.bearing === undefined ? null : readHeading(pos.bearing),
      // VehiclePositions carry no headsign; the label is what the vehicle's sign shows, if set.
      destination: vp.vehicle?.label && vp.vehicle.label !== raw ? vp.vehicle.label : '',
      timestamp: new Date(ts * 1000).toISOString(),
      delayed: false,
      ...(speed.kmh === undefined ? {} : { speedKmh: speed.kmh }),
      ...(tripId ? { tripId } : {}),
      ...(vp.stopId ? { nextStop: vp.stopId } : {}),
    });
  });
  if (vehicles.length === 0 && otherEntities > 0) {
    errors.push({
      code: 'no_vehicle_positions',
      message: `the feed has ${otherEntities} entities but no VehiclePositions (is this a TripUpdates or Alerts feed?)`,
    });
  }
  return { vehicles, errors };
}

/** Builds a VehiclePositions feed (the simulator's GTFS-rt output and the tests use it). */
export function encodeGtfsRt(vehicles: readonly Vehicle[], nowMs = Date.now()): Uint8Array {
  const msg = transit_realtime.FeedMessage.create({
    header: {
      gtfsRealtimeVersion: '2.0',
      incrementality: transit_realtime.FeedHeader.Incrementality.FULL_DATASET,
      timestamp: Math.floor(nowMs / 1000),
    },
    entity: vehicles.map((v) => ({
      id: v.id,
      vehicle: {
        vehicle: { id: v.id.slice(v.id.indexOf(':') + 1), ...(v.destination ? { label: v.destination } : {}) },
        trip: { routeId: v.route, ...(v.tripId ? { tripId: v.tripId } : {}) },
        position: {
          latitude: v.lat,
          longitude: v.lon,
          ...(v.heading === null ? {} : { bearing: v.heading }),
          ...(v.speedKmh === undefined ? {} : { speed: v.speedKmh / 3.6 }),
        },
        timestamp: Math.floor(Date.parse(v.timestamp) / 1000),
        ...(v.nextStop ? { stopId: v.nextStop } : {}),
      },
    })),
  });
  return transit_realtime.FeedMessage.encode(msg).finish();
}
