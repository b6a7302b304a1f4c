import { vehicleId, type FeedError, type FeedParseResult, type Vehicle } from '../../contract';
import { chicagoLocalToUtc } from './chicago-time';
import {
  asArray,
  FeedFormatError,
  isRecord,
  parseJsonPayload,
  readBool,
  readHeading,
  readNumber,
  readSpeedKmh,
  readString,
  show,
  validLatLon,
} from './values';

const FORMAT = 'Bus Tracker getvehicles';

/**
 * CTA Bus Tracker `getvehicles` (JSON, API v2/v3) to normalised vehicles. Handles the quirks
 * of the real API: every value may be a string, `tmstmp` is Chicago local time
 * ("20120620 13:02:38", sometimes without seconds), `vehicle` and `error` may be a bare object
 * instead of a list, and errors arrive inside HTTP 200 beside a partial `vehicle` list.
 */
export function parseBusTracker(payload: unknown): FeedParseResult {
  if (!isRecord(payload) || !isRecord(payload['bustime-response'])) {
    throw new FeedFormatError(`not a ${FORMAT} response: expected a top-level "bustime-response" object`);
  }
  const body = payload['bustime-response'];
  const errors: FeedError[] = [];
  for (const e of asArray(body.error)) {
    if (!isRecord(e)) {
      errors.push({ code: 'api_error', message: `Bus Tracker error: ${show(e)}` });
      continue;
    }
    const route = readString(e.rt);
    const msg = readString(e.msg) ?? 'unspecified error';
    errors.push({ code: 'api_error', message: `Bus Tracker: ${msg}`, ...(route ? { route } : {}) });
  }
  const vehicles: Vehicle[] = [];
  asArray(body.vehicle).forEach((raw, i) => {
    const v = readBusVehicle(raw, i);
    if ('error' in v) errors.push(v.error);
    else {
      vehicles.push(v.vehicle);
      if (v.warning) errors.push(v.warning);
    }
  });
  return { vehicles, errors };
}

export function parseBusTrackerText(text: string): FeedParseResult {
  return parseBusTracker(parseJsonPayload(text, FORMAT));
}

/** Bus Tracker reports `spd` in miles per hour. */
const MPH_TO_KMH = 1.609344;

function readBusVehicle(raw: unknown, index: number): { vehicle: Vehicle; warning?: FeedError } | { error: FeedError } {
  const where = `vehicle[${index}]`;
  if (!isRecord(raw)) return { error: { code: 'invalid_vehicle', message: `${where} is not an object (${show(raw)})` } };
  const vid = readString(raw.vid)?.trim();
  const route = readString(raw.rt)?.trim();
  const bad = (field: string, value: unknown): { error: FeedError } => ({
    error: {
      code: 'invalid_vehicle',
      message: `${where}${vid ? ` (bus ${vid})` : ''}: "${field}" is ${value === undefined ? 'missing' : `not valid (${show(value)})`}`,
      ...(route ? { route } : {}),
    },
  });
  if (!vid) return bad('vid', raw.vid);
  if (route === undefined || route === '') return bad('rt', raw.rt);
  const lat = readNumber(raw.lat);
  const lon = readNumber(raw.lon);
  if (!validLatLon(lat, lon)) return bad(lat === undefined || lat < -90 || lat > 90 ? 'lat' : 'lon', lat === undefined ? raw.lat : raw.lon);
  const tsText = readString(raw.tmstmp);
  const timestamp = tsText === undefined ? null : chicagoLocalToUtc(tsText);
  if (!timestamp) return bad('tmstmp', raw.tmstmp);
  const tripId = readString(raw.tatripid)?.trim();
  const speed = readSpeedKmh(raw.spd, MPH_TO_KMH);
  const vehicle: Vehicle = {
    id: vehicleId('bus', vid),
    mode: 'bus',
    route,
    lat: lat as number,
    lon: lon as number,
    heading: readHeading(raw.hdg),
    destination: readString(raw.des)?.trim() ?? '',
    timestamp,
    // `dly` is only present (true) when the bus is late; absent means on time.
    delayed: readBool(raw.dly) ?? false,
    ...(speed.kmh === undefined ? {} : { speedKmh: speed.kmh }),
    ...(tripId ? { tripId } : {}),
  };
  if (speed.problem)
    return {
      vehicle,
      warning: { code: 'invalid_speed', message: `${where} (bus ${vid}): "spd" is ${speed.problem}; speed left unknown`, route },
    };
  return { vehicle };
}
