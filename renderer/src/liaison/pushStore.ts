import {
  ALERT_KIND_LABEL,
  Alert,
  AlertAcked,
  AlertEscalated,
  AlertsResync,
  Incident,
  SHELL_GLOBAL,
  type AlertAckReply,
  type SentinelShell,
} from '../../../contract';
import { setResumeFrom, type CoreSocket } from '../client/connection';
import { Store } from '../client/store';
import { clockTime } from '../shell/time';

export interface PushedAlert {
  alert: Alert;
  acks: AlertAcked[];
  escalated: AlertEscalated | null;
  receivedAt: number;
}

export interface PushState {
  /** Newest first, one entry per alert id (the core delivers at least once). */
  alerts: PushedAlert[];
  /**
   * Each alert's incident (its clip and vehicle links), by alert id: from the state the core
   * sends at connection and from every later change, so an alert whose clip was cut before
   * the page opened shows it too.
   */
  incidents: ReadonlyMap<string, Incident>;
}

/**
 * Alerts pushed to this console: de-duplicated by id (a reconnect replays what was missed,
 * so the same alert may arrive twice), with acknowledgements and escalations folded in.
 * The newest id is handed to the connection so a reconnect resumes after it.
 */
export function createPushStore(
  socket: CoreSocket,
  opts: { notify?: boolean } = {},
): { state: Store<PushState>; ack(alertId: string): Promise<AlertAckReply>; close(): void } {
  const state = new Store<PushState>({ alerts: [], incidents: new Map() });
  const upsert = (id: string, fn: (p: PushedAlert) => PushedAlert): void =>
    state.update((s) => ({ ...s, alerts: s.alerts.map((p) => (p.alert.id === id ? fn(p) : p)) }));
  const withIncidents = (prior: ReadonlyMap<string, Incident>, incidents: readonly Incident[]): Map<string, Incident> => {
    const next = new Map(prior);
    for (const inc of incidents) for (const id of inc.alertIds) next.set(id, inc);
    return next;
  };

  const onRaised = (payload: Alert): void => {
    const r = Alert.safeParse(payload);
    if (!r.success) return;
    const a = r.data;
    setResumeFrom(a.id);
    if (state.get().alerts.some((p) => p.alert.id === a.id)) return upsert(a.id, (p) => ({ ...p, alert: a }));
    state.update((s) => ({ ...s, alerts: [{ alert: a, acks: [], escalated: null, receivedAt: Date.now() }, ...s.alerts].slice(0, 500) }));
    if (opts.notify) notify(a);
  };
  const onUpdated = (payload: Alert): void => {
    const r = Alert.safeParse(payload);
    if (r.success) upsert(r.data.id, (p) => ({ ...p, alert: r.data }));
  };
  const onAcked = (payload: AlertAcked): void => {
    const r = AlertAcked.safeParse(payload);
    if (r.success) upsert(r.data.alertId, (p) => (p.acks.some((a) => a.by === r.data.by) ? p : { ...p, acks: [...p.acks, r.data] }));
  };
  const onEscalated = (payload: AlertEscalated): void => {
    const r = AlertEscalated.safeParse(payload);
    if (r.success) upsert(r.data.alertId, (p) => ({ ...p, escalated: r.data }));
  };
  // The core could not replay from our cursor: its current state replaces ours (no stale actives).
  const onResync = (payload: AlertsResync): void => {
    const r = AlertsResync.safeParse(payload);
    if (!r.success) return;
    const prior = new Map(state.get().alerts.map((p) => [p.alert.id, p.receivedAt]));
    const alerts = [...r.data.alerts].reverse().map((a) => ({
      alert: a,
      acks: r.data.acks.filter((x) => x.alertId === a.id),
      escalated: r.data.escalations.find((x) => x.alertId === a.id) ?? null,
      receivedAt: prior.get(a.id) ?? Date.now(),
    }));
    state.update(() => ({ alerts: alerts.slice(0, 500), incidents: withIncidents(new Map(), r.data.incidents) }));
  };
  const onIncident = (payload: Incident): void => {
    const r = Incident.safeParse(payload);
    if (r.success) state.update((s) => ({ ...s, incidents: withIncidents(s.incidents, [r.data]) }));
  };
  socket.on('alert:raised', onRaised);
  socket.on('alert:updated', onUpdated);
  socket.on('alert:acked', onAcked);
  socket.on('alert:escalated', onEscalated);
  socket.on('alerts:resync', onResync);
  socket.on('incident:upsert', onIncident);

  return {
    state,
    ack: (alertId) =>
      new Promise((resolve) => {
        socket
          .timeout(5000)
          .emit('alert:ack', { alertId }, (err: Error | null, reply?: AlertAckReply) =>
            resolve(err || !reply ? { ok: false, error: 'the core did not answer; try again' } : reply),
          );
      }),
    close() {
      socket.off('alert:raised', onRaised);
      socket.off('alert:updated', onUpdated);
      socket.off('alert:acked', onAcked);
      socket.off('alert:escalated', onEscalated);
      socket.off('alerts:resync', onResync);
      socket.off('incident:upsert', onIncident);
    },
  };
}

