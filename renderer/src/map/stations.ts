import { useEffect, useState } from 'react';
import { z } from 'zod';
import { call } from '../client/api';

/** An 'L' station as the mount picker and the camera panel name it (from the map's `stations` layer). */
export interface StationOption {
  id: string;
  name: string;
  lines: string[];
}

const StationLayer = z.object({
  features: z.array(z.object({ properties: z.object({ id: z.string(), name: z.string(), lines: z.array(z.string()).default([]) }) })),
});

export interface StationsState {
  stations: StationOption[];
  byId: ReadonlyMap<string, StationOption>;
  /** Why the list is unavailable (no map data in the assets), or null. */
  problem: string | null;
}

const EMPTY: StationsState = { stations: [], byId: new Map(), problem: null };
let cached: Promise<StationsState> | null = null;

function load(): Promise<StationsState> {
  cached ??= call('geoLayer', { params: { name: 'stations' } })
    .then((raw) => {
      const r = StationLayer.safeParse(raw);
      if (!r.success) return { ...EMPTY, problem: 'the stations layer is not in the expected shape' };
      const stations = r.data.features.map((f) => f.properties).sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
      return { stations, byId: new Map(stations.map((s) => [s.id, s])), problem: null };
    })
    .catch((err: Error) => {
      cached = null; // try again next time: the assets may be installed later
      return { ...EMPTY, problem: err.message };
    });
  return cached;
}

/** The station list, loaded once per page. */
export function useStations(): StationsState {
  const [state, setState] = useState<StationsState>(EMPTY);
  useEffect(() => {
    let live = true;
    void load().then((s) => live && setState(s));
    return () => {
      live = false;
    };
  }, []);
  return state;
}

/** Stations whose name or id contains the query, best (name starts with it) first. */
export function searchStations(stations: readonly StationOption[], query: string, limit = 8): StationOption[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const hits = stations.filter((s) => s.name.toLowerCase().includes(q) || s.id === q);
  hits.sort((a, b) => Number(!a.name.toLowerCase().startsWith(q)) - Number(!b.name.toLowerCase().startsWith(q)));
  return hits.slice(0, limit);
}

const LINE_NAMES: Record<string, string> = {
  Red: 'Red',
  Blue: 'Blue',
  Brn: 'Brown',
  G: 'Green',
  Org: 'Orange',
  P: 'Purple',
  Pexp: 'Purple Express',
  Pink: 'Pink',
  Y: 'Yellow',
};
export function lineName(code: string): string {
  return LINE_NAMES[code] ?? code;
}
