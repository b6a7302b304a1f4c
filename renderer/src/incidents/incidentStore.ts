import { Incident, type IncidentState } from '../../../contract';
import { ApiError, call } from '../client/api';
import type { CoreSocket } from '../client/connection';
import { useCoreSocket } from '../client/CoreProvider';
import { Store } from '../client/store';

export interface IncidentsState {
  /** Newest first, one entry per id. */
  incidents: readonly Incident[];
  loaded: boolean;
  lastProblem: string | null;
}

const CLOSED: ReadonlySet<IncidentState> = new Set(['resolved', 'false-alarm']);

export function isOpenIncident(i: Incident): boolean {
  return !CLOSED.has(i.state);
}

/** Inserts or replaces by id, newest first. */
export function mergeIncident(list: readonly Incident[], inc: Incident): Incident[] {
  return [inc, ...list.filter((i) => i.id !== inc.id)].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

/**
 * The console's incidents: the open ones by REST on start (and after every reconnect), then
 * `incident:upsert` pushed by the core. Validated at this boundary. The incident queue, the
 * map (which incident an alert belongs to) and the vehicle panel read this one store.
 */
export class IncidentStore {
  readonly state = new Store<IncidentsState>({ incidents: [], loaded: false, lastProblem: null });

  attach(socket: CoreSocket): () => void {
    const on = (payload: unknown): void => {
      const r = Incident.safeParse(payload);
      if (!r.success) return this.fail(`incident:upsert: ${r.error.issues[0]?.message ?? 'invalid payload'}`);
      this.upsert(r.data);
    };
    socket.on('incident:upsert', on);
    return () => socket.off('incident:upsert', on);
  }

  load(list: { incidents: readonly Incident[] }): void {
    this.state.update((s) => ({
      ...s,
      loaded: true,
      lastProblem: null,
      incidents: list.incidents.reduce<Incident[]>((acc, i) => mergeIncident(acc, i), [...s.incidents]),
    }));
  }

  upsert(inc: Incident): void {
    this.state.update((s) => ({ ...s, incidents: mergeIncident(s.incidents, inc) }));
  }

  fail(message: string): void {
    this.state.update((s) => ({ ...s, loaded: true, lastProblem: message }));
  }
}

// One store per page, attached before the socket connects (as the fleet and alerts are).
let page: { store: IncidentStore; socket: unknown } | null = null;

/** The page's incident store; `enabled` false (a role that may not read incidents) loads nothing. */
export function useIncidentStore(enabled: boolean): IncidentStore {
  const socket = useCoreSocket();
  if (!page || page.socket !== socket) {
    const store = new IncidentStore();
    store.attach(socket);
    if (enabled) {
      const load = (): void => {
        call('incidents', { query: { open: 'true' } })
          .then((r) => store.load(r))
          .catch((err: unknown) => store.fail(err instanceof ApiError ? err.message : 'could not load incidents'));
      };
      socket.on('connect', load);
      if (socket.connected) load();
    }
    page = { store, socket };
  }
  return page.store;
}