/** The alerts of one incident, as one card: a liaison acts on an incident, not on each repeat. */
export interface PushedGroup {
  /** The incident's id, or the alert's own while no incident is known for it. */
  key: string;
  incident: Incident | undefined;
  /** Newest first; the first is the card's face (its snapshot, title and place). */
  alerts: PushedAlert[];
  /** Everyone who acknowledged any of them, once each, earliest first. */
  acks: AlertAcked[];
  /** The newest escalation among them. */
  escalated: AlertEscalated | null;
}

/**
 * Groups pushed alerts by their incident. A busy platform raises crowding again and again
 * while one incident is open; one card per alert buried the liaison's other incidents under
 * repeats. Groups keep the order of their newest alert.
 */
export function groupByIncident(alerts: readonly PushedAlert[], incidents: ReadonlyMap<string, Incident>): PushedGroup[] {
  const groups = new Map<string, PushedGroup>();
  for (const p of alerts) {
    const incident = incidents.get(p.alert.id);
    const key = incident?.id ?? p.alert.id;
    const g = groups.get(key);
    if (g) g.alerts.push(p);
    else groups.set(key, { key, incident, alerts: [p], acks: [], escalated: null });
  }
  for (const g of groups.values()) {
    const by = new Map<string, AlertAcked>();
    for (const a of g.alerts.flatMap((p) => p.acks).sort((x, y) => x.at.localeCompare(y.at))) if (!by.has(a.by)) by.set(a.by, a);
    g.acks = [...by.values()];
    g.escalated = g.alerts.find((p) => p.escalated)?.escalated ?? null;
  }
  return [...groups.values()];
}

export function alertTitle(a: Alert): string {
  return `${ALERT_KIND_LABEL[a.kind]} · ${a.cameraName}`;
}
export function alertPlace(a: Alert): string {
  const p = a.scope.placement;
  const parts = [
    p?.nearestStation ? `near ${p.nearestStation.name}` : null,
    p?.communityArea ?? null,
    a.scope.district ? `District ${a.scope.district}` : null,
    a.scope.lines.length ? `${a.scope.lines.join(', ')} line` : null,
    a.scope.routes.length ? `Route ${a.scope.routes.join(', ')}` : null,
  ];
  return parts.filter(Boolean).join(' · ') || 'Place unknown';
}

/** Desktop notification: Electron's native one when in the shell, else the Web Notifications API. */
function notify(a: Alert): void {
  const title = `Sentinel: ${ALERT_KIND_LABEL[a.kind]}`;
  const body = `${a.cameraName} — ${alertPlace(a)}`;
  const shell = (window as unknown as Record<string, SentinelShell | undefined>)[SHELL_GLOBAL];
  if (shell) {
    void shell.notify(title, body).catch(() => undefined);
    return;
  }
  if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
    try {
      new Notification(title, { body, tag: a.id });
    } catch {
      // Some browsers only allow notifications from a service worker; the list still shows it.
    }
  }
}

/** Times in Chicago time, as the status bar shows them, whatever the browser's zone. */
export function ctTime(iso: string): string {
  return clockTime(iso);
}
