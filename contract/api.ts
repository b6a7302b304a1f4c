import { cameraRoutes } from './cameras';
import { HealthResponse } from './health';
import { FeedsResponse, Placement, VehicleSnapshot } from './vehicles';

/** Base path of the JSON API. Everything under it is JSON and versioned. */
export const API_BASE = '/api/v1';

/**
 * Route table: method, path and response schema, shared by the core (which registers and
 * validates) and the renderer's typed client (which calls and parses). Later issues add
 * their routes to this table.
 */
export const routes = {
  health: { method: 'GET', path: `${API_BASE}/health`, response: HealthResponse },
  ...cameraRoutes,
  vehicles: { method: 'GET', path: `${API_BASE}/vehicles`, response: VehicleSnapshot },
  feeds: { method: 'GET', path: `${API_BASE}/feeds`, response: FeedsResponse },
  /** ?lat=&lon= -> police district, community area, nearest station. */
  geoLocate: { method: 'GET', path: `${API_BASE}/geo/locate`, response: Placement },
} as const;
export type RouteName = keyof typeof routes;

/** Map data served from the assets: GeoJSON layers (`/layers/<GeoLayerName>`) and glyph PBFs. */
export const GEO_BASE = `${API_BASE}/geo`;
export const GLYPHS_URL = `${GEO_BASE}/glyphs/{fontstack}/{range}.pbf`;
