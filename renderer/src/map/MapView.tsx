import { Map as MapLibreMap, NavigationControl, setWorkerUrl, type GeoJSONSource, type MapLayerMouseEvent } from 'maplibre-gl';
import maplibreWorkerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import 'maplibre-gl/dist/maplibre-gl.css';
import { useEffect, useMemo, useRef, useState } from 'react';
import { GEO_BASE, RAIL_LINE_NAMES, RAIL_LINES } from '../../../contract';
import { useConnection } from '../client/CoreProvider';
import { useStore } from '../client/store';
import type { Fleet } from './fleet';
import { addVehicleIcons } from './icons';
import './map.css';
import {
  buildOverlay,
  KeyedLayer,
  NO_CONTEXT,
  TrailTracker,
  mountVehicleId,
  type OverlayInput,
  type PointFeature,
  type TrailFeature,
} from './overlays';
import { ALERT_LAYERS, BUS_CLUSTER_MAX_ZOOM, buildStyle, CAMERA_LAYERS, CHICAGO_BOUNDS, VEHICLE_LAYERS } from './style';
import { NO_FILTER, VehicleLayer, type VehicleFilter } from './vehicleLayer';
import { VehicleDetails, type VehicleContext } from './VehicleDetails';

/** What the map draws over the fleet, from the console's stores (see useMapOverlay.ts). */
export type MapOverlayData = Omit<OverlayInput, 'vehicles' | 'stations' | 'trails' | 'now'>;

export interface MapViewProps {
  fleet: Fleet;
  /** Cameras, open alerts and incidents, and the selection: drawn as markers over the fleet. */
  overlay?: MapOverlayData;
  /** A vehicle's cameras and open alerts, for the details panel. */
  vehicleContext?: (vehicleId: string) => VehicleContext;
  /** An alert marker (or an alert in the vehicle panel) was clicked. */
  onPickAlert?: (pick: { alertId: string; incidentId: string | null; cameraId: string | null }) => void;
  /** A camera marker was clicked. */
  onPickCamera?: (cameraId: string) => void;
}

/** How often markers are redrawn without news, so their age (fading) stays true. */
const AGE_REFRESH_MS = 20_000;

// MapLibre 6 loads its worker from a file beside its own module; once bundled, that file is
// wherever Vite put it, so say where (served from our origin: the CSP allows it).
setWorkerUrl(maplibreWorkerUrl);

/** Handle for diagnostics, the e2e test and the map benchmark (window.sentinelMap). */
export interface MapHandle {
  map: MapLibreMap;
  layer: VehicleLayer;
  fleet: Fleet;
  /** Redraws cameras, alerts and trails now (the e2e test and the benchmark await it). */
  redrawOverlay: () => Promise<unknown>;
}

/**
 * The live transit map: the offline Chicago basemap, buses (clustered at city zoom) and
 * trains applied as diffs, stations, cameras and alerts. Click a vehicle for its details,
 * follow it, or filter by line, route and district.
 */
