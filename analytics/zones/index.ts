import { readFileSync } from 'node:fs';
import { formatZoneIssue, pointInPolygon, ZonesFile, type Point, type Zone } from '../../contract/zones';
import { SentinelError } from '../../common/errors';

export type { Zone };

/**
 * Reads and checks a ZONES.json file (`{"zones":[...]}`). Every problem is one line naming
 * the file, the zone and the key: `zones.json: zones[0] ("door").polygon: polygon crosses itself`.
 */
export function loadZonesFile(file: string): Zone[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SentinelError(
      `cannot read zones file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'bad_request',
      'zones',
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SentinelError(`zones file ${file} is not valid JSON: ${(err as Error).message}`, 'bad_request', 'zones');
  }
  return parseZones(raw, file);
}

/** Checks a zones document from any source; `source` names it in the error. */
export function parseZones(raw: unknown, source: string): Zone[] {
  const r = ZonesFile.safeParse(raw);
  if (!r.success) throw new SentinelError(`${source}: ${formatZoneIssue(r.error, raw)}`, 'validation_failed', 'zones');
  if (r.data.zones.length === 0)
    throw new SentinelError(`${source}: no zones; give at least one zone in "zones"`, 'validation_failed', 'zones');
  return r.data.zones;
}

/** The point of a box (source pixels) that places a person, normalised to 0..1. */
export function anchorPoint(zone: Zone, box: readonly [number, number, number, number], width: number, height: number): Point {
  const cx = (box[0] + box[2]) / 2 / width;
  // Feet: a person standing on a floor zone is where their feet are, not their chest.
  const y = zone.anchor === 'center' ? (box[1] + box[3]) / 2 / height : box[3] / height;
  return clampInside([cx, y]);
}

/**
 * Keeps a point strictly inside the frame: boxes are clipped to the frame, so a person
 * cut off by the bottom edge has feet at exactly y = 1, which lies on the edge of a zone
 * drawn to the frame's border, where point-in-polygon may say either.
 */
export function clampInside(p: Point): Point {
  const c = (v: number): number => Math.min(0.9995, Math.max(0.0005, v));
  return [c(p[0]), c(p[1])];
}

/** Whether a box counts as inside a zone: its anchor inside the polygon and outside every excluded sub-zone. */
export function boxInZone(zone: Zone, box: readonly [number, number, number, number], width: number, height: number): boolean {
  const p = anchorPoint(zone, box, width, height);
  if (zone.polygon && !pointInPolygon(p, zone.polygon)) return false;
  for (const ex of zone.exclude ?? []) if (pointInPolygon(p, ex)) return false;
  return true;
}

export function zoneName(zone: Zone): string {
  return zone.name ?? zone.id;
}
