import { useEffect, useState } from 'react';
import { GEO_BASE } from '../../../contract';

type Ring = [number, number][];
interface District {
  id: string;
  rings: Ring[];
}

// One fetch per page: the districts do not change while a liaison watches.
let districtsOnce: Promise<District[]> | null = null;
function loadDistricts(): Promise<District[]> {
  districtsOnce ??= fetch(`${GEO_BASE}/layers/police-districts`, { credentials: 'same-origin' })
    .then((r) =>
      r.ok
        ? (r.json() as Promise<{ features: { properties: Record<string, unknown>; geometry: { type: string; coordinates: unknown } }[] }>)
        : { features: [] },
    )
    .then((fc) =>
      fc.features.map((f) => {
        const id = String(f.properties.district ?? f.properties.dist_num ?? f.properties.id ?? '');
        const polys = (f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates : [f.geometry.coordinates]) as Ring[][];
        return { id: String(Number(id) || id), rings: polys.map((p) => p[0] ?? []) };
      }),
    )
    .catch(() => []);
  return districtsOnce;
}

/** Chicago's bounding box, for a plain equirectangular projection (good enough at city scale). */
const BOX = { west: -87.95, east: -87.52, south: 41.64, north: 42.03 };
const W = 180;
const H = Math.round((W * (BOX.north - BOX.south)) / ((BOX.east - BOX.west) * Math.cos((41.85 * Math.PI) / 180)));
const x = (lon: number) => ((lon - BOX.west) / (BOX.east - BOX.west)) * W;
const y = (lat: number) => ((BOX.north - lat) / (BOX.north - BOX.south)) * H;

/**
 * Where an alert is, on the police districts: an SVG drawing, no WebGL, so it works in any
 * browser a liaison has (and stays light with many alerts on screen).
 */
export function MiniMap({ district, point }: { district: string | null; point: { lat: number; lon: number } | null }) {
  const [districts, setDistricts] = useState<District[]>([]);
  useEffect(() => {
    let live = true;
    void loadDistricts().then((d) => live && setDistricts(d));
    return () => {
      live = false;
    };
  }, []);
  return (
    <svg
      className="mini-map"
      viewBox={`0 0 ${W} ${H}`}
      width={W}
      height={H}
      role="img"
      aria-label={`Map: ${district ? `police district ${district}` : 'district unknown'}`}
    >
      {districts.map((d) =>
        d.rings.map((ring, i) => (
          <polygon
            key={`${d.id}-${i}`}
            points={ring.map(([lo, la]) => `${x(lo).toFixed(1)},${y(la).toFixed(1)}`).join(' ')}
            className={d.id === district ? 'mini-map-here' : 'mini-map-district'}
          />
        )),
      )}
      {point && <circle cx={x(point.lon)} cy={y(point.lat)} r={4} className="mini-map-point" />}
    </svg>
  );
}
