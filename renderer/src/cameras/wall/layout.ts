import type { Alert, AlertAcked, Incident, WallGroup, WallLayout, WallPrefs } from '../../../../contract';

/** Columns of each layout: 1, 2x2, 3x3, 4x4. */
export function columns(layout: WallLayout): number {
  return Math.round(Math.sqrt(layout));
}

/**
 * The cameras a wall group stands for. "My district" is the district group of the person's
 * chosen district (none chosen, or no camera there: empty, and the wall says why).
 */
export function groupCameras(groups: readonly WallGroup[], prefs: WallPrefs): string[] | null {
  const g = prefs.group;
  if (g.kind === 'my-district') {
    if (!prefs.myDistrict) return null;
    return groups.find((x) => x.kind === 'district' && x.id === prefs.myDistrict)?.cameraIds ?? [];
  }
  const hit = groups.find((x) => x.kind === g.kind && (g.kind === 'all' || x.id === g.id));
  return hit?.cameraIds ?? [];
}

/**
 * Tile order: the saved arrangement first (cameras still in the group, in the order the person
 * dragged them), then the group's other cameras by name. Unknown ids (a deleted camera, one
 * now out of scope) are skipped.
 */
export function arrange(cameraIds: readonly string[], saved: readonly (string | null)[], nameOf: (id: string) => string): string[] {
  const inGroup = new Set(cameraIds);
  const out: string[] = [];
  for (const id of saved) if (id && inGroup.has(id) && !out.includes(id)) out.push(id);
  const rest = cameraIds.filter((id) => !out.includes(id)).sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  return [...out, ...rest];
}

/** Moves the tile at `from` onto `to`, swapping the two (what a drag onto another tile does). */
export function swap<T>(order: readonly T[], from: number, to: number): T[] {
  const next = [...order];
  if (from < 0 || to < 0 || from >= next.length || to >= next.length || from === to) return next;
  [next[from], next[to]] = [next[to]!, next[from]!];
  return next;
}

/**
 * The alert the spotlight tile follows: the newest one nobody has acknowledged (no
 * acknowledgement seen, and its incident, when known, still new) on a camera the wall may show.
 */
export function spotlightAlert(
  alerts: readonly Alert[],
  acks: ReadonlyMap<string, readonly AlertAcked[]>,
  incidents: readonly Incident[],
  visible: (cameraId: string) => boolean,
): Alert | null {
  for (const a of alerts) {
    if (!visible(a.cameraId)) continue;
    if (acks.get(a.id)?.length) continue;
    const inc = incidents.find((i) => i.alertIds.includes(a.id));
    if (inc && inc.state !== 'new') continue;
    return a;
  }
  return null;
}
