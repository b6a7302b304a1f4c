import type { Feature, Point } from 'geojson';
import type { GeoJSONSourceDiff } from 'maplibre-gl';
import { RAIL_LINE_NAMES, type LiveVehicle, type RailLine, type VehicleDiff } from '../../../contract';

/** The part of MapLibre's GeoJSONSource this module uses (a fake in unit tests is not needed: see bench). */
export interface DiffableSource {
  updateData(diff: GeoJSONSourceDiff): Promise<void> | unknown;
}

export interface VehicleFilter {
  /** Rail line codes to show (empty = all). */
  lines: ReadonlySet<string>;
  /** Bus routes to show (empty = all). */
  routes: ReadonlySet<string>;
  /** Police district (null = all). */
  district: string | null;
  showBuses: boolean;
  showTrains: boolean;
}

export const NO_FILTER: VehicleFilter = { lines: new Set(), routes: new Set(), district: null, showBuses: true, showTrains: true };

export function matches(v: LiveVehicle, f: VehicleFilter): boolean {
  if (v.mode === 'bus' ? !f.showBuses : !f.showTrains) return false;
  if (f.district !== null && v.district !== f.district) return false;
  // Line and route filters narrow their own mode; with only a line chosen, buses stay visible
  // unless a route is chosen too (an operator watching the Red Line still sees buses nearby).
  if (v.mode === 'train' && f.lines.size > 0 && !f.lines.has(v.route)) return false;
  if (v.mode === 'bus' && f.routes.size > 0 && !f.routes.has(v.route)) return false;
  return true;
}

type FeatureValue = string | number | boolean | null;
type VehicleFeature = Feature<Point, Record<string, FeatureValue>>;

export function toFeature(v: LiveVehicle): VehicleFeature {
  return {
    type: 'Feature',
    id: v.id,
    geometry: { type: 'Point', coordinates: [v.lon, v.lat] },
    properties: {
      id: v.id,
      mode: v.mode,
      route: v.route,
      heading: v.heading,
      stale: v.stale,
      delayed: v.delayed,
      label: v.mode === 'train' ? (RAIL_LINE_NAMES[v.route as RailLine] ?? v.route).replace(' Line', '') : v.route,
    },
  };
}

/**
 * Keeps the map's two vehicle sources in step with the fleet, by diffs keyed by vehicle id
 * (GeoJSONSource.updateData), never by replacing the whole collection: at 2,000 vehicles a
 * full setData re-parses and re-tiles everything each batch. Vehicles hidden by the filter
 * are removed from the source (so bus clusters count only what is shown) and re-added when
 * the filter changes.
 */
export class VehicleLayer {
  private readonly shown = { bus: new Set<string>(), train: new Set<string>() };
  private filter: VehicleFilter = NO_FILTER;

  constructor(private readonly sources: { bus: DiffableSource; train: DiffableSource }) {}

  get shownCount(): number {
    return this.shown.bus.size + this.shown.train.size;
  }

  /** Applies a diff; resolves when MapLibre's worker has taken both updates. */
  apply(diff: Pick<VehicleDiff, 'upsert' | 'remove'>): Promise<unknown> {
    const out = { bus: emptyDiff(), train: emptyDiff() };
    for (const id of diff.remove) {
      for (const mode of ['bus', 'train'] as const) {
        if (this.shown[mode].delete(id)) out[mode].remove.push(id);
      }
    }
    for (const v of diff.upsert) {
      const set = this.shown[v.mode];
      const other = this.shown[v.mode === 'bus' ? 'train' : 'bus'];
      if (other.delete(v.id)) out[v.mode === 'bus' ? 'train' : 'bus'].remove.push(v.id);
      const visible = matches(v, this.filter);
      if (visible && set.has(v.id)) {
        out[v.mode].update.push({ id: v.id, newGeometry: { type: 'Point', coordinates: [v.lon, v.lat] }, addOrUpdateProperties: props(v) });
      } else if (visible) {
        set.add(v.id);
        out[v.mode].add.push(toFeature(v));
      } else if (set.delete(v.id)) {
        out[v.mode].remove.push(v.id);
      }
    }
    return this.flush(out);
  }

  /** Replaces everything (first snapshot, resync): one diff that removes all, then adds. */
  reset(vehicles: Iterable<LiveVehicle>): Promise<unknown> {
    this.shown.bus.clear();
    this.shown.train.clear();
    const out = { bus: { ...emptyDiff(), removeAll: true }, train: { ...emptyDiff(), removeAll: true } };
    for (const v of vehicles) {
      if (!matches(v, this.filter)) continue;
      this.shown[v.mode].add(v.id);
      out[v.mode].add.push(toFeature(v));
    }
    return this.flush(out);
  }

  /** Changes the filter and sends only the vehicles that appear or disappear. */
  setFilter(filter: VehicleFilter, all: ReadonlyMap<string, LiveVehicle>): Promise<unknown> {
    this.filter = filter;
    const out = { bus: emptyDiff(), train: emptyDiff() };
    for (const v of all.values()) {
      const visible = matches(v, filter);
      const set = this.shown[v.mode];
      if (visible && !set.has(v.id)) {
        set.add(v.id);
        out[v.mode].add.push(toFeature(v));
      } else if (!visible && set.delete(v.id)) out[v.mode].remove.push(v.id);
    }
    return this.flush(out);
  }

  private flush(out: {
    bus: Required<Pick<GeoJSONSourceDiff, 'add' | 'update' | 'remove'>> & GeoJSONSourceDiff;
    train: Required<Pick<GeoJSONSourceDiff, 'add' | 'update' | 'remove'>> & GeoJSONSourceDiff;
  }): Promise<unknown> {
    const jobs: unknown[] = [];
    for (const mode of ['bus', 'train'] as const) {
      const d = out[mode];
      if (d.removeAll || d.add.length || d.update.length || d.remove.length) jobs.push(this.sources[mode].updateData(d));
    }
    return Promise.all(jobs);
  }
}

function emptyDiff(): Required<Pick<GeoJSONSourceDiff, 'add' | 'update' | 'remove'>> & GeoJSONSourceDiff {
  return { add: [], update: [], remove: [] };
}

function props(v: LiveVehicle): Array<{ key: string; value: FeatureValue }> {
  const p: Record<string, FeatureValue> = toFeature(v).properties;
  return Object.entries(p).map(([key, value]) => ({ key, value }));
}
