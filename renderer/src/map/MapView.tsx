import type { FeatureCollection } from 'geojson';
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
import { BUS_CLUSTER_MAX_ZOOM, buildStyle, CHICAGO_BOUNDS, VEHICLE_LAYERS } from './style';
import { NO_FILTER, VehicleLayer, type VehicleFilter } from './vehicleLayer';
import { VehicleDetails, type VehicleContext } from './VehicleDetails';

export interface MapViewProps {
  fleet: Fleet;
  /** Cameras by mount, placed by the cameras feature (points with `id`). */
  cameras?: FeatureCollection;
  /** Open alerts and incidents, placed by the alerts feature (points with `id`, `severity`). */
  alerts?: FeatureCollection;
  /** A vehicle's cameras and open alerts, for the details panel. */
  vehicleContext?: (vehicleId: string) => VehicleContext;
}

// MapLibre 6 loads its worker from a file beside its own module; once bundled, that file is
// wherever Vite put it, so say where (served from our origin: the CSP allows it).
setWorkerUrl(maplibreWorkerUrl);

const NO_CONTEXT: VehicleContext = { cameras: [], alerts: [] };

/** Handle for diagnostics, the e2e test and the map benchmark (window.sentinelMap). */
export interface MapHandle {
  map: MapLibreMap;
  layer: VehicleLayer;
  fleet: Fleet;
}

/**
 * The live transit map: the offline Chicago basemap, buses (clustered at city zoom) and
 * trains applied as diffs, stations, cameras and alerts. Click a vehicle for its details,
 * follow it, or filter by line, route and district.
 */
export function MapView({ fleet, cameras, alerts, vehicleContext }: MapViewProps) {
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
    map.on('load', () => {
      // Sources exist once the style has loaded.
      const layer = new VehicleLayer({ bus: sourceOf('buses'), train: sourceOf('trains') });
      const h: MapHandle = { map, layer, fleet };
      handle.current = h;
      (window as unknown as { sentinelMap?: MapHandle }).sentinelMap = h;
      addVehicleIcons(map);
      void layer.reset(fleet.vehicles.values());
      unsubscribe = fleet.onChange((c) => {
        if (c.kind === 'reset') void layer.reset(fleet.vehicles.values());
        else void layer.apply(c.diff);
      });
      setReady(true);
    });
    const pick = (e: MapLayerMouseEvent): void => {
      const id = e.features?.[0]?.properties?.id;
      if (typeof id === 'string') setSelected(id);
    };
    for (const l of VEHICLE_LAYERS) {
      map.on('click', l, pick);
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
      handle.current = null;
      map.remove();
    };
  }, [fleet]);

  // District list for the filter, from the same layer the map draws.
  useEffect(() => {
    const ctl = new AbortController();
    fetch(`${GEO_BASE}/layers/police-districts`, { signal: ctl.signal })
      .then((r) => (r.ok ? (r.json() as Promise<{ features: Array<{ properties: { district?: string } }> }>) : { features: [] }))
      .then((fc) => setDistricts([...new Set(fc.features.map((f) => f.properties.district ?? '').filter(Boolean))].sort((a, b) => Number(a) - Number(b))))
      .catch(() => setDistricts([]));
    return () => ctl.abort();
  }, []);

  useEffect(() => {
    if (ready && handle.current) void handle.current.layer.setFilter(filter, fleet.vehicles);
  }, [filter, ready, fleet]);

  useEffect(() => {
    const map = handle.current?.map;
    if (!ready || !map) return;
    const empty: FeatureCollection = { type: 'FeatureCollection', features: [] };
    void (map.getSource('cameras') as GeoJSONSource | undefined)?.setData(cameras ?? empty);
    void (map.getSource('alerts') as GeoJSONSource | undefined)?.setData(alerts ?? empty);
  }, [cameras, alerts, ready]);

  // The selected vehicle: highlight ring, and the camera follows it while "follow" is on.
  const vehicle = selected ? fleet.vehicles.get(selected) : undefined;
  useEffect(() => {
    const map = handle.current?.map;
    if (!ready || !map) return;
    const sel = map.getSource('selection') as GeoJSONSource | undefined;
    void sel?.setData({ type: 'FeatureCollection', features: vehicle ? [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [vehicle.lon, vehicle.lat] } }] : [] });
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
          <input type="checkbox" checked={filter.showBuses} onChange={(e) => setFilter((f) => ({ ...f, showBuses: e.target.checked }))} /> Buses
        </label>
        <label>
          <input type="checkbox" checked={filter.showTrains} onChange={(e) => setFilter((f) => ({ ...f, showTrains: e.target.checked }))} /> Trains
        </label>
        <select aria-label="Rail line" data-testid="filter-line" value={[...filter.lines][0] ?? ''} onChange={(e) => setFilter((f) => ({ ...f, lines: new Set(e.target.value ? [e.target.value] : []) }))}>
          <option value="">All lines</option>
          {RAIL_LINES.map((l) => (
            <option key={l} value={l}>
              {RAIL_LINE_NAMES[l]}
            </option>
          ))}
        </select>
        <input aria-label="Bus routes" data-testid="filter-routes" placeholder="Bus routes (e.g. 9, 22)" size={14} onChange={(e) => onRoutes(e.target.value)} />
        <select aria-label="Police district" data-testid="filter-district" value={filter.district ?? ''} onChange={(e) => setFilter((f) => ({ ...f, district: e.target.value || null }))}>
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
          onClose={() => {
            setSelected(null);
            setFollowing(false);
          }}
        />
      )}
    </div>
  );
}
