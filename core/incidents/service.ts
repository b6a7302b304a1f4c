import { randomUUID } from 'node:crypto';
import { AlertScope, INCIDENT_TRANSITIONS, Incident, IncidentLink, type Alert, type IncidentEvent, type IncidentState, type IncidentUpdate } from '../../contract';
import type { Database } from '../db/database';
import { SentinelError } from '../errors';

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
}

const KIND_TITLE: Record<string, string> = { crowding: 'Crowding', barrier: 'Protected-area breach', fight: 'Possible fight', 'rider-report': 'Rider report' };

/**
 * Incidents: alerts merged by camera, vehicle or zone within a window; states with a
 * timestamp for each transition (events table); assignee, notes and links.
 */
export class IncidentStore {
  constructor(
    private readonly db: Database,
    private readonly mergeWindowMs: number,
  ) {}

  /** Puts an alert into the open incident it belongs to, or a new one. Idempotent per alert. */
  addAlert(alert: Alert): { incident: Incident; created: boolean } {
    const run = this.db.transaction((): { id: string; created: boolean } => {
      const linked = this.db.prepare('SELECT incident_id FROM incident_alerts WHERE alert_id = ?').get(alert.id) as { incident_id: string } | undefined;
      if (linked) return { id: linked.incident_id, created: false };
      const vehicleId = alert.scope.placement?.vehicleId ?? null;
      const since = new Date(Date.parse(alert.startedAt) - this.mergeWindowMs).toISOString();
      const open = this.db
        .prepare(
          `SELECT id FROM incidents WHERE state NOT IN ('resolved', 'false-alarm') AND last_alert_at >= ?
             AND (camera_id = ? OR (vehicle_id IS NOT NULL AND vehicle_id = ?) OR (zone_id IS NOT NULL AND zone_id = ?))
           ORDER BY last_alert_at DESC LIMIT 1`,
        )
        .get(since, alert.cameraId, vehicleId, alert.zoneId) as { id: string } | undefined;
      const now = new Date().toISOString();
      if (open) {
        this.db.prepare('INSERT INTO incident_alerts (incident_id, alert_id) VALUES (?, ?)').run(open.id, alert.id);
        this.db.prepare('UPDATE incidents SET last_alert_at = max(last_alert_at, ?), updated_at = ? WHERE id = ?').run(alert.startedAt, now, open.id);
        this.event(open.id, null, 'alert', null, alert.id);
        return { id: open.id, created: false };
      }
      const id = randomUUID();
      const title = `${KIND_TITLE[alert.kind] ?? alert.kind} at ${alert.cameraName}${alert.zoneName ? ` (${alert.zoneName})` : ''}`;
      this.db
        .prepare(
          `INSERT INTO incidents (id, title, kind, state, camera_id, camera_name, zone_id, vehicle_id, station_id, scope, links, created_at, updated_at, last_alert_at)
           VALUES (?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          id,
          title,
          alert.kind,
          alert.cameraId,
          alert.cameraName,
          alert.zoneId,
          vehicleId,
          alert.scope.placement?.nearestStation?.id ?? null,
          JSON.stringify(alert.scope),
          JSON.stringify([...(vehicleId ? [{ kind: 'vehicle', ref: vehicleId }] : []), ...(alert.scope.placement?.nearestStation ? [{ kind: 'station', ref: alert.scope.placement.nearestStation.id }] : [])]),
          now,
          now,
          alert.startedAt,
        );
      this.db.prepare('INSERT INTO incident_alerts (incident_id, alert_id) VALUES (?, ?)').run(id, alert.id);
      this.event(id, null, 'created', 'new', alert.id);
      return { id, created: true };
    });
    const r = run.immediate();
    return { incident: this.get(r.id)!, created: r.created };
  }

  forAlert(alertId: string): Incident | null {
    const r = this.db.prepare('SELECT incident_id FROM incident_alerts WHERE alert_id = ?').get(alertId) as { incident_id: string } | undefined;
    return r ? this.get(r.incident_id) : null;
  }

  private event(id: string, actor: string | null, kind: IncidentEvent['kind'], state: IncidentState | null, text: string | null, at = new Date().toISOString()): void {
    this.db.prepare('INSERT INTO incident_events (incident_id, at, actor, kind, state, text) VALUES (?, ?, ?, ?, ?, ?)').run(id, at, actor, kind, state, text);
  }

  update(id: string, patch: IncidentUpdate, actor: string): Incident {
    const run = this.db.transaction(() => {
      const cur = this.row(id);
      if (!cur) throw new SentinelError(`no incident with id ${id}`, 'not_found', 'id');
      const now = new Date().toISOString();
      if (patch.state !== undefined && patch.state !== cur.state) {
        const from = cur.state as IncidentState;
        if (!INCIDENT_TRANSITIONS[from].includes(patch.state)) {
          throw new SentinelError(`an incident that is "${from}" cannot become "${patch.state}" (allowed: ${INCIDENT_TRANSITIONS[from].join(', ')})`, 'conflict', 'state');
        }
        const col = patch.state === 'acknowledged' ? 'acknowledged_at' : patch.state === 'dispatched' ? 'dispatched_at' : patch.state === 'new' ? null : 'resolved_at';
        // The first acknowledgement is kept: time-to-acknowledge does not reset on reopen.
        if (col) this.db.prepare(`UPDATE incidents SET state = ?, ${col} = coalesce(${col === 'acknowledged_at' ? col : 'NULL'}, ?), updated_at = ? WHERE id = ?`).run(patch.state, now, now, id);
        this.event(id, actor, 'state', patch.state, null, now);
      }
      if (patch.assignee !== undefined) {
        this.db.prepare('UPDATE incidents SET assignee = ?, updated_at = ? WHERE id = ?').run(patch.assignee, now, id);
        this.event(id, actor, 'assign', null, patch.assignee, now);
      }
      if (patch.note !== undefined) {
        this.db.prepare('UPDATE incidents SET updated_at = ? WHERE id = ?').run(now, id);
        this.event(id, actor, 'note', null, patch.note, now);
      }
      if (patch.link !== undefined) {
        const link = IncidentLink.parse(patch.link);
        const links = (JSON.parse(cur.links) as IncidentLink[]).filter((l) => !(l.kind === link.kind && l.ref === link.ref));
        this.db.prepare('UPDATE incidents SET links = ?, updated_at = ? WHERE id = ?').run(JSON.stringify([...links, link]), now, id);
        this.event(id, actor, 'link', null, `${link.kind}:${link.ref}`, now);
      }
    });
    run.immediate();
    return this.get(id)!;
  }

  /** An alert acknowledgement acknowledges its incident if no one has yet. */
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
    return this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as Row | undefined;
  }

  get(id: string): Incident | null {
    const r = this.row(id);
    return r ? this.toIncident(r) : null;
  }

  list(opts: { limit?: number; open?: boolean } = {}): Incident[] {
    const rows = this.db
      .prepare(`SELECT * FROM incidents ${opts.open ? "WHERE state NOT IN ('resolved', 'false-alarm')" : ''} ORDER BY created_at DESC LIMIT ?`)
      .all(Math.min(Math.max(opts.limit ?? 200, 1), 2000)) as Row[];
    return rows.map((r) => this.toIncident(r));
  }

  private toIncident(r: Row): Incident {
    const alertIds = (this.db.prepare('SELECT alert_id FROM incident_alerts WHERE incident_id = ? ORDER BY rowid').all(r.id) as { alert_id: string }[]).map((a) => a.alert_id);
    const events = this.db.prepare('SELECT at, actor, kind, state, text FROM incident_events WHERE incident_id = ? ORDER BY id').all(r.id) as IncidentEvent[];
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
