import { RAIL_LINES, vehicleId, type FeedError, type FeedParseResult, type RailLine, type Vehicle } from '../../contract';
import { chicagoLocalToUtc } from './chicago-time';
import {
  asArray,
  FeedFormatError,
  isRecord,
  parseJsonPayload,
  readBool,
  readHeading,
  readNumber,
  readString,
  show,
  validLatLon,
} from './values';

const FORMAT = 'Train Tracker ttpositions';

/** Train Tracker's route names (`rt=` parameter and `@name`) to the line codes the stations use. */
export const TRAIN_TRACKER_ROUTES: Record<string, RailLine> = {
  red: 'Red',
  blue: 'Blue',
  brn: 'Brn',
  g: 'G',
  org: 'Org',
  p: 'P',
  pink: 'Pink',
  y: 'Y',
};
export const ALL_TRAIN_ROUTES = Object.keys(TRAIN_TRACKER_ROUTES);

function lineCode(name: string): string {
  const code = TRAIN_TRACKER_ROUTES[name.trim().toLowerCase()];
  if (code) return code;
  // Accept an already-normalised code ("Red"); anything else passes through as given.
  const known = RAIL_LINES.find((l) => l.toLowerCase() === name.trim().toLowerCase());
  return known ?? name.trim();
}

/**
 * CTA Train Tracker `ttpositions` (JSON, converted by CTA from XML) to normalised vehicles.
 * Quirks handled: string values, Chicago local timestamps without offset, `route` and
 * `train` as a bare object when there is one, no `train` key for a line with no trains, and
 * errors inside an HTTP 200 (`errCd` other than "0").
 */
export function parseTrainTracker(payload: unknown): FeedParseResult {
  if (!isRecord(payload) || !isRecord(payload.ctatt)) {
    throw new FeedFormatError(`not a ${FORMAT} response: expected a top-level "ctatt" object`);
  }
  const body = payload.ctatt;
  const errors: FeedError[] = [];
  const errCd = readString(body.errCd)?.trim();
  if (errCd !== undefined && errCd !== '0') {
    errors.push({ code: `tt_${errCd}`, message: `Train Tracker error ${errCd}: ${readString(body.errNm) ?? 'unspecified error'}` });
  }
  const vehicles: Vehicle[] = [];
  asArray(body.route).forEach((route, ri) => {
    if (!isRecord(route)) {
      errors.push({ code: 'invalid_route', message: `route[${ri}] is not an object (${show(route)})` });
      return;
    }
    const name = readString(route['@name']) ?? readString(route.name);
    if (!name) {
      errors.push({ code: 'invalid_route', message: `route[${ri}]: "@name" is missing` });
      return;
    }
    const line = lineCode(name);
    asArray(route.train).forEach((raw, ti) => {
      const v = readTrain(raw, line, `route ${name} train[${ti}]`);
      if ('error' in v) errors.push(v.error);
      else vehicles.push(v.vehicle);
    });
  });
  return { vehicles, errors };
}

export function parseTrainTrackerText(text: string): FeedParseResult {
  return parseTrainTracker(parseJsonPayload(text, FORMAT));
}

function readTrain(raw: unknown, route: string, where: string): { vehicle: Vehicle } | { error: FeedError } {
  if (!isRecord(raw)) return { error: { code: 'invalid_vehicle', message: `${where} is not an object (${show(raw)})`, route } };
  const rn = readString(raw.rn)?.trim();
  const bad = (field: string, value: unknown): { error: FeedError } => ({
    error: {
      code: 'invalid_vehicle',
      message: `${where}${rn ? ` (run ${rn})` : ''}: "${field}" is ${value === undefined ? 'missing' : `not valid (${show(value)})`}`,
      route,
    },
  });
  if (!rn) return bad('rn', raw.rn);
  const lat = readNumber(raw.lat);
  const lon = readNumber(raw.lon);
  if (!validLatLon(lat, lon)) return bad(lat === undefined || lat < -90 || lat > 90 ? 'lat' : 'lon', lat === undefined ? raw.lat : raw.lon);
  // Positions carry `prdt` (when the prediction was made), the freshest time Train Tracker gives.
  const tsText = readString(raw.prdt);
  const timestamp = tsText === undefined ? null : chicagoLocalToUtc(tsText);
  if (!timestamp) return bad('prdt', raw.prdt);
  const nextStop = readString(raw.nextStaNm)?.trim();
  const vehicle: Vehicle = {
    id: vehicleId('train', rn),
    mode: 'train',
    route,
    lat: lat as number,
    lon: lon as number,
    heading: readHeading(raw.heading),
    destination: readString(raw.destNm)?.trim() ?? '',
    timestamp,
    delayed: readBool(raw.isDly) ?? false,
    ...(nextStop ? { nextStop } : {}),
  };
  return { vehicle };
}