export function MapView({ fleet, overlay, vehicleContext, onPickAlert, onPickCamera }: MapViewProps) {
  const container = useRef<HTMLDivElement>(null);
  const handle = useRef<MapHandle | null>(null);
  const [ready, setReady] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [following, setFollowing] = useState(false);
  const [filter, setFilter] = useState<VehicleFilter>(NO_FILTER);
  const [districts, setDistricts] = useState<string[]>([]);
  const version = useStore(fleet.version);
  const [mapError, setMapError] = useState<string | null>(null);
  const hello = useConnection().hello;
  const geoMissing = hello ? hello.assets.missing.some((m) => m.path.includes('chicago/geo') || m.what === 'assets directory') : false;
  const selectedRef = useRef<{ id: string | null; follow: boolean }>({ id: null, follow: false });
  selectedRef.current = { id: selected, follow: following };
  // The latest overlay data and callbacks, read by map event handlers set up once.
  const overlayRef = useRef<{
    data: MapOverlayData | undefined;
    stations: Map<string, [number, number]>;
    pickAlert: MapViewProps['onPickAlert'];
    pickCamera: MapViewProps['onPickCamera'];
  }>({
    data: overlay,
    stations: new Map(),
    pickAlert: onPickAlert,
    pickCamera: onPickCamera,
  });
  overlayRef.current.data = overlay;
  overlayRef.current.pickAlert = onPickAlert;
  overlayRef.current.pickCamera = onPickCamera;

  useEffect(() => {
    if (!container.current) return;
    const map = new MapLibreMap({
      container: container.current,
      style: buildStyle(window.location.origin),
      // The whole city in view, whatever the size of the map region.
      bounds: CHICAGO_BOUNDS,
      fitBoundsOptions: { padding: 12 },
      minZoom: 8,
      maxZoom: 18,
      maxBounds: [
        [-88.6, 41.4],
        [-87.0, 42.3],
      ],
      attributionControl: { compact: true, customAttribution: 'City of Chicago · CTA' },
    });
    map.addControl(new NavigationControl({ showCompass: true }), 'top-right');
    map.on('styleimagemissing', () => addVehicleIcons(map));
    // MapLibre logs to the console unless the map has an error listener: show it on the map
    // instead (e.g. glyphs that could not load while the core was unreachable).
    map.on('error', (e) => setMapError(e.error instanceof Error ? e.error.message || e.error.name : 'map data could not be loaded'));
    map.on('data', () => setMapError(null));
    const sourceOf = (id: string): GeoJSONSource => map.getSource(id) as GeoJSONSource;

    let unsubscribe = (): void => {};
    let ageTimer: ReturnType<typeof setInterval> | undefined;
    map.on('load', () => {
      // Sources exist once the style has loaded.
      const layer = new VehicleLayer({ bus: sourceOf('buses'), train: sourceOf('trains') });
      const cameraLayer = new KeyedLayer<PointFeature>(sourceOf('cameras'));
      const alertLayer = new KeyedLayer<PointFeature>(sourceOf('alerts'));
      const trailLayer = new KeyedLayer<TrailFeature>(sourceOf('trails'));
      const trails = new TrailTracker();
      // Trails are kept for every vehicle that carries a camera (a handful), so a trail is
      // already there when an alert is raised on one.
      const recordTrails = (): void => {
        const data = overlayRef.current.data;
        if (!data) return;
        const watch: string[] = [];
        for (const c of data.cameras.values()) {
          const vid = mountVehicleId(c.mount);
          if (vid) watch.push(vid);
        }
        trails.record(fleet.vehicles, watch);
      };
      const redrawOverlay = (): Promise<unknown> => {
        const { data, stations } = overlayRef.current;
        if (!data) return Promise.resolve();
        const o = buildOverlay({ ...data, vehicles: fleet.vehicles, stations, trails: trails.trails, now: Date.now() });
        return Promise.all([cameraLayer.set(o.cameras), alertLayer.set(o.alerts), trailLayer.set(o.trails)]);
      };
      const h: MapHandle = { map, layer, fleet, redrawOverlay };
      handle.current = h;
      (window as unknown as { sentinelMap?: MapHandle }).sentinelMap = h;
      addVehicleIcons(map);
      void layer.reset(fleet.vehicles.values());
      recordTrails();
      void redrawOverlay();
      unsubscribe = fleet.onChange((c) => {
        if (c.kind === 'reset') void layer.reset(fleet.vehicles.values());
        else void layer.apply(c.diff);
        recordTrails();
        void redrawOverlay();
      });
      ageTimer = setInterval(() => void redrawOverlay(), AGE_REFRESH_MS);
      setReady(true);
    });
    const pick = (e: MapLayerMouseEvent): void => {
      const id = e.features?.[0]?.properties?.id;
      if (typeof id === 'string') setSelected(id);
    };
    const pickAlert = (e: MapLayerMouseEvent): void => {
      const p = e.features?.[0]?.properties;
      if (!p || typeof p.alertId !== 'string') return;
      // An alert riding on a vehicle opens that vehicle's panel too.
      if (typeof p.vehicleId === 'string') setSelected(p.vehicleId);
      overlayRef.current.pickAlert?.({
        alertId: p.alertId,
        incidentId: typeof p.incidentId === 'string' ? p.incidentId : null,
        cameraId: typeof p.cameraId === 'string' ? p.cameraId : null,
      });
    };
    const pickCamera = (e: MapLayerMouseEvent): void => {
      const id = e.features?.[0]?.properties?.cameraId;
      if (typeof id === 'string') overlayRef.current.pickCamera?.(id);
    };
    const clickable: Array<[string, (e: MapLayerMouseEvent) => void]> = [
      ...VEHICLE_LAYERS.map((l) => [l, pick] as [string, typeof pick]),
      ...ALERT_LAYERS.map((l) => [l, pickAlert] as [string, typeof pick]),
      ...CAMERA_LAYERS.map((l) => [l, pickCamera] as [string, typeof pick]),
    ];
    for (const [l, fn] of clickable) {
      map.on('click', l, fn);
      map.on('mouseenter', l, () => (map.getCanvas().style.cursor = 'pointer'));
      map.on('mouseleave', l, () => (map.getCanvas().style.cursor = ''));
    }
    map.on('click', 'bus-clusters', (e: MapLayerMouseEvent) => {
      const f = e.features?.[0];
      const clusterId = f?.properties?.cluster_id;
      if (!f || typeof clusterId !== 'number' || f.geometry.type !== 'Point') return;
      const center = f.geometry.coordinates as [number, number];
      void sourceOf('buses')
        .getClusterExpansionZoom(clusterId)
        .then((zoom) => map.easeTo({ center, zoom: Math.max(zoom, BUS_CLUSTER_MAX_ZOOM + 0.5) }));
    });
    // An operator dragging the map takes over from "follow".
    map.on('dragstart', () => setFollowing(false));
    return () => {
      unsubscribe();
      clearInterval(ageTimer);
      handle.current = null;
      map.remove();
    };
  }, [fleet]);

  // District list for the filter, from the same layer the map draws.
  useEffect(() => {
    const ctl = new AbortController();
    fetch(`${GEO_BASE}/layers/police-districts`, { signal: ctl.signal })
      .then((r) => (r.ok ? (r.json() as Promise<{ features: Array<{ properties: { district?: string } }> }>) : { features: [] }))
      .then((fc) =>
        setDistricts(
          [...new Set(fc.features.map((f) => f.properties.district ?? '').filter(Boolean))].sort((a, b) => Number(a) - Number(b)),
        ),
      )
      .catch(() => setDistricts([]));
    return () => ctl.abort();
  }, []);

  useEffect(() => {
    if (ready && handle.current) void handle.current.layer.setFilter(filter, fleet.vehicles);
  }, [filter, ready, fleet]);

  // Station positions, for station cameras and their alerts (the layer the map draws).
  useEffect(() => {
    const ctl = new AbortController();
    fetch(`${GEO_BASE}/layers/stations`, { signal: ctl.signal })
      .then((r) =>
        r.ok
          ? (r.json() as Promise<{ features: Array<{ properties: { id?: unknown }; geometry: { type: string; coordinates: unknown } }> }>)
          : { features: [] },
      )
      .then((fc) => {
        const m = new Map<string, [number, number]>();
        for (const f of fc.features) {
          const c = f.geometry.coordinates;
          if (
            typeof f.properties.id === 'string' &&
            f.geometry.type === 'Point' &&
            Array.isArray(c) &&
            typeof c[0] === 'number' &&
            typeof c[1] === 'number'
          )
            m.set(f.properties.id, [c[0], c[1]]);
        }
        overlayRef.current.stations = m;
        void handle.current?.redrawOverlay();
      })
      .catch(() => undefined); // no geography: station cameras fall back to their registered point
    return () => ctl.abort();
  }, []);

  useEffect(() => {
    if (ready) void handle.current?.redrawOverlay();
  }, [overlay, ready]);

  // The selected vehicle: highlight ring, and the camera follows it while "follow" is on.
  const vehicle = selected ? fleet.vehicles.get(selected) : undefined;
  useEffect(() => {
    const map = handle.current?.map;
    if (!ready || !map) return;
    const sel = map.getSource('selection') as GeoJSONSource | undefined;
    void sel?.setData({
      type: 'FeatureCollection',
      features: vehicle ? [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [vehicle.lon, vehicle.lat] } }] : [],
    });
    if (vehicle && following) map.easeTo({ center: [vehicle.lon, vehicle.lat], zoom: Math.max(map.getZoom(), 14), duration: 800 });
  }, [vehicle, following, ready, version]);

  const onRoutes = useMemo(
    () => (text: string) =>
      setFilter((f) => ({
        ...f,
        routes: new Set(
          text
            .split(/[\s,]+/)
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      })),
    [],
  );

  return (
    <div className="map-wrap">
      <div ref={container} className="map-canvas" data-testid="map" data-ready={ready ? 'true' : 'false'} />
      <form className="map-panel map-filters" aria-label="Map filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          <input type="checkbox" checked={filter.showBuses} onChange={(e) => setFilter((f) => ({ ...f, showBuses: e.target.checked }))} />{' '}
          Buses
        </label>
        <label>
          <input type="checkbox" checked={filter.showTrains} onChange={(e) => setFilter((f) => ({ ...f, showTrains: e.target.checked }))} />{' '}
          Trains
        </label>
        <select
          aria-label="Rail line"
          data-testid="filter-line"
          value={[...filter.lines][0] ?? ''}
          onChange={(e) => setFilter((f) => ({ ...f, lines: new Set(e.target.value ? [e.target.value] : []) }))}
        >
          <option value="">All lines</option>
          {RAIL_LINES.map((l) => (
            <option key={l} value={l}>
              {RAIL_LINE_NAMES[l]}
            </option>
          ))}
        </select>
        <input
          aria-label="Bus routes"
          data-testid="filter-routes"
          placeholder="Bus routes (e.g. 9, 22)"
          size={14}
          onChange={(e) => onRoutes(e.target.value)}
        />
        <select
          aria-label="Police district"
          data-testid="filter-district"
          value={filter.district ?? ''}
          onChange={(e) => setFilter((f) => ({ ...f, district: e.target.value || null }))}
        >
          <option value="">All districts</option>
          {districts.map((d) => (
            <option key={d} value={d}>
              District {d}
            </option>
          ))}
        </select>
      </form>
      {(geoMissing || mapError) && (
        <div className="map-panel map-notice" role="status" data-testid="map-notice">
          {geoMissing ? 'No map data: the assets pack has no Chicago geography (see Assets in the status bar).' : `Map data: ${mapError}`}
        </div>
      )}
      {selected && (
        <VehicleDetails
          vehicle={vehicle}
          context={vehicleContext?.(selected) ?? NO_CONTEXT}
          following={following}
          now={Date.now()}
          onFollow={() => setFollowing((f) => !f)}
          onAlert={(alertId, incidentId) => {
            const cameraId = overlay?.alerts.find((a) => a.id === alertId)?.cameraId ?? null;
            onPickAlert?.({ alertId, incidentId, cameraId });
          }}
          onClose={() => {
            setSelected(null);
            setFollowing(false);
          }}
        />
      )}
    </div>
  );
}
