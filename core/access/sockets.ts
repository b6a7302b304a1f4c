import type { Socket } from 'socket.io';
import type { SentinelIo } from '../feature';
import type { CameraScopes } from './camera-scope';
import { canSee, seesAllCameras, type CameraResourceKind, type Viewer } from './visibility';

/**
 * Camera records and health on sockets, by the visibility rule: users who see every camera
 * share one room (one emit); liaisons' sockets sit in a second room and each gets only the
 * cameras in its scope (checked per event, since a bus camera's district moves with the bus).
 */
export const CAMERAS_ALL_ROOM = 'cameras:all';
export const CAMERAS_SCOPED_ROOM = 'cameras:scoped';

export function cameraRoomFor(user: Viewer): string {
  return seesAllCameras(user) ? CAMERAS_ALL_ROOM : CAMERAS_SCOPED_ROOM;
}

function viewerOf(socket: Socket): Viewer | null {
  return (socket.data as { auth?: { user: Viewer } }).auth?.user ?? null;
}

/** Sockets of scoped users that may see this camera resource. */
export function scopedViewers(io: SentinelIo, scopes: CameraScopes, cameraId: string, kind: CameraResourceKind): Socket[] {
  const ids = io.of('/').adapter.rooms.get(CAMERAS_SCOPED_ROOM);
  if (!ids || ids.size === 0) return [];
  const scope = scopes.of(cameraId);
  if (!scope) return [];
  const out: Socket[] = [];
  for (const id of ids) {
    const s = io.of('/').sockets.get(id);
    const v = s ? viewerOf(s) : null;
    if (s && v && canSee(v, { kind, cameraId, scope })) out.push(s);
  }
  return out;
}

/** May this socket's user see this camera resource? */
export function socketSees(socket: Socket, scopes: CameraScopes, cameraId: string, kind: CameraResourceKind): boolean {
  const v = viewerOf(socket);
  if (!v) return false;
  if (seesAllCameras(v)) return true;
  const scope = scopes.of(cameraId);
  return scope !== null && canSee(v, { kind, cameraId, scope });
}
