import { z } from 'zod';
import { ANY_ROLE, type Role } from './auth';

/**
 * The video wall: a grid of live tiles the operator arranges, saved per user on the core so
 * the same wall opens in Electron and in a browser. Groups are computed by the core from where
 * each camera is (station, 'L' line, bus route, police district), filtered by what the user may see.
 */

export const WALL_LAYOUTS = [1, 4, 9, 16] as const;
export const WallLayout = z.union([z.literal(1), z.literal(4), z.literal(9), z.literal(16)]);
export type WallLayout = z.infer<typeof WallLayout>;

export const WALL_GROUP_KINDS = ['all', 'station', 'line', 'route', 'district', 'my-district'] as const;
export const WallGroupKind = z.enum(WALL_GROUP_KINDS);
export type WallGroupKind = z.infer<typeof WallGroupKind>;

/** Which cameras fill the wall: all, one station / line / route / district, or the user's own district. */
export const WallGroupRef = z.strictObject({
  kind: WallGroupKind,
  /** The station id, line code, route or district number; null for 'all' and 'my-district'. */
  id: z.string().min(1).max(64).nullable(),
});
export type WallGroupRef = z.infer<typeof WallGroupRef>;

export const WallPrefs = z.strictObject({
  layout: WallLayout,
  group: WallGroupRef,
  /** Camera ids in tile order (drag to arrange); null is an empty tile. Unknown ids are skipped when shown. */
  tiles: z.array(z.string().min(1).max(100).nullable()).max(16),
  /** The first tile follows the camera of the newest unacknowledged alert. */
  spotlight: z.boolean(),
  /** "My district": the CPD district this person watches (a liaison's scope gives it by default). */
  myDistrict: z
    .string()
    .regex(/^\d{1,2}$/, 'a CPD district number such as "1" or "12"')
    .nullable(),
});
export type WallPrefs = z.infer<typeof WallPrefs>;

export const DEFAULT_WALL_PREFS: WallPrefs = { layout: 4, group: { kind: 'all', id: null }, tiles: [], spotlight: true, myDistrict: null };

export const WallGroup = z.strictObject({
  kind: WallGroupKind,
  id: z.string().nullable(),
  label: z.string(),
  cameraIds: z.array(z.string()),
});
export type WallGroup = z.infer<typeof WallGroup>;

export const WallGroups = z.strictObject({ groups: z.array(WallGroup) });
export type WallGroups = z.infer<typeof WallGroups>;

const VIEWERS: readonly Role[] = ['operator', 'technician', 'reviewer', 'liaison'];

export const wallRoutes = {
  /** The signed-in user's own wall (defaults until first saved). */
  wallPrefs: { method: 'GET', path: '/api/v1/me/wall', response: WallPrefs, roles: ANY_ROLE },
  wallPrefsPut: { method: 'PUT', path: '/api/v1/me/wall', response: WallPrefs, body: WallPrefs, roles: ANY_ROLE },
  /** Camera groups the user may see, each with the cameras in it. */
  wallGroups: { method: 'GET', path: '/api/v1/wall/groups', response: WallGroups, roles: VIEWERS },
} as const;
