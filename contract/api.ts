import { z } from 'zod';
import { alertRoutes } from './alert-routes';
import { auditRoutes } from './audit';
import { ANY_ROLE, PUBLIC, authRoutes, type RouteAccess } from './auth';
import { cameraRoutes } from './cameras';
import { clusterRoutes } from './cluster';
import { evidenceRoutes } from './evidence';
import { HealthResponse } from './health';
import { incidentRoutes } from './incidents';
import { modelRoutes } from './models';
import { nodeRoutes } from './nodes';
import { reviewRoutes } from './review';
import { smsRoutes } from './sms';
import { ssoRoutes } from './sso';
import { statisticsRoutes } from './statistics';
import { technicianRoutes } from './technician';
import { wallRoutes } from './wall';
import { FeedsResponse, Placement, VehicleSnapshot } from './vehicles';

/** Base path of the JSON API. Everything under it is JSON and versioned. */
export const API_BASE = '/api/v1';

/**
 * Route table: method, path and response schema, shared by the core (which registers and
 * validates) and the renderer's typed client (which calls and parses). Later issues add
 * their routes to this table.
 */
export const routes = {
  /** Liveness: public so a load balancer or the Electron shell can probe it signed out. */
  health: { method: 'GET', path: `${API_BASE}/health`, response: HealthResponse, roles: PUBLIC },
  ...authRoutes,
  ...ssoRoutes,
  ...auditRoutes,
  ...cameraRoutes,
  ...technicianRoutes,
  vehicles: { method: 'GET', path: `${API_BASE}/vehicles`, response: VehicleSnapshot, roles: ANY_ROLE },
  feeds: { method: 'GET', path: `${API_BASE}/feeds`, response: FeedsResponse, roles: ANY_ROLE },
  /** ?lat=&lon= -> police district, community area, nearest station. */
  geoLocate: { method: 'GET', path: `${API_BASE}/geo/locate`, response: Placement, roles: ANY_ROLE },
  /** application/geo+json: one map layer from the assets. */
  geoLayer: { method: 'GET', path: `${API_BASE}/geo/layers/:name`, response: z.unknown(), roles: ANY_ROLE },
  /** application/x-protobuf: map label glyphs. */
  geoGlyphs: { method: 'GET', path: `${API_BASE}/geo/glyphs/:fontstack/:range`, response: z.unknown(), roles: ANY_ROLE },
  ...incidentRoutes,
  ...alertRoutes,
  ...reviewRoutes,
  ...smsRoutes,
  ...clusterRoutes,
  ...evidenceRoutes,
  ...statisticsRoutes,
  ...wallRoutes,
  ...modelRoutes,
  ...nodeRoutes,
} as const satisfies Record<string, RouteEntry>;
export type RouteName = keyof typeof routes;

/**
 * One entry of the route table. `roles` is required: the core's auth hook denies
 * any route whose entry is missing, so a new route without roles fails typecheck here.
 */
export interface RouteEntry {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  response: z.ZodType;
  body?: z.ZodType;
  roles: RouteAccess;
}

/** Map data served from the assets: GeoJSON layers (`/layers/<GeoLayerName>`) and glyph PBFs. */
export const GEO_BASE = `${API_BASE}/geo`;
export const GLYPHS_URL = `${GEO_BASE}/glyphs/{fontstack}/{range}.pbf`;
