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
      const list = Camera.array().safeParse(payload);
      if (!list.success) return this.problem('cameras:snapshot', list.error.issues[0]?.message);
      this.state.set({ cameras: new Map(list.data.map((c) => [c.id, c])), lastProblem: null, loaded: true });
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
