import type { AlertScope, User } from '../../contract';

/**
 * May this user watch this camera (live video, playback)? Every role the route table lets
 * through may, except a liaison, who sees only cameras in their scope: the camera's police
 * district, 'L' lines or bus route (the same terms alerts are routed by). A camera whose place
 * is unknown is out of every liaison's scope.
 *
 * One small function so the core's shared visibility rule can replace it in one place.
 */
export function canWatchCamera(user: Pick<User, 'role' | 'scope'>, scope: AlertScope): boolean {
  if (user.role !== 'liaison') return true;
  if (scope.district && user.scope.districts.includes(scope.district)) return true;
  if (scope.lines.some((l) => user.scope.lines.includes(l))) return true;
  return scope.routes.some((r) => user.scope.routes.includes(r));
}
