import { z } from 'zod';

/**
 * Transit vehicles: the one normalised shape every feed adapter (Bus Tracker, Train Tracker,
 * GTFS-realtime, the demo simulator) produces once, and what the core pushes to consoles.
 */
export const VehicleMode = z.enum(['bus', 'train']);
export type VehicleMode = z.infer<typeof VehicleMode>;

/** CTA 'L' line codes, as Train Tracker's route names map to the stations' `lines` data. */
export const RAIL_LINES = ['Red', 'Blue', 'Brn', 'G', 'Org', 'P', 'Pink', 'Y'] as const;
export type RailLine = (typeof RAIL_LINES)[number];

/** CTA brand colours per line (the map draws rail lines and trains in them). */
export const RAIL_LINE_COLORS: Record<RailLine, string> = {
  Red: '#c60c30',
  Blue: '#00a1de',
  Brn: '#62361b',
  G: '#009b3a',
  Org: '#f9461c',
  P: '#522398',
  Pink: '#e27ea6',
  Y: '#f9e300',
};

export const RAIL_LINE_NAMES: Record<RailLine, string> = {
  Red: 'Red Line',
  Blue: 'Blue Line',
  Brn: 'Brown Line',
  G: 'Green Line',
  Org: 'Orange Line',
  P: 'Purple Line',
  Pink: 'Pink Line',
  Y: 'Yellow Line',
};

/**
 * A vehicle as a feed reported it. `id` is namespaced by mode (`bus:6438`, `train:827`)
 * because bus and train numbers overlap; use `vehicleId()` to build one.
 */
export const Vehicle = z.strictObject({
  id: z.string().min(1),
  mode: VehicleMode,
  route: z.string(),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  /** Degrees clockwise from north, or null when the feed does not say. */
  heading: z.number().min(0).lt(360).nullable(),
  destination: z.string(),
  /** When the vehicle reported this position (UTC ISO 8601). */
  timestamp: z.string(),
  delayed: z.boolean(),
  /**
   * Speed over ground in km/h when the feed reports it (Bus Tracker `spd` in mph, GTFS-realtime
   * `position.speed` in m/s); left out when it does not. The operator-barrier rule's
   * `onlyWhileMoving` and the "bus moving" line of an alert come from it.
   */
  speedKmh: z.number().min(0).optional(),
  tripId: z.string().optional(),
  nextStop: z.string().optional(),
});
export type Vehicle = z.infer<typeof Vehicle>;

export function vehicleId(mode: VehicleMode, raw: string): string {
  return `${mode}:${raw}`;
}

/** An error a feed reported (often inside an HTTP 200 body), or one the adapter found. */
export const FeedError = z.strictObject({
  code: z.string(),
  message: z.string(),
  route: z.string().optional(),
});
export type FeedError = z.infer<typeof FeedError>;

/** What one adapter makes of one payload: the vehicles it could read and every problem. */
export const FeedParseResult = z.strictObject({
  vehicles: z.array(Vehicle),
  errors: z.array(FeedError),
});
export type FeedParseResult = z.infer<typeof FeedParseResult>;

export const FeedKind = z.enum(['bus-tracker', 'train-tracker', 'gtfs-rt', 'simulator']);
export type FeedKind = z.infer<typeof FeedKind>;

/** A vehicle as the console sees it: where it came from, where it is, and whether it is fresh. */
export const LiveVehicle = Vehicle.extend({
  feed: z.string(),
  /** True when its feed is down or it has not reported for a while: a last known position. */
  stale: z.boolean(),
  /** CPD district number and community area name at its position, when inside Chicago. */
  district: z.string().nullable(),
  communityArea: z.string().nullable(),
});
export type LiveVehicle = z.infer<typeof LiveVehicle>;

/** Changes since the previous diff, keyed by vehicle id (the map applies them with updateData). */
export const VehicleDiff = z.strictObject({
  /** New or changed vehicles (full records, so a client never needs the previous one). */
  upsert: z.array(LiveVehicle),
  /** Ids of vehicles that left the store (not reported for too long). */
  remove: z.array(z.string()),
  /** Monotonic sequence number: a client that sees a gap asks for a fresh snapshot. */
  seq: z.number().int(),
});
export type VehicleDiff = z.infer<typeof VehicleDiff>;

export const FeedState = z.enum(['starting', 'live', 'stale', 'outage', 'disabled']);
export type FeedState = z.infer<typeof FeedState>;

export const FeedStatus = z.strictObject({
  id: z.string(),
  kind: FeedKind,
  state: FeedState,
  /** A line for the status bar ("Bus Tracker: 3 polls failed: HTTP 503"). */
  detail: z.string(),
  vehicles: z.number().int(),
  lastSuccessAt: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
  lastError: z.string().nullable(),
});
export type FeedStatus = z.infer<typeof FeedStatus>;

export const VehicleSnapshot = z.strictObject({
  vehicles: z.array(LiveVehicle),
  feeds: z.array(FeedStatus),
  seq: z.number().int(),
});
export type VehicleSnapshot = z.infer<typeof VehicleSnapshot>;

export const FeedsResponse = z.strictObject({ feeds: z.array(FeedStatus) });
export type FeedsResponse = z.infer<typeof FeedsResponse>;

/** Where something is, in the city's own terms (what an alert carries). */
export const Placement = z.strictObject({
  lat: z.number(),
  lon: z.number(),
  district: z.string().nullable(),
  communityArea: z.string().nullable(),
  /** The nearest 'L' station and its distance, when one is within a kilometre. */
  nearestStation: z.strictObject({ id: z.string(), name: z.string(), distanceM: z.number() }).nullable(),
  /** The vehicle the point moves with (a bus camera's alert), if any. */
  vehicleId: z.string().nullable(),
  /** True when the position is a vehicle's last known one (feed down or vehicle silent). */
  stale: z.boolean(),
});
export type Placement = z.infer<typeof Placement>;

export const LocateQuery = z.strictObject({
  lat: z.coerce.number().min(-90).max(90),
  lon: z.coerce.number().min(-180).max(180),
});

/** Map layers the core serves from the assets (GET /api/v1/geo/layers/:name). */
export const GEO_LAYERS = ['community-areas', 'police-districts', 'rail-lines', 'stations', 'bus-routes'] as const;
export const GeoLayerName = z.enum(GEO_LAYERS);
export type GeoLayerName = z.infer<typeof GeoLayerName>;
