import { HealthResponse } from './health';

/** Base path of the JSON API. Everything under it is JSON and versioned. */
export const API_BASE = '/api/v1';

/**
 * Route table: method, path and response schema, shared by the core (which registers and
 * validates) and the renderer's typed client (which calls and parses). Later issues add
 * their routes to this table.
 */
export const routes = {
  health: { method: 'GET', path: `${API_BASE}/health`, response: HealthResponse },
} as const;
export type RouteName = keyof typeof routes;
