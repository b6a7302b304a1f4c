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
import { sql } from 'kysely';
import type { AlertTables } from '../alerts/tables';
import { typed, type Executor, type SqlDb } from '../db/sql';
import { SentinelError } from '../errors';
import type { LifecycleLog, LogKind } from '../lifecycle/log';
import type { IncidentTables } from './tables';

type Row = IncidentTables['incidents'];
type Tables = IncidentTables & AlertTables;

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
 * Every change is also a lifecycle log event, appended in the same transaction, which holds
 * the log's serial lock from its start (the merge reads then writes).
 */
export class IncidentStore {
  constructor(
    private readonly db: SqlDb,
    private readonly lifecycle: LifecycleLog,
    private readonly mergeWindowMs: number,
  ) {}

  /**
   * Puts an alert into the open incident it belongs to, or a new one. Idempotent per alert.
   * Usable by any feature that opens incidents; the alert store files every new alert in the
   * alert's own transaction instead (`fileInTx`).
   */
  async openOrJoin(alert: Alert): Promise<{ incident: Incident; created: boolean }> {
    // The log's lock: filing reads the open incidents, then writes; two filers never both open one.
    const r = await this.db.transaction((trx) => this.file(alert, trx), { locks: ['log'] });
    await this.lifecycle.flush();
    return { incident: (await this.get(r.id))!, created: r.created };
  }

  /** Files an alert inside the caller's transaction (the alert store's hook); no read-back. */
  async fileInTx(alert: Alert, trx: Executor): Promise<void> {
    await this.file(alert, trx);
  }

  /** @deprecated the alert store files alerts itself; kept for callers outside it. */
  addAlert(alert: Alert): Promise<{ incident: Incident; created: boolean }> {
    return this.openOrJoin(alert);
  }

