import type { LiaisonScope, Role } from '../../contract';

/**
 * The one visibility rule of the core: may this user see this resource? Every route (through
 * the route rules in ./route-rules.ts and the gate in ./gate.ts) and every socket room
 * (./sockets.ts, core/alerts/deliver.ts) asks this function, so "a district-1 liaison sees
 * only district 1" is decided in one place. Pure: the caller resolves where a resource is
 * (a camera's scope comes from its mount, see ./camera-scope.ts).
 *
 * - admin, operators and technicians see every camera, clip, recording, alert and incident;
 * - reviewers review every incident, so they see the same, plus evidence and the audit trail;
 * - liaisons see only what lies in their districts, 'L' lines or bus routes (and, when they
 *   are the escalation liaison, alerts escalated to them); never evidence or the audit trail.
 */

/** Where something happened, in the terms liaisons are scoped by. */
export interface PlaceScope {
  district: string | null;
  lines: readonly string[];
  routes: readonly string[];
}

/** Everything a camera produces carries the camera's scope. */
export type CameraResourceKind = 'camera' | 'camera-health' | 'snapshot' | 'live-video' | 'clip' | 'recording';
export const CAMERA_RESOURCE_KINDS: readonly CameraResourceKind[] = [
  'camera',
  'camera-health',
  'snapshot',
  'live-video',
  'clip',
  'recording',
];

export type Resource =
  | { kind: CameraResourceKind; cameraId: string; scope: PlaceScope }
  | { kind: 'alert'; scope: PlaceScope; escalated?: boolean }
  /** `reach`: a merged incident concerns every place its alerts came from (the union of their scopes). */
  | { kind: 'incident'; scope: PlaceScope; reach?: { districts: readonly string[]; lines: readonly string[]; routes: readonly string[] } }
  | { kind: 'evidence' }
  | { kind: 'audit' };
export type ResourceKind = Resource['kind'];

export interface Viewer {
  role: Role;
  scope: LiaisonScope;
}

/** Does a place fall inside a liaison's districts, lines or routes? */
export function inLiaisonScope(scope: LiaisonScope, place: PlaceScope): boolean {
  if (place.district !== null && scope.districts.includes(place.district)) return true;
  if (place.lines.some((l) => scope.lines.includes(l))) return true;
  return place.routes.some((r) => scope.routes.includes(r));
}

/** Roles that see every place (no scope filter). */
const SEE_EVERYWHERE: ReadonlySet<Role> = new Set<Role>(['admin', 'operator', 'technician', 'reviewer']);

export function canSee(user: Viewer, resource: Resource): boolean {
  if (user.role === 'admin') return true;
  switch (resource.kind) {
    case 'audit':
    case 'evidence':
      return user.role === 'reviewer';
    case 'alert':
      if (SEE_EVERYWHERE.has(user.role)) return true;
      return inLiaisonScope(user.scope, resource.scope) || (resource.escalated === true && user.scope.escalation);
    case 'incident':
      if (SEE_EVERYWHERE.has(user.role) || inLiaisonScope(user.scope, resource.scope)) return true;
      return (
        resource.reach !== undefined &&
        (resource.reach.districts.some((d) => user.scope.districts.includes(d)) ||
          resource.reach.lines.some((l) => user.scope.lines.includes(l)) ||
          resource.reach.routes.some((r) => user.scope.routes.includes(r)))
      );
    default:
      // Cameras and everything they produce.
      return SEE_EVERYWHERE.has(user.role) || inLiaisonScope(user.scope, resource.scope);
  }
}

/** True when the user sees every camera (no per-camera check needed: one socket room). */
export function seesAllCameras(user: Viewer): boolean {
  return SEE_EVERYWHERE.has(user.role);
}
