import type { Camera, CameraMount, CameraState } from '../../../contract';

/** What the technician's camera list is narrowed by; empty strings mean "any". */
export interface CameraFilter {
  /** Free text: name, URL host or path, mount ids. */
  text: string;
  mountKind: CameraMount['kind'] | '';
  /** A station map id (station mounts only). */
  stationId: string;
  /** A bus, cab or railcar id, or a line/route (substring, case-insensitive). */
  vehicle: string;
  state: CameraState | '';
}

export const NO_FILTER: CameraFilter = { text: '', mountKind: '', stationId: '', vehicle: '', state: '' };

/** The host and path of a (masked) camera URL, for search: credentials are never matched. */
export function urlHostPath(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '';
  }
}

function vehicleKeys(m: CameraMount): string[] {
  switch (m.kind) {
    case 'bus':
    case 'operator_cab':
      return [m.vehicleId];
    case 'railcar':
      return [m.railcarId, ...(m.line ? [m.line] : [])];
    default:
      return [];
  }
}

/** Cameras matching every set criterion, sorted by name (stable for the list and tests). */
export function filterCameras(cameras: Iterable<Camera>, f: CameraFilter, stationNames: ReadonlyMap<string, string> = new Map()): Camera[] {
  const text = f.text.trim().toLowerCase();
  const vehicle = f.vehicle.trim().toLowerCase();
  const out: Camera[] = [];
  for (const c of cameras) {
    if (f.mountKind && c.mount.kind !== f.mountKind) continue;
    if (f.state && c.health.state !== f.state) continue;
    if (f.stationId && !(c.mount.kind === 'station' && c.mount.stationId === f.stationId)) continue;
    if (vehicle && !vehicleKeys(c.mount).some((k) => k.toLowerCase().includes(vehicle))) continue;
    if (text) {
      const station = c.mount.kind === 'station' ? `${c.mount.stationId} ${stationNames.get(c.mount.stationId) ?? ''}` : '';
      const hay = [c.name, urlHostPath(c.url), station, ...vehicleKeys(c.mount)].join(' ').toLowerCase();
      if (!hay.includes(text)) continue;
    }
    out.push(c);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Counts per health state, for the list's summary line. */
export function stateCounts(cameras: Iterable<Camera>): Record<CameraState, number> {
  const n: Record<CameraState, number> = { live: 0, connecting: 0, stalled: 0, offline: 0, disabled: 0 };
  for (const c of cameras) n[c.health.state]++;
  return n;
}