  private async file(alert: Alert, trx: Executor): Promise<{ id: string; created: boolean }> {
    const k = typed<Tables>(trx);
    const linked = await k.selectFrom('incident_alerts').select('incident_id').where('alert_id', '=', alert.id).executeTakeFirst();
    if (linked) return { id: linked.incident_id, created: false };
    const vehicleId = alert.scope.placement?.vehicleId ?? null;
    const since = new Date(Date.parse(alert.startedAt) - this.mergeWindowMs).toISOString();
    const zoneId = alert.zoneId;
    const open = await k
      .selectFrom('incidents')
      .select(['id', 'reach', 'last_alert_at'])
      .where('state', 'not in', ['resolved', 'false-alarm'])
      .where('last_alert_at', '>=', since)
      .where((eb) =>
        eb.or([
          eb.and([eb('camera_id', '=', alert.cameraId), zoneId === null ? eb('zone_id', 'is', null) : eb('zone_id', '=', zoneId)]),
          ...(vehicleId !== null ? [eb.and([eb('vehicle_id', 'is not', null), eb('vehicle_id', '=', vehicleId)])] : []),
        ]),
      )
      .orderBy('last_alert_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    const now = new Date().toISOString();
    const alertReach = reachOf(alert.scope, alert.cameraId);
    if (open) {
      const reach = unionReach(JSON.parse(open.reach) as Reach, alertReach);
      await k.insertInto('incident_alerts').values({ incident_id: open.id, alert_id: alert.id }).execute();
      await k
        .updateTable('incidents')
        // ISO times compare as text: the later of the two, without a dialect's max()/greatest().
        .set({
          last_alert_at: open.last_alert_at > alert.startedAt ? open.last_alert_at : alert.startedAt,
          reach: JSON.stringify(reach),
          updated_at: now,
        })
        .where('id', '=', open.id)
        .execute();
      await this.event(trx, open.id, null, 'alert', null, alert.id);
      await this.logEvent(trx, 'incident.merged', open.id, { alertId: alert.id, cameraId: alert.cameraId }, { alertId: alert.id, reach });
      return { id: open.id, created: false };
    }
    const id = randomUUID();
    const title = `${KIND_TITLE[alert.kind] ?? alert.kind} at ${alert.cameraName}${alert.zoneName ? ` (${alert.zoneName})` : ''}`;
    await k
      .insertInto('incidents')
      .values({
        id,
        title,
        kind: alert.kind,
        state: 'new',
        camera_id: alert.cameraId,
        camera_name: alert.cameraName,
        zone_id: alert.zoneId,
        vehicle_id: vehicleId,
        station_id: alert.scope.placement?.nearestStation?.id ?? null,
        scope: JSON.stringify(alert.scope),
        assignee: null,
        links: JSON.stringify([
          ...(vehicleId ? [{ kind: 'vehicle', ref: vehicleId }] : []),
          ...(alert.scope.placement?.nearestStation ? [{ kind: 'station', ref: alert.scope.placement.nearestStation.id }] : []),
        ]),
        created_at: now,
        updated_at: now,
        last_alert_at: alert.startedAt,
        acknowledged_at: null,
        dispatched_at: null,
        resolved_at: null,
        reach: JSON.stringify(alertReach),
      })
      .execute();
    await k.insertInto('incident_alerts').values({ incident_id: id, alert_id: alert.id }).execute();
    await this.event(trx, id, null, 'created', 'new', alert.id);
    await this.logEvent(
      trx,
      'incident.created',
      id,
      { alertId: alert.id, cameraId: alert.cameraId },
      { alertId: alert.id, reach: alertReach },
    );
    return { id, created: true };
  }

  /** The rooms of everyone an incident concerns (its reach). */
  async rooms(id: string, ex: Executor = this.db.as()): Promise<string[]> {
    const r = await typed<Tables>(ex).selectFrom('incidents').select('reach').where('id', '=', id).executeTakeFirst();
    return r ? reachRooms(JSON.parse(r.reach) as Reach) : ['alerts:all'];
  }

  private async logEvent(
    trx: Executor,
    kind: LogKind,
    id: string,
    refs: { alertId?: string | null; cameraId?: string | null; actor?: string | null },
    payload: object,
  ): Promise<void> {
    await this.lifecycle.append(
      {
        kind,
        incidentId: id,
        alertId: refs.alertId ?? null,
        cameraId: refs.cameraId ?? null,
        actor: refs.actor ?? null,
        rooms: await this.rooms(id, trx),
        payload: { incidentId: id, ...payload },
      },
      trx,
    );
  }

  /**
   * An incident's alerts in the order they joined it: by the alerts' insert sequence (the link
   * is written in the alert's own transaction), which both dialects have, unlike SQLite's rowid.
   */
  async alertIds(id: string, ex: Executor = this.db.as()): Promise<string[]> {
    const rows = await typed<Tables>(ex)
      .selectFrom('incident_alerts as l')
      .leftJoin('alerts as a', 'a.id', 'l.alert_id')
      .select('l.alert_id')
      .where('l.incident_id', '=', id)
      .orderBy(sql`a.seq IS NULL`)
      .orderBy('a.seq')
      .orderBy('l.alert_id')
      .execute();
    return rows.map((r) => r.alert_id);
  }

  async forAlert(alertId: string, ex: Executor = this.db.as()): Promise<Incident | null> {
    const r = await typed<Tables>(ex)
      .selectFrom('incident_alerts')
      .select('incident_id')
      .where('alert_id', '=', alertId)
      .executeTakeFirst();
    return r ? this.get(r.incident_id, ex) : null;
  }

  /** A clip (cut by recording) ready or failed for one of the incident's alerts: in its history and the log. */
  async noteClip(alertId: string, kind: 'clip.ready' | 'clip.failed', payload: Record<string, unknown>): Promise<Incident | null> {
    const id = await this.db.transaction(
      async (trx): Promise<string | null> => {
        const inc = await this.forAlert(alertId, trx);
        if (!inc) return null;
        const text =
          kind === 'clip.ready'
            ? `clip ${String(payload.clipId)} ready (sha256 ${String(payload.sha256)})`
            : `clip failed: ${String(payload.error)}`;
        await this.event(trx, inc.id, null, 'clip', null, text);
        if (kind === 'clip.ready' && typeof payload.clipId === 'string') {
          const links = inc.links.filter((l) => !(l.kind === 'clip' && l.ref === payload.clipId));
          await typed<Tables>(trx)
            .updateTable('incidents')
            .set({ links: JSON.stringify([...links, { kind: 'clip', ref: payload.clipId }]), updated_at: new Date().toISOString() })
            .where('id', '=', inc.id)
            .execute();
        }
        await this.logEvent(
          trx,
          kind,
          inc.id,
          { alertId, cameraId: typeof payload.cameraId === 'string' ? payload.cameraId : null },
          payload,
        );
        return inc.id;
      },
      { locks: ['log'] },
    );
    await this.lifecycle.flush();
    return id ? this.get(id) : null;
  }

  private async event(
    trx: Executor,
    id: string,
    actor: string | null,
    kind: IncidentEvent['kind'],
    state: IncidentState | null,
    text: string | null,
    at = new Date().toISOString(),
  ): Promise<void> {
    await typed<Tables>(trx).insertInto('incident_events').values({ incident_id: id, at, actor, kind, state, text }).execute();
  }

  /**
   * Applies an operator's change. Inside the caller's transaction when given one (the lifecycle
   * service acknowledges alerts with it), else in its own.
   */
  async update(id: string, patch: IncidentUpdate, actor: string, ex?: Executor): Promise<Incident> {
    if (!ex) {
      await this.db.transaction((trx) => this.update(id, patch, actor, trx), { locks: ['log'] });
      await this.lifecycle.flush();
      return (await this.get(id))!;
    }
    const k = typed<Tables>(ex);
    const cur = await this.row(id, ex);
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
      // The first acknowledgement is kept: time-to-acknowledge does not reset on reopen.
      if (patch.state === 'acknowledged')
        await k
          .updateTable('incidents')
          .set({ state: patch.state, acknowledged_at: sql<string>`coalesce(acknowledged_at, ${now})`, updated_at: now })
          .where('id', '=', id)
          .execute();
      else if (patch.state === 'dispatched')
        await k.updateTable('incidents').set({ state: patch.state, dispatched_at: now, updated_at: now }).where('id', '=', id).execute();
      else if (patch.state !== 'new')
        await k.updateTable('incidents').set({ state: patch.state, resolved_at: now, updated_at: now }).where('id', '=', id).execute();
      await this.event(ex, id, actor, 'state', patch.state, null, now);
      await this.logEvent(ex, 'incident.state', id, { actor }, { from, state: patch.state });
    }
    const other = { ...patch };
    delete other.state;
    if (Object.keys(other).length) await this.logEvent(ex, 'incident.updated', id, { actor }, other);
    if (patch.assignee !== undefined) {
      await k.updateTable('incidents').set({ assignee: patch.assignee, updated_at: now }).where('id', '=', id).execute();
      await this.event(ex, id, actor, 'assign', null, patch.assignee, now);
    }
    if (patch.note !== undefined) {
      await k.updateTable('incidents').set({ updated_at: now }).where('id', '=', id).execute();
      await this.event(ex, id, actor, 'note', null, patch.note, now);
    }
    if (patch.link !== undefined) {
      const link = IncidentLink.parse(patch.link);
      const links = (JSON.parse(cur.links) as IncidentLink[]).filter((l) => !(l.kind === link.kind && l.ref === link.ref));
      await k
        .updateTable('incidents')
        .set({ links: JSON.stringify([...links, link]), updated_at: now })
        .where('id', '=', id)
        .execute();
      await this.event(ex, id, actor, 'link', null, `${link.kind}:${link.ref}`, now);
    }
    return (await this.get(id, ex))!;
  }

