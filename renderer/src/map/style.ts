import type { ExpressionSpecification, StyleSpecification } from 'maplibre-gl';
import { GEO_BASE, GLYPHS_URL, type GeoLayerName } from '../../../contract';

export const CHICAGO_BOUNDS: [[number, number], [number, number]] = [
  [-87.94, 41.644],
  [-87.524, 42.023],
];
export const FONT = ['Noto Sans Regular'];
export const FONT_BOLD = ['Noto Sans Medium'];

const SEVERITY_COLOR: ExpressionSpecification = [
  'match',
  ['get', 'severity'],
  'critical',
  '#e5484d',
  'high',
  '#f76b15',
  'medium',
  '#f5a524',
  '#8595a8',
];

/** Zoom above which buses are drawn one by one (below it they are clustered). */
export const BUS_CLUSTER_MAX_ZOOM = 12;

/**
 * The console's fully offline style: every source and glyph comes from the core, which
 * serves them from the assets pack (no tile server, no token, no telemetry). Live vehicles,
 * cameras and alerts are GeoJSON sources filled at run time.
 */
export function buildStyle(origin: string): StyleSpecification {
  // MapLibre fetches from a worker, where relative URLs do not resolve: make them absolute.
  const layerUrl = (name: GeoLayerName): string => `${origin}${GEO_BASE}/layers/${name}`;
  const empty = { type: 'FeatureCollection' as const, features: [] };
  return {
    version: 8,
    name: 'Sentinel Chicago (offline)',
    glyphs: `${origin}${GLYPHS_URL}`,
    sources: {
      areas: { type: 'geojson', data: layerUrl('community-areas') },
      districts: { type: 'geojson', data: layerUrl('police-districts') },
      'bus-routes': { type: 'geojson', data: layerUrl('bus-routes') },
      rail: { type: 'geojson', data: layerUrl('rail-lines') },
      stations: { type: 'geojson', data: layerUrl('stations'), promoteId: 'id' },
      // Buses cluster at city zoom (1,500 icons are noise there); trains are few and always shown.
      buses: { type: 'geojson', data: empty, promoteId: 'id', cluster: true, clusterMaxZoom: BUS_CLUSTER_MAX_ZOOM, clusterRadius: 36 },
      trains: { type: 'geojson', data: empty, promoteId: 'id' },
      cameras: { type: 'geojson', data: empty, promoteId: 'id' },
      alerts: { type: 'geojson', data: empty, promoteId: 'id' },
      // Recent path of each vehicle that carries an open alert.
      trails: { type: 'geojson', data: empty, promoteId: 'id' },
      selection: { type: 'geojson', data: empty },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#0c1219' } },
      { id: 'areas-fill', type: 'fill', source: 'areas', paint: { 'fill-color': '#16212c', 'fill-opacity': 0.9 } },
      { id: 'areas-line', type: 'line', source: 'areas', paint: { 'line-color': '#263545', 'line-width': 0.8 } },
      {
        id: 'districts-line',
        type: 'line',
        source: 'districts',
        paint: { 'line-color': '#3d5a78', 'line-width': 1.4, 'line-dasharray': [3, 2] },
      },
      {
        id: 'bus-routes',
        type: 'line',
        source: 'bus-routes',
        minzoom: 11,
        paint: { 'line-color': '#3a4a5c', 'line-width': ['interpolate', ['linear'], ['zoom'], 11, 0.6, 15, 2] },
      },
      {
        id: 'rail-casing',
        type: 'line',
        source: 'rail',
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: { 'line-color': '#0c1219', 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 3, 15, 8] },
      },
      {
        id: 'rail',
        type: 'line',
        source: 'rail',
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: { 'line-color': ['get', 'color'], 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 1.5, 15, 5] },
      },
      {
        id: 'areas-label',
        type: 'symbol',
        source: 'areas',
        minzoom: 11.5,
        layout: {
          'text-field': ['get', 'name'],
          'text-font': FONT,
          'text-size': 11,
          'text-transform': 'uppercase',
          'text-letter-spacing': 0.08,
        },
        paint: { 'text-color': '#4b5f75', 'text-halo-color': '#0c1219', 'text-halo-width': 1 },
      },
      {
        id: 'districts-label',
        type: 'symbol',
        source: 'districts',
        maxzoom: 11.5,
        layout: { 'text-field': ['concat', 'District ', ['get', 'district']], 'text-font': FONT_BOLD, 'text-size': 11 },
        paint: { 'text-color': '#5d7b99', 'text-halo-color': '#0c1219', 'text-halo-width': 1.2 },
      },
      {
        id: 'stations',
        type: 'circle',
        source: 'stations',
        paint: {
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 9, 2, 14, 5],
          'circle-color': '#ffffff',
          'circle-stroke-color': '#0c1219',
          'circle-stroke-width': 1.5,
        },
      },
      {
        id: 'stations-label',
        type: 'symbol',
        source: 'stations',
        minzoom: 12.5,
        layout: {
          'text-field': ['get', 'name'],
          'text-font': FONT_BOLD,
          'text-size': 11,
          'text-offset': [0, 1.1],
          'text-anchor': 'top',
          'text-optional': true,
        },
        paint: { 'text-color': '#e6edf3', 'text-halo-color': '#0c1219', 'text-halo-width': 1.5 },
      },
      // Bus clusters: a count bubble, sized by the number of buses.
      {
        id: 'bus-clusters',
        type: 'circle',
        source: 'buses',
        filter: ['has', 'point_count'],
        paint: {
          'circle-color': '#1d6f8f',
          'circle-opacity': 0.85,
          'circle-stroke-color': '#7fd3f5',
          'circle-stroke-width': 1,
          'circle-radius': ['step', ['get', 'point_count'], 11, 20, 15, 60, 19],
        },
      },
      {
        id: 'bus-cluster-count',
        type: 'symbol',
        source: 'buses',
        filter: ['has', 'point_count'],
        layout: { 'text-field': ['get', 'point_count_abbreviated'], 'text-font': FONT_BOLD, 'text-size': 11, 'text-allow-overlap': true },
        paint: { 'text-color': '#ffffff' },
      },
      {
        id: 'bus-delayed',
        type: 'circle',
        source: 'buses',
        filter: ['all', ['!', ['has', 'point_count']], ['get', 'delayed']],
        paint: { 'circle-radius': 11, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#f5a524', 'circle-stroke-width': 2 },
      },
      {
        id: 'buses',
        type: 'symbol',
        source: 'buses',
        filter: ['!', ['has', 'point_count']],
        layout: {
          'icon-image': ['case', ['get', 'stale'], 'vehicle-stale', 'vehicle-bus'],
          'icon-rotate': ['coalesce', ['get', 'heading'], 0],
          'icon-rotation-alignment': 'map',
          'icon-allow-overlap': true,
          'icon-size': ['interpolate', ['linear'], ['zoom'], 12, 0.75, 16, 1.1],
          'text-field': ['step', ['zoom'], '', 13.5, ['get', 'route']],
          'text-font': FONT_BOLD,
          'text-size': 10,
          'text-offset': [0, 1.3],
          'text-anchor': 'top',
          'text-optional': true,
        },
        paint: {
          'text-color': '#cfe8f5',
          'text-halo-color': '#0c1219',
          'text-halo-width': 1.2,
          'icon-opacity': ['case', ['get', 'stale'], 0.55, 1],
        },
      },
      {
        id: 'train-delayed',
        type: 'circle',
        source: 'trains',
        filter: ['get', 'delayed'],
        paint: { 'circle-radius': 13, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#f5a524', 'circle-stroke-width': 2 },
      },
      {
        id: 'trains',
        type: 'symbol',
        source: 'trains',
        layout: {
          'icon-image': ['case', ['get', 'stale'], 'vehicle-stale', ['concat', 'vehicle-train-', ['get', 'route']]],
          'icon-rotate': ['coalesce', ['get', 'heading'], 0],
          'icon-rotation-alignment': 'map',
          'icon-allow-overlap': true,
          'icon-size': ['interpolate', ['linear'], ['zoom'], 9, 0.8, 16, 1.25],
          'text-field': ['step', ['zoom'], '', 12, ['get', 'label']],
          'text-font': FONT_BOLD,
          'text-size': 10,
          'text-offset': [0, 1.4],
          'text-anchor': 'top',
          'text-optional': true,
        },
        paint: {
          'text-color': '#ffffff',
          'text-halo-color': '#0c1219',
          'text-halo-width': 1.2,
          'icon-opacity': ['case', ['get', 'stale'], 0.55, 1],
        },
      },
      {
        id: 'selection',
        type: 'circle',
        source: 'selection',
        paint: {
          'circle-radius': 17,
          'circle-color': 'rgba(76,194,255,0.15)',
          'circle-stroke-color': '#4cc2ff',
          'circle-stroke-width': 2.5,
        },
      },
      // Cameras by mount (station cameras at the station, bus cameras riding with the bus):
      // a small square-ish dot, grey when the camera is not sending video.
      {
        id: 'cameras',
        type: 'circle',
        source: 'cameras',
        minzoom: 11,
        paint: {
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 3, 15, 5],
          'circle-color': ['case', ['==', ['get', 'state'], 'live'], '#9ad1ff', '#6b7785'],
          'circle-stroke-color': '#0c1219',
          'circle-stroke-width': 1.5,
          // A vehicle camera sits beside its vehicle's icon, not on top of it.
          'circle-translate': [-11, -11],
        },
      },
      // The recent trail of a vehicle with an open alert, under the alert marker.
      {
        id: 'alert-trails',
        type: 'line',
        source: 'trails',
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: {
          'line-color': '#f76b15',
          'line-width': ['interpolate', ['linear'], ['zoom'], 10, 2, 16, 4],
          'line-opacity': 0.75,
          'line-dasharray': [1, 1.5],
        },
      },
      // Alerts and incidents by severity, fading with age, on top of everything. One marker per
      // incident: a filled disc with a white rim and a "!" (a delayed vehicle's ring is orange
      // and hollow; the two must not be mistaken). Acknowledged ones keep their rim, lose most
      // of their fill.
      {
        id: 'alerts',
        type: 'circle',
        source: 'alerts',
        paint: {
          'circle-radius': ['match', ['get', 'severity'], 'critical', 14, 'high', 12, 10],
          'circle-color': SEVERITY_COLOR,
          'circle-opacity': ['case', ['get', 'acknowledged'], 0.25, ['match', ['get', 'age'], 0, 0.95, 1, 0.8, 2, 0.6, 0.4]],
          'circle-stroke-color': ['case', ['get', 'active'], '#ffffff', SEVERITY_COLOR],
          'circle-stroke-opacity': ['match', ['get', 'age'], 0, 1, 1, 0.9, 2, 0.7, 0.5],
          'circle-stroke-width': 2,
        },
      },
      {
        id: 'alerts-mark',
        type: 'symbol',
        source: 'alerts',
        layout: { 'text-field': '!', 'text-font': FONT_BOLD, 'text-size': 14, 'text-allow-overlap': true, 'text-ignore-placement': true },
        paint: { 'text-color': '#ffffff', 'text-halo-color': '#0c1219', 'text-halo-width': 0.6 },
      },
      // The selected incident: an accent ring around its marker.
      {
        id: 'alerts-selected',
        type: 'circle',
        source: 'alerts',
        filter: ['==', ['get', 'selected'], true],
        paint: { 'circle-radius': 20, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#4cc2ff', 'circle-stroke-width': 3 },
      },
      {
        id: 'alerts-count',
        type: 'symbol',
        source: 'alerts',
        filter: ['>', ['get', 'count'], 1],
        layout: {
          'text-field': ['concat', '×', ['to-string', ['get', 'count']]],
          'text-font': FONT_BOLD,
          'text-size': 11,
          'text-offset': [1.9, -1.3],
          'text-allow-overlap': true,
        },
        paint: { 'text-color': '#ffffff', 'text-halo-color': '#0c1219', 'text-halo-width': 1.5 },
      },
    ],
  };
}

/** Layers a click can pick an alert (incident marker) or a camera from. */
export const ALERT_LAYERS = ['alerts'];
export const CAMERA_LAYERS = ['cameras'];

/** Layers a click can pick a vehicle from. */
export const VEHICLE_LAYERS = ['trains', 'buses'];
