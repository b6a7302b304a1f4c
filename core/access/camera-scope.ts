import { alertScope } from '../analytics/scope';
import type { CameraCatalog } from '../cameras/catalog';
import type { Feeds } from '../feeds/feature';
import type { PlaceScope } from './visibility';

/** A bus camera's district follows the bus; re-place it at most this often. */
const CACHE_MS = 10_000;

/**
 * Where a camera is, for the visibility rule: the same placement alerts get (a station's
 * district via the geodata and the station's lines; a bus's route and live district; a
 * railcar's line), so a liaison sees the cameras whose alerts they receive. Null when no such
 * camera exists.
 */
export class CameraScopes {
  private readonly cache = new Map<string, { at: number; scope: PlaceScope | null }>();
  constructor(
    private readonly cameras: CameraCatalog,
    private readonly feeds: Feeds,
  ) {}

  of(cameraId: string): PlaceScope | null {
    const hit = this.cache.get(cameraId);
    const now = Date.now();
    if (hit && now - hit.at < CACHE_MS) return hit.scope;
    const cam = this.cameras.get(cameraId);
    let scope: PlaceScope | null = null;
    if (cam) {
      const s = alertScope(cam.mount, cam.location, this.feeds.geo, this.feeds.service);
      scope = { district: s.district, lines: s.lines, routes: s.routes };
    }
    this.cache.set(cameraId, { at: now, scope });
    return scope;
  }

  /** A camera was changed or removed: its next check re-reads it. */
  forget(cameraId: string): void {
    this.cache.delete(cameraId);
  }
}