  /** An alert acknowledgement acknowledges its incident if no one has yet (inside the caller's transaction). */
  async acknowledgeFromAlert(alertId: string, actor: string, trx: Executor): Promise<Incident | null> {
    const inc = await this.forAlert(alertId, trx);
    if (!inc || inc.state !== 'new') return null;
    return this.update(inc.id, { state: 'acknowledged' }, actor, trx);
  }

  /** An escalation in the incident's history (inside the caller's transaction). */
  async noteEscalation(alertId: string, reason: string, trx: Executor): Promise<Incident | null> {
    const inc = await this.forAlert(alertId, trx);
    if (!inc) return null;
    await this.event(trx, inc.id, null, 'escalated', null, reason);
    return this.get(inc.id, trx);
  }

  private async row(id: string, ex: Executor = this.db.as()): Promise<Row | undefined> {
    return typed<Tables>(ex).selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async get(id: string, ex: Executor = this.db.as()): Promise<Incident | null> {
    const r = await this.row(id, ex);
    return r ? this.toIncident(r, ex) : null;
  }

  async list(opts: { limit?: number; open?: boolean } = {}): Promise<Incident[]> {
    const rows = await this.db
      .as<Tables>()
      .selectFrom('incidents')
      .selectAll()
      .$if(!!opts.open, (b) => b.where('state', 'not in', ['resolved', 'false-alarm']))
      .orderBy('created_at', 'desc')
      .limit(Math.min(Math.max(opts.limit ?? 200, 1), 2000))
      .execute();
    const out: Incident[] = [];
    for (const r of rows) out.push(await this.toIncident(r));
    return out;
  }

  private async toIncident(r: Row, ex: Executor = this.db.as()): Promise<Incident> {
    const alertIds = await this.alertIds(r.id, ex);
    const events = (await typed<Tables>(ex)
      .selectFrom('incident_events')
      .select(['at', 'actor', 'kind', 'state', 'text'])
      .where('incident_id', '=', r.id)
      .orderBy('id')
      .execute()) as IncidentEvent[];
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
