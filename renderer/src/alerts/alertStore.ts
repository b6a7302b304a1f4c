import { Alert, AlertAcked, AlertEscalated, AlertsResync, type AlertList } from '../../../contract';
import type { CoreSocket } from '../client/connection';
import { Store } from '../client/store';

export interface AlertsState {
  /** Newest first (by startedAt), de-duplicated by id. */
  alerts: readonly Alert[];
  /** Acknowledgements seen since this console connected, by alert id (one per person). */
  acks: ReadonlyMap<string, readonly AlertAcked[]>;
  /** Escalations seen since this console connected, by alert id. */
  escalated: ReadonlyMap<string, AlertEscalated>;
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

/** Adds an acknowledgement unless that person's is already there (the core may deliver it twice). */
export function mergeAck(acks: ReadonlyMap<string, readonly AlertAcked[]>, ack: AlertAcked): ReadonlyMap<string, readonly AlertAcked[]> {
  const list = acks.get(ack.alertId) ?? [];
  if (list.some((a) => a.by === ack.by)) return acks;
  return new Map(acks).set(ack.alertId, [...list, ack]);
}

/**
 * The console's alert list: the recent alerts by REST on start, then `alert:raised` and
 * `alert:updated` pushed by the core (at-least-once: an alert seen twice replaces itself),
 * with `alert:acked` and `alert:escalated` folded in. Payloads are validated against the
 * contract at this boundary. One store per page (see useAlerts.ts): the queue, the map and
 * the vehicle panel read the same list.
 */
export class AlertStore {
  readonly state = new Store<AlertsState>({ alerts: [], acks: new Map(), escalated: new Map(), loaded: false, lastProblem: null });

  attach(socket: CoreSocket): () => void {
    const problem = (event: string, message: string | undefined): void =>
      this.state.update((s) => ({ ...s, lastProblem: `${event}: ${message ?? 'invalid payload'}` }));
    const on = (event: string) => (payload: unknown) => {
      const r = Alert.safeParse(payload);
      if (!r.success) return problem(event, r.error.issues[0]?.message);
      this.state.update((s) => ({ ...s, alerts: mergeAlert(s.alerts, r.data) }));
    };
    const raised = on('alert:raised');
    const updated = on('alert:updated');
    // The core could not replay from our cursor: the alerts it sends are the current state.
    const resync = (payload: unknown) => {
      const r = AlertsResync.safeParse(payload);
      if (!r.success) return problem('alerts:resync', r.error.issues[0]?.message);
      this.state.update((s) => ({ ...s, alerts: r.data.alerts.reduce<Alert[]>((acc, a) => mergeAlert(acc, a), [...s.alerts]) }));
    };
    const acked = (payload: unknown): void => {
      const r = AlertAcked.safeParse(payload);
      if (!r.success) return problem('alert:acked', r.error.issues[0]?.message);
      this.state.update((s) => ({ ...s, acks: mergeAck(s.acks, r.data) }));
    };
    const escalated = (payload: unknown): void => {
      const r = AlertEscalated.safeParse(payload);
      if (!r.success) return problem('alert:escalated', r.error.issues[0]?.message);
      this.state.update((s) => ({ ...s, escalated: new Map(s.escalated).set(r.data.alertId, r.data) }));
    };
    socket.on('alert:raised', raised);
    socket.on('alert:updated', updated);
    socket.on('alerts:resync', resync);
    socket.on('alert:acked', acked);
    socket.on('alert:escalated', escalated);
    return () => {
      socket.off('alert:raised', raised);
      socket.off('alert:updated', updated);
      socket.off('alerts:resync', resync);
      socket.off('alert:acked', acked);
      socket.off('alert:escalated', escalated);
    };
  }

  /** The initial list (the socket only brings what happens after connecting). */
  load(list: AlertList): void {
    this.state.update((s) => ({
      ...s,
      loaded: true,
      alerts: list.alerts.reduce<Alert[]>((acc, e) => mergeAlert(acc, e.alert), [...s.alerts]),
    }));
  }

  /** An acknowledgement this console made itself (the REST answer comes before the socket event). */
  acked(ack: AlertAcked): void {
    this.state.update((s) => ({ ...s, acks: mergeAck(s.acks, ack) }));
  }

  fail(message: string): void {
    this.state.update((s) => ({ ...s, loaded: true, lastProblem: message }));
  }
}
