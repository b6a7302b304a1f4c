import { DEFAULT_WALL_PREFS, WallPrefs, wallRoutes, type CameraMount, type User, type WallGroup, type WallGroups } from '../../contract';
import { canSee, type PlaceScope } from '../access';
import { SentinelError } from '../errors';
import type { CoreContext } from '../feature';
import { parseInput } from '../http/errors';
import { UserPrefs } from './prefs';

const WALL_KEY = 'wall';

/** What the wall needs to know about the cameras (the cameras feature provides it). */
export interface WallCameras {
  list(): ReadonlyArray<{ id: string; mount: CameraMount }>;
  /** Where the camera is (district, lines, routes), or null when it is gone. */
  scopeOf(id: string): PlaceScope | null;
  /** A station's name from the geodata, when known. */
  stationName(stationId: string): string | null;
}

/** The defaults for a user who never saved a wall: a liaison's "my district" is their first. */
export function defaultWall(user: User): WallPrefs {
  return { ...DEFAULT_WALL_PREFS, myDistrict: user.scope.districts[0] ?? null };
}

/**
 * The camera groups a user may pick for the wall: every station, 'L' line, bus route and
 * police district that has at least one camera the user may see, each with those cameras.
 */
export function wallGroups(user: User, cams: WallCameras): WallGroup[] {
  const groups = new Map<string, WallGroup>();
  const add = (kind: WallGroup['kind'], id: string | null, label: string, cameraId: string): void => {
    const key = `${kind}:${id ?? ''}`;
    const g = groups.get(key) ?? { kind, id, label, cameraIds: [] };
    g.cameraIds.push(cameraId);
    groups.set(key, g);
  };
  for (const c of cams.list()) {
    const scope = cams.scopeOf(c.id);
    if (!scope || !canSee(user, { kind: 'camera', cameraId: c.id, scope })) continue;
    add('all', null, 'All cameras', c.id);
    if (c.mount.kind === 'station')
      add('station', c.mount.stationId, cams.stationName(c.mount.stationId) ?? `Station ${c.mount.stationId}`, c.id);
    for (const l of scope.lines) add('line', l, `${l} Line`, c.id);
    for (const r of scope.routes) add('route', r, `Bus route ${r}`, c.id);
    if (scope.district) add('district', scope.district, `District ${scope.district}`, c.id);
  }
  const order = ['all', 'station', 'line', 'route', 'district'];
  return [...groups.values()].sort(
    (a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.label.localeCompare(b.label, undefined, { numeric: true }),
  );
}

/**
 * The video wall's routes: the user's own layout (kept on the core, so it follows them from
 * Electron to a browser) and the camera groups to fill it from, filtered by the visibility rule.
 */
export function registerWallRoutes(ctx: CoreContext, cams: WallCameras): void {
  const prefs = new UserPrefs(ctx.sql, ctx.log.child({ name: 'user-prefs' }));
  const userOf = (u: User | undefined): User => {
    if (!u) throw new SentinelError('sign in first', 'unauthorized');
    return u;
  };
  ctx.http.get(wallRoutes.wallPrefs.path, async (req): Promise<WallPrefs> => {
    const user = userOf(req.auth?.user);
    return prefs.get(user.id, WALL_KEY, WallPrefs, defaultWall(user));
  });
  ctx.http.put(wallRoutes.wallPrefsPut.path, async (req): Promise<WallPrefs> => {
    const user = userOf(req.auth?.user);
    const wall = parseInput(WallPrefs, req.body);
    await prefs.put(user.id, WALL_KEY, wall);
    await ctx.audit.record(req, 'wall.save', `user:${user.id}`, { layout: wall.layout, group: wall.group, tiles: wall.tiles.length });
    return wall;
  });
  ctx.http.get(wallRoutes.wallGroups.path, async (req): Promise<WallGroups> => ({ groups: wallGroups(userOf(req.auth?.user), cams) }));
}
