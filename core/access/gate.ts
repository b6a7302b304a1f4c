import type { FastifyRequest } from 'fastify';
import { routes, type RouteName } from '../../contract';
import { SentinelError } from '../errors';
import type { Lifecycle } from '../lifecycle';
import type { Logger } from '../logger';
import type { ClipStore } from '../recording/clips';
import type { CameraScopes } from './camera-scope';
import { ROUTE_RULES, type RouteRule } from './route-rules';
import { CAMERA_RESOURCE_KINDS, canSee, type CameraResourceKind, type PlaceScope, type Viewer } from './visibility';

const ROUTE_NAMES: ReadonlyMap<string, RouteName> = new Map(
  Object.entries(routes).map(([name, r]) => [`${r.method} ${r.path}`, name as RouteName]),
);

export function ruleFor(method: string, url: string): RouteRule | undefined {
  const name = ROUTE_NAMES.get(`${method === 'HEAD' ? 'GET' : method} ${url}`);
  return name ? ROUTE_RULES[name] : undefined;
}

/** Contract routes with no visibility rule (the matrix test fails on any). */
export function routesWithoutRule(): string[] {
  return Object.entries(routes)
    .filter(([name]) => !ROUTE_RULES[name])
    .map(([name, r]) => `${name} (${r.method} ${r.path})`);
}

const NOUN = { camera: 'camera', clip: 'clip', alert: 'alert', incident: 'incident' } as const;

/**
 * The visibility gate: a preHandler (after the auth hook has checked the role, before the
 * handler) that finds where the resource a route names lies and asks `canSee`. What a user
 * may not see reads as absent (404 with the same message as an unknown id), so a liaison
 * cannot probe other districts' ids. An id that does not exist is left to the handler.
 */
export function visibilityGate(deps: { lifecycle: Lifecycle; clips: Pick<ClipStore, 'cameraOf'>; scopes: CameraScopes; log: Logger }) {
  const { lifecycle, clips, scopes } = deps;
  type Place = {
    scope: PlaceScope;
    cameraId?: string;
    escalated?: boolean;
    reach?: { districts: string[]; lines: string[]; routes: string[] };
  };
  const placeOf = async (from: 'camera' | 'clip' | 'alert' | 'incident', id: string): Promise<Place | null> => {
    switch (from) {
      case 'camera': {
        const scope = scopes.of(id);
        return scope ? { scope, cameraId: id } : null;
      }
      case 'clip': {
        const cameraId = await clips.cameraOf(id);
        if (cameraId === null) return null;
        // A clip outlives its camera; with the camera gone, nobody scoped may see it.
        return { scope: scopes.of(cameraId) ?? { district: null, lines: [], routes: [] }, cameraId };
      }
      case 'alert': {
        const a = await lifecycle.alerts.get(id);
        if (!a) return null;
        return { scope: a.alert.scope, escalated: await lifecycle.service.escalated(id) };
      }
      case 'incident': {
        const inc = await lifecycle.incidents.get(id);
        return inc ? { scope: inc.scope, ...(inc.reach ? { reach: inc.reach } : {}) } : null;
      }
    }
  };

  return async (req: FastifyRequest): Promise<void> => {
    const url = req.routeOptions.url;
    const user = req.auth?.user;
    if (!url || !user) return;
    const rule = ruleFor(req.method, url);
    if (!rule) return;
    const viewer: Viewer = user;
    if ('kind' in rule) {
      if (!canSee(viewer, { kind: rule.kind }))
        throw new SentinelError(`role "${user.role}" may not see ${rule.kind === 'audit' ? 'the audit trail' : 'evidence'}`, 'forbidden');
      return;
    }
    if (!('param' in rule)) return;
    const id = (req.params as Record<string, unknown> | undefined)?.[rule.param];
    if (typeof id !== 'string') return;
    const place = await placeOf(rule.from, id);
    if (!place) return;
    let ok: boolean;
    if (rule.from === 'alert') ok = canSee(viewer, { kind: 'alert', scope: place.scope, escalated: place.escalated ?? false });
    else if (rule.from === 'incident')
      ok = canSee(viewer, { kind: 'incident', scope: place.scope, ...(place.reach ? { reach: place.reach } : {}) });
    else {
      const kind: CameraResourceKind = (CAMERA_RESOURCE_KINDS as readonly string[]).includes(rule.resource)
        ? (rule.resource as CameraResourceKind)
        : 'camera';
      ok = canSee(viewer, { kind, cameraId: place.cameraId ?? id, scope: place.scope });
    }
    if (ok && rule.resource === 'evidence') ok = canSee(viewer, { kind: 'evidence' });
    if (!ok) throw new SentinelError(`no ${NOUN[rule.from]} with id ${id}`, 'not_found', 'id');
  };
}
