import { Camera, CameraHealthEvent, CameraRemovedEvent, type CameraHealth } from '../../../contract';
import type { CoreSocket } from '../client/connection';
import { Store } from '../client/store';

export interface CamerasState {
  /** Keyed by id; replaced on every change so React sees a new snapshot. */
  cameras: ReadonlyMap<string, Camera>;
  /** The last payload the core sent that did not match the contract, shown, not swallowed. */
  lastProblem: string | null;
  loaded: boolean;
}

/**
 * The console's live list of cameras: the full list on connect (`cameras:snapshot`), then
 * upserts, removals and health pushed by the core. Every payload is validated against the
 * contract at this boundary. The core never sends credentials; URLs arrive masked.
 */
export class CameraStore {
  readonly state = new Store<CamerasState>({ cameras: new Map(), lastProblem: null, loaded: false });

  attach(socket: CoreSocket): void {
    socket.on('cameras:snapshot', (payload) => {
      const r = parseSnapshot(payload);
      if (!r.cameras) return this.problem('cameras:snapshot', r.problem ?? undefined);
      this.state.set({ cameras: new Map(r.cameras.map((c) => [c.id, c])), lastProblem: r.problem, loaded: true });
    });
    socket.on('camera:upsert', (payload) => {
      const c = Camera.safeParse(payload);
      if (!c.success) return this.problem('camera:upsert', c.error.issues[0]?.message);
      this.state.update((s) => ({ ...s, cameras: new Map(s.cameras).set(c.data.id, c.data) }));
    });
    socket.on('camera:removed', (payload) => {
      const r = CameraRemovedEvent.safeParse(payload);
      if (!r.success) return this.problem('camera:removed', r.error.issues[0]?.message);
      this.state.update((s) => {
        const next = new Map(s.cameras);
        next.delete(r.data.id);
        return { ...s, cameras: next };
      });
    });
    socket.on('camera:health', (payload) => {
      const h = CameraHealthEvent.safeParse(payload);
      if (!h.success) return this.problem('camera:health', h.error.issues[0]?.message);
      this.setHealth(h.data.cameraId, h.data.health);
    });
  }

  private setHealth(id: string, health: CameraHealth): void {
    this.state.update((s) => {
      const cam = s.cameras.get(id);
      if (!cam) return s;
      return { ...s, cameras: new Map(s.cameras).set(id, { ...cam, health }) };
    });
  }

  private problem(event: string, message: string | undefined): void {
    this.state.update((s) => ({ ...s, lastProblem: `${event}: ${message ?? 'invalid payload'}` }));
  }
}

/**
 * A snapshot is validated camera by camera: one record this console cannot read (a newer
 * core, a bad row) must not blank the operator's whole wall. The readable cameras are kept and
 * the problem names the others (by id when they have one) and what is wrong. Only a payload
 * that is not a list at all yields no cameras.
 */
export function parseSnapshot(payload: unknown): { cameras: Camera[] | null; problem: string | null } {
  if (!Array.isArray(payload)) return { cameras: null, problem: 'expected a list of cameras' };
  const cameras: Camera[] = [];
  const bad: string[] = [];
  payload.forEach((item: unknown, i) => {
    const c = Camera.safeParse(item);
    if (c.success) return cameras.push(c.data);
    const id = typeof item === 'object' && item !== null && 'id' in item ? String((item as { id: unknown }).id) : `#${i + 1}`;
    const issue = c.error.issues[0];
    bad.push(`${id} (${issue ? `${issue.path.join('.') || 'record'}: ${issue.message}` : 'invalid'})`);
  });
  const problem =
    bad.length === 0
      ? null
      : `${bad.length} camera${bad.length > 1 ? 's' : ''} not shown: ${bad.slice(0, 3).join('; ')}${bad.length > 3 ? '; …' : ''}`;
  return { cameras, problem };
}
