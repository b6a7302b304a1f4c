import { randomUUID } from 'node:crypto';
import {
  AlertScope,
  INCIDENT_TRANSITIONS,
  Incident,
  IncidentLink,
  type Alert,
  type IncidentEvent,
  type IncidentState,
  type IncidentUpdate,
} from '../../contract';
import { reachOf, reachRooms, unionReach, type Reach } from '../alerts/rooms';
import type { Database } from '../db/database';
import { statementCache } from '../db/statements';
import { SentinelError } from '../errors';
import type { LifecycleLog, LogKind } from '../lifecycle/log';

interface Row {
  id: string;
  title: string;
  kind: string;
  state: string;
  camera_id: string;
  camera_name: string;
  zone_id: string | null;
  vehicle_id: string | null;
  station_id: string | null;
  scope: string;
  assignee: string | null;
  links: string;
  created_at: string;
  updated_at: string;
  last_alert_at: string;
  acknowledged_at: string | null;
  dispatched_at: string | null;
  resolved_at: string | null;
  reach: string;
}

const KIND_TITLE: Record<string, string> = {
  crowding: 'Crowding',
  barrier: 'Protected-area breach',
  fight: 'Possible fight',
  'rider-report': 'Rider report',
};

/**
 * Incidents, the repository of the incidents feature (it alone writes incidents,
 * incident_alerts and incident_events). Alerts merge into one open incident when they come
 * from the same camera and zone, or from the same vehicle (the same run), within the merge
 * window; never on a zone id alone, since zone ids repeat across cameras (the zone editor's
 * "zone-1"). A merged incident's reach is the union of its alerts' delivery scopes.
 *
 * Every change is also a lifecycle log event, appended in the same transaction.
 */
export class IncidentStore {
  private readonly q;
  constructor(
    private readonly db: Database,
    private readonly lifecycle: LifecycleLog,
    private readonly mergeWindowMs: number,
  ) {
    this.q = statementCache(db);
  }

  /**
   * Puts an alert into the open incident it belongs to, or a new one. Idempotent per alert.
   * Runs inside the caller's transaction when there is one (the alert store files every new
   * alert in the alert's own transaction); usable by any feature that opens incidents.
   */
  openOrJoin(alert: Alert): { incident: Incident; created: boolean } {
    const r = this.db.transaction(() => this.file(alert)).immediate();
    return { incident: this.get(r.id)!, created: r.created };
  }

  /** Files an alert inside the caller's transaction (the alert store's hook); no read-back. */
  fileInTx(alert: Alert): void {
    this.file(alert);
  }

  /** @deprecated the alert store files alerts itself; kept for callers outside it. */
  addAlert(alert: Alert): { incident: Incident; created: boolean } {
    return this.openOrJoin(alert);
  }

