import type { Alert, AlertScope, User } from '../../contract';

/**
 * Who may receive an alert or incident event, as socket.io rooms. The only scoping rule of
 * the core: live delivery, reconnect replay, incident visibility and the REST lists all ask
 * here (core/alerts/deliver.ts re-exports it).
 *
 * Rooms: `alerts:all` (operators, reviewers, technicians, admins), `district:<n>`,
 * `line:<code>` and `route:<id>` (liaisons, by their scope), `camera:<id>` (the camera the
 * event came from), `escalation` (liaisons marked as the next in line, added to an alert's
 * events once it escalated).
 */

/** The union of delivery scopes an incident covers (every alert's district, lines, routes, camera). */
export interface Reach {
  districts: string[];
  lines: string[];
  routes: string[];
  cameras: string[];
}

export function reachOf(scope: AlertScope, cameraId: string): Reach {
  return { districts: scope.district ? [scope.district] : [], lines: [...scope.lines], routes: [...scope.routes], cameras: [cameraId] };
}

export function unionReach(a: Reach, b: Reach): Reach {
  const u = (x: string[], y: string[]) => [...new Set([...x, ...y])];
  return {
    districts: u(a.districts, b.districts),
    lines: u(a.lines, b.lines),
    routes: u(a.routes, b.routes),
    cameras: u(a.cameras, b.cameras),
  };
}

export function reachRooms(r: Reach): string[] {
  return [
    'alerts:all',
    ...r.districts.map((d) => `district:${d}`),
    ...r.lines.map((l) => `line:${l}`),
    ...r.routes.map((x) => `route:${x}`),
    ...r.cameras.map((c) => `camera:${c}`),
  ];
}

export function alertRooms(alert: Pick<Alert, 'scope' | 'cameraId'>): string[] {
  return reachRooms(reachOf(alert.scope, alert.cameraId));
}

/** The alert rooms a user's sockets join. A liaison with an empty scope receives nothing. */
export function roomsForUser(user: Pick<User, 'role' | 'scope'>): string[] {
  if (user.role !== 'liaison') return ['alerts:all'];
  return [
    ...user.scope.districts.map((d) => `district:${d}`),
    ...user.scope.lines.map((l) => `line:${l}`),
    ...user.scope.routes.map((r) => `route:${r}`),
    ...(user.scope.escalation ? ['escalation'] : []),
  ];
}

/** Whether a user receives events sent to these rooms. */
export function reaches(user: Pick<User, 'role' | 'scope'>, rooms: readonly string[]): boolean {
  const mine = new Set(roomsForUser(user));
  return rooms.some((r) => mine.has(r));
}

export function inScope(user: Pick<User, 'role' | 'scope'>, alert: Pick<Alert, 'scope' | 'cameraId'>, escalated = false): boolean {
  return reaches(user, escalated ? [...alertRooms(alert), 'escalation'] : alertRooms(alert));
}
