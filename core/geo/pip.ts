/**
 * Point in polygon for the city's boundaries (police districts, community areas). Each
 * region keeps its bounding box so a lookup tests only the few regions whose box holds the
 * point; rings use the even-odd rule, so holes work.
 */
export type Ring = ReadonlyArray<readonly [number, number]>;
/** A polygon: outer ring then holes. A region is one or more polygons (MultiPolygon). */
export type PolygonRings = readonly Ring[];

export interface Region<P> {
  props: P;
  polygons: readonly PolygonRings[];
  bbox: readonly [number, number, number, number];
}

function ringContains(ring: Ring, x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i]!;
    const b = ring[j]!;
    if (a[1] > y !== b[1] > y && x < ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

export function polygonContains(rings: PolygonRings, x: number, y: number): boolean {
  let inside = false;
  for (const ring of rings) if (ringContains(ring, x, y)) inside = !inside;
  return inside;
}

export function makeRegion<P>(props: P, polygons: readonly PolygonRings[]): Region<P> {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const poly of polygons)
    for (const [x, y] of poly[0] ?? []) {
      if (x < minX) minX = x;
      if (y < minY) minY = y;
      if (x > maxX) maxX = x;
      if (y > maxY) maxY = y;
    }
  return { props, polygons, bbox: [minX, minY, maxX, maxY] };
}

export class RegionIndex<P> {
  constructor(readonly regions: ReadonlyArray<Region<P>>) {}

  /** The first region containing (lon, lat), or null (outside the city, in the lake). */
  find(lon: number, lat: number): P | null {
    for (const r of this.regions) {
      const [minX, minY, maxX, maxY] = r.bbox;
      if (lon < minX || lon > maxX || lat < minY || lat > maxY) continue;
      for (const poly of r.polygons) if (polygonContains(poly, lon, lat)) return r.props;
    }
    return null;
  }
}

/** Great-circle distance in metres (haversine; plenty for a city). */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const R = 6_371_008.8;
  const toRad = Math.PI / 180;
  const dLat = (lat2 - lat1) * toRad;
  const dLon = (lon2 - lon1) * toRad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * toRad) * Math.cos(lat2 * toRad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Initial bearing from point 1 to point 2, degrees clockwise from north in [0, 360). */
export function bearingDeg(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const toRad = Math.PI / 180;
  const y = Math.sin((lon2 - lon1) * toRad) * Math.cos(lat2 * toRad);
  const x =
    Math.cos(lat1 * toRad) * Math.sin(lat2 * toRad) - Math.sin(lat1 * toRad) * Math.cos(lat2 * toRad) * Math.cos((lon2 - lon1) * toRad);
  return ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360;
}