  private file(alert: Alert): { id: string; created: boolean } {
    {
      const linked = this.q('SELECT incident_id FROM incident_alerts WHERE alert_id = ?').get(alert.id) as
        { incident_id: string } | undefined;
      if (linked) return { id: linked.incident_id, created: false };
      const vehicleId = alert.scope.placement?.vehicleId ?? null;
      const since = new Date(Date.parse(alert.startedAt) - this.mergeWindowMs).toISOString();
      const open = this.q(
        `SELECT id, reach FROM incidents WHERE state NOT IN ('resolved', 'false-alarm') AND last_alert_at >= ?
             AND ((camera_id = ? AND zone_id IS ?) OR (vehicle_id IS NOT NULL AND vehicle_id = ?))
           ORDER BY last_alert_at DESC LIMIT 1`,
      ).get(since, alert.cameraId, alert.zoneId, vehicleId) as { id: string; reach: string } | undefined;
      const now = new Date().toISOString();
      const alertReach = reachOf(alert.scope, alert.cameraId);
      if (open) {
        const reach = unionReach(JSON.parse(open.reach) as Reach, alertReach);
        this.q('INSERT INTO incident_alerts (incident_id, alert_id) VALUES (?, ?)').run(open.id, alert.id);
        this.q('UPDATE incidents SET last_alert_at = max(last_alert_at, ?), reach = ?, updated_at = ? WHERE id = ?').run(
          alert.startedAt,
          JSON.stringify(reach),
          now,
          open.id,
        );
        this.event(open.id, null, 'alert', null, alert.id);
        this.logEvent('incident.merged', open.id, { alertId: alert.id, cameraId: alert.cameraId }, { alertId: alert.id, reach });
        return { id: open.id, created: false };
      }
      const id = randomUUID();
      const title = `${KIND_TITLE[alert.kind] ?? alert.kind} at ${alert.cameraName}${alert.zoneName ? ` (${alert.zoneName})` : ''}`;
      this.q(
        `INSERT INTO incidents (id, title, kind, state, camera_id, camera_name, zone_id, vehicle_id, station_id, scope, links, created_at, updated_at, last_alert_at, reach)
           VALUES (?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        title,
        alert.kind,
        alert.cameraId,
        alert.cameraName,
        alert.zoneId,
        vehicleId,
        alert.scope.placement?.nearestStation?.id ?? null,
        JSON.stringify(alert.scope),
        JSON.stringify([
          ...(vehicleId ? [{ kind: 'vehicle', ref: vehicleId }] : []),
          ...(alert.scope.placement?.nearestStation ? [{ kind: 'station', ref: alert.scope.placement.nearestStation.id }] : []),
        ]),
        now,
        now,
        alert.startedAt,
        JSON.stringify(alertReach),
      );
      this.q('INSERT INTO incident_alerts (incident_id, alert_id) VALUES (?, ?)').run(id, alert.id);
      this.event(id, null, 'created', 'new', alert.id);
      this.logEvent('incident.created', id, { alertId: alert.id, cameraId: alert.cameraId }, { alertId: alert.id, reach: alertReach });
      return { id, created: true };
    }
  }

  /** The rooms of everyone an incident concerns (its reach). */
  rooms(id: string): string[] {
    const r = this.q('SELECT reach FROM incidents WHERE id = ?').get(id) as { reach: string } | undefined;
    return r ? reachRooms(JSON.parse(r.reach) as Reach) : ['alerts:all'];
  }

  private logEvent(
    kind: LogKind,
    id: string,
    refs: { alertId?: string | null; cameraId?: string | null; actor?: string | null },
    payload: object,
  ): void {
    this.lifecycle.append({
      kind,
      incidentId: id,
      alertId: refs.alertId ?? null,
      cameraId: refs.cameraId ?? null,
      actor: refs.actor ?? null,
      rooms: this.rooms(id),
      payload: { incidentId: id, ...payload },
    });
  }

  alertIds(id: string): string[] {
    return (this.q('SELECT alert_id FROM incident_alerts WHERE incident_id = ? ORDER BY rowid').all(id) as { alert_id: string }[]).map(
      (a) => a.alert_id,
    );
  }

  forAlert(alertId: string): Incident | null {
    const r = this.q('SELECT incident_id FROM incident_alerts WHERE alert_id = ?').get(alertId) as { incident_id: string } | undefined;
    return r ? this.get(r.incident_id) : null;
  }

  /** A clip (cut by recording) ready or failed for one of the incident's alerts: in its history and the log. */
  noteClip(alertId: string, kind: 'clip.ready' | 'clip.failed', payload: Record<string, unknown>): Incident | null {
    const run = this.db.transaction((): string | null => {
      const inc = this.forAlert(alertId);
      if (!inc) return null;
      const text =
        kind === 'clip.ready'
          ? `clip ${String(payload.clipId)} ready (sha256 ${String(payload.sha256)})`
          : `clip failed: ${String(payload.error)}`;
      this.event(inc.id, null, 'clip', null, text);
      if (kind === 'clip.ready' && typeof payload.clipId === 'string') {
        const links = inc.links.filter((l) => !(l.kind === 'clip' && l.ref === payload.clipId));
        this.q('UPDATE incidents SET links = ?, updated_at = ? WHERE id = ?').run(
          JSON.stringify([...links, { kind: 'clip', ref: payload.clipId }]),
          new Date().toISOString(),
          inc.id,
        );
      }
      this.logEvent(kind, inc.id, { alertId, cameraId: typeof payload.cameraId === 'string' ? payload.cameraId : null }, payload);
      return inc.id;
    });
    const id = run.immediate();
    return id ? this.get(id) : null;
  }

  private event(
    id: string,
    actor: string | null,
    kind: IncidentEvent['kind'],
    state: IncidentState | null,
    text: string | null,
    at = new Date().toISOString(),
  ): void {
    this.q('INSERT INTO incident_events (incident_id, at, actor, kind, state, text) VALUES (?, ?, ?, ?, ?, ?)').run(
      id,
      at,
      actor,
      kind,
      state,
      text,
    );
  }

  update(id: string, patch: IncidentUpdate, actor: string): Incident {
    const run = this.db.transaction(() => {
      const cur = this.row(id);
      if (!cur) throw new SentinelError(`no incident with id ${id}`, 'not_found', 'id');
      const now = new Date().toISOString();
      if (patch.state !== undefined && patch.state !== cur.state) {
        const from = cur.state as IncidentState;
        if (!INCIDENT_TRANSITIONS[from].includes(patch.state)) {
          throw new SentinelError(
            `an incident that is "${from}" cannot become "${patch.state}" (allowed: ${INCIDENT_TRANSITIONS[from].join(', ')})`,
            'conflict',
            'state',
          );
        }
        const col =
          patch.state === 'acknowledged'
            ? 'acknowledged_at'
            : patch.state === 'dispatched'
              ? 'dispatched_at'
              : patch.state === 'new'
                ? null
                : 'resolved_at';
        // The first acknowledgement is kept: time-to-acknowledge does not reset on reopen.
        if (col)
          this.q(
            `UPDATE incidents SET state = ?, ${col} = coalesce(${col === 'acknowledged_at' ? col : 'NULL'}, ?), updated_at = ? WHERE id = ?`,
          ).run(patch.state, now, now, id);
        this.event(id, actor, 'state', patch.state, null, now);
        this.logEvent('incident.state', id, { actor }, { from, state: patch.state });
      }
      const other = { ...patch };
      delete other.state;
      if (Object.keys(other).length) this.logEvent('incident.updated', id, { actor }, other);
      if (patch.assignee !== undefined) {
        this.q('UPDATE incidents SET assignee = ?, updated_at = ? WHERE id = ?').run(patch.assignee, now, id);
        this.event(id, actor, 'assign', null, patch.assignee, now);
      }
      if (patch.note !== undefined) {
        this.q('UPDATE incidents SET updated_at = ? WHERE id = ?').run(now, id);
        this.event(id, actor, 'note', null, patch.note, now);
      }
      if (patch.link !== undefined) {
        const link = IncidentLink.parse(patch.link);
        const links = (JSON.parse(cur.links) as IncidentLink[]).filter((l) => !(l.kind === link.kind && l.ref === link.ref));
        this.q('UPDATE incidents SET links = ?, updated_at = ? WHERE id = ?').run(JSON.stringify([...links, link]), now, id);
        this.event(id, actor, 'link', null, `${link.kind}:${link.ref}`, now);
      }
    });
    run.immediate();
    return this.get(id)!;
  }

  /** An alert acknowledgement acknowledges its incident if no one has yet (inside the caller's transaction). */
  acknowledgeFromAlert(alertId: string, actor: string): Incident | null {
    const inc = this.forAlert(alertId);
    if (!inc || inc.state !== 'new') return null;
    return this.update(inc.id, { state: 'acknowledged' }, actor);
  }

  noteEscalation(alertId: string, reason: string): Incident | null {
    const inc = this.forAlert(alertId);
    if (!inc) return null;
    this.event(inc.id, null, 'escalated', null, reason);
    return this.get(inc.id);
  }

  private row(id: string): Row | undefined {
    return this.q('SELECT * FROM incidents WHERE id = ?').get(id) as Row | undefined;
  }

  get(id: string): Incident | null {
    const r = this.row(id);
    return r ? this.toIncident(r) : null;
  }

  list(opts: { limit?: number; open?: boolean } = {}): Incident[] {
    const rows = this.q(
      `SELECT * FROM incidents ${opts.open ? "WHERE state NOT IN ('resolved', 'false-alarm')" : ''} ORDER BY created_at DESC LIMIT ?`,
    ).all(Math.min(Math.max(opts.limit ?? 200, 1), 2000)) as Row[];
    return rows.map((r) => this.toIncident(r));
  }

  private toIncident(r: Row): Incident {
    const alertIds = (
      this.q('SELECT alert_id FROM incident_alerts WHERE incident_id = ? ORDER BY rowid').all(r.id) as { alert_id: string }[]
    ).map((a) => a.alert_id);
    const events = this.q('SELECT at, actor, kind, state, text FROM incident_events WHERE incident_id = ? ORDER BY id').all(
      r.id,
    ) as IncidentEvent[];
    return Incident.parse({
      id: r.id,
      title: r.title,
      kind: r.kind,
      state: r.state,
      cameraId: r.camera_id,
      cameraName: r.camera_name,
      zoneId: r.zone_id,
      vehicleId: r.vehicle_id,
      stationId: r.station_id,
      scope: AlertScope.parse(JSON.parse(r.scope)),
      reach: JSON.parse(r.reach) as unknown,
      assignee: r.assignee,
      alertIds,
      links: JSON.parse(r.links) as unknown,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      acknowledgedAt: r.acknowledged_at,
      dispatchedAt: r.dispatched_at,
      resolvedAt: r.resolved_at,
      timeToAcknowledgeS: r.acknowledged_at ? Math.round((Date.parse(r.acknowledged_at) - Date.parse(r.created_at)) / 100) / 10 : null,
      events,
    });
  }
}
