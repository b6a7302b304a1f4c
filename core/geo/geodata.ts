import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { GeoLayerName } from '../../contract';
import { SentinelError } from '../errors';
import { distanceM, makeRegion, RegionIndex, type PolygonRings, type Region } from './pip';

/**
 * The city's reference geography, read once from the assets pack (`chicago/geo`): police
 * districts and community areas for "where is this", 'L' stations for station cameras and
 * "what is nearby", rail lines and bus route shapes for the map and the demo fleet.
 */
export const GEO_FILES = {
  communityAreas: 'chicago/geo/community_areas.geojson',
  policeDistricts: 'chicago/geo/police_districts.geojson',
  railLines: 'chicago/geo/cta_rail_lines.geojson',
  stations: 'chicago/geo/cta_l_stations.geojson',
  busRoutes: 'chicago/geo/cta_bus_route_shapes.geojson',
} as const;

const Position = z.tuple([z.number(), z.number()]).rest(z.number());
const Geometry = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Point'), coordinates: Position }),
  z.object({ type: z.literal('LineString'), coordinates: z.array(Position) }),
  z.object({ type: z.literal('MultiLineString'), coordinates: z.array(z.array(Position)) }),
  z.object({ type: z.literal('Polygon'), coordinates: z.array(z.array(Position)) }),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(z.array(Position))) }),
]);
type Geometry = z.infer<typeof Geometry>;
const Feature = z.object({ type: z.literal('Feature'), properties: z.record(z.string(), z.unknown()).nullable(), geometry: Geometry });
const FeatureCollection = z.object({ type: z.literal('FeatureCollection'), features: z.array(Feature) });
type Feature = z.infer<typeof Feature>;

export interface Station {
  id: string;
  name: string;
  lines: string[];
  lat: number;
  lon: number;
}

/** A polyline with cumulative distances, for moving simulated vehicles along it. */
export interface BusShape {
  route: string;
  direction: string;
  name: string;
  color: string;
  coords: Array<[number, number]>;
}

export interface RailSegment {
  legend: string;
  altLegend: string;
  branch: string;
  coords: Array<[number, number]>;
}

type Props = Record<string, unknown>;
const str = (p: Props | null, k: string): string => {
  const v = p?.[k];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
};

