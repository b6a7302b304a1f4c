import { Alert, AlertsResync, type AlertList } from '../../../contract';
import type { CoreSocket } from '../client/connection';
import { Store } from '../client/store';

export interface AlertsState {
  /** Newest first (by startedAt), de-duplicated by id. */
  alerts: readonly Alert[];
  loaded: boolean;
  /** The last payload or request that failed, shown in the queue, not swallowed. */
  lastProblem: string | null;
}

const MAX = 500;

/** Inserts or replaces by id, newest first; keeps the list bounded. */
export function mergeAlert(list: readonly Alert[], a: Alert): Alert[] {
  const next = list.filter((x) => x.id !== a.id);
  next.push(a);
  next.sort((x, y) => y.startedAt.localeCompare(x.startedAt) || y.id.localeCompare(x.id));
  return next.slice(0, MAX);
}

/**
 * The console's alert list: the recent alerts by REST on start, then `alert:raised` and
 * `alert:updated` pushed by the core (at-least-once: an alert seen twice replaces itself).
 * Payloads are validated against the contract at this boundary.
 */
export class AlertStore {
  readonly state = new Store<AlertsState>({ alerts: [], loaded: false, lastProblem: null });

  attach(socket: CoreSocket): () => void {
    const on = (event: string) => (payload: unknown) => {
      const r = Alert.safeParse(payload);
      if (!r.success) return this.state.update((s) => ({ ...s, lastProblem: `${event}: ${r.error.issues[0]?.message ?? 'invalid payload'}` }));
      this.state.update((s) => ({ ...s, alerts: mergeAlert(s.alerts, r.data) }));
    };
    const raised = on('alert:raised');
    const updated = on('alert:updated');
    // The core could not replay from our cursor: the alerts it sends are the current state.
    const resync = (payload: unknown) => {
      const r = AlertsResync.safeParse(payload);
      if (!r.success) return this.state.update((s) => ({ ...s, lastProblem: `alerts:resync: ${r.error.issues[0]?.message ?? 'invalid payload'}` }));
      this.state.update((s) => ({ ...s, alerts: r.data.alerts.reduce<Alert[]>((acc, a) => mergeAlert(acc, a), [...s.alerts]) }));
    };
    socket.on('alert:raised', raised);
    socket.on('alert:updated', updated);
    socket.on('alerts:resync', resync);
    return () => {
      socket.off('alert:raised', raised);
      socket.off('alert:updated', updated);
      socket.off('alerts:resync', resync);
    };
  }

  /** The initial list (the socket only brings what happens after connecting). */
  load(list: AlertList): void {
    this.state.update((s) => ({ ...s, loaded: true, alerts: list.alerts.reduce<Alert[]>((acc, e) => mergeAlert(acc, e.alert), [...s.alerts]) }));
  }

  fail(message: string): void {
    this.state.update((s) => ({ ...s, loaded: true, lastProblem: message }));
  }
}