function readCollection(assetsDir: string, rel: string): Feature[] {
  const file = join(assetsDir, rel);
  if (!existsSync(file)) throw new SentinelError(`map data ${file} is missing from the assets directory`, 'unavailable');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SentinelError(`map data ${file} is not valid JSON: ${(err as Error).message}`, 'unavailable');
  }
  const parsed = FeatureCollection.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SentinelError(
      `map data ${file} is not a GeoJSON FeatureCollection: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      'unavailable',
    );
  }
  return parsed.data.features;
}

function toPolygons(g: Geometry): PolygonRings[] {
  const ring = (r: number[][]): Array<[number, number]> => r.map((p) => [p[0] as number, p[1] as number]);
  switch (g.type) {
    case 'Polygon':
      return [g.coordinates.map(ring)];
    case 'MultiPolygon':
      return g.coordinates.map((poly) => poly.map(ring));
    case 'Point':
    case 'LineString':
    case 'MultiLineString':
      return [];
  }
}

function titleCase(s: string): string {
  return s.toLowerCase().replace(/(^|[\s\-/'(])([a-z])/g, (_m, a: string, b: string) => a + b.toUpperCase());
}

/** CTA colours for the rail data's LEGEND codes; the shared Loop track is drawn in grey. */
export const LEGEND_COLORS: Record<string, string> = {
  RD: '#c60c30',
  BL: '#00a1de',
  BR: '#62361b',
  GR: '#009b3a',
  OR: '#f9461c',
  PR: '#522398',
  PK: '#e27ea6',
  YL: '#f9e300',
  ML: '#565a5c',
};

// Round to ~1 m: the map needs no more, and the served layers shrink by half.
const round = (n: number): number => Math.round(n * 1e5) / 1e5;
function roundLine(coords: number[][]): number[][] {
  const out: number[][] = [];
  for (const p of coords) {
    const q = [round(p[0] as number), round(p[1] as number)];
    const last = out[out.length - 1];
    if (!last || last[0] !== q[0] || last[1] !== q[1]) out.push(q);
  }
  return out;
}
function roundGeometry(g: Geometry): Geometry {
  switch (g.type) {
    case 'Point':
      return { type: 'Point', coordinates: [round(g.coordinates[0]), round(g.coordinates[1])] };
    case 'LineString':
      return { type: 'LineString', coordinates: roundLine(g.coordinates) as Array<[number, number]> };
    case 'MultiLineString':
      return { type: 'MultiLineString', coordinates: g.coordinates.map(roundLine) as Array<Array<[number, number]>> };
    case 'Polygon':
      return { type: 'Polygon', coordinates: g.coordinates.map(roundLine) as Array<Array<[number, number]>> };
    case 'MultiPolygon':
      return { type: 'MultiPolygon', coordinates: g.coordinates.map((p) => p.map(roundLine)) as Array<Array<Array<[number, number]>>> };
  }
}

export interface DistrictProps {
  district: string;
  label: string;
}
export interface AreaProps {
  number: string;
  name: string;
}

export class GeoData {
  readonly districts: RegionIndex<DistrictProps>;
  readonly areas: RegionIndex<AreaProps>;
  readonly stations: Station[];
  readonly stationById: ReadonlyMap<string, Station>;
  readonly busShapes: BusShape[];
  readonly railSegments: RailSegment[];
  /** The map's layers, as compact GeoJSON text, built once and served as-is. */
  private readonly layers = new Map<GeoLayerName, string>();
  private readonly raw: Record<keyof typeof GEO_FILES, Feature[]>;

  constructor(assetsDir: string) {
    this.raw = {
      communityAreas: readCollection(assetsDir, GEO_FILES.communityAreas),
      policeDistricts: readCollection(assetsDir, GEO_FILES.policeDistricts),
      railLines: readCollection(assetsDir, GEO_FILES.railLines),
      stations: readCollection(assetsDir, GEO_FILES.stations),
      busRoutes: readCollection(assetsDir, GEO_FILES.busRoutes),
    };
    this.districts = new RegionIndex(
      this.raw.policeDistricts.map((f): Region<DistrictProps> =>
        makeRegion({ district: str(f.properties, 'DIST_NUM'), label: str(f.properties, 'DIST_LABEL') }, toPolygons(f.geometry)),
      ),
    );
    this.areas = new RegionIndex(
      this.raw.communityAreas.map((f): Region<AreaProps> =>
        makeRegion({ number: str(f.properties, 'AREA_NUMBE'), name: titleCase(str(f.properties, 'COMMUNITY')) }, toPolygons(f.geometry)),
      ),
    );
    this.stations = this.raw.stations.flatMap((f): Station[] => {
      if (f.geometry.type !== 'Point') return [];
      const lines = f.properties?.lines;
      return [
        {
          id: str(f.properties, 'map_id'),
          name: str(f.properties, 'station_name'),
          lines: Array.isArray(lines) ? lines.filter((l): l is string => typeof l === 'string') : [],
          lon: f.geometry.coordinates[0],
          lat: f.geometry.coordinates[1],
        },
      ];
    });
    this.stationById = new Map(this.stations.map((s) => [s.id, s]));
    this.busShapes = this.raw.busRoutes.flatMap((f): BusShape[] => {
      if (f.geometry.type !== 'LineString' || f.geometry.coordinates.length < 2) return [];
      const route = str(f.properties, 'route_short_name') || str(f.properties, 'route_id');
      const color = str(f.properties, 'route_color');
      return [
        {
          route,
          direction: str(f.properties, 'direction'),
          name: str(f.properties, 'route_long_name'),
          color: /^[0-9a-f]{6}$/i.test(color) ? `#${color}` : '#565a5c',
          coords: f.geometry.coordinates.map((p) => [p[0] as number, p[1] as number]),
        },
      ];
    });
    this.railSegments = this.raw.railLines.flatMap((f): RailSegment[] => {
      const parts =
        f.geometry.type === 'MultiLineString' ? f.geometry.coordinates : f.geometry.type === 'LineString' ? [f.geometry.coordinates] : [];
      return parts
        .filter((p) => p.length >= 2)
        .map((p) => ({
          legend: str(f.properties, 'LEGEND'),
          altLegend: str(f.properties, 'ALT_LEGEND'),
          branch: str(f.properties, 'BRANCH'),
          coords: p.map((q) => [q[0] as number, q[1] as number] as [number, number]),
        }));
    });
  }

  /** Police district and community area at a point (null outside the city). */
  locate(lat: number, lon: number): { district: string | null; communityArea: string | null } {
    return { district: this.districts.find(lon, lat)?.district ?? null, communityArea: this.areas.find(lon, lat)?.name ?? null };
  }

  nearestStation(lat: number, lon: number, withinM = 1000): { station: Station; distanceM: number } | null {
    let best: { station: Station; distanceM: number } | null = null;
    for (const s of this.stations) {
      // Cheap box test first: 0.02 degrees is about 2 km at Chicago's latitude.
      if (Math.abs(s.lat - lat) > 0.02 || Math.abs(s.lon - lon) > 0.03) continue;
      const d = distanceM(lat, lon, s.lat, s.lon);
      if (d <= withinM && (!best || d < best.distanceM)) best = { station: s, distanceM: d };
    }
    return best;
  }

  /** One of the map's layers as GeoJSON text (compact properties, rounded coordinates). */
  layer(name: GeoLayerName): string {
    const cached = this.layers.get(name);
    if (cached) return cached;
    const collect = (features: Feature[], props: (p: Props | null) => Props): string =>
      JSON.stringify({
        type: 'FeatureCollection',
        features: features.map((f) => ({ type: 'Feature', properties: props(f.properties), geometry: roundGeometry(f.geometry) })),
      });
    let text: string;
    switch (name) {
      case 'community-areas':
        text = collect(this.raw.communityAreas, (p) => ({ number: str(p, 'AREA_NUMBE'), name: titleCase(str(p, 'COMMUNITY')) }));
        break;
      case 'police-districts':
        text = collect(this.raw.policeDistricts, (p) => ({ district: str(p, 'DIST_NUM'), label: str(p, 'DIST_LABEL') }));
        break;
      case 'rail-lines':
        text = collect(this.raw.railLines, (p) => ({
          legend: str(p, 'LEGEND'),
          lines: str(p, 'LINES'),
          branch: str(p, 'BRANCH'),
          color: LEGEND_COLORS[str(p, 'LEGEND')] ?? '#565a5c',
        }));
        break;
      case 'stations':
        text = collect(this.raw.stations, (p) => ({
          id: str(p, 'map_id'),
          name: str(p, 'station_name'),
          lines: Array.isArray(p?.lines) ? p.lines : [],
        }));
        break;
      case 'bus-routes':
        text = collect(this.raw.busRoutes, (p) => {
          const color = str(p, 'route_color');
          return {
            route: str(p, 'route_short_name') || str(p, 'route_id'),
            direction: str(p, 'direction'),
            name: str(p, 'route_long_name'),
            color: /^[0-9a-f]{6}$/i.test(color) ? `#${color}` : '#565a5c',
          };
        });
        break;
    }
    this.layers.set(name, text);
    return text;
  }
}

/** Loads the geography, or null (with the reason) when the assets lack it: the core runs without. */
export function loadGeoData(assetsDir: string | null): { geo: GeoData } | { geo: null; reason: string } {
  if (!assetsDir) return { geo: null, reason: 'no assets directory is configured' };
  try {
    return { geo: new GeoData(assetsDir) };
  } catch (err) {
    if (err instanceof SentinelError) return { geo: null, reason: err.message };
    throw err;
  }
}
